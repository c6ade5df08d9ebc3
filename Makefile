# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
# Both create .venv with the machine's python3 when it is missing and install what is needed.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
OUT    ?= out

.PHONY: demo test lint typecheck unit system-deps bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall whenever the dependencies change.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,pdf]'
	@touch $@

# WeasyPrint (PDF) needs Debian's pango; without libharfbuzz-subset0 it is ~8x slower.
# Installed when apt is here and we may use it; elsewhere the README says what to install.
system-deps:
	@if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	  if ! dpkg -s libharfbuzz-subset0 libpango-1.0-0 libpangoft2-1.0-0 >/dev/null 2>&1; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	      libharfbuzz-subset0 libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core >/dev/null) \
	    || echo "warning: could not install the PDF libraries; PDF output may be unavailable"; \
	  fi; \
	fi

demo: $(STAMP) system-deps
	$(BIN)/mastery validate examples/

lint: $(STAMP)
	$(BIN)/ruff check mastery_cli tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP) system-deps
	$(BIN)/pytest -q

test: lint typecheck unit

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(OUT) build dist .pytest_cache .mypy_cache .ruff_cache
