#!/usr/bin/env bash
# Conformance check (not in CI): PyPI TikTokLive 7.x against `livetrigger-cli simulate`.
# Usage: tests/conformance/webcast/run.sh   (from the repo root)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="${VENV:-/tmp/tiktoklive-venv}"
[ -x "$venv/bin/python" ] || { python3 -m venv "$venv"; "$venv/bin/pip" install -q "TikTokLive>=7,<8"; }
cargo build -q -p livetrigger-cli
bin="${CARGO_TARGET_DIR:-target}/debug/livetrigger-cli"
out="$(mktemp)"
"$bin" simulate --listen 127.0.0.1:0 --time-scale 0.2 >"$out" &
sim=$!
trap 'kill $sim 2>/dev/null || true; rm -f "$out"' EXIT
for _ in $(seq 100); do [ -s "$out" ] && break; sleep 0.1; done
base="$(head -n1 "$out" | sed 's/^listening on //')"
echo "simulator at $base" >&2
"$venv/bin/python" "$here/tiktoklive_py.py" "$base"
