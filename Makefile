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
