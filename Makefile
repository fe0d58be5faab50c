# The two front-door commands (see README.md):
#   make demo   install what is missing, then run hub + board + simulated hall
#   make test   install what is missing, then run every test
# Also: make bench (all benchmarks, figures for docs/benchmarks.md), make clean.

VENV      ?= .venv
PY        := $(VENV)/bin/python
SUDO      := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# espeak-ng: offline Indonesian voice; xvfb/xauth: real windows in benchmarks;
# chromium: web panel tests and the kiosk comparison; tesseract: reads rendered frames back;
# fonts-dejavu-core: board font; python3-venv: the virtualenv itself; shellcheck: checks deploy/install.sh;
# nodejs: runs hub.js against the session vectors.
APT_PACKAGES := python3-venv espeak-ng libespeak-ng1 xvfb xauth fonts-dejavu-core chromium \
                tesseract-ocr sox imagemagick procps shellcheck nodejs zbar-tools

.PHONY: demo test bench wheel system venv clean

demo: system venv
	$(PY) -m signage demo $(DEMO_ARGS)

test: system venv
	$(PY) -m pytest $(PYTEST_ARGS)

bench: system venv
	$(PY) bench/run_all.py $(BENCH_ARGS)

# The wheel alone (tests/e2e/test_wheel.py builds one and runs it in a clean venv outside the checkout).
wheel: venv
	$(PY) -m pip wheel -q --no-deps -w dist .

system:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "apt: installing$$(echo ' '$$missing)"; \
	  $(SUDO) apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	@touch $@

clean:
	rm -rf $(VENV) var build dist *.egg-info .pytest_cache
