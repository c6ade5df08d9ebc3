# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
# Both create .venv with the machine's python3 when it is missing and install what is needed.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
OUT    ?= out

# The environment is installed from the lock files in requirements/ (exact versions with their
# hashes), so every machine gets the versions CI tested; `make lock` refreshes them. uv does the
# installing: it is pinned here and kept in its own small environment, out of the project's.
UV_VERSION ?= 0.13.9
TOOLS      := .tools
UV         := $(TOOLS)/bin/uv
export UV_PYTHON_DOWNLOADS := never
# Installed packages get their bytecode at install time, as pip does by default (uv does not).
# Where PYTHONDONTWRITEBYTECODE is set (some CI machines and sandboxes, this one included)
# Python never writes it, and every command would compile each imported module of numpy,
# pandas, pyarrow, typer... again (measured: grading the example school, 3.0 s -> 1.9 s).
export UV_COMPILE_BYTECODE := 1
DEMO_STAMP := $(VENV)/.demo-installed
DEV_STAMP  := $(VENV)/.dev-installed

.PHONY: demo demo-pdf test lint typecheck unit system-deps editor-server bench bytecode lock clean

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet uv==$(UV_VERSION)

$(BIN)/python: | $(UV)
	$(UV) venv --quiet --python $(PYTHON) $(VENV)

# What the demo needs and no more: the package with PDF output. Syncing removes the test tools.
$(DEMO_STAMP): requirements/demo.txt pyproject.toml | $(BIN)/python
	$(UV) pip sync --quiet --python $(BIN)/python requirements/demo.txt
	$(UV) pip install --quiet --python $(BIN)/python --no-deps -e .
	@rm -f $(DEV_STAMP); touch $@

# Everything the tests need: the demo's packages plus the development tools.
$(DEV_STAMP): requirements/dev.txt pyproject.toml | $(BIN)/python
	$(UV) pip sync --quiet --python $(BIN)/python requirements/dev.txt
	$(UV) pip install --quiet --python $(BIN)/python --no-deps -e .
	@touch $@ $(DEMO_STAMP)

# Refresh the lock files from pyproject.toml's ranges (newest versions that fit). The demo's
# lock is constrained by the development one, so both name the same version of every package.
lock: | $(UV)
	$(UV) pip compile pyproject.toml --quiet --group dev --extra pdf --extra spark --universal \
	  --python-version 3.11 --generate-hashes --upgrade -o requirements/dev.txt
	$(UV) pip compile pyproject.toml --quiet --extra pdf --universal \
	  --python-version 3.11 --generate-hashes -c requirements/dev.txt -o requirements/demo.txt

# Compiled bytecode of our own modules, refreshed when a source changes. Python writes it on
# first import anyway, except where PYTHONDONTWRITEBYTECODE is set (some CI machines and
# sandboxes): there every `mastery` run would compile ~60 modules again (~0.1 s).
bytecode: $(DEMO_STAMP)
	@$(BIN)/python -m compileall -q mastery_cli >/dev/null

# WeasyPrint (PDF) needs Debian's pango; without libharfbuzz-subset0 it is ~8x slower.
# Installed when apt is here and we may use it; elsewhere the README says what to install.
# poppler-utils (pdftotext) lets the PDF tests read the text back. `--engine spark` (and its
# tests) needs Java 17 or newer: a headless JRE is installed when no `java` is on the PATH.
system-deps:
	@if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	  if ! dpkg -s libharfbuzz-subset0 libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core \
	       poppler-utils >/dev/null 2>&1; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	      libharfbuzz-subset0 libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core \
	      poppler-utils >/dev/null) \
	    || echo "warning: could not install the PDF libraries; PDF output may be unavailable"; \
	  fi; \
	  if ! command -v java >/dev/null 2>&1; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	      openjdk-17-jre-headless >/dev/null) \
	    || echo "warning: could not install Java 17; the Spark tests will be skipped"; \
	  fi; \
	fi

# The example school end to end: check the files, grade the gradebook, render every document as
# HTML in English and Spanish, and a sample as PDF (one student's report card and transcript, one
# class summary) when WeasyPrint works on this machine. `make demo-pdf` renders every PDF (~3 min).
# The staff documents too: the lab-report calibration session, the exemplar bank and the
# coverage of targets against the assessment plan.
DEMO_DATE ?= 2027-01-29
DEMO_TERM_en ?= Fall 2026
DEMO_TERM_es ?= Otoño 2026
DEMO_STUDENT ?= 0041001
DEMO_SECTION ?= ALG1-P1
REPORT = $(BIN)/mastery report $(1) --grades $(OUT)/grades --framework examples/framework \
  --policy examples/policy.yaml --rubric examples/rubrics --roster examples/roster.csv \
  --lang $(2) --date $(DEMO_DATE) \
  --term "$$(if [ $(2) = es ]; then echo '$(DEMO_TERM_es)'; else echo '$(DEMO_TERM_en)'; fi)" --quiet
DEMO_KINDS := report-card i-can class-summary
# The transcript reads both terms of grades (fall and spring), each named in the report language.
DEMO_SPRING_DATE ?= 2027-06-15
DEMO_SPRING_en ?= Spring 2027
DEMO_SPRING_es ?= Primavera 2027
TERM_NAME = $$(if [ $(1) = es ]; then echo '$($(2)_es)'; else echo '$($(2)_en)'; fi)
TRANSCRIPT = $(BIN)/mastery report transcript --framework examples/framework --lang $(1) \
  --grades "$(call TERM_NAME,$(1),DEMO_TERM)=$(OUT)/grades" \
  --grades "$(call TERM_NAME,$(1),DEMO_SPRING)=$(OUT)/grades-spring" \
  --roster examples/roster.csv --date $(DEMO_SPRING_DATE) --quiet
DEMO_LEARNERS ?= examples/learners
DEMO_BACKPACKS ?= 0041001 0041021 0041066

demo: $(DEMO_STAMP) bytecode system-deps
	$(BIN)/mastery validate examples/
	$(BIN)/mastery grade examples/gradebook/*.csv examples/tasks/*.csv examples/outside/*.csv \
	  --rubric examples/rubrics/modelling-task.yaml --framework examples/framework \
	  --policy examples/policy.yaml --out $(OUT)/grades --format json
	$(BIN)/mastery grade examples/gradebook-spring/*.csv --framework examples/framework \
	  --policy examples/policy-spring.yaml --out $(OUT)/grades-spring --format json
	@set -e; for lang in en es; do for kind in $(DEMO_KINDS); do \
	  echo "mastery report $$kind --lang $$lang"; \
	  $(call REPORT,$$kind,$$lang) --out $(OUT)/reports/$$lang; \
	done; \
	echo "mastery report transcript --lang $$lang (fall and spring)"; \
	$(call TRANSCRIPT,$$lang) --out $(OUT)/reports/$$lang; \
	done
	@if $(BIN)/python -c 'import weasyprint' >/dev/null 2>&1; then set -e; for lang in en es; do \
	  echo "mastery report report-card, transcript (student $(DEMO_STUDENT)) and class-summary (section $(DEMO_SECTION)) --lang $$lang --pdf"; \
	  $(call REPORT,report-card,$$lang) --out $(OUT)/sample-pdf/$$lang --pdf --student $(DEMO_STUDENT); \
	  $(call TRANSCRIPT,$$lang) --out $(OUT)/sample-pdf/$$lang --pdf --student $(DEMO_STUDENT); \
	  $(call REPORT,class-summary,$$lang) --out $(OUT)/sample-pdf/$$lang --pdf --section $(DEMO_SECTION); \
	done; else echo "PDF skipped: WeasyPrint cannot load its libraries here (see the README)"; fi
	$(BIN)/mastery calibrate examples/calibration/*.csv --framework examples/framework \
	  --rubric examples/rubrics/lab-report.yaml --title "Science calibration: lab reports" \
	  --out $(OUT)/calibration --quiet
	$(BIN)/mastery report exemplars --framework examples/framework --rubric examples/rubrics \
	  --out $(OUT)/exemplars
	$(BIN)/mastery report coverage examples/gradebook/*.csv --framework examples/framework \
	  --plan examples/plans/fall-2026.yaml --date $(DEMO_DATE) --out $(OUT)/coverage
	@set -e; for lang in en es; do \
	  echo "mastery report learner --lang $$lang (students with a learner record)"; \
	  $(call REPORT,learner,$$lang) --learners $(DEMO_LEARNERS) --out $(OUT)/reports/$$lang; \
	done
	@if $(BIN)/python -c 'import weasyprint' >/dev/null 2>&1; then set -e; for lang in en es; do \
	  $(call REPORT,learner,$$lang) --learners $(DEMO_LEARNERS) --out $(OUT)/sample-pdf/$$lang \
	    --pdf --student $(DEMO_STUDENT); \
	done; fi
	@# The backpacks of the students with a learner record, signed with a key made for the demo
	@# (never a real school's key), then one of them imported back as evidence rows.
	@test -f $(OUT)/demo-ob3-key.pem || $(BIN)/mastery export ob3-key --out $(OUT)/demo-ob3-key.pem >/dev/null
	$(BIN)/mastery export ob3 --grades $(OUT)/grades --framework examples/framework \
	  --policy examples/policy.yaml --learners $(DEMO_LEARNERS) $(DEMO_BACKPACKS:%=--student %) \
	  --key $(OUT)/demo-ob3-key.pem --out $(OUT)/backpacks
	$(BIN)/mastery import ob3 $(OUT)/backpacks/0041066.clr.jwt --framework examples/framework \
	  --out $(OUT)/imported --approved-by "Demo advisor" --approved-on $(DEMO_DATE)
	@echo "Open $(OUT)/reports/en/index.html (and $(OUT)/reports/es/index.html) in a browser;"
	@echo "staff documents: $(OUT)/calibration/calibration.html, $(OUT)/exemplars/exemplars.html,"
	@echo "$(OUT)/coverage/coverage.html;"
	@echo "sample PDFs are in $(OUT)/sample-pdf/. Every document as PDF: make demo-pdf"

# Every document of the demo as PDF too (after `make demo`).
demo-pdf: $(DEMO_STAMP) bytecode system-deps
	@set -e; for lang in en es; do for kind in $(DEMO_KINDS); do \
	  echo "mastery report $$kind --lang $$lang --pdf"; \
	  $(call REPORT,$$kind,$$lang) --out $(OUT)/reports/$$lang --pdf; \
	done; \
	echo "mastery report transcript --lang $$lang --pdf"; \
	$(call TRANSCRIPT,$$lang) --out $(OUT)/reports/$$lang --pdf; \
	done

# The YAML language server (the engine of VS Code's YAML extension), pinned by tests/lsp's
# package.json and package-lock.json, for tests/test_editor_agreement.py. Without Node/npm the
# test skips; a failed install warns and the test skips too.
YAML_LS := $(TOOLS)/node_modules/.bin/yaml-language-server

$(YAML_LS): tests/lsp/package.json tests/lsp/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
	  mkdir -p $(TOOLS) && cp tests/lsp/package.json tests/lsp/package-lock.json $(TOOLS)/ && \
	  (npm ci --prefix $(TOOLS) --silent --no-audit --no-fund --ignore-scripts && touch $@) \
	  || echo "warning: could not install yaml-language-server; the editor test will skip"; \
	else echo "npm not found: the editor test (yaml-language-server) will skip"; fi

editor-server: $(YAML_LS)

lint: $(DEV_STAMP)
	$(BIN)/ruff check mastery_cli tests benchmarks

typecheck: $(DEV_STAMP)
	$(BIN)/mypy

unit: $(DEV_STAMP) bytecode system-deps editor-server
	$(BIN)/pytest -q

test: lint typecheck unit

# The speed goals, whole processes side by side; figures are recorded in benchmarks/README.md.
bench: $(DEV_STAMP) bytecode
	$(BIN)/python benchmarks/validate_bench.py
	$(BIN)/python benchmarks/grade_bench.py --rows 1000000 \
	  --methods decaying_average,power_law,mode --repeat 5
	$(BIN)/python benchmarks/interop_bench.py --repeat 3
	$(BIN)/python benchmarks/report_bench.py

# The large runs of issue 16: BENCH_COMMAND (a whole command line, so it works whatever options
# `mastery grade` has; {file} {out} {tmp} are filled for each run) beside the DuckDB peer on a
# generated gradebook of BENCH_ROWS rows (BENCH_INPUT csv or parquet), made once (niced: ~17 s
# and 0.73 GB of CSV for 10 M rows, ~100 s and 7.3 GB for 100 M) in BENCH_DATA. The last
# round's outputs stay in BENCH_DATA/runs-ROWS/NAME-ROUND/out (replaced by the next bench-large
# of that size), for `large_bench.py --check-outputs`. E.g. 100 M rows under a memory cap:
#   make bench-large BENCH_DATA=/work/bench-data BENCH_ROWS=100000000 BENCH_REPEAT=1 \
#     BENCH_PEER_ARGS='--peer-memory-limit 4GB' \
#     BENCH_GRADE_ARGS='--memory-limit 4GB --temp-dir {tmp}'
BENCH_DATA    ?= benchmarks/data
BENCH_ROWS    ?= 10000000
BENCH_INPUT   ?= csv
BENCH_REPEAT  ?= 3
BENCH_GRADE_ARGS ?=
BENCH_PEER_ARGS  ?=
BENCH_COMMAND ?= {mastery} grade {file} --framework examples/framework \
  --method decaying_average --out {out} -q $(BENCH_GRADE_ARGS)

BENCH_FILE    := $(BENCH_DATA)/gradebook-$(BENCH_ROWS).$(BENCH_INPUT)

$(BENCH_DATA)/gradebook-%.csv: | $(DEV_STAMP)
	nice -n 10 $(BIN)/python benchmarks/gen_gradebook.py --rows $* --out $@

$(BENCH_DATA)/gradebook-%.parquet: | $(DEV_STAMP)
	nice -n 10 $(BIN)/python benchmarks/gen_gradebook.py --rows $* --out $(@:.parquet=.csv) \
	  --no-csv

.PHONY: bench-large
bench-large: $(DEV_STAMP) bytecode $(BENCH_FILE)
	rm -rf $(BENCH_DATA)/runs-$(BENCH_ROWS)
	$(BIN)/python benchmarks/large_bench.py $(BENCH_FILE) \
	  --command '$(BENCH_COMMAND)' --repeat $(BENCH_REPEAT) $(BENCH_PEER_ARGS) \
	  --keep-outputs --workdir $(BENCH_DATA)/runs-$(BENCH_ROWS)

clean:
	rm -rf $(OUT) $(TOOLS) build dist .pytest_cache .mypy_cache .ruff_cache
