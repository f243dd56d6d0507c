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

# Bienvenue's configuration against Rasa's default, side by side (about 20 min): results/bench/bench.{json,png}.
.PHONY: bench
bench: setup
	@scripts/setup-test-system.sh && .venv/bin/python -m bench.run
