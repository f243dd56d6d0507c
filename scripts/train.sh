#!/usr/bin/env bash
# Trains a model when none exists or when the training data, domain or config is newer than the newest model.
# Rasa's cache makes a retraining after a small edit reuse the unchanged components. It lives outside the clone
# (like pip's or uv's caches), so that a fresh clone of unchanged data trains in seconds on the same machine.
set -euo pipefail
cd "$(dirname "$0")/.."
export RASA_CACHE_DIRECTORY=${RASA_CACHE_DIRECTORY:-${XDG_CACHE_HOME:-$HOME/.cache}/bienvenue/rasa}

newest_model=$(ls -t models/*.tar.gz 2>/dev/null | head -n 1 || true)
if [ -n "$newest_model" ] && [ "${1:-}" != "--force" ] \
   && [ -z "$(find data config.yml domain.yml -newer "$newest_model" -type f | head -n 1)" ]; then
  echo "[train] model up to date: $newest_model"
  exit 0
fi
echo "[train] training a model (data, domain or config changed)"
# One training at a time on this machine: trainings compete for the same cores and cache.
exec flock /tmp/bienvenue-train.lock .venv/bin/rasa train --fixed-model-name bienvenue --out models
