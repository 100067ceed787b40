// The real window: it opens, every view is reachable, and the app-info round trip shows real
// values from the Rust backend.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { after, before, test } from "node:test";
import { launchApp, screenshotDir } from "../lib/harness.mjs";

const VIEWS = [
  ["connect", "Connect"],
  ["mapping", "Mapping"],
  ["queue", "Queue"],
  ["log", "Log"],
  ["stats", "Stats"],
  ["settings", "Settings"],
];

let app;
before(async () => {
  app = await launchApp();
});
after(async () => {
  await app?.stop();
});

test("the window opens with the LiveTrigger title", async () => {
  assert.equal(await app.browser.getTitle(), "LiveTrigger");
  const nav = await app.browser.$("nav[aria-label='Main']");
  await nav.waitForDisplayed({ timeout: 10_000 });
});

test("every view can be reached from the navigation", async () => {
  const { browser } = app;
  for (const [id, label] of VIEWS) {
    await browser.$(`#nav-${id}`).click();
    const main = await browser.$(`main[data-view='${id}']`);
    await main.waitForDisplayed({ timeout: 5_000 });
    assert.equal(await main.$("h1").getText(), label);
    await app.screenshot(`view-${id}`);
    assert.ok(existsSync(`${screenshotDir}/view-${id}.png`));
  }
});

test("the status bar shows the backend's status", async () => {
  const conn = await app.browser.$("#status-connection");
  await conn.waitForDisplayed({ timeout: 5_000 });
  assert.match(await conn.getText(), /TikTok: Offline/);
  assert.match(await app.browser.$("#status-queue").getText(), /Queue: 0/);
});

test("settings shows the real app info from Rust", async () => {
  const { browser } = app;
  await browser.$("#nav-settings").click();
  const version = await browser.$("#app-version");
  await version.waitForDisplayed({ timeout: 5_000 });
  assert.match(await version.getText(), /^\d+\.\d+\.\d+/);
  assert.equal(await browser.$("#app-data-dir").getText(), app.dataDir);
  assert.equal(await browser.$("#app-log-dir").getText(), `${app.dataDir}/logs`);
});
