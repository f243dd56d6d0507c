#!/usr/bin/env bash
# Trains a model unless the newest one was trained from exactly the current training data, domain, config and
# pipeline code (their fingerprint is written beside the model). A fingerprint rather than file dates: files
# changed while a training runs (a merge, an edit) or code changed in pipeline/ still call for a new model.
# Rasa's cache makes a retraining after a small edit reuse the unchanged components. It lives outside the clone
# (like pip's or uv's caches), so that a fresh clone of unchanged data trains in seconds on the same machine.
set -euo pipefail
cd "$(dirname "$0")/.."
export RASA_CACHE_DIRECTORY=${RASA_CACHE_DIRECTORY:-${XDG_CACHE_HOME:-$HOME/.cache}/bienvenue/rasa}
model=models/bienvenue.tar.gz
stamp=models/bienvenue.fingerprint

fingerprint() {
  find config.yml domain.yml data pipeline -type f \( -name '*.yml' -o -name '*.py' \) -print0 \
    | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -d ' ' -f 1
}

# Taken before training: what Rasa is about to read.
current=$(fingerprint)
if [ -f "$model" ] && [ "${1:-}" != "--force" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$current" ]; then
  echo "[train] model up to date: $model"
  exit 0
fi
echo "[train] training a model (data, domain, config or pipeline code changed)"
rm -f "$stamp"
# One training at a time on this machine: trainings compete for the same cores and cache.
flock "${BIENVENUE_TRAIN_LOCK:-/tmp/bienvenue-train.lock}" .venv/bin/rasa train --fixed-model-name bienvenue --out models
echo "$current" > "$stamp"
