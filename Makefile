# The human interface. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help
ENV ?= kind
export ENV
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SUITE := $(PY) -m edirunbook
RUNBOOK ?= docs/runbook.md
MIN_COVERAGE ?= 0
TAGS ?=
SHARD ?=
# kind environments side by side in `make verify` / `make gate`, one shard of the scenarios each (edirunbook/gate/lanes.py):
# 3 measured fastest on 2 cores (README.md, "Lanes"); SHARD=i/n runs one shard on one environment instead
LANES ?= 3
PYTEST := $(VENV)/bin/pytest
# Our add-ons' Go tests compile with the image build's settings (edirunbook/gobuild.py go_env and TOOL_GCFLAGS; unit
# tests check they agree), so the packages the test and the image share come from Go's build cache, not a 2nd compile
GO_TEST := CGO_ENABLED=0 GOFLAGS=-trimpath GOTOOLCHAIN=local GOWORK=off go test '-gcflags=all=-dwarf=false -l'
TARGET ?= reference
SOURCE ?=
export TARGET
# `make verify` and `make gate`: up with TARGET, the smoke checks, the scenarios (TAGS, LANES=n or SHARD=i/n), coverage of
# docs/runbook.md (and RUNBOOK=... when given), reports/gate.md, down unless KEEP=1 (edirunbook/gate/run.py).
GATE = $(SUITE) gate run --target "$(TARGET)" $(if $(SOURCE),--source "$(SOURCE)") $(if $(SHARD),--shard "$(SHARD)",--lanes "$(LANES)") \
  --tags "$(TAGS)" $(if $(filter-out docs/runbook.md,$(RUNBOOK)),--runbook "$(RUNBOOK)") $(if $(KEEP),--keep)

.PHONY: bench deploy gameday gate gate-merge integration help setup env-build env-up env-down env-check clean kubeconfig docker-host lint manifest-lint unit test verify coverage steps

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required"' \
	  || { echo "error: python3 must be CPython 3.11 (set PYTHON=/path/to/python3.11)"; exit 2; }
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check -e '.[dev]'
	@touch $@

setup: $(VENV)/.installed ## Python venv with pinned deps, then every image and tool (cached)
	$(SUITE) env build

env-build: $(VENV)/.installed ## build or fetch the environment's images and tools (cached by content hash)
	$(SUITE) env build

env-up: $(VENV)/.installed ## bring up the environment ENV (default: kind); idempotent
	$(SUITE) env up

deploy: $(VENV)/.installed ## (re)deploy Bots EDI on the running environment and wait until Ready
	$(SUITE) env deploy

env-down: $(VENV)/.installed ## remove the cluster and database, keep the build cache
	$(SUITE) env down

env-check: $(VENV)/.installed ## smoke-check the running environment
	$(SUITE) env check

clean: $(VENV)/.installed ## remove every cluster, container, network, image and cache entry of this suite
	$(SUITE) env clean

kubeconfig: $(VENV)/.installed ## print the kubeconfig path: KUBECONFIG=$$(make -s kubeconfig) kubectl ...
	@$(SUITE) env kubeconfig

docker-host: $(VENV)/.installed ## print the DOCKER_HOST of the daemon the suite uses
	@$(SUITE) env docker-host

lint: $(VENV)/.installed ## ruff and mypy on the project's Python code
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

manifest-lint: $(VENV)/.installed ## kube-score on every environment's manifests (exceptions: environments/manifest-lint.yaml)
	$(SUITE) manifest-lint

ci-lint: $(VENV)/.installed ## actionlint (+shellcheck) and schema checks on the CI examples in docs/ci/ (edirunbook/cilint.py)
	$(SUITE) ci-lint docs/ci

unit: $(VENV)/.installed ## the library's fast tests (no cluster), our add-ons' Go tests, promtool/amtool on the alert rules
	$(PYTEST) tests/unit -q -p no:edirunbook.report
	cd images/addons/csi-hostpath && $(GO_TEST) ./...
	cd images/addons/alert-receiver && $(GO_TEST) ./...
	$(SUITE) alert-rules

coverage: $(VENV)/.installed ## runbook coverage and drift: make coverage RUNBOOK=path MIN_COVERAGE=80
	$(SUITE) coverage --runbook $(RUNBOOK) --features features --env $(ENV) --min-coverage $(MIN_COVERAGE)

steps: $(VENV)/.installed ## write the step catalogue docs/steps.md from steps/ (checked by make unit)
	$(SUITE) steps

verify: $(VENV)/.installed ## the main job: the gate on TARGET (default: reference), every docs/runbook.md command run, in 3 lanes (TAGS=..., LANES=1, SHARD=1/3, KEEP=1)
	$(GATE) --min-coverage 100

gate: $(VENV)/.installed ## the release gate: make gate TARGET=name SOURCE=checkout [SHARD=i/n]; reports/gate.md, exit 1 when red
	$(GATE)

gameday: $(VENV)/.installed ## game day on a live cluster: make gameday ENV=staging CONTEXT=ctx [MODE=dry-run | MODE=gameday CONFIRM=ctx] [TAGS=...]
	$(SUITE) gameday --env "$(ENV)"

.PHONY: staging-up staging-down gameday-proof gameday-proof-beside test-checks test-images
staging-up: $(VENV)/.installed ## the game days' "staging": a second kind cluster (bots-staging) + database, reference deployment applied with kubectl apply -k
	$(SUITE) staging up

staging-down: $(VENV)/.installed ## remove the staging cluster, its database, network, volumes and host routes (idempotent)
	$(SUITE) staging down

gameday-proof: $(VENV)/.installed ## the game day proven on a staging cluster: staging-up, every guard rail and a full game day (tests/gameday), staging-down
	$(SUITE) staging up && $(PYTEST) tests/gameday -q -p no:edirunbook.report -p no:cacheprovider; \
	  code=$$?; $(SUITE) staging down; exit $$code

gate-merge: $(VENV)/.installed ## one gate from sharded runs: make gate-merge DIRS="reports-1 reports-2 reports-3"
	$(SUITE) gate merge $(DIRS) --out reports $(if $(filter-out docs/runbook.md,$(RUNBOOK)),--runbook "$(RUNBOOK)")

integration: $(VENV)/.installed ## image tests (MariaDB, Bots EDI) against the Docker daemon
	EDIRUNBOOK_BASE_IMAGE=$$($(SUITE) env base-image) DOCKER_HOST=$$($(SUITE) env docker-host) \
	  $(PYTEST) tests/integration -q -p no:edirunbook.report

test: $(VENV)/.installed ## everything CI runs: lint, CI examples lint, image tests, manifest lint and unit tests while the images build; then verify and the game-day proof side by side
	@$(MAKE) --no-print-directory lint
	$(MAKE) --no-print-directory -j2 test-checks test-images
	$(MAKE) --no-print-directory -j2 verify gameday-proof-beside

# `make test` in two stages of two jobs each, since a job alone leaves one of two cores idle much of its time.
# 1. The checks one after the other (lint first alone, so a typo fails in seconds), while every image `make verify`
#    and the staging cluster use is built (on a cold machine half an hour of compiling; a check that needs one of
#    them, kubectl say, waits under that entry's cache lock and finds it built). Build lines are marked [images].
#    The image tests come first (they need the Debian base and the database image, built in minutes), the unit tests
#    last (they need kubectl, which only the end of Kubernetes' compile brings).
# 2. `make verify` (its lanes) and the game-day proof on its staging cluster, a cluster of its own (own ranges, ports,
#    network; the host's kernel settings are restored by the last of our clusters to go down). Lines: [gameday].
# A job that fails fails `make test`, once the job beside it has finished.
test-checks: $(VENV)/.installed
	@for check in ci-lint integration manifest-lint unit; do $(MAKE) --no-print-directory $$check || exit; done

test-images: $(VENV)/.installed
	@set -o pipefail; PYTHONUNBUFFERED=1 $(SUITE) env build 2>&1 | sed -u 's/^/[images] /'

gameday-proof-beside: $(VENV)/.installed
	@set -o pipefail; PYTHONUNBUFFERED=1 $(MAKE) --no-print-directory gameday-proof 2>&1 | sed -u 's/^/[gameday] /'

bench: $(VENV)/.installed ## speed figures: warm env-up vs a bare kind create cluster
	$(SUITE) env bench
