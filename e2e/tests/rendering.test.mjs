// The window as a streamer without a GPU gets it: the app turns WebKit's GL compositing off
// where there is no GPU render node (src-tauri/src/rendering.rs), and every view still works.
// No screenshots here: WebKitWebDriver cannot take them from a page painted that way.
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { after, before, test } from "node:test";
import { hasRenderNode, launchApp } from "../lib/harness.mjs";

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
