#!/usr/bin/env bash
# The whole test suite. Every step runs; the command fails when any step fails, and the last line says how
# many steps passed and failed.
set -uo pipefail
cd "$(dirname "$0")/.."
# Nothing leaves the machine: no usage statistics or error reports to Rasa's publisher.
export RASA_TELEMETRY_ENABLED=false
mkdir -p results

passed=0
failed=()
step() {  # name, command...
  local name=$1; shift
  echo
  echo "=== $name"
  if "$@"; then passed=$((passed + 1)); else failed+=("$name"); echo "=== FAILED: $name"; fi
}

scripts/setup.sh && scripts/setup-test-system.sh || { echo "set-up failed"; exit 1; }

step "ruff" .venv/bin/ruff check .
step "rasa data validate" .venv/bin/python tests/validate_data.py
step "unit tests" .venv/bin/pytest tests/unit -q
step "training" scripts/train.sh
# endpoints.yml's variables for `rasa test` only: exported, they would leak into the servers the tests start.
step "conversation tests (rasa test)" env ACTION_SERVER_URL=http://localhost:5055/webhook \
  BIENVENUE_TRACKER_DB=var/conversations.db .venv/bin/rasa test core --model models --stories tests/stories \
  --fail-on-prediction-errors --out results/core
step "NLU evaluation (held-out accuracy, out-of-domain wrong answers)" .venv/bin/python tests/nlu_evaluation.py
step "integration tests" .venv/bin/pytest tests/integration -q

echo
[ ${#failed[@]} -eq 0 ] || printf 'failed step: %s\n' "${failed[@]}"
echo "make test: ${passed} passed, ${#failed[@]} failed"
[ ${#failed[@]} -eq 0 ]
