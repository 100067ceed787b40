// The real window connects to the webcast simulator through the real client, with RCON
// pointed at the built-in RCON test server: the status bar goes live, the log fills with the
// demo stream's events, a gift's trace shows its rule and the server's reply, and the queue's
// counters match the items it shows.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { launchApp, startRconServer, startSimulator, starterProfile } from "../lib/harness.mjs";

const PASSWORD = "e2e-secret";
let app;
let sim;
let rcon;
before(async () => {
  sim = await startSimulator(["--scenario", "demo"]);
  rcon = await startRconServer(PASSWORD);
  app = await launchApp({
    files: { "profile.json": starterProfile({ port: rcon.port, password: PASSWORD }) },
  });
});
after(async () => {
  await app?.stop();
  sim?.stop();
  rcon?.stop();
});

/** The log rows in the DOM (the list is virtual: only those on screen). */
async function rowTexts(browser) {
  return browser.execute(() =>
    Array.from(document.querySelectorAll("#log-list [role='listitem']")).map((li) => ({
      id: li.getAttribute("data-id"),
      kind: li.getAttribute("data-kind"),
      text: li.textContent,
    })),
  );
}

async function showOnly(browser, kind) {
  await browser.$("#log-filter-all").click();
  await browser.$(`#log-filter-${kind}`).click();
  const list = await browser.$("#log-list");
  await list.waitForDisplayed({ timeout: 5_000 });
  await browser.waitUntil(
    async () => {
      const rows = await rowTexts(browser);
      return rows.length > 0 && rows.every((r) => r.kind === kind);
    },
    { timeout: 5_000, timeoutMsg: `the log did not filter to ${kind}` },
  );
  return rowTexts(browser);
}

test("a bad username is refused with a clear message", async () => {
  const { browser } = app;
  await browser.$("#nav-connect").click();
  await browser.$("#connect-target").setValue("not a valid name!");
  await browser.$("#connect-button").click();
  const error = await browser.$("#connect-error");
  await error.waitForDisplayed({ timeout: 5_000 });
  assert.match(await error.getText(), /not a TikTok username/);
});

test("the demo stream plays into the log, traces, queue and stats", async () => {
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
  await (await browser.$("#log-list")).waitForDisplayed({ timeout: 5_000 });
  await app.screenshot("live-log");
  const connection = await showOnly(browser, "connection");
  assert.ok(connection.some((r) => /Connected to room 7140000000000000001/.test(r.text)));
  const stream = await showOnly(browser, "stream");
  assert.ok(stream.some((r) => /Stream ended/.test(r.text)));

  // Anna's Rose streak settles at 5: its trace shows the rule and the RCON server's reply.
  const gifts = await showOnly(browser, "gift");
  assert.ok(gifts.length >= 6, `settled gifts in the log: ${gifts.length}`);
  const rose = gifts.find((r) => /Rose×5/.test(r.text.replace(/\s/g, "")));
  assert.ok(rose, `a Rose ×5 row: ${JSON.stringify(gifts.map((g) => g.text))}`);
  await browser.$(`#log-list [data-id='${rose.id}'] button`).click();
  const trace = await browser.$(`#trace-${rose.id}`);
  await trace.waitForDisplayed({ timeout: 5_000 });
  await browser.waitUntil(async () => /Summoned new Creeper/.test(await trace.getText()), {
    timeout: 10_000,
    timeoutMsg: "the trace did not show the RCON reply",
  });
  const traceText = await trace.getText();
  assert.match(traceText, /rose-creeper/);
  assert.match(traceText, /summon minecraft:creeper/);
  assert.match(traceText, /done/);
  await app.screenshot("live-log-trace");

  // The view and its filter are in the URL: a reload keeps them.
  await browser.refresh();
  await (await browser.$("main[data-view='log']")).waitForDisplayed({ timeout: 10_000 });
  assert.equal(await browser.$("#log-filter-gift").getAttribute("aria-pressed"), "true");

  // Every lane's counters equal the items it shows, read in one go (no batch in between).
  await browser.$("#nav-queue").click();
  const lane = await browser.$("section[data-lane='minecraft']");
  await lane.waitForDisplayed({ timeout: 5_000 });
  await browser.waitUntil(
    // Anna's five Roses and the lone Rose: six creepers at least.
    async () => (await lane.$$("li[data-status='done']").length) >= 6,
    { timeout: 15_000, timeoutMsg: "the Minecraft actions did not run" },
  );
  const lanes = await browser.execute(() =>
    Array.from(document.querySelectorAll("section[data-lane]")).map((s) => ({
      name: s.getAttribute("data-lane"),
      waiting: Number(s.getAttribute("data-waiting")),
      running: Number(s.getAttribute("data-running")),
      moreWaiting: Number(s.getAttribute("data-more-waiting")),
      shownWaiting: s.querySelectorAll("li[data-status='queued']").length,
      shownRunning: s.querySelectorAll("li[data-status='running']").length,
    })),
  );
  assert.ok(lanes.length >= 2, JSON.stringify(lanes));
  for (const l of lanes) {
    // A flooded lane lists its first waiting items and counts the rest.
    assert.equal(l.waiting, l.shownWaiting + l.moreWaiting, `${l.name}: waiting`);
    assert.equal(l.running, l.shownRunning, `${l.name}: running`);
  }
  assert.match(await lane.getText(), /summon minecraft:creeper/);
  await app.screenshot("live-queue");

  // Session stats: the Lion and the Galaxy alone are 30,999 coins; the chart is drawn.
  await browser.$("#nav-stats").click();
  const diamonds = await browser.$("#stats-diamonds");
  await diamonds.waitForDisplayed({ timeout: 10_000 });
  await browser.waitUntil(async () => parseInt(await diamonds.getText(), 10) > 30_000, {
    timeout: 10_000,
    timeoutMsg: "the stats did not count the stream's gifts",
  });
  await (await browser.$("#stats-chart canvas")).waitForExist({ timeout: 5_000 });
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
