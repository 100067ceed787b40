// The window as a streamer without a GPU gets it: the app turns WebKit's GL compositing off
// where there is no GPU render node (src-tauri/src/rendering.rs), and every view still works.
// No screenshots here: WebKitWebDriver cannot take them from a page painted that way.
import assert from "node:assert/strict";
import { readFileSync, readdirSync, readlinkSync } from "node:fs";
import { after, before, test } from "node:test";
import { appBinary, hasRenderNode, launchApp } from "../lib/harness.mjs";

const VIEWS = ["connect", "mapping", "queue", "log", "stats", "settings"];

/** The environment of every WebKit web process now running. */
function webProcessEnvs() {
  const out = [];
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (!readFileSync(`/proc/${d}/comm`, "utf8").startsWith("WebKitWebProces")) continue;
      out.push(readFileSync(`/proc/${d}/environ`, "utf8").split("\0"));
    } catch {
      // gone, or not ours to read
    }
  }
  return out;
}

let app;
before(async () => {
  // The harness must not decide for the app here.
  delete process.env.WEBKIT_DISABLE_COMPOSITING_MODE;
  app = await launchApp({ rendering: "app" });
});
after(async () => {
  await app?.stop();
});

test("without a GPU the app paints on the CPU, and with one it keeps compositing", async () => {
  await app.browser.$("nav[aria-label='Main']").waitForDisplayed({ timeout: 10_000 });
  const envs = webProcessEnvs();
  assert.ok(envs.length > 0, "a WebKit web process runs");
  const off = envs.every((e) => e.includes("WEBKIT_DISABLE_COMPOSITING_MODE=1"));
  const on = envs.every((e) => !e.some((v) => v.startsWith("WEBKIT_DISABLE_COMPOSITING_MODE=")));
  if (hasRenderNode()) assert.ok(on, "a GPU is there: WebKit keeps compositing");
  else assert.ok(off, "no GPU render node: compositing is off");
});

test("every view works painted that way", async () => {
  const { browser } = app;
  for (const id of VIEWS) {
    await browser.$(`#nav-${id}`).click();
    await browser.$(`main[data-view='${id}']`).waitForDisplayed({ timeout: 5_000 });
  }
  // Settings shows real values from the backend.
  const version = await browser.$("#app-version");
  await version.waitForDisplayed({ timeout: 5_000 });
  assert.match(await version.getText(), /^\d+\.\d+\.\d+/);
});

/** Name and nice value of every thread of process `pid`. */
function threads(pid) {
  const out = [];
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
      const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const nice = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[16]);
      out.push({ tid: Number(tid), name, nice });
    } catch {
      // ended meanwhile
    }
  }
  return out;
}

test("background work runs below the window; the window and the sound output do not", async () => {
  // The Queue view above started the trigger engine, and with it the sound output.
  const pid = readdirSync("/proc").find((d) => {
    try {
      return /^\d+$/.test(d) && readlinkSync(`/proc/${d}/exe`) === appBinary;
    } catch {
      return false;
    }
  });
  assert.ok(pid, "the app runs");
  let all = threads(pid);
  for (let i = 0; i < 50 && !all.some((t) => t.name === "livetrigger-sou"); i++) {
    await new Promise((r) => setTimeout(r, 100));
    all = threads(pid);
  }
  const main = all.find((t) => t.tid === Number(pid));
  const base = main.nice;
  const workers = all.filter((t) => t.name.startsWith("tokio-r"));
  assert.ok(workers.length > 0, `the async runtime's threads run: ${JSON.stringify(all)}`);
  for (const w of workers) assert.equal(w.nice, Math.min(19, base + 10), `${w.name} is lowered`);
  const store = all.find((t) => t.name === "livetrigger-sto");
  assert.ok(store, "the engine's store thread runs");
  assert.equal(store.nice, Math.min(19, base + 10), "the store thread is background work");
  const sound = all.find((t) => t.name === "livetrigger-sou");
  assert.ok(sound, "the sound output runs");
  assert.equal(sound.nice, base, "sounds keep the window's priority");
  for (const d of readdirSync("/proc")) {
    try {
      if (!readFileSync(`/proc/${d}/comm`, "utf8").startsWith("WebKitWebProces")) continue;
      const webMain = threads(d).find((t) => t.tid === Number(d));
      assert.equal(webMain?.nice, base, "WebKit draws at the window's priority");
    } catch (e) {
      if (e instanceof assert.AssertionError) throw e;
    }
  }
});
