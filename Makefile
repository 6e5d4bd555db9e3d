# The two commands of the README. Everything else they need is installed from here.
SHELL := /bin/bash
.DEFAULT_GOAL := run
UV := $(shell command -v uv 2>/dev/null || echo "python3 -m uv")
VENV := .venv
PY := $(VENV)/bin/python
KAIIN := $(VENV)/bin/kaiin
export PICCOLO_CONF := db.piccolo_conf
KAIIN_TEST_POSTGRES ?= postgresql://postgres@127.0.0.1:5432/test
export KAIIN_TEST_POSTGRES

.PHONY: run test venv system-deps postgres bench lighthouse clean

venv: $(VENV)/.synced
$(VENV)/.synced: pyproject.toml uv.lock
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet uv
	$(UV) sync --frozen --quiet
	@touch $@

run: venv
	$(KAIIN) migrate
	$(KAIIN) demo
	@echo "http://$${HOST:-127.0.0.1}:$${PORT:-8000}/login を開いてください (Ctrl+C で停止)"
	$(KAIIN) serve

test: venv system-deps postgres
	$(PY) -m pytest -q

# Debian Chromium and Japanese fonts for the browser tests (apt only when something is missing).
system-deps:
	@if [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -q "Noto Sans CJK"; then \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium fonts-noto-cjk; \
	fi

# PostgreSQL at 127.0.0.1:5432 with the test database (started and created when missing).
postgres:
	@if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then \
		command -v pg_ctlcluster >/dev/null || (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql); \
		ver=$$(ls /etc/postgresql 2>/dev/null | sort -V | tail -1); \
		[ -n "$$ver" ] || { ver=$$(ls /usr/lib/postgresql | sort -V | tail -1); pg_createcluster $$ver main; }; \
		pg_ctlcluster --skip-systemctl-redirect $$ver main start || true; \
		for i in $$(seq 50); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 0.2; done; \
	fi
	@db=$${KAIIN_TEST_POSTGRES##*/}; \
	psql "$${KAIIN_TEST_POSTGRES%/*}/postgres" -tAc "SELECT 1 FROM pg_database WHERE datname='$$db'" | grep -q 1 \
		|| psql "$${KAIIN_TEST_POSTGRES%/*}/postgres" -qc "CREATE DATABASE \"$$db\""

# Benchmarks (not part of make test): every tests/bench/<name>.py with a main(), loopback only, bounded.
bench: venv postgres
	@command -v wrk >/dev/null || (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk)
	@for f in tests/bench/[a-z]*.py; do n=$$(basename $$f .py); [ $$n = common ] && continue; \
		echo "== $$n"; $(PY) -m tests.bench.$$n || exit 1; done

clean:
	rm -rf $(VENV) data tests/artifacts
