# linli — the README's commands. Everything installs into .venv from pinned versions.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000
# Test workers: xdist processes (auto = one per core).
TEST_WORKERS ?= auto

.PHONY: run test install install-dev migrate demo serve lint typecheck bench check-deploy browser clean

run: install migrate demo serve  ## set up and serve the platform with the demo district on SQLite

test: install-dev browser  ## install what tests need and run the whole suite
	$(VENV)/bin/pytest -n $(TEST_WORKERS) -p no:randomly

$(VENV)/bin/activate:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade "pip>=24"

$(VENV)/.installed: $(VENV)/bin/activate pyproject.toml constraints.txt
	$(PIP) install --quiet -c constraints.txt -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(PIP) install --quiet -c constraints.txt -e ".[dev]"
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# Browser tests drive Debian's Chromium; no test tool downloads a browser of its own. PDFs (certificates,
# building posters) need fonts-noto-cjk for their Chinese text. Both come from Debian's packages.
browser:
	@missing=""; \
	[ -x /usr/bin/chromium ] || missing="chromium"; \
	dpkg -s fonts-noto-cjk >/dev/null 2>&1 || missing="$$missing fonts-noto-cjk"; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = "0" ]; then \
			echo "Installing Debian packages:$$missing"; \
			(apt-get install -y -qq $$missing >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq $$missing)); \
		else \
			echo "Tests need Debian packages:$$missing (run 'sudo apt-get install -y$$missing')"; exit 1; \
		fi; \
	fi

migrate: install
	$(PY) manage.py migrate --no-input -v 0

demo: install
	$(PY) manage.py seed_demo

serve: install
	$(PY) manage.py collectstatic --no-input -v 0
	@echo "linli is serving on http://$(HOST):$(PORT)/  (Ctrl-C stops it)"
	$(VENV)/bin/python -m linli.serve --host $(HOST) --port $(PORT)

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: install-dev
	$(VENV)/bin/mypy linli

# The production profile with throwaway keys: it must pass Django's deployment checklist with no warning.
check-deploy: install
	LINLI_ENV=production LINLI_SECRET_KEY=$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(64))') \
	LINLI_DATA_KEYS=ci1:$$($(PY) -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())') \
	LINLI_DATA_KEY_ID=ci1 \
	LINLI_BLIND_INDEX_KEY=$$($(PY) -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())') \
	LINLI_AUDIT_KEY=ci1:$$($(PY) -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())') \
	LINLI_ALLOWED_HOSTS=linli.example.org $(PY) manage.py check --deploy --fail-level WARNING

# Each bench exits 1 when a figure FAILs: run them all, fail at the end. The hotline import needs PostgreSQL.
bench: install-dev
	@status=0; \
	$(PY) bench/grid_routing.py || status=1; \
	$(PY) bench/case_submit.py || status=1; \
	$(PY) bench/sla_sweep.py || status=1; \
	if [ -n "$$DATABASE_URL" ]; then $(PY) bench/hotline_import.py || status=1; \
	else echo "bench/hotline_import.py skipped: it needs PostgreSQL (set DATABASE_URL)"; fi; \
	exit $$status

clean:
	rm -rf $(VENV) var/static
