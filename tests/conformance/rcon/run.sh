#!/usr/bin/env bash
# Runs livetrigger-cli's RCON client against a third-party RCON server from PyPI
# (rcon-server 0.1.3). Not part of CI: it needs PyPI. Loopback only.
# Usage: tests/conformance/rcon/run.sh   (from anywhere; builds the CLI if needed)
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
WORK=$(mktemp -d)
SERVER_PID=
cleanup() { [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

python3 -m venv "$WORK/venv"
"$WORK/venv/bin/pip" install -q rcon-server==0.1.3

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
cargo build -q -j2 --manifest-path "$ROOT/Cargo.toml" -p livetrigger-cli
CLI=$CARGO_TARGET_DIR/debug/livetrigger-cli

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
PW=conformance-pw
PYTHONPATH= "$WORK/venv/bin/python" "$HERE/server.py" "$PORT" "$PW" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 50); do
  python3 -c "import socket; socket.create_connection(('127.0.0.1',$PORT),0.2)" 2>/dev/null && break
  sleep 0.1
done

pass=0; fail=0
check() { # name, expected-exit, stdout-check-command
  if "$@"; then pass=$((pass+1)); echo "ok   $NAME"; else fail=$((fail+1)); echo "FAIL $NAME"; fi
}
ADDR=127.0.0.1:$PORT

NAME="commands run in order with replies"
out=$(LIVETRIGGER_RCON_PASSWORD=$PW "$CLI" rcon --addr "$ADDR" list "echo hello" "echo world")
check test "$out" = "$(printf 'There are 0 of a max of 20 players online: \nhello\nworld')"

NAME="10,000-char reply reassembled from 3 packets"
out=$(LIVETRIGGER_RCON_PASSWORD=$PW "$CLI" rcon --addr "$ADDR" "repeat 10000 W" "echo after")
check test "$out" = "$(python3 -c 'print("W"*10000); print("after", end="")')"

NAME="exactly 4096 bytes: end marker answered, next reply not confused"
out=$(LIVETRIGGER_RCON_PASSWORD=$PW "$CLI" rcon --addr "$ADDR" "repeat 4096 a" "echo next")
check test "$out" = "$(python3 -c 'print("a"*4096); print("next", end="")')"

NAME="wrong password: non-zero exit and a clear message"
set +e; err=$(LIVETRIGGER_RCON_PASSWORD=wrong "$CLI" rcon --addr "$ADDR" list 2>&1 >/dev/null); code=$?; set -e
check test $code -ne 0 -a -n "$(echo "$err" | grep 'password was refused')"

NAME="over-long command refused before sending"
set +e; err=$(LIVETRIGGER_RCON_PASSWORD=$PW "$CLI" rcon --addr "$ADDR" "echo $(printf 'x%.0s' $(seq 1442))" 2>&1 >/dev/null); code=$?; set -e
check test $code -ne 0 -a -n "$(echo "$err" | grep '1447 bytes')"

NAME="server log shows each command once"
check test "$(grep -c "executed 'echo hello'" "$WORK/server.log")" = 1

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
