#!/usr/bin/env bash
# System packages that only the tests need (Debian): Chromium for the browser tests, PostgreSQL, Redis and
# nginx for the multi-instance test. Installs what is missing; does nothing when all is there.
set -euo pipefail

# The homeserver of the Tchap tests (Synapse), in its own environment.
"$(dirname "$0")/setup.sh" --synapse

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || missing+=(postgresql)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
[ ${#missing[@]} -eq 0 ] && { echo "[setup] test system packages present"; exit 0; }

echo "[setup] installing system packages: ${missing[*]}"
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
"${sudo_cmd[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
