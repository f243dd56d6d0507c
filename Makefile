# Front door of Bienvenue. `make run` and `make test` do all the set-up they need on a fresh machine.
.PHONY: setup train run chat test lock

setup:
	@scripts/setup.sh

train: setup
	@scripts/train.sh

run: train
	@scripts/run.sh

# Talk to the assistant in this terminal (python -m chat). FILE=questions.txt: one conversation per line (ONE=1:
# a single one), then a table of intents, confidences and topics. DEBUG=1: the servers' logs in the terminal.
chat: train
	@scripts/run.sh --shell $(if $(FILE),--file "$(FILE)") $(if $(ONE),--one) $(if $(DEBUG),--debug)

test:
	@scripts/test.sh

# Re-pin every package (with hashes) after editing requirements.in.
lock:
	@scripts/setup.sh --lock

# Bienvenue's configuration against Rasa's default, side by side: results/bench/bench.{json,png}. Mostly training
# time; BENCH_ARGS="--skip-training results/bench/models" re-measures the servers with the last run's models.
.PHONY: bench
bench: setup
	@scripts/setup-test-system.sh && .venv/bin/python -m bench.run $(BENCH_ARGS)

# For the content team (README, « La routine de la semaine »): the conversation report in results/report/
# (DAYS=7: conversations of the last 7 days only; ENDPOINTS=endpoints.production.yml: the PostgreSQL store),
# what the current model answers to the unanswered questions, and the deletion of the conversations whose
# last message is older than BIENVENUE_RETENTION_DAYS (90 by default).
.PHONY: report unanswered-check purge
ENDPOINTS ?= endpoints.yml

report: setup
	@.venv/bin/python -m reports report --endpoints $(ENDPOINTS) $(if $(DAYS),--days $(DAYS))

unanswered-check: setup
	@.venv/bin/python -m reports unanswered-check

purge: setup
	@.venv/bin/python -m reports purge --endpoints $(ENDPOINTS)
