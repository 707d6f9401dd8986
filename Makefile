# FOSS Data Platform - one task runner for people and CI. `make help` lists the targets.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Debian packages the project needs on the machine that runs it (as root).
APT_PACKAGES := python3 python3-venv git make systemd-container debootstrap iproute2 nftables \
	openssh-client shellcheck procps util-linux openjdk-17-jdk-headless
LAB_HOSTS ?= 3
SCENARIOS ?= platform-fresh security artifacts platform
# Where `make molecule` writes the time of each scenario.
MOLECULE_TIMES ?= .cache/molecule-times
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
# Where the lab's `up` writes its inventory (git-ignored). Passed to the lab targets only:
# Molecule's and the tests' labs must never write or remove the main lab's inventory.
LAB_INVENTORY := $(CURDIR)/inventories/lab/hosts.yml
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: help
help: ## List the targets
	@grep -hE '^[a-z][a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{ printf "  %-14s %s\n", $$1, $$2 }'

# --- set-up ---------------------------------------------------------------------------------
.cache/apt.stamp: Makefile
	@mkdir -p .cache
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "apt: installing $$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi
	@touch $@

$(BIN)/.stamp: requirements.txt constraints.txt | .cache/apt.stamp
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt -c constraints.txt
	@touch $@

.collections/.stamp: ansible/requirements.yml scripts/install-collections $(BIN)/.stamp
	$(BIN)/python scripts/install-collections
	@touch $@

.PHONY: setup
setup: .cache/apt.stamp $(BIN)/.stamp .collections/.stamp ## Install apt packages, the pinned Python tools (.venv) and collections

# --- lab --------------------------------------------------------------------------------------
.PHONY: lab
lab: setup lab-mirror ## Bring up the lab ($(LAB_HOSTS) hosts) and deploy site.yml onto it
	LAB_INVENTORY=$(LAB_INVENTORY) scripts/lab up $(LAB_HOSTS)
	FDP_RUN_REPORT=$(CURDIR)/.lab/deploy-report.jsonl ansible-playbook -i inventories/lab site.yml
	@scripts/lab status
	@$(BIN)/python scripts/report-run .lab/deploy-report.jsonl
	@echo "Reach a host with: scripts/lab ssh lab1   (inventory: inventories/lab)"

.PHONY: lab-mirror
lab-mirror: setup ## Build (once) the lab's artifact mirror from PyPI + Debian (/var/cache/fdp-lab/mirror)
	$(BIN)/python scripts/fetch-artifacts lab-mirror

.PHONY: lab-up lab-down lab-status
lab-up: setup ## Start the lab hosts only
	LAB_INVENTORY=$(LAB_INVENTORY) scripts/lab up $(LAB_HOSTS)
lab-down: ## Stop the lab and remove its hosts, bridge and overlays
	LAB_INVENTORY=$(LAB_INVENTORY) scripts/lab down
lab-status: ## Show the lab hosts
	scripts/lab status

# --- tests ------------------------------------------------------------------------------------
.PHONY: test lint unit terraform-test lab-test molecule
# Two streams at once (scripts/run-tests): the platform scenario in one; lint, unit, Terraform and
# lab tests, then the other scenarios in the other. The time of each phase is printed at the end
# (also when a phase fails). The lab images, the mirror and the tools are fetched (once) beside lint.
test: setup ## Everything CI runs: lint, unit tests, Terraform tests, lab tests, Molecule scenarios (timed)
	scripts/run-tests

lint: setup ## ansible-lint (production), yamllint (strict), shellcheck, terraform fmt, syntax check
	yamllint --strict .
	ansible-lint --profile production
	shellcheck scripts/lab scripts/tools scripts/run-tests .ci/run
	scripts/terraform fmt -check -recursive -diff terraform
	ansible-playbook -i inventories/sample --syntax-check site.yml

unit: setup tools ## Unit tests (filters, validation, rendering, role contracts, alert rules, dashboards)
	pytest -n auto --durations=15 tests/unit

.PHONY: tools
tools: lab-mirror ## promtool and amtool (from the mirror's Prometheus and Alertmanager) into .tools/bin
	scripts/tools

terraform-test: setup ## Terraform: fmt, terraform test, existing root apply + hand-off + preflight, provider roots, port matrix
	pytest tests/terraform

lab-test: setup ## Tests of scripts/lab and the preflight stage (real lab hosts)
	pytest tests/lab

molecule: setup lab-mirror ## Molecule scenarios on real lab hosts (SCENARIOS="baseline ...")
	@mkdir -p .cache; : >$(MOLECULE_TIMES)
	@for s in $(SCENARIOS); do \
	  t0=$$(date +%s); rc=0; molecule test -s $$s || rc=$$?; \
	  printf '%-16s %5d s%s\n' "$$s" $$(( $$(date +%s) - t0 )) "$$([ $$rc -eq 0 ] || echo '  FAILED')" >>$(MOLECULE_TIMES); \
	  [ $$rc -eq 0 ] || exit $$rc; \
	done

.PHONY: clean
clean: lab-down ## Stop the lab and remove the virtualenv, collections and caches
	rm -rf $(VENV) .collections .cache .lab .tools
