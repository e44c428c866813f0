# nutshell: `make serve` builds and serves the site, `make test` runs every check.
# Both create .venv and install what they need on first use.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
# torch is installed first, on its own: any torch >= 2.1 works (pyproject.toml). The default
# is the CPU build kept on this project's machines; on another machine, e.g. with a GPU:
#   make serve TORCH_SPEC=torch
TORCH_SPEC ?= torch==2.13.0
export OMP_NUM_THREADS ?= 1
export MPLBACKEND ?= Agg
export NO_MKDOCS_2_WARNING := 1

.PHONY: serve build test check lint sync fmt clean browser-deps verify-gpu

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install --quiet "$(TORCH_SPEC)"
	$(PY) -m pip install --quiet -e ".[docs,test]"
	$(PY) -m pip freeze --exclude-editable > $(VENV)/versions.txt
	touch $@

serve: $(VENV)/.installed
	$(PY) -m mkdocs serve -a 127.0.0.1:8000

build: $(VENV)/.installed
	$(PY) -m mkdocs build --strict

check: $(VENV)/.installed
	$(PY) -m nutshell check

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check src tests conftest.py
	$(VENV)/bin/ruff format --check src tests conftest.py

# The browser test drives Debian's chromium; install it (and its driver) when we can.
browser-deps:
	@if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && apt-get install -y -qq chromium chromium-driver >/dev/null; \
	  else echo "chromium/chromedriver missing and not root: the browser test will be skipped"; fi; \
	fi

test: $(VENV)/.installed browser-deps check lint
	$(PY) -m pytest
	$(PY) -m mkdocs build --strict

# Pages are the source: write modules from pages, format, and bring the formatting back.
fmt: $(VENV)/.installed
	$(PY) -m nutshell sync --from md
	$(VENV)/bin/ruff format src tests conftest.py
	$(PY) -m nutshell sync --from py

# On a GPU machine: every page and the test suite on CUDA, reported as a page of the site.
verify-gpu: $(VENV)/.installed
	NUTSHELL_DEVICE=cuda $(PY) -m nutshell verify --tests --title "Verified on GPU" \
	  --out docs/about/verified-gpu.md

clean:
	rm -rf site .nutshell-cache nutshell-figures
