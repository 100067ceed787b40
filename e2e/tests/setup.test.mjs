// A new streamer sets everything up in the real window, with no terminal: RCON (tested against
// the vanilla-like RCON server), a gift dragged onto a Minecraft command (pointer and keyboard),
// the built-in demo stream running it the exact number of times, and export/import.
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { launchApp, startRconServer } from "../lib/harness.mjs";

const PASSWORD = "e2e-Pa55";
let app;
let rcon;
before(async () => {
  rcon = await startRconServer(PASSWORD);
  app = await launchApp();
});
after(async () => {
  await app?.stop();
  rcon?.stop();
});

const profileOnDisk = () => JSON.parse(readFileSync(join(app.dataDir, "profile.json"), "utf8"));

async function typeInto(browser, selector, text) {
  const el = await browser.$(selector);
  await el.waitForDisplayed({ timeout: 10_000 });
  await el.clearValue();
  if (text !== "") await el.setValue(text);
}

async function saveMapping(browser) {
  const save = await browser.$("#profile-save");
  await save.waitForEnabled({ timeout: 5_000 });
  await save.click();
  await browser.waitUntil(
    async () => (await browser.$("#unsaved").getAttribute("data-dirty")) === "false",
    { timeout: 10_000, timeoutMsg: "the profile was not saved" },
  );
}

test("the demo stream runs dry before RCON is set up", async () => {
  const { browser } = app;
  await browser.$("#nav-connect").click();
  const demo = await browser.$("#demo-button");
  await demo.waitForDisplayed({ timeout: 10_000 });
  await app.screenshot("setup-connect");
  await demo.click();
  const state = await browser.$("#connect-state");
  await browser.waitUntil(async () => (await state.getAttribute("data-state")) === "connected", {
    timeout: 20_000,
    timeoutMsg: "the demo stream did not go live",
  });
  assert.equal(await demo.getAttribute("data-running"), "true");
  await browser.$("#nav-queue").click();
  const items = await browser.$("section[data-lane='minecraft']");
  await items.waitForDisplayed({ timeout: 20_000 });
  await browser.waitUntil(
    async () => (await items.$$("li[data-dry-run='true']").length) > 0 && /dry run/.test(await items.getText()),
    { timeout: 20_000, timeoutMsg: "no dry-run item in the queue" },
  );
  assert.equal((await items.$$("li[data-status='failed']")).length, 0);
  await app.screenshot("setup-queue-dry-run");
  await browser.$("#nav-connect").click();
  await browser.$("#demo-button").click();
  await browser.waitUntil(
    async () => (await browser.$("#demo-button").getAttribute("data-running")) === "false",
    { timeout: 10_000, timeoutMsg: "the demo did not stop" },
  );
  assert.equal(rcon.executed().length, 0, "nothing reached the RCON server");
});

test("Settings → Minecraft: the RCON test answers in plain words", async () => {
  const { browser } = app;
  await browser.$("#nav-settings").click();
  await typeInto(browser, "#rcon-host", rcon.host);
  await typeInto(browser, "#rcon-port", String(rcon.port));
  await typeInto(browser, "#rcon-password", "not-the-password");
  await browser.$("#rcon-test").click();
  const result = await browser.$("#rcon-test-result");
  await browser.waitUntil(async () => (await result.getAttribute("data-ok")) === "false", {
    timeout: 15_000,
    timeoutMsg: "the wrong password was not reported",
  });
  assert.equal(await result.getText(), "The server refused the password");

  await typeInto(browser, "#rcon-password", PASSWORD);
  await browser.$("#rcon-test").click();
  await browser.waitUntil(async () => (await result.getAttribute("data-ok")) === "true", {
    timeout: 15_000,
    timeoutMsg: "the right password did not connect",
  });
  assert.equal(await result.getText(), "Connected — nobody is online");
  // Settings → Sound: the device list (CI has no sound card: ALSA's null device only).
  const device = await browser.$("#sound-device");
  await device.waitForDisplayed({ timeout: 10_000 });
  assert.equal(await device.getAttribute("aria-label"), "Sound output device");
  const options = await browser.execute(
    (el) => [...el.options].map((o) => [o.value, o.text]),
    device,
  );
  assert.deepEqual(options[0], ["", "System default"]);
  assert.equal(await device.getValue(), "");
  await typeInto(browser, "#minecraft-player", "Steve");
  await browser.$("#settings-save").click();
  await (await browser.$("#settings-saved")).waitForDisplayed({ timeout: 10_000 });
  assert.match(await browser.$("#rcon-password-state").getText(), /set/);
  await app.screenshot("setup-settings");
  const profile = profileOnDisk();
  assert.equal(profile.rcon.port, rcon.port);
  assert.ok(!JSON.stringify(profile).includes(PASSWORD), "the password is not in the profile");
});

test("drag a gift onto a new Minecraft command with the pointer", async () => {
  const { browser } = app;
  await browser.$("#nav-mapping").click();
  await (await browser.$("#new-command")).waitForDisplayed({ timeout: 10_000 });
  await browser.$("#new-command").click();
  const card = await browser.$("[data-action-id='new-command']");
  await card.waitForDisplayed({ timeout: 5_000 });
  const template = await card.$("textarea");
  await template.clearValue();
  await template.setValue("say heart from {user}");
  await browser.waitUntil(async () => /say heart from/.test(await card.getText()), {
    timeout: 5_000,
    timeoutMsg: "no live preview",
  });

  const tile = await browser.$("[data-gift-id='5487']");
  // The demo room's pictures were cached on disk: the palette shows them without a network.
  const src = await tile.$("img").getAttribute("src");
  assert.match(src ?? "", /^data:image\/png;base64,/);
  await tile.scrollIntoView({ block: "nearest" });
  await card.scrollIntoView({ block: "nearest" });
  // Viewport coordinates of both centres (each column scrolls on its own).
  const [sx, sy, ex, ey] = await browser.execute(
    (a, b) => {
      const r1 = a.getBoundingClientRect();
      const r2 = b.getBoundingClientRect();
      return [r1.x + r1.width / 2, r1.y + r1.height / 2, r2.x + r2.width / 2, r2.y + r2.height / 2];
    },
    tile,
    card,
  );
  const pointer = browser.action("pointer", { parameters: { pointerType: "mouse" } });
  pointer.move({ x: Math.round(sx), y: Math.round(sy) }).down({ button: 0 });
  // Small steps: the drag starts after a few pixels, and the drop target follows the pointer.
  for (let i = 1; i <= 12; i++) {
    pointer.move({
      x: Math.round(sx + ((ex - sx) * i) / 12),
      y: Math.round(sy + ((ey - sy) * i) / 12),
      duration: 25,
    });
  }
  await pointer.up({ button: 0 }).perform();

  const rule = await browser.$("[data-rule-id='finger-heart-new-command']");
  await rule.waitForExist({ timeout: 5_000 });
  assert.match(await rule.getText(), /Finger Heart \(gift 5487\) → New command/);
  await app.screenshot("setup-mapping-dragged");
  await saveMapping(browser);
  const saved = profileOnDisk().rules.find((r) => r.id === "finger-heart-new-command");
  assert.deepEqual(saved.trigger, { type: "gift", id: 5487, name: "Finger Heart" });
  assert.equal(saved.streakMode, "perUnit");
  assert.deepEqual(saved.actions, ["new-command"]);
});

test("the same with the keyboard: focus a gift, Enter, choose an action", async () => {
  const { browser } = app;
  const tile = await browser.$("[data-gift-id='5879']");
  await tile.scrollIntoView();
  await browser.execute((el) => el.focus(), tile);
  await browser.keys(["Enter"]);
  const chooser = await browser.$("#action-chooser");
  await chooser.waitForDisplayed({ timeout: 5_000 });
  await browser.$("#action-chooser [data-choose-action='tnt']").click();
  const rule = await browser.$("[data-rule-id='doughnut-tnt']");
  await rule.waitForExist({ timeout: 5_000 });
  await saveMapping(browser);
  assert.ok(profileOnDisk().rules.some((r) => r.id === "doughnut-tnt"));
  await app.screenshot("setup-mapping");
  // The new rule's editor is open: streak mode, filters, actions.
  const editor = await rule.$(".rule-editor");
  await editor.waitForDisplayed({ timeout: 5_000 });
  await browser.execute((el) => el.scrollIntoView({ block: "end" }), editor);
  await app.screenshot("setup-rule-editor");

  // The whole-streak value tile, told apart from the per-gift one by its words.
  const streakTile = await browser.$("[data-trigger='streak-coins']");
  assert.match(await streakTile.getAttribute("aria-label"), /^Streak worth 100\+ coins/);
  assert.match(
    await browser.$("[data-trigger='coins']").getAttribute("aria-label"),
    /^Each gift worth/,
  );
  await streakTile.scrollIntoView();
  await browser.execute((el) => el.focus(), streakTile);
  await browser.keys(["Enter"]);
  await (await browser.$("#action-chooser")).waitForDisplayed({ timeout: 5_000 });
  await browser.$("#action-chooser [data-choose-action='tnt']").click();
  await (await browser.$("[data-rule-id='streak-worth-100-coins-tnt']")).waitForExist({
    timeout: 5_000,
  });
  await saveMapping(browser);
  const streakRule = profileOnDisk().rules.find((r) => r.id === "streak-worth-100-coins-tnt");
  assert.deepEqual(streakRule.trigger, { type: "giftCoins", streakCoinsAtLeast: 100 });
  assert.equal(streakRule.streakMode, undefined, "once per streak by itself");
  const streakEditor = await browser.$("[data-rule-id='streak-worth-100-coins-tnt'] .rule-editor");
  await streakEditor.waitForDisplayed({ timeout: 5_000 });
  assert.equal(
    await streakEditor.$("input[aria-label='Streak worth at least (coins)']").getValue(),
    "100",
  );
  // Bring the editor below the sticky save bar, then give the window a frame to repaint.
  await browser.execute((el) => {
    const by = el.getBoundingClientRect().top - 160;
    for (let p = el.parentElement; p; p = p.parentElement) {
      const style = getComputedStyle(p).overflowY;
      if (p.scrollHeight > p.clientHeight + 1 && (style === "auto" || style === "scroll")) {
        p.scrollTop += by;
        return;
      }
    }
    window.scrollBy(0, by);
  }, streakEditor);
  await browser.pause(300);
  await app.screenshot("setup-rule-editor-streak");
});

test("the demo stream runs the new rule's command the exact number of times", async () => {
  const { browser } = app;
  // Only what this run sends counts (the RCON test above ran `list`).
  const already = rcon.executed().length;
  await browser.$("#nav-connect").click();
  await browser.$("#demo-button").click();
  const state = await browser.$("#connect-state");
  await browser.waitUntil(async () => (await state.getAttribute("data-state")) === "ended", {
    timeout: 60_000,
    timeoutMsg: "the demo stream did not end",
  });
  // The demo's Finger Heart streak is 7 units: the new rule runs once per unit. The starter's
  // Rose rule: a streak of 5 and a lone Rose. The Doughnut streak (3 units) now drops TNT too.
  const count = (prefix) =>
    rcon
      .executed()
      .slice(already)
      .filter((c) => c.includes(prefix)).length;
  await browser.waitUntil(
    async () => count("say heart from ") >= 7 && count("summon minecraft:creeper") >= 6,
    { timeout: 20_000, timeoutMsg: `commands so far: ${JSON.stringify(rcon.executed())}` },
  );
  // The room's figures came with the feed: viewers and likes as numbers, the room's title.
  const figure = async (id) => Number(await browser.$(`#${id}`).getAttribute("data-value"));
  assert.ok((await figure("room-viewers")) > 0, "viewers shown");
  assert.ok((await figure("room-likes")) > 0, "likes shown");
  assert.equal(await browser.$("#room-title").getText(), "Simulated stream");
  await app.screenshot("setup-connect-room");
  // Nothing more comes after a pause: no doubled gift actions.
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(count("say heart from "), 7);
  assert.equal(count("summon minecraft:creeper"), 6);
  assert.ok(count("summon minecraft:tnt") >= 3, "the Doughnut rule ran");
  // The starter's creepers land at the player saved in Settings ({player} in the profile).
  assert.equal(count("execute at Steve run summon minecraft:creeper"), 6);

  await browser.$("#nav-queue").click();
  const items = await browser.$("section[data-lane='minecraft']");
  await items.waitForDisplayed({ timeout: 10_000 });
  const hearts = await items.$$("li[data-status='done']");
  let done = 0;
  for (const li of hearts) if (/say heart from/.test(await li.getText())) done++;
  assert.equal(done, 7, "the queue shows the seven heart commands done");
  await app.screenshot("setup-queue-live");
  await browser.$("#nav-log").click();
  await app.screenshot("setup-log");
  await browser.$("#nav-stats").click();
  await app.screenshot("setup-stats");
});

test("export, then import, the profile: same rules, no secrets", async () => {
  const { browser } = app;
  await browser.$("#nav-settings").click();
  const path = join(app.dataDir, "my-profile.json");
  // Export… and Import… open the native dialogs, which WebDriver cannot drive; the typed path
  // beside them goes through the same commands underneath.
  assert.equal(await browser.$("#profile-export").getText(), "Export…");
  assert.equal(await browser.$("#profile-import").getText(), "Import…");
  await browser.$("#profile-typed-path summary").click();
  await typeInto(browser, "#profile-export-path", path);
  await browser.$("#profile-export-typed").click();
  const msg = await browser.$("#profile-message");
  await msg.waitForDisplayed({ timeout: 10_000 });
  assert.equal(await msg.getText(), `Exported to ${path}`);
  const exported = readFileSync(path, "utf8");
  assert.ok(!exported.includes(PASSWORD), "no password in the export");
  const before = profileOnDisk();
  assert.deepEqual(JSON.parse(exported).rules, before.rules);

  const edited = JSON.parse(exported);
  edited.rules = edited.rules.filter((r) => r.id !== "doughnut-tnt");
  const importPath = join(app.dataDir, "to-import.json");
  writeFileSync(importPath, JSON.stringify(edited));
  await typeInto(browser, "#profile-export-path", importPath);
  await browser.$("#profile-import-typed").click();
  await browser.waitUntil(async () => /^Imported/.test(await browser.$("#profile-message").getText()), {
    timeout: 10_000,
    timeoutMsg: "the import did not finish",
  });
  const after = profileOnDisk();
  assert.deepEqual(after.rules, edited.rules);
  // The saved password still works after the import (it never left the secrets file).
  await browser.$("#rcon-test").click();
  await browser.waitUntil(
    async () => (await browser.$("#rcon-test-result").getAttribute("data-ok")) === "true",
    { timeout: 15_000, timeoutMsg: "RCON stopped working after the import" },
  );
  await app.screenshot("setup-settings-imported");
});
