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

run: demo
	$(PY) deploy/local/serve_embedded.py

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
	$(PY) deploy/local/topology.py up

topology-down:
	$(PY) deploy/local/topology.py down

topology-status:
	$(PY) deploy/local/topology.py status

s3-up: install
	$(PY) deploy/local/s3.py up

s3-down:
	$(PY) deploy/local/s3.py down

# The whole production-like cluster on 127.0.0.1 (nginx, 3 web servers, MariaDB topology,
# Redis, RabbitMQ, SeaweedFS, workers, beat): deploy/local/cluster.py.
cluster: install
	$(PY) deploy/local/cluster.py up

cluster-down:
	$(PY) deploy/local/cluster.py down

cluster-status:
	$(PY) deploy/local/cluster.py status

clean: cluster-down topology-down s3-down
	rm -rf var
