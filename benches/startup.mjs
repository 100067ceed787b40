#!/usr/bin/env node
// Start-up benchmark: how long the built app (a `custom-protocol` release build) takes from
// launch to its window being shown and its page running, cold (a new data folder) and warm
// (the same folder again), beside an empty Tauri window built the same way.
//
// - "window mapped": the X server shows a top-level window named LiveTrigger (xwininfo);
// - "page running": the page's script has asked the backend for its first snapshot (the app
//   logs "the window is up"), i.e. the Connect view is about to paint with real data.
//
// Usage (from the repository root, under Xvfb; see docs/performance.md):
//   LIVETRIGGER_BIN=$CARGO_TARGET_DIR/release/livetrigger \
//   xvfb-run -a -s "-screen 0 1280x800x24" node benches/startup.mjs [--runs 5] [--floor-bin PATH]
//
// A measurement, not a test: it fails only when the app does not start at all.
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compositingOff } from "../e2e/lib/harness.mjs";

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const RUNS = Number(opt("runs", "5"));
const FLOOR_BIN = opt("floor-bin", null);
const BIN = process.env.LIVETRIGGER_BIN;
if (!BIN) {
  console.error("set LIVETRIGGER_BIN to the release build of the app");
  process.exit(2);
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));


/** Whether a viewable top-level window with this exact title exists. */
function mapped(title) {
  let tree;
  try {
    tree = execFileSync("xwininfo", ["-root", "-tree"], { encoding: "utf8" });
  } catch {
    return false;
  }
  for (const line of tree.split("\n")) {
    const m = /^\s+(0x[0-9a-f]+) "([^"]*)"/.exec(line);
    if (!m || m[2] !== title) continue;
    try {
      const info = execFileSync("xwininfo", ["-id", m[1]], { encoding: "utf8" });
      if (/Map State: IsViewable/.test(info)) return true;
    } catch {
      // gone meanwhile
    }
  }
  return false;
}

/** One launch: ms to the window mapped, and (for the app) to the page running. */
async function launch(bin, title, dataDir, waitForPage) {
  const env = { ...process.env, LIVETRIGGER_DATA_DIR: dataDir, RUST_LOG: "info" };
  if (compositingOff()) env.WEBKIT_DISABLE_COMPOSITING_MODE ??= "1";
  const t0 = performance.now();
  const child = spawn(bin, [], { env, stdio: ["ignore", "ignore", "pipe"] });
  let pageAt = null;
  let err = "";
  child.stderr.on("data", (d) => {
    err += d;
    if (pageAt === null && err.includes("the window is up")) pageAt = performance.now() - t0;
  });
  let mappedAt = null;
  const deadline = t0 + 30_000;
  while (performance.now() < deadline && (mappedAt === null || (waitForPage && pageAt === null))) {
    if (child.exitCode !== null) throw new Error(`${bin} exited: ${err.slice(-2000)}`);
    if (mappedAt === null && mapped(title)) mappedAt = performance.now() - t0;
    await sleep(10);
  }
  child.kill("SIGTERM");
  await new Promise((r) => {
    if (child.exitCode !== null) r();
    else child.on("exit", r);
  });
  await sleep(500);
  if (mappedAt === null) throw new Error(`no "${title}" window within 30 s`);
  return { mappedAt, pageAt };
}

const median = (xs) => {
  const s = xs.filter((x) => x !== null).sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)] : NaN;
};
const fmt = (n) => (Number.isFinite(n) ? `${n.toFixed(0)} ms` : "n/a");

async function main() {
  const cold = [];
  const warm = [];
  for (let i = 0; i < RUNS; i++) {
    const dir = mkdtempSync(join(tmpdir(), "livetrigger-startup-"));
    try {
      cold.push(await launch(BIN, "LiveTrigger", dir, true));
      warm.push(await launch(BIN, "LiveTrigger", dir, true));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const floor = [];
  if (FLOOR_BIN) {
    for (let i = 0; i < RUNS; i++) {
      const dir = mkdtempSync(join(tmpdir(), "livetrigger-startup-"));
      try {
        floor.push(await launch(FLOOR_BIN, "Empty", dir, false));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  }
  const lines = [
    `start-up, median of ${RUNS} (WebKit ${compositingOff() ? "paints on the CPU" : "composites with the GPU"}):`,
    `  cold (new data folder): window mapped ${fmt(median(cold.map((r) => r.mappedAt)))}, page running ${fmt(median(cold.map((r) => r.pageAt)))}`,
    `  warm (same folder):     window mapped ${fmt(median(warm.map((r) => r.mappedAt)))}, page running ${fmt(median(warm.map((r) => r.pageAt)))}`,
    FLOOR_BIN
      ? `  empty Tauri window:     window mapped ${fmt(median(floor.map((r) => r.mappedAt)))}`
      : "  empty Tauri window: not measured (pass --floor-bin)",
  ];
  console.log(lines.join("\n"));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
