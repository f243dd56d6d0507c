# Front door of Bienvenue: every task is a target (`make help` lists them). `make run` and `make test` do all
# the set-up they need on a fresh machine.

# Nothing leaves the machine: no usage statistics or error reports to Rasa's publisher. The one place where
# telemetry is turned off: every script, server and test started through make inherits it.
export RASA_TELEMETRY_ENABLED := false

VENV := .venv/bin
ENDPOINTS ?= endpoints.yml

.DEFAULT_GOAL := help
.PHONY: help setup test-system train run chat lock test lint validate unit test-stories test-nlu integration \
	bench report unanswered-check purge

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-17s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# --- using the assistant ---------------------------------------------------------------------------------

setup: ## create .venv from requirements.lock and install the web page's packages (no-op when up to date)
	@scripts/setup.sh

train: setup ## train a model if the data, domain or config changed (scripts/train.sh --force to force)
	@scripts/train.sh

run: train ## start the assistant: action server, Rasa (REST, socket.io, Mattermost) and the web page
	@scripts/run.sh

# FILE=questions.txt: one conversation per line (ONE=1: a single one), then a table of intents, confidences and
# topics. DEBUG=1: the servers' logs in the terminal.
chat: train ## talk to the assistant in this terminal (FILE=…, ONE=1, DEBUG=1)
	@scripts/run.sh --shell $(if $(FILE),--file "$(FILE)") $(if $(ONE),--one) $(if $(DEBUG),--debug)

lock: ## re-pin every package (with hashes) after editing requirements.in
	@scripts/setup.sh --lock

# --- the test suite: `make test` runs every step below and prints each one's duration -------------------

test: ## the whole suite: every step below, with a summary of durations (honest exit code)
	@scripts/test.sh

test-system: ## install the system packages the tests need (Chromium, PostgreSQL, Redis, nginx)
	@scripts/setup-test-system.sh

lint: setup ## ruff on the whole tree
	@$(VENV)/ruff check .

validate: setup ## rasa data validate, every warning being an error
	@$(VENV)/python tests/validate_data.py

unit: setup ## unit tests (no server)
	@$(VENV)/pytest tests/unit -q

test-stories: train ## conversation tests (rasa test core on tests/stories)
	@exports=$$($(VENV)/python -m settings --shell) && eval "$$exports" && \
	  $(VENV)/rasa test core --model models --stories tests/stories --fail-on-prediction-errors --out results/core

test-nlu: train ## NLU evaluation on the held-out examples (fails under the required accuracy)
	@$(VENV)/python tests/nlu_evaluation.py

integration: train test-system ## integration tests against real servers (Rasa, PostgreSQL, Redis, Chromium…)
	@$(VENV)/pytest tests/integration -q --durations=10

# --- measures and reports ---------------------------------------------------------------------------------

# Reuses the trained models; BENCH_ARGS=--retrain also measures both trainings, BENCH_ARGS=--scale adds two
# instances behind nginx.
bench: setup test-system ## Bienvenue against Rasa's default configuration: results/bench/bench.{json,png}
	@$(VENV)/python -m bench.run $(BENCH_ARGS)

# For the content team (README, « La routine de la semaine »); DAYS=7: the last 7 days only;
# ENDPOINTS=endpoints.production.yml: the PostgreSQL store; FILE=results/report/wrong_answers.yml: what the
# current model answers to the probably wrong answers instead of the unanswered questions.
report: setup ## conversation report in results/report/ (DAYS=…, ENDPOINTS=…)
	@$(VENV)/python -m reports report --endpoints $(ENDPOINTS) $(if $(DAYS),--days $(DAYS))

unanswered-check: setup ## what the current model answers to the unanswered questions (FILE=…)
	@$(VENV)/python -m reports unanswered-check --endpoints $(ENDPOINTS) $(if $(FILE),--file $(FILE))

purge: setup ## delete the conversation sessions older than the retention period (ENDPOINTS=…)
	@$(VENV)/python -m reports purge --endpoints $(ENDPOINTS)
