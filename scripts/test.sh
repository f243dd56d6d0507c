#!/usr/bin/env bash
# The whole test suite, as `make test` runs it: every step is a make target and runs even when an earlier one
# failed. The summary gives each step's duration; the last line says how many steps passed and failed, and the
# exit code is non-zero when any failed.
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p results

STEPS=(lint validate unit train test-stories test-nlu integration)
results=()
failed=0
started_all=$SECONDS

make --no-print-directory setup test-system || { echo "make test: set-up failed"; exit 1; }
for target in "${STEPS[@]}"; do
  echo
  echo "=== make $target"
  started=$SECONDS
  if make --no-print-directory "$target"; then status=ok; else status=FAILED; failed=$((failed + 1)); fi
  results+=("$(printf '%-14s %-7s %5d s' "$target" "$status" $((SECONDS - started)))")
done

echo
echo "step           result  duration"
printf '%s\n' "${results[@]}"
printf '%-14s %-7s %5d s\n' "total" "" $((SECONDS - started_all))
echo "make test: $(( ${#STEPS[@]} - failed )) passed, ${failed} failed"
[ "$failed" -eq 0 ]
