#!/usr/bin/env node
// Flood benchmark: drives the built app (a `custom-protocol` build) in the real window under
// Xvfb with the simulator's random traffic (likes, chat, gifts, joins, follows, shares,
// viewer counts) at 20,000 events/s for 10 s, and prints what the streamer would feel:
//
// - feed batches per second reaching the window;
// - click-to-paint latency of the nav buttons during the flood (p50/p95);
// - log rows the backend holds, and every event of the flood accounted for;
// - RSS of the app process and its WebKit processes after 100,000 rows (beside an empty
//   Tauri window's, when `--floor-bin` names one);
// - CPU while the lanes drain the flood's paid backlog, and the time back to idle CPU.
//
// Usage (from the repository root, after `npm ci --prefix e2e`):
//   npm --prefix ui run build
//   cargo build --release --features custom-protocol -p livetrigger -p livetrigger-cli
//   LIVETRIGGER_BIN=$CARGO_TARGET_DIR/release/livetrigger \
//   LIVETRIGGER_CLI_BIN=$CARGO_TARGET_DIR/release/livetrigger-cli \
//   xvfb-run -a -s "-screen 0 1280x800x24" node benches/flood.mjs [--rate 20000] [--seconds 10]
//       [--floor-bin PATH] [--smaps]
// `--smaps` also lists the app's biggest resident mappings (and the empty window's).
//
// Figures and the machine they came from are in docs/performance.md. This is a measurement,
// not a test: it fails only when the app cannot be driven at all.
import { spawn } from "node:child_process";
import { readFileSync, readdirSync, readlinkSync } from "node:fs";
import { compositingOff, launchApp, startSimulator } from "../e2e/lib/harness.mjs";

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const RATE = Number(opt("rate", "20000"));
const SECONDS = Number(opt("seconds", "10"));
const FLOOR_BIN = opt("floor-bin", null);
const SMAPS = args.includes("--smaps");
const TOTAL = RATE * SECONDS;
const CLK_TCK = 100;
const PAGE_SIZE = 4096;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Every process whose parent chain reaches `root` (inclusive). */
function tree(root) {
  const parent = new Map();
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      parent.set(Number(d), ppid);
    } catch {
      // gone
    }
  }
  const out = [];
  for (const pid of parent.keys()) {
    for (let p = pid; p > 1; p = parent.get(p) ?? 0) {
      if (p === root) {
        out.push(pid);
        break;
      }
    }
  }
  return out;
}

function comm(pid) {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return "";
  }
}

function rssMb(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/** Where a process's resident memory is: anonymous (heap, stacks), file-backed (code), shared. */
function rssParts(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (name) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) / 1024;
    return { anon: kb("RssAnon"), file: kb("RssFile"), shmem: kb("RssShmem") };
  } catch {
    return { anon: 0, file: 0, shmem: 0 };
  }
}

/** The biggest resident mappings of a process, for `--smaps`: what the anonymous memory is. */
function topMappings(pid, n = 25) {
  const out = [];
  let cur = null;
  for (const line of readFileSync(`/proc/${pid}/smaps`, "utf8").split("\n")) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      cur = { size: (parseInt(head[2], 16) - parseInt(head[1], 16)) / 1024, name: head[3] || "[anon]", rss: 0 };
      out.push(cur);
    } else if (cur && line.startsWith("Rss:")) cur.rss = Number(/(\d+)/.exec(line)[1]);
  }
  out.sort((a, b) => b.rss - a.rss);
  return out.slice(0, n).map((m) => `  ${String(m.rss).padStart(7)} kB resident of ${String(m.size).padStart(8)} kB  ${m.name}`);
}

/** CPU ticks per thread of a process, keyed by "tid name". */
function threadTicks(pid) {
  const out = new Map();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
      const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      out.set(`${tid} ${name}`, Number(f[11]) + Number(f[12]));
    } catch {
      // gone
    }
  }
  return out;
}

/** The threads that used most CPU between two `threadTicks` readings, grouped by name. */
function busiestThreads(before, after, secs) {
  const byName = new Map();
  for (const [key, t] of after) {
    const name = key.slice(key.indexOf(" ") + 1);
    byName.set(name, (byName.get(name) ?? 0) + t - (before.get(key) ?? 0));
  }
  return [...byName.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 8)
    .map(([name, t]) => `${name} ${((t / CLK_TCK / secs) * 100).toFixed(0)} %`)
    .join(", ");
}

function cpuTicks(pids) {
  let t = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      t += Number(f[11]) + Number(f[12]);
    } catch {
      // gone
    }
  }
  return t;
}

/** The app process (by its executable) and its WebKit helpers. */
function appProcesses(bin) {
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readlinkSync(`/proc/${d}/exe`) === bin) {
        const pid = Number(d);
        const all = tree(pid);
        return { app: pid, webkit: all.filter((p) => p !== pid && /^WebKit/.test(comm(p))) };
      }
    } catch {
      // not ours
    }
  }
  throw new Error(`no running process of ${bin}`);
}

function memory(procs) {
  return {
    app: rssMb(procs.app),
    webkit: procs.webkit.reduce((s, p) => s + rssMb(p), 0),
  };
}

async function invoke(browser, cmd, payload) {
  return browser.executeAsync(
    (c, p, done) => {
      window.__TAURI_INTERNALS__.invoke(c, p).then(done, (e) => done({ error: String(e) }));
    },
    cmd,
    payload,
  );
}

/** Click-to-paint: from sending the click to the frame after the new view is in the DOM. */
async function clickToPaint(browser, id) {
  const sent = Date.now();
  await browser.$(`#nav-${id}`).click();
  const painted = await browser.executeAsync((view, done) => {
    const check = () => {
      if (document.querySelector(`main[data-view='${view}']`)) {
        requestAnimationFrame(() => done(Date.now()));
      } else requestAnimationFrame(check);
    };
    check();
  }, id);
  return painted - sent;
}

function pct(values, p) {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
}


async function floorFigures(bin) {
  const env = { ...process.env };
  if (compositingOff()) env.WEBKIT_DISABLE_COMPOSITING_MODE ??= "1";
  const child = spawn(bin, [], { stdio: "ignore", env });
  await sleep(5000);
  const all = tree(child.pid);
  const figures = {
    parts: rssParts(child.pid),
    top: SMAPS ? topMappings(child.pid) : [],
    app: rssMb(child.pid),
    webkit: all.filter((p) => /^WebKit/.test(comm(p))).reduce((s, p) => s + rssMb(p), 0),
  };
  child.kill();
  return figures;
}

const parts = (p) => `${fmt(p.anon)} / ${fmt(p.file)} / ${fmt(p.shmem)} MB`;
const fmt = (n) => (Number.isFinite(n) ? n.toFixed(0) : "n/a");

async function main() {
  const sim = await startSimulator([
    "--rate",
    String(RATE),
    "--limit",
    String(TOTAL),
    "--seed",
    "11",
  ]);
  // The app draws the way it would for a streamer on this machine (see rendering.rs).
  const app = await launchApp({ rendering: "app" });
  const { browser } = app;
  try {
    const bin = process.env.LIVETRIGGER_BIN;
    const procs = appProcesses(bin ?? (await import("../e2e/lib/harness.mjs")).appBinary);
    await sleep(1500);
    const idle = memory(procs);
    const idleParts = rssParts(procs.app);

    await browser.$("#nav-connect").click();
    await browser.$("#connect-target").setValue("@simstreamer");
    await browser.$("#connect-advanced").click();
    await browser.$("#connect-sign-url").setValue(sim.url);
    await browser.$("#connect-web-url").setValue(sim.url);
    const seq0 = Number((await browser.execute(() => document.documentElement.dataset.feedSeq)) ?? 0);
    const threads0 = threadTicks(procs.app);
    const webThreads0 = new Map(procs.webkit.map((p) => [p, threadTicks(p)]));
    await browser.$("#connect-button").click();
    const t0 = Date.now();

    // During the flood: switch views and time each switch.
    const latencies = [];
    const views = ["log", "queue", "stats", "log", "connect", "log"];
    let i = 0;
    const byView = new Map();
    while (Date.now() - t0 < SECONDS * 1000) {
      const view = views[i++ % views.length];
      const ms = await clickToPaint(browser, view);
      latencies.push(ms);
      byView.set(view, [...(byView.get(view) ?? []), ms]);
      await sleep(250);
    }
    const seq1 = Number(await browser.execute(() => document.documentElement.dataset.feedSeq));
    // The rest is measured on the Log view, whichever view the last click left open.
    await browser.$("#nav-log").click();
    const floodSecs = (Date.now() - t0) / 1000;
    const appThreads = busiestThreads(threads0, threadTicks(procs.app), floodSecs);
    const webThreads = procs.webkit
      .map((p) => `${comm(p)}: ${busiestThreads(webThreads0.get(p), threadTicks(p), floodSecs)}`)
      .join("; ");
    const batchesPerSec = (seq1 - seq0) / ((Date.now() - t0) / 1000);
    // Whether the window had to resync (a gap in the batches) and engine updates the feed
    // could not keep up with (its traces say so).
    const feedHealth = await browser.execute(() => ({
      resyncs: document.documentElement.dataset.feedResyncs ?? "0",
      missed: document.documentElement.dataset.feedMissed ?? "0",
    }));

    // Wait until every event is in the log (or 60 s pass), then measure the rest.
    let page = null;
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      page = await invoke(browser, "log_page", { query: { kinds: [], search: "", offset: 0, limit: 0 } });
      if (page.lastId >= TOTAL) break;
      await sleep(500);
    }
    const drained = Date.now();
    const stats = await invoke(browser, "session_stats", {});
    const eventsInStore = (stats.events ?? []).reduce((s, c) => s + c.count, 0);

    // While the lanes drain the flood's paid backlog (paced like a real server): CPU of the
    // app and of WebKit over 10 s, and how much is left.
    const depth = async () => (await invoke(browser, "feed_snapshot", {})).status.queueDepth;
    const depth0 = await depth();
    const a0 = cpuTicks([procs.app]);
    const w0 = cpuTicks(procs.webkit);
    const tDrain = Date.now();
    await sleep(10_000);
    const drainSecs = (Date.now() - tDrain) / 1000;
    const drainApp = (cpuTicks([procs.app]) - a0) / CLK_TCK / drainSecs;
    const drainWebkit = (cpuTicks(procs.webkit) - w0) / CLK_TCK / drainSecs;
    const depth1 = await depth();

    // Back to idle: CPU of the app and its WebKit processes under 5% of one core for 1 s.
    const pids = [procs.app, ...procs.webkit];
    let idleAt = null;
    let prev = cpuTicks(pids);
    let prevT = Date.now();
    let quiet = 0;
    const until = Date.now() + 60_000;
    while (Date.now() < until) {
      await sleep(250);
      const now = cpuTicks(pids);
      const t = Date.now();
      const load = (now - prev) / CLK_TCK / ((t - prevT) / 1000);
      prev = now;
      prevT = t;
      quiet = load < 0.05 ? quiet + 250 : 0;
      if (quiet >= 1000) {
        idleAt = t - 1000;
        break;
      }
    }
    const mem = memory(procs);
    const memParts = rssParts(procs.app);
    const memTop = SMAPS ? topMappings(procs.app) : [];
    const floor = FLOOR_BIN ? await floorFigures(FLOOR_BIN) : null;
    void PAGE_SIZE;

    const lines = [
      `flood: ${RATE} events/s for ${SECONDS} s (${TOTAL} events, seed 11); WebKit ${compositingOff() ? "paints on the CPU (no GPU render node)" : "composites with the GPU"}`,
      `batches reaching the window: ${batchesPerSec.toFixed(1)}/s (resyncs: ${feedHealth.resyncs}, engine updates the feed missed: ${feedHealth.missed})`,
      `click-to-paint during the flood: p50 ${fmt(pct(latencies, 50))} ms, p95 ${fmt(pct(latencies, 95))} ms, max ${fmt(Math.max(...latencies))} ms (${latencies.length} clicks)`,
      `  by view: ${[...byView].map(([v, l]) => `${v} ${l.map(fmt).join("/")}`).join(", ")} ms`,
      `CPU during the flood, app threads: ${appThreads}`,
      `CPU during the flood, WebKit threads: ${webThreads}`,
      `log rows: ${page?.lastId ?? 0} added, ${page?.total ?? 0} held (ring); events in the store: ${eventsInStore}`,
      `all ${TOTAL} flood events logged: ${(page?.lastId ?? 0) >= TOTAL ? "yes" : "NO"} (${((drained - t0) / 1000).toFixed(1)} s after the start)`,
      `RSS idle: app ${fmt(idle.app)} MB, WebKit ${fmt(idle.webkit)} MB`,
      `RSS after the flood: app ${fmt(mem.app)} MB, WebKit ${fmt(mem.webkit)} MB`,
      `app RSS (anonymous / file / shared): idle ${parts(idleParts)}, after the flood ${parts(memParts)}${floor ? `, empty window ${parts(floor.parts)}` : ""}`,
      floor
        ? `empty Tauri window: app ${fmt(floor.app)} MB, WebKit ${fmt(floor.webkit)} MB (over it: app +${fmt(mem.app - floor.app)} MB, WebKit +${fmt(mem.webkit - floor.webkit)} MB)`
        : "empty Tauri window: not measured (pass --floor-bin)",
      `while the queue drains (${depth0} → ${depth1} items in ${drainSecs.toFixed(0)} s): app ${fmt(drainApp * 100)} %, WebKit ${fmt(drainWebkit * 100)} % of a core`,
      `back to idle CPU: ${idleAt ? `${((idleAt - drained) / 1000).toFixed(1)} s after the last event was logged` : `not within 70 s (${await depth()} items still queued)`}`,
    ];
    if (SMAPS) {
      lines.push("app's biggest mappings after the flood:", ...memTop);
      if (floor) lines.push("the empty window's:", ...floor.top);
    }
    console.log(lines.join("\n"));
  } finally {
    await app.stop();
    sim.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
