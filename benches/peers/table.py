"""Prints the side-by-side table from run.sh's results (stdlib only).

Usage: python3 table.py RESULTS_DIR MIX_JSON "PY_VERSIONS" "JS_VERSIONS"
Exits 1 when the drivers did not decode the same number of messages.
"""

import json
import statistics
import sys
from pathlib import Path

TARGETS_IN = {"tiktoklive": 1000, "connector": 200}
TARGETS_WHOLE = {"tiktoklive": 200, "connector": 40}
NAMES = {
    "ours": "LiveTrigger (decode + dispatch to `Event`)",
    "limit": "bare gunzip + prost (the limit)",
    "tiktoklive": "TikTokLive (Python)",
    "connector": "TikTok-Live-Connector (Node)",
}


def mib(kib: int) -> str:
    return f"{kib / 1024:.0f} MiB"


def rate(v: float) -> str:
    return f"{v:,.0f}"


def main() -> int:
    res = Path(sys.argv[1])
    mix = json.loads(Path(sys.argv[2]).read_text())
    py_versions, js_versions = sys.argv[3], sys.argv[4]
    ip = {n: json.loads((res / f"{n}.json").read_text()) for n in NAMES}
    whole: dict[str, list[dict]] = {}
    for line in (res / "whole.json").read_text().splitlines():
        row = json.loads(line)
        whole.setdefault(row["driver"], []).append(row)

    total = mix["messages"]
    ok = True
    print()
    print(f"Corpus: {mix['streams']} streams, {mix['frames']:,} frames "
          f"({mix['gzip_frames']:,} of {mix['msg_frames']:,} msg frames gzip'd), "
          f"{total:,} messages of {len(mix['methods'])} types; peers: {py_versions}{js_versions}")
    print()
    print("In-process, warm (median pass), one core:")
    print()
    print("| driver | messages | typed events | messages/s | peak RSS | ours is |")
    print("|---|---:|---:|---:|---:|---|")
    ours = ip["ours"]["msgs_per_s"]
    for n, title in NAMES.items():
        r = ip[n]
        if r["messages"] != total:
            ok = False
        if n == "ours":
            vs = "—"
        elif n == "limit":
            vs = f"{ours / r['msgs_per_s']:.2f}× the limit (target ≥ 0.5×)"
        else:
            ratio = ours / r["msgs_per_s"]
            tgt = TARGETS_IN[n]
            vs = f"**{ratio:,.0f}×** faster (target ≥ {tgt:,}×: {'met' if ratio >= tgt else 'NOT met'})"
        print(f"| {title} | {r['messages']:,} | {r['events']:,} | {rate(r['msgs_per_s'])} | "
              f"{mib(r['peak_rss_kib'])} | {vs} |")
    print()
    print("Whole process, from start (imports, file reads, one JSON line per message to a file):")
    print()
    print("| program | wall time | messages/s | peak RSS | lines out | ours is |")
    print("|---|---:|---:|---:|---:|---|")
    ours_wall = statistics.median(r["wall_s"] for r in whole["ours"])
    programs = {
        "ours": "`livetrigger-cli decode FILES` (median of 3)",
        "tiktoklive": "`tiktoklive_driver.py print FILES`",
        "connector": "`connector_driver.mjs print FILES`",
    }
    for n, title in programs.items():
        rows = whole[n]
        wall = statistics.median(r["wall_s"] for r in rows)
        rss = max(r["peak_rss_kib"] for r in rows)
        lines = rows[0]["lines"]
        if n == "ours":
            vs = "—"
        else:
            ratio = wall / ours_wall
            tgt = TARGETS_WHOLE[n]
            vs = f"**{ratio:,.0f}×** faster (target ≥ {tgt}×: {'met' if ratio >= tgt else 'NOT met'})"
        print(f"| {title} | {wall:.2f} s | {rate(total / wall)} | {mib(rss)} | {lines:,} | {vs} |")
    print()
    for n in NAMES:
        if ip[n]["messages"] != total:
            print(f"MISMATCH: {n} decoded {ip[n]['messages']:,} messages, the corpus has {total:,}")
    if not ok:
        return 1
    print(f"All four in-process drivers decoded the same {total:,} messages.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
