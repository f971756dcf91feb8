# The README's two commands: `make book` and `make test`. Each creates .venv from the pinned
# requirements if it is missing or older than them, so both work on a fresh clone.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

# No network here: the data layer reads corpora from a mirror folder when one is beside the project.
ifneq ($(wildcard ../shared/data),)
export MIDDLEGROUND_DATA_MIRROR ?= $(abspath ../shared/data)
endif

.PHONY: book test chapters browser-deps clean

$(STAMP): requirements.txt pyproject.toml
	@echo "== creating $(VENV) from requirements.txt"
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --no-compile -r requirements.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@# Bytecode once, on both cores: where PYTHONDONTWRITEBYTECODE is set (CI machines, containers)
	@# Python never caches it, and every process (kernels, torchrun, Dask workers, the renderer)
	@# would compile torch and the rest from source again: about 2.5 s more per process. The one file
	@# excluded is Python 3.12 syntax that torch ships for its own tests and never imports here.
	$(PY) -m compileall -q -j 0 -x 'torch/testing/_internal/py312_intrinsics\.py' \
	  "$$($(PY) -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')" src > /dev/null
	@touch $@

# The whole book at full size (or the gpu profile where CUDA is present) into _build/html: every
# chapter executed once through papermill, then rendered strictly with execution off.
book: $(STAMP)
	$(PY) -m middleground.book.runner --book

# Every test: unit tests, every chapter through papermill (quick) and the strict render of what
# ran, then the pages checked in a browser. One pytest worker per core (pytest-xdist); the tests
# that share the one quick build of the book run in one worker (their xdist group), the rest spread
# over the others; the 25 slowest are listed at the end.
test: $(STAMP) browser-deps
	$(PY) -m pytest -n auto --dist loadgroup --durations=25

# Run chapters through papermill: make chapters ARGS="intro --profile quick -p steps 100"
chapters: $(STAMP)
	$(PY) -m middleground.book.runner $(ARGS)

# Debian's chromium for the browser test, installed where it is missing and we can.
browser-deps:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || { \
	  echo "== installing Debian's chromium for the browser test"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; elif command -v sudo >/dev/null; then SUDO=sudo; else \
	    echo "chromium is missing and cannot be installed without root: apt-get install chromium" >&2; exit 1; fi; \
	  $$SUDO apt-get install -y -q chromium >/dev/null 2>&1 || \
	    { $$SUDO apt-get update -q >/dev/null && $$SUDO apt-get install -y -q chromium >/dev/null; }; \
	}

clean:
	rm -rf _build
