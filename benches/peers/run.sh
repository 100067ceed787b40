#!/usr/bin/env bash
# Side by side with the reference libraries (issue 12): one script, one run, one machine, the
# same bytes for everyone.
#
#   benches/peers/run.sh            # from the repository root; about 25 minutes on 2 cores
#                                   # (TikTokLive printing JSON takes 14 of them)
#
# What it does, in order:
#   1. installs the pinned reference libraries into a new temporary folder (a Python venv with
#      PyPI TikTokLive, an npm prefix with tiktok-live-connector; nothing global) and prints
#      the versions installed;
#   2. builds livetrigger-cli and our driver (the `peers` example of tiktok-live, release);
#   3. records a corpus: our simulator (`simulate`: the demo script, a gift-streak script made
#      by streaks.py, four random streams at 2–20 messages a frame) through the real client
#      (`watch --record`) on 127.0.0.1, then keeps each recording's websocket frames
#      (`peers export`) and prints the corpus's mix (and stops if it is not gzip'd, mixed,
#      batched and streaky);
#   4. in-process, warm: decode + dispatch to typed events over the whole corpus, repeated for
#      $SECS seconds (at least 3 passes, median pass): ours, the bare gunzip + prost limit,
#      push frame + gunzip alone (the floor under any decoder), TikTokLive's own path,
#      TikTok-Live-Connector's own path (see each driver's header);
#   5. whole process, as a user would: `livetrigger-cli decode FILES > out` against each peer's
#      smallest script that reads the same files and prints one JSON line per message;
#   6. prints the table (table.py) and fails when the drivers did not see the same messages.
#
# Environment: SECS (default 10) per in-process driver; PEERS_DIR to reuse a folder (the
# installs and the corpus are kept there; default: a new mktemp folder, removed at the end
# unless KEEP=1); CARGO_TARGET_DIR as for cargo. Needs python3 (3.10+) with venv, Node.js 20+,
# npm, cargo, and the package registries. Not part of CI: it downloads.
set -euo pipefail

TIKTOKLIVE_VERSION=7.0.1
CONNECTOR_VERSION=2.5.0
SECS=${SECS:-10}

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
if [[ -n "${PEERS_DIR:-}" ]]; then
  WORK=$PEERS_DIR
  mkdir -p "$WORK"
else
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/livetrigger-peers.XXXXXX")
  [[ "${KEEP:-0}" == 1 ]] || trap 'rm -rf "$WORK"' EXIT
fi
echo "== working folder: $WORK"

# ---- 1. the reference libraries, pinned, in the temporary folder only
if [[ ! -x "$WORK/venv/bin/python" ]]; then
  python3 -m venv "$WORK/venv"
fi
"$WORK/venv/bin/pip" install -q --disable-pip-version-check "TikTokLive==$TIKTOKLIVE_VERSION"
mkdir -p "$WORK/npm"
[[ -f "$WORK/npm/package.json" ]] || echo '{"private": true}' >"$WORK/npm/package.json"
npm install --prefix "$WORK/npm" --no-audit --no-fund --loglevel=error \
  "tiktok-live-connector@$CONNECTOR_VERSION" >/dev/null
# ESM resolves packages from the importing file's folder, so the driver runs from the prefix.
cp "$HERE/connector_driver.mjs" "$WORK/npm/"
PY_VERSIONS=$("$WORK/venv/bin/pip" list --format=freeze 2>/dev/null |
  grep -iE '^(tiktoklive|tiktokliveproto|betterproto2|protobuf)==' | tr '\n' ' ')
JS_VERSIONS=$(cd "$WORK/npm" && node -e '
  for (const p of ["tiktok-live-connector", "tiktok-live-proto", "@bufbuild/protobuf"]) {
    try { process.stdout.write(p + "@" + require("./node_modules/" + p + "/package.json").version + " ") } catch {}
  }')
echo "== installed: $PY_VERSIONS"
echo "== installed: $JS_VERSIONS"
echo "== runtimes: $("$WORK/venv/bin/python" --version), node $(node --version), $(rustc --version)"

# ---- 2. ours
(cd "$ROOT" && cargo build --release -q -p livetrigger-cli -p tiktok-live --example peers)
CLI=$TARGET/release/livetrigger-cli
OURS=$TARGET/release/examples/peers

# ---- 3. the corpus
REC=$WORK/recordings
CORPUS=$WORK/corpus
# One stream from the simulator through `watch --record`. A scripted stream ends itself
# (Control 3 + close); a random one never ends, so the watch is stopped once its output has
# stopped growing (the simulator sends as fast as it can with --time-scale 0).
record() {
  local name=$1
  shift
  local out=$REC/$name
  rm -f "$out.ltrec"
  "$CLI" simulate "$@" >"$out.sim" 2>/dev/null &
  local sim=$!
  local url=""
  for _ in $(seq 100); do
    url=$(sed -n 's/^listening on //p' "$out.sim")
    [[ -n "$url" ]] && break
    sleep 0.1
  done
  [[ -n "$url" ]] || { echo "simulator for $name did not start" >&2; kill "$sim"; return 1; }
  "$CLI" watch --user simstreamer --web-url "$url" --sign-url "$url" --max-attempts 2 \
    --record "$out.ltrec" >"$out.events" 2>/dev/null &
  local watch=$!
  local last=-1 same=0 lines
  while kill -0 "$watch" 2>/dev/null; do
    sleep 1
    lines=$(wc -l <"$out.events")
    if [[ "$lines" == "$last" ]]; then
      same=$((same + 1))
      if ((same >= 3)); then
        kill -INT "$watch"
        break
      fi
    else
      same=0
      last=$lines
    fi
  done
  wait "$watch" || true
  kill "$sim" 2>/dev/null || true
  wait "$sim" 2>/dev/null || true
  echo "   $name: $(wc -l <"$out.events") lines of events, $(stat -c %s "$out.ltrec") bytes recorded"
}
if [[ ! -d "$CORPUS" ]]; then
  echo "== recording the corpus"
  mkdir -p "$REC"
  python3 "$HERE/streaks.py" 20000 7 >"$REC/streaks.json"
  record demo --scenario demo
  record streaks --scenario "$REC/streaks.json" --time-scale 0
  record random-b2 --rate 40 --seed 1 --limit 4000 --time-scale 0
  record random-b5 --rate 100 --seed 2 --limit 10000 --time-scale 0
  record random-b10 --rate 200 --seed 3 --limit 20000 --time-scale 0
  record random-b20 --rate 400 --seed 4 --limit 10000 --time-scale 0
  "$OURS" export "$CORPUS.tmp" "$REC"/*.ltrec
  mv "$CORPUS.tmp" "$CORPUS"
fi
FILES=("$CORPUS"/*.ltrec)
echo "== corpus: ${#FILES[@]} streams, $(du -sh "$CORPUS" | cut -f1)"
"$OURS" mix "${FILES[@]}" | tee "$WORK/mix.json"
python3 - "$WORK/mix.json" <<'CHECK'
import json, sys
m = json.load(open(sys.argv[1]))
problems = [what for what, bad in [
    ("fewer than 20,000 messages", m["messages"] < 20_000),
    ("msg frames not all gzip'd", m["gzip_frames"] != m["msg_frames"]),
    ("fewer than 6 message types", len(m["methods"]) < 6),
    ("no batches of 6+ messages", m["messages_per_frame"].get("6-10", 0) + m["messages_per_frame"].get("11-20", 0) == 0),
    ("no gift streak of several messages", m["streaks_with_several_messages"] == 0),
] if bad]
if problems:
    sys.exit("the corpus is not what the comparison needs: " + "; ".join(problems))
CHECK

# ---- 4. in-process, warm
RES=$WORK/results
mkdir -p "$RES"
load() { echo "   (load average $(cut -d' ' -f1 /proc/loadavg) on $(nproc) cores)"; }
echo "== in-process, ${SECS}s each"
load
"$OURS" bench ours "$SECS" "${FILES[@]}" | tee "$RES/ours.json"
load
"$OURS" bench limit "$SECS" "${FILES[@]}" | tee "$RES/limit.json"
load
"$OURS" bench gunzip "$SECS" "${FILES[@]}" | tee "$RES/gunzip.json"
load
"$WORK/venv/bin/python" "$HERE/tiktoklive_driver.py" bench "$SECS" "${FILES[@]}" | tee "$RES/tiktoklive.json"
load
node "$WORK/npm/connector_driver.mjs" bench "$SECS" "${FILES[@]}" | tee "$RES/connector.json"

# ---- 5. whole process, from start, output to a file as a user would
echo "== whole process"
whole() {
  local name=$1
  shift
  local t0 t1
  t0=$(date +%s.%N)
  /usr/bin/time -f '%M %U %S' -o "$RES/$name.time" "$@" >"$RES/$name.jsonl"
  t1=$(date +%s.%N)
  python3 -c '
import json, sys
name, t0, t1, timing, out = sys.argv[1:]
rss, user, system = open(timing).read().split()[-3:]
data = open(out, "rb").read()
print(json.dumps({"driver": name, "wall_s": float(t1) - float(t0),
                  "cpu_s": float(user) + float(system), "peak_rss_kib": int(rss),
                  "lines": data.count(b"\n"), "bytes_out": len(data)}))
' "$name" "$t0" "$t1" "$RES/$name.time" "$RES/$name.jsonl" | tee -a "$RES/whole.json"
  rm -f "$RES/$name.jsonl"
}
rm -f "$RES/whole.json"
load
for i in 1 2 3; do whole ours "$CLI" decode "${FILES[@]}"; done
load
whole tiktoklive "$WORK/venv/bin/python" "$HERE/tiktoklive_driver.py" print "${FILES[@]}"
load
whole connector node "$WORK/npm/connector_driver.mjs" print "${FILES[@]}"

# ---- 6. the table
python3 "$HERE/table.py" "$RES" "$WORK/mix.json" "$PY_VERSIONS" "$JS_VERSIONS"
