// The real window connects to the webcast simulator through the real client: the status bar
// goes live, the log fills with the demo stream's events, and the end of the stream shows.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { launchApp, startSimulator } from "../lib/harness.mjs";

let app;
let sim;
before(async () => {
  sim = await startSimulator(["--scenario", "demo"]);
  app = await launchApp();
});
after(async () => {
  await app?.stop();
  sim?.stop();
});

test("a bad username is refused with a clear message", async () => {
  const { browser } = app;
  await browser.$("#nav-connect").click();
  await browser.$("#connect-target").setValue("not a valid name!");
  await browser.$("#connect-button").click();
  const error = await browser.$("#connect-error");
  await error.waitForDisplayed({ timeout: 5_000 });
  assert.match(await error.getText(), /not a TikTok username/);
});

test("connecting to the simulator plays the demo stream into the log", async () => {
  const { browser } = app;
  await browser.$("#nav-connect").click();
  await browser.$("#connect-target").setValue("@simstreamer");
  await browser.$("#connect-advanced").click();
  await browser.$("#connect-sign-url").setValue(sim.url);
  await browser.$("#connect-web-url").setValue(sim.url);
  await browser.$("#connect-button").click();
  const state = await browser.$("#connect-state");
  await browser.waitUntil(async () => (await state.getAttribute("data-state")) === "ended", {
    timeout: 20_000,
    timeoutMsg: "the stream did not end in the app",
  });
  assert.match(await browser.$("#status-connection").getText(), /Stream ended/);
  await app.screenshot("live-connect-ended");

  await browser.$("#nav-log").click();
  const list = await browser.$("#log-list");
  await list.waitForDisplayed({ timeout: 5_000 });
  const text = await list.getText();
  assert.match(text, /Connected to room 7140000000000000001/);
  assert.match(text, /sent Rose ×5 · 5 coins/);
  assert.match(text, /Stream ended/);
  const gifts = await browser.$$("li[data-kind='gift']");
  assert.ok(gifts.length >= 6, `settled gifts in the log: ${gifts.length}`);
  await app.screenshot("live-log");

  // The starter profile's rules ran through the engine into the queue (RCON is not set up in
  // this test, so the Minecraft actions run dry: done, with the command and "dry run").
  await browser.$("#nav-queue").click();
  const items = await browser.$("#queue-items");
  await items.waitForDisplayed({ timeout: 10_000 });
  const lane = await browser.$("li[data-lane='minecraft']");
  await lane.waitForDisplayed({ timeout: 5_000 });
  const rows = await browser.$$("#queue-items li");
  assert.ok(rows.length >= 10, `queue items: ${rows.length}`);
  assert.match(await items.getText(), /summon minecraft:creeper/);
  await app.screenshot("live-queue");

  // Session stats come from the engine's store: the Lion and the Galaxy alone are 30,999 coins.
  await browser.$("#nav-stats").click();
  const diamonds = await browser.$("#stats-diamonds");
  await diamonds.waitForDisplayed({ timeout: 10_000 });
  await browser.waitUntil(async () => parseInt(await diamonds.getText(), 10) > 30_000, {
    timeout: 10_000,
    timeoutMsg: "the stats did not count the stream's gifts",
  });
  await app.screenshot("live-stats");

  // Joining the room fetched and cached its gift list for mapping.
  await browser.$("#nav-mapping").click();
  const source = await browser.$("#catalog-source");
  await source.waitForDisplayed({ timeout: 10_000 });
  assert.equal(await source.getText(), "FROM YOUR ROOM");
  const catalogGifts = await browser.$$("#gift-grid li");
  assert.ok(catalogGifts.length >= 20, `gifts in the catalogue: ${catalogGifts.length}`);
  await app.screenshot("live-mapping");
});
