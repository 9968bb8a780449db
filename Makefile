# Every target is one line; see README.md. PROFILE picks the report; BENCH_DATA_DIR the local data.
PY := .venv/bin/python
BENCH := $(PY) -m bench
PROFILE ?= quick
export BENCH_DATA_DIR ?= $(abspath $(wildcard ../shared/data))

.PHONY: install bench smoke test report baseline bench-speed mutation

install: ; python3 -m venv .venv && $(PY) -m pip install -q torch==2.13.0 && $(PY) -m pip install -q -e '.[all]'
bench: ; $(BENCH) run --profile auto --report
smoke: ; $(BENCH) run --profile smoke --report --results-dir results
test: ; $(PY) -m pytest -q
report: ; $(BENCH) report --profile $(PROFILE)
baseline: ; d=$$(mktemp -d) && $(BENCH) run --profile smoke --results-dir $$d --no-progress && $(BENCH) baseline --profile smoke --results-dir $$d
bench-speed: ; bash tests/benchmarks/compare.sh $(BASE)
# Plant each mutation of tests/mutation/mutations.py in a scratch copy, run its tests -> results/mutation/ (ONLY=id ... for some).
mutation: ; $(PY) tests/mutation/run.py $(if $(ONLY),--only $(ONLY))
