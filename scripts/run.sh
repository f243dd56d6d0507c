#!/usr/bin/env bash
# Starts the action server and the Rasa server (REST and socket.io channels) on localhost, waits until the
# model is loaded, prints where to talk to the assistant and stops everything cleanly on Ctrl-C.
# With --shell [options], talks to the assistant in this terminal instead (python -m chat, see chat/__main__.py).
set -euo pipefail
cd "$(dirname "$0")/.."

mode=${1:-server}
# Every setting checked, then exported with its default when unset: settings.py is their one source.
settings_exports=$(.venv/bin/python -m settings --shell) || exit 2
eval "$settings_exports"
rasa_port=$RASA_PORT
actions_port=$ACTIONS_PORT
web_port=$WEB_PORT
# Request bodies larger than this are refused with 413 by the Rasa server only (Sanic reads SANIC_* variables):
# Rasa's calls to the action server carry the whole conversation and the domain, often more.
request_max_size=$SANIC_REQUEST_MAX_SIZE
unset SANIC_REQUEST_MAX_SIZE
mkdir -p "$(dirname "$BIENVENUE_TRACKER_DB")" var/log

if [ "$mode" = "--shell" ]; then
  shift
  # The chat starts (or reuses) the action server and its own Rasa server, and stops what it started.
  exec .venv/bin/python -m chat "$@"
fi

# Tchap: started when TCHAP_HOMESERVER is set (README, section Tchap). The client and the Rasa server share
# TCHAP_CHANNEL_TOKEN; a random one is made for this run when none is given.
tchap_enabled=
if [ -n "${TCHAP_HOMESERVER:-}" ]; then
  tchap_enabled=1
  export TCHAP_CHANNEL_TOKEN=${TCHAP_CHANNEL_TOKEN:-$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')}
  export TCHAP_RASA_URL=${TCHAP_RASA_URL:-http://127.0.0.1:$rasa_port}
  # A missing variable stops everything now, with its name, rather than after the model has loaded.
  .venv-tchap/bin/python -m tchap --check
fi

pids=()
stop_all() {
  trap - INT TERM EXIT
  [ ${#pids[@]} -gt 0 ] || return 0
  echo
  echo "[run] stopping..."
  kill "${pids[@]}" 2>/dev/null || true
  wait "${pids[@]}" 2>/dev/null || true
}
trap stop_all INT TERM EXIT

wait_for() {  # url, name, pid
  until curl -fsS -o /dev/null "$1" 2>/dev/null; do
    kill -0 "$3" 2>/dev/null || { echo "[run] $2 failed to start: see var/log/" >&2; exit 1; }
    sleep 1
  done
}

# The action server listens on loopback only (rasa_sdk binds 0.0.0.0 by default), and keeps a new connection
# open until its request comes: a busy Rasa server may take more than Sanic's default 5 seconds to send it.
SANIC_HOST=127.0.0.1 SANIC_KEEP_ALIVE_TIMEOUT=120 \
  .venv/bin/rasa run actions --port "$actions_port" >var/log/actions.log 2>&1 &
pids+=($!)
wait_for "http://localhost:$actions_port/health" "action server" "${pids[-1]}"

# The HTTP API (model, tracker, training endpoints) stays off unless a token protects it.
api_args=()
[ -n "${RASA_API_TOKEN:-}" ] && api_args=(--enable-api --auth-token "$RASA_API_TOKEN")
SANIC_REQUEST_MAX_SIZE=$request_max_size \
  .venv/bin/rasa run --model models --endpoints endpoints.yml --credentials credentials.yml \
  --interface 127.0.0.1 --port "$rasa_port" --cors "$BIENVENUE_WEB_ORIGIN" "${api_args[@]}" \
  >var/log/rasa.log 2>&1 &
pids+=($!)
echo "[run] loading the model (about a minute)..."
wait_for "http://localhost:$rasa_port/" "Rasa server" "${pids[-1]}"

.venv/bin/python -m web.serve --port "$web_port" --rasa-url "http://localhost:$rasa_port" \
  >var/log/web.log 2>&1 &
pids+=($!)
wait_for "http://localhost:$web_port/" "web page server" "${pids[-1]}"

tchap_line="Tchap : non configuré (variables TCHAP_*, voir le README)"
if [ -n "$tchap_enabled" ]; then
  .venv-tchap/bin/python -m tchap >var/log/tchap.log 2>&1 &
  pids+=($!)
  tchap_line="Tchap : client démarré pour ${TCHAP_USER_ID:-?} sur $TCHAP_HOMESERVER (journal : var/log/tchap.log)"
fi

cat <<MSG
[run] Bienvenue est prête.
  $tchap_line
  Page web : http://localhost:$web_port/
  API REST : curl -s -XPOST http://localhost:$rasa_port/webhooks/rest/webhook \\
               -H 'Content-Type: application/json' -d '{"sender": "moi", "message": "bonjour"}'
  Journaux : var/log/  ·  Conversations : $BIENVENUE_TRACKER_DB
  Ctrl-C pour arrêter.
MSG
wait -n "${pids[@]}"
