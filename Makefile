# Front door of Bienvenue. `make run` and `make test` do all the set-up they need on a fresh machine.
.PHONY: setup train run chat test lock

setup:
	@scripts/setup.sh

train: setup
	@scripts/train.sh

run: train
	@scripts/run.sh

chat: train
	@scripts/run.sh --shell

test:
	@scripts/test.sh

# Re-pin every package (with hashes) after editing requirements.in.
lock:
	@scripts/setup.sh --lock

# Bienvenue's configuration against Rasa's default, side by side: results/bench/bench.{json,png}. Reuses the
# trained models; BENCH_ARGS=--retrain also measures both trainings, BENCH_ARGS=--scale adds two instances.
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
