#!/usr/bin/env bash
# Creates .venv with Python 3.10 and installs exactly what requirements.lock pins (hashes checked),
# then the web page's npm packages. Re-running it when nothing changed does nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.venv
STAMP=$VENV/.installed-lock
TOOLS=.tools

log() { printf '[setup] %s\n' "$*" >&2; }

is_python310() { "$1" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' >/dev/null 2>&1; }

# Order: $PYTHON310, python3.10 on PATH, pyenv's newest 3.10.x, then uv's managed Pythons.
find_python310() {
  local candidate
  for candidate in "${PYTHON310:-}" "$(command -v python3.10 2>/dev/null)" \
      $(ls -d "$(pyenv root 2>/dev/null)"/versions/3.10.*/bin/python3.10 2>/dev/null | sort -rV); do
    if [ -n "$candidate" ] && is_python310 "$candidate"; then echo "$candidate"; return; fi
  done
  if command -v uv >/dev/null 2>&1; then
    candidate=$(uv python find 3.10 2>/dev/null || { uv python install 3.10 >&2 && uv python find 3.10; })
    if [ -n "$candidate" ]; then echo "$candidate"; return; fi
  fi
  return 1
}

# uv: the one on PATH, else a pinned copy installed (hash-checked) into .tools/
find_uv() {
  if command -v uv >/dev/null 2>&1; then command -v uv; return; fi
  if [ ! -x "$TOOLS/bin/uv" ]; then
    log "installing uv into $TOOLS/ (pinned in scripts/tools.lock)"
    "$1" -m venv "$TOOLS" >&2
    "$TOOLS/bin/pip" install --quiet --require-hashes -r scripts/tools.lock >&2
  fi
  echo "$TOOLS/bin/uv"
}

# The Tchap client (.venv-tchap) and the tests' homeserver (.venv-synapse) have environments of their own on
# Python 3.11: matrix-nio needs a newer aiohttp than Rasa 3.6 allows (README, section Tchap).
sync_locked_venv() {  # venv, lock
  local venv=$1 lock=$2 stamp python311
  stamp=$(sha256sum "$lock" | cut -d' ' -f1)
  if [ -x "$venv/bin/python" ] && [ "$(cat "$venv/.installed-lock" 2>/dev/null)" = "$stamp" ]; then
    log "$venv up to date"
    return
  fi
  uv=$(find_uv "$(find_python310)")
  python311=$(command -v python3.11 || "$uv" python find 3.11 || { "$uv" python install 3.11 >&2 && "$uv" python find 3.11; })
  log "installing $lock into $venv (Python 3.11, hashes required)"
  [ -x "$venv/bin/python" ] || "$uv" venv --quiet --python "$python311" "$venv"
  "$uv" pip sync --quiet --require-hashes --python "$venv/bin/python" "$lock"
  echo "$stamp" > "$venv/.installed-lock"
}

if [ "${1:-}" = "--lock" ]; then
  uv=$(find_uv "$(find_python310)")
  "$uv" pip compile requirements.in --python-version 3.10 --generate-hashes --no-header --quiet -o requirements.lock
  for name in requirements requirements-synapse; do
    "$uv" pip compile "tchap/$name.in" --python-version 3.11 --generate-hashes --no-header --quiet \
      -o "tchap/$name.lock"
  done
  log "requirements.lock, tchap/requirements.lock and tchap/requirements-synapse.lock updated"
  exit 0
fi

if [ "${1:-}" = "--synapse" ]; then
  sync_locked_venv .venv-synapse tchap/requirements-synapse.lock
  exit 0
fi

# The venv is up to date when its stamp holds the hash of the lock it was synced from.
wanted_stamp=$(sha256sum requirements.lock | cut -d' ' -f1)
if [ -x "$VENV/bin/python" ] && [ "$(cat "$STAMP" 2>/dev/null)" = "$wanted_stamp" ]; then
  log "Python environment up to date"
else
  python310=$(find_python310) || {
    echo "[setup] Python 3.10 not found: install it (e.g. 'uv python install 3.10' or pyenv) and retry." >&2
    exit 1
  }
  uv=$(find_uv "$python310")
  log "Python: $python310"
  if ! is_python310 "$VENV/bin/python"; then
    "$uv" venv --quiet --python "$python310" "$VENV"
  fi
  log "installing requirements.lock into $VENV (hashes required)"
  "$uv" pip sync --quiet --require-hashes --python "$VENV/bin/python" requirements.lock
  echo "$wanted_stamp" > "$STAMP"
fi

sync_locked_venv .venv-tchap tchap/requirements.lock

# The web page's packages (DSFR, socket.io client, axe-core), pinned by web/package-lock.json.
if [ -f web/package-lock.json ]; then
  web_stamp=$(sha256sum web/package-lock.json | cut -d' ' -f1)
  if [ "$(cat web/node_modules/.installed-lock 2>/dev/null)" = "$web_stamp" ]; then
    log "web packages up to date"
  else
    command -v npm >/dev/null 2>&1 || { echo "[setup] npm is required for the web page (Node 20)." >&2; exit 1; }
    log "installing web packages (npm ci)"
    (cd web && npm ci --no-audit --no-fund --loglevel=error)
    echo "$web_stamp" > web/node_modules/.installed-lock
  fi
fi
