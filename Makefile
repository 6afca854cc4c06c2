# Pinstablr: `make run` serves the embedded stack, `make test` runs every check and test.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test install migrate demo lint typecheck pytest topology-up topology-down topology-status s3-up s3-down cluster cluster-down cluster-status clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(PY) manage.py migrate_all -v 0

demo: migrate
	$(PY) manage.py load_demo_data
	$(PY) manage.py load_site_experiments

# Migrates, loads the demo data, serves; the terminal shows where and who can sign in, the
# processes' output goes to var/log/run.log.
run: install
	@$(PY) -m deploy.local.serve_embedded --prepare

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache --no-logo

typecheck: install
	$(VENV)/bin/mypy

pytest: install
	$(VENV)/bin/pytest

test: lint typecheck pytest

topology-up: install
	$(PY) -m deploy.local.topology up

topology-down:
	$(PY) -m deploy.local.topology down

topology-status:
	$(PY) -m deploy.local.topology status

s3-up: install
	$(PY) -m deploy.local.s3 up

s3-down:
	$(PY) -m deploy.local.s3 down

# The whole production-like cluster on 127.0.0.1 (nginx, 3 web servers, MariaDB topology,
# Redis, RabbitMQ, SeaweedFS, workers, beat): python -m deploy.local.cluster.
cluster: install
	$(PY) -m deploy.local.cluster up

cluster-down:
	$(PY) -m deploy.local.cluster down

cluster-status:
	$(PY) -m deploy.local.cluster status

clean: cluster-down topology-down s3-down
	rm -rf var
