# Every target is one line; see README.md. PROFILE picks the report; BENCH_DATA_DIR the local data.
PY := .venv/bin/python
BENCH := $(PY) -m bench
PROFILE ?= quick
# Runs go to a local, git-ignored directory; only `make publish` (bench publish) writes results/.
RUNS ?= $(or $(BENCH_RESULTS_DIR),runs)
export BENCH_DATA_DIR ?= $(abspath $(wildcard ../shared/data))

# Fashion-MNIST (C4) comes from Debian's package where apt is usable as root; elsewhere `bench data --fetch`
# downloads it, and says in one sentence what to do if that fails too.
APT_FASHION := dpkg -s dataset-fashion-mnist >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
  && { apt-get install -y -q dataset-fashion-mnist >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q dataset-fashion-mnist >/dev/null; }; } \
  || echo "make: could not install the Debian package dataset-fashion-mnist (needs apt and root); downloading Fashion-MNIST instead."; }

# GPU=1: CUDA builds of PyTorch and TensorFlow; GPU=0: CPU builds. Default: 1 where nvidia-smi lists a GPU.
# TORCH_INDEX: pip options for where torch comes from (docs/running.md, "Running on GPUs and clusters").
GPU ?= $(shell nvidia-smi -L >/dev/null 2>&1 && echo 1 || echo 0)
TORCH_INDEX ?=
comma := ,
EXTRAS = $(if $(filter 1,$(GPU)),all$(comma)gpu,all)
CUDA_CHECK := $(PY) -c "import sys, torch; sys.exit(0 if torch.version.cuda else 'make install GPU=1 got a CPU build of torch (' + torch.__version__ + '); set TORCH_INDEX to a CUDA index, see docs/running.md')"

.PHONY: install data plan bench smoke test report publish baseline bench-speed mutation gpu-check

install: ; python3 -m venv .venv && $(PY) -m pip install -q torch==2.13.0 $(TORCH_INDEX) && $(PY) -m pip install -q -e '.[$(EXTRAS)]' $(if $(filter 1,$(GPU)),&& $(CUDA_CHECK)) && $(MAKE) --no-print-directory data
data: ; @$(APT_FASHION); $(BENCH) data --fetch
plan: ; $(BENCH) plan --profile auto
# bench: a run stopped (130) or refused (2) ends here; otherwise its compare runs, and the status is the run's
# when seeds failed (1), else compare's: 0 reproduced, 1 differs, 3 not judged (bench compare --help).
bench: ; $(BENCH) run --profile auto --report --results-dir $(RUNS); rc=$$?; case $$rc in 0|1) ;; *) exit $$rc;; esac; $(BENCH) compare --profile auto --results-dir $(RUNS); c=$$?; exit $$(( rc ? rc : c ))
smoke: ; $(BENCH) run --profile smoke --report --results-dir $(RUNS)
test: ; $(PY) -m pytest -q
report: ; $(BENCH) report --profile $(PROFILE) --results-dir $(RUNS) --html
publish: ; $(BENCH) publish --profile $(PROFILE) --from $(RUNS)
baseline: ; d=$$(mktemp -d) && $(BENCH) run --profile smoke --results-dir $$d --no-progress && $(BENCH) baseline --profile smoke --results-dir $$d
bench-speed: ; bash tests/benchmarks/compare.sh $(BASE)
# On an NVIDIA GPU with a CUDA torch, from a plain checkout (no venv needed): exit 0 targets met, 1 missed, 3 no GPU.
gpu-check: ; $(if $(wildcard $(PY)),$(PY),python3) -m bench gpu-check
# Plant each mutation of tests/mutation/mutations.py in a scratch copy, run its tests -> results/mutation/ (ONLY=id ... for some).
mutation: ; $(PY) tests/mutation/run.py $(if $(ONLY),--only $(ONLY))
