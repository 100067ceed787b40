"""Prints the side-by-side table from run.sh's results (stdlib only).

Usage: python3 table.py RESULTS_DIR MIX_JSON "PY_VERSIONS" "JS_VERSIONS"
Exits 1 when the in-process drivers did not decode the same number of messages.

Rates are given per wall-clock second and per CPU second of the driver's process. The ratios
use CPU seconds: on a machine shared with other work (a 2-core CI box, builds running) the
wall clock also counts the turns other processes had on the core, and it does not count them
equally for a 0.2-second pass and a 70-second one.
"""

import json
import statistics
import sys
from pathlib import Path

TARGETS_IN = {"tiktoklive": 1000, "connector": 200}
TARGETS_WHOLE = {"tiktoklive": 200, "connector": 40}
NAMES = {
    "ours": "LiveTrigger: decode + dispatch to `Event`",
    "limit": "bare gunzip + prost (the limit)",
    "gunzip": "push frame + gunzip only (the floor)",
    "tiktoklive": "TikTokLive (Python)",
    "connector": "TikTok-Live-Connector (Node)",
}
PROGRAMS = {
    "ours": "`livetrigger-cli decode FILES` (median of 3)",
    "tiktoklive": "`tiktoklive_driver.py print FILES`",
    "connector": "`node connector_driver.mjs print FILES`",
}


def mib(kib: int) -> str:
    return f"{kib / 1024:.0f} MiB"


def num(v: float) -> str:
    return f"{v:,.0f}"


def verdict(ratio: float, target: int) -> str:
    return f"target ≥ {target:,}×: {'met' if ratio >= target else '**not met**'}"


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
    print()
    print(f"Corpus: {mix['streams']} streams, {mix['frames']:,} frames, {total:,} messages of "
          f"{len(mix['methods'])} types, {mix['gzip_frames']:,} of {mix['msg_frames']:,} msg "
          f"frames gzip'd, {mix['frame_bytes'] / 1e6:.1f} MB on the wire, "
          f"{mix['payload_bytes_inflated'] / 1e6:.1f} MB inflated.")
    print(f"Peers: {py_versions}{js_versions}")
    print()
    print("In-process, warm (median pass over the whole corpus), one thread:")
    print()
    print("| driver | messages | typed events | messages/s (wall) | messages per CPU-s | peak RSS | ours vs it (CPU-s; wall) |")
    print("|---|---:|---:|---:|---:|---:|---|")
    ours = ip["ours"]
    for n, title in NAMES.items():
        r = ip[n]
        cpu_ratio = ours["msgs_per_cpu_s"] / r["msgs_per_cpu_s"]
        wall_ratio = ours["msgs_per_s"] / r["msgs_per_s"]
        if n == "ours":
            vs = "—"
        elif n == "limit":
            vs = f"{cpu_ratio:.2f}×; {wall_ratio:.2f}× (target: within 2×, ≥ 0.50×: {'met' if cpu_ratio >= 0.5 else '**not met**'})"
        elif n == "gunzip":
            vs = f"{cpu_ratio:.2f}×; {wall_ratio:.2f}×"
        else:
            vs = f"**{cpu_ratio:,.0f}×**; {wall_ratio:,.0f}× ({verdict(cpu_ratio, TARGETS_IN[n])})"
        print(f"| {title} | {r['messages']:,} | {r['events']:,} | {num(r['msgs_per_s'])} | "
              f"{num(r['msgs_per_cpu_s'])} | {mib(r['peak_rss_kib'])} | {vs} |")
    print()
    print("Whole process, from start (start-up, imports, file reads, one JSON line per message "
          "written to a file):")
    print()
    print("| program | wall | CPU | messages/s (wall) | peak RSS | lines (MB) out | ours vs it (CPU; wall) |")
    print("|---|---:|---:|---:|---:|---:|---|")
    med = {n: (statistics.median(r["wall_s"] for r in rows),
               statistics.median(r["cpu_s"] for r in rows)) for n, rows in whole.items()}
    for n, title in PROGRAMS.items():
        rows = whole[n]
        wall, cpu = med[n]
        rss = max(r["peak_rss_kib"] for r in rows)
        if n == "ours":
            vs = "—"
        else:
            cpu_ratio = cpu / max(med["ours"][1], 0.01)
            wall_ratio = wall / med["ours"][0]
            vs = f"**{cpu_ratio:,.0f}×**; {wall_ratio:,.0f}× ({verdict(cpu_ratio, TARGETS_WHOLE[n])})"
        print(f"| {title} | {wall:.2f} s | {cpu:.2f} s | {num(total / wall)} | {mib(rss)} | "
              f"{rows[0]['lines']:,} ({rows[0]['bytes_out'] / 1e6:.0f}) | {vs} |")
    print()
    bad = [n for n in NAMES if ip[n]["messages"] != total]
    for n in bad:
        print(f"MISMATCH: {n} decoded {ip[n]['messages']:,} messages; the corpus has {total:,}")
    if bad:
        return 1
    print(f"All in-process drivers went through the same {total:,} messages.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
