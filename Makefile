# Every target is one line; see README.md. PROFILE picks the report; BENCH_DATA_DIR the local data.
PY := .venv/bin/python
BENCH := $(PY) -m bench
PROFILE ?= quick
export BENCH_DATA_DIR ?= $(abspath $(wildcard ../shared/data))

.PHONY: install bench smoke test report baseline bench-speed

# GPU=1: CUDA builds of PyTorch and TensorFlow; GPU=0: CPU builds. Default: 1 where nvidia-smi lists a GPU.
# TORCH_INDEX: pip options for where torch comes from (README, "Running on GPUs and clusters").
GPU ?= $(shell nvidia-smi -L >/dev/null 2>&1 && echo 1 || echo 0)
TORCH_INDEX ?=
comma := ,
EXTRAS = $(if $(filter 1,$(GPU)),all$(comma)gpu,all)
CUDA_CHECK := $(PY) -c "import sys, torch; sys.exit(0 if torch.version.cuda else 'make install GPU=1 got a CPU build of torch (' + torch.__version__ + '); set TORCH_INDEX to a CUDA index, see README')"

install: ; python3 -m venv .venv && $(PY) -m pip install -q torch==2.13.0 $(TORCH_INDEX) && $(PY) -m pip install -q -e '.[$(EXTRAS)]' $(if $(filter 1,$(GPU)),&& $(CUDA_CHECK))
bench: ; $(BENCH) run --profile auto --report
smoke: ; $(BENCH) run --profile smoke --report --results-dir results
test: ; $(PY) -m pytest -q
report: ; $(BENCH) report --profile $(PROFILE)
baseline: ; d=$$(mktemp -d) && $(BENCH) run --profile smoke --results-dir $$d --no-progress && $(BENCH) baseline --profile smoke --results-dir $$d
bench-speed: ; bash tests/benchmarks/compare.sh $(BASE)
