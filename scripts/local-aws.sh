#!/usr/bin/env bash
# The local AWS (moto_server on 127.0.0.1:4566) and the local HTTP stand-ins
# (scripts/standin.py on 127.0.0.1:4580).  Usage: local-aws.sh start|stop|status
set -euo pipefail
source "$(dirname "$0")/lib.sh"

answers() { "$VENV/bin/python" - "$1" <<'PY'
import sys, urllib.request
try:
    urllib.request.urlopen(sys.argv[1], timeout=1)
except urllib.error.HTTPError:
    pass
except Exception:
    sys.exit(1)
PY
}

start_one() { # name url command...
  local name=$1 url=$2; shift 2
  if answers "$url"; then echo "$name: already running"; return; fi
  nohup "$@" > "$LOCAL/$name.log" 2>&1 &
  echo $! > "$LOCAL/$name.pid"
  for _ in $(seq 1 150); do
    if answers "$url"; then echo "$name: running at $url"; return; fi
    kill -0 "$(cat "$LOCAL/$name.pid")" 2>/dev/null || { cat "$LOCAL/$name.log" >&2; die "$name did not start"; }
    sleep 0.2
  done
  die "$name did not answer at $url within 30 s"
}

# Stops only what `start` started, by the pid it recorded: a moto or stand-in started by
# hand (or by another checkout) on the same ports is not ours to end.
stop_one() { # name
  local pidfile="$LOCAL/$1.pid"
  if [ -f "$pidfile" ]; then
    kill "$(cat "$pidfile")" 2>/dev/null || true
    rm -f "$pidfile"
    echo "$1: stopped"
  else
    echo "$1: not started by this checkout; left alone"
  fi
}

case "${1:-}" in
  start)
    [ -x "$VENV/bin/moto_server" ] || die "run scripts/setup.sh first"
    start_one moto "http://127.0.0.1:$LOCAL_AWS_PORT/moto-api/" \
      env MOTO_RECORDER_FILEPATH="$LOCAL/moto_recording" "$VENV/bin/moto_server" -H 127.0.0.1 -p "$LOCAL_AWS_PORT"
    start_one standin "http://127.0.0.1:$STANDIN_PORT/__requests" \
      "$VENV/bin/python" "$ROOT/scripts/standin.py" --port "$STANDIN_PORT"
    ;;
  stop)
    stop_one moto
    stop_one standin
    ;;
  status)
    answers "http://127.0.0.1:$LOCAL_AWS_PORT/moto-api/" && echo "moto: running" || echo "moto: stopped"
    answers "http://127.0.0.1:$STANDIN_PORT/__requests" && echo "standin: running" || echo "standin: stopped"
    ;;
  *) die "usage: $0 start|stop|status" ;;
esac
