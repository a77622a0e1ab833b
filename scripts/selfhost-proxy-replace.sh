#!/usr/bin/env bash
# Restarts or upgrades the proxy container without refusing connections:
#   scripts/selfhost-proxy-replace.sh
# A new proxy container (current compose/.env and image) starts next to the old one in the `edge`
# service's network namespace; when it is ready it asks the old one over the handover socket to let
# go of ports 80/443, binds them at once and tells the old one, which then drains (apps/proxy/src/
# handover). Once the new one listens, the old container is stopped (it finishes in-flight requests)
# and removed. If the new one never comes up, it is removed and the old one keeps serving.
# (A plain `docker compose restart proxy` stops the old process before the new one starts: ~1 s in
# which connections are refused.)
# Settings (environment), as for install.sh: DREAM_ENV_FILE (compose/.env), COMPOSE_PROJECT_NAME (dreamnet).
# Every command runs as an argv list: no eval, no `sh -c` with interpolated strings.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
COMPOSE_FILE="$ROOT/compose/docker-compose.yml"
ENV_FILE="${DREAM_ENV_FILE:-$ROOT/compose/.env}"
PROJECT="${COMPOSE_PROJECT_NAME:-dreamnet}"
say() { printf '[proxy-replace] %s\n' "$*"; }
die() { printf '[proxy-replace] error: %s\n' "$*" >&2; exit 1; }

if docker compose version >/dev/null 2>&1; then COMPOSE=(docker compose)
elif command -v docker-compose >/dev/null 2>&1; then COMPOSE=(docker-compose)
else die "neither 'docker compose' nor 'docker-compose' is installed."; fi
compose() { "${COMPOSE[@]}" -f "$COMPOSE_FILE" --env-file "$ENV_FILE" -p "$PROJECT" "$@"; }

mapfile -t OLD < <(compose ps -q proxy)
if [ "${#OLD[@]}" = 0 ]; then
  say "no proxy container runs; starting one."
  compose up -d --no-deps proxy
  exit 0
fi
for id in "${OLD[@]}"; do
  mode="$(docker inspect --format '{{.HostConfig.NetworkMode}}' "$id")"
  case "$mode" in container:*) ;; *) die "proxy $id publishes its own ports (a compose file from before the edge service): run scripts/install.sh once (one short gap) first." ;; esac
done

# One more proxy container, with the current settings; the running ones are left as they are.
compose up -d --no-deps --no-recreate --scale "proxy=$(( ${#OLD[@]} + 1 ))" proxy
NEW=""
while read -r id; do
  case " ${OLD[*]} " in *" $id "*) ;; *) NEW="$id" ;; esac
done < <(compose ps -q proxy)
[ -n "$NEW" ] || die "compose did not start a new proxy container."
say "new proxy ${NEW:0:12} starting next to the running one…"

# The log is read whole before grep looks at it: with pipefail, `docker logs | grep -q` fails
# whenever grep exits on a match while docker logs is still writing (SIGPIPE, exit 141) — that
# made this script report "no predecessor" after a takeover that had happened.
logged() { local out; out="$(docker logs "$NEW" 2>&1)" || return 1; grep -q -e "$1" <<<"$out"; }

# Ready = it logged that it listens (after taking the ports over from the old one).
ready=0
for _ in $(seq 1 240); do
  if logged '"msg":"proxy listening"\|"msg":"handover: took over the listeners"'; then ready=1; break; fi
  [ "$(docker inspect --format '{{.State.Running}}' "$NEW" 2>/dev/null)" = true ] || break
  sleep 0.5
done
if [ "$ready" != 1 ]; then
  docker logs --tail 30 "$NEW" >&2 || true
  docker rm -f "$NEW" >/dev/null || true
  die "the new proxy did not come up; removed it, the old one keeps serving."
fi
took_over() { logged '"msg":"handover: took over the listeners"'; }
# With several workers the takeover is confirmed a moment after the first one listens.
for _ in $(seq 1 10); do took_over && break; sleep 0.3; done
if took_over; then
  say "new proxy took the ports over; stopping the old one (it finishes in-flight requests)."
else
  say "warning: the new proxy found no predecessor to take over from (it bound the ports itself)."
fi
for id in "${OLD[@]}"; do
  docker stop -t 30 "$id" >/dev/null
  docker rm "$id" >/dev/null
done
say "done: proxy ${NEW:0:12} serves."
