// The installed package, not the build tree: scripts/installer-test.sh installs the .deb (or
// unpacks it, or points at an AppImage) and runs this file with LIVETRIGGER_BIN set to what it
// installed. It lives outside e2e/tests/ so that the ordinary e2e run does not pick it up.
import assert from "node:assert/strict";
import { readdirSync, readFileSync, readlinkSync, realpathSync } from "node:fs";
import { after, before, test } from "node:test";
import { appBinary, launchApp } from "../lib/harness.mjs";

const expectedVersion = process.env.LIVETRIGGER_EXPECT_VERSION;

// Every process whose executable is `path`.
function processesRunning(path) {
  const want = realpathSync(path);
  const pids = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readlinkSync(`/proc/${entry}/exe`) === want) pids.push(Number(entry));
    } catch {
      // gone, or not ours to read
    }
  }
  return pids;
}

let app;
before(async () => {
  assert.ok(process.env.LIVETRIGGER_BIN, "LIVETRIGGER_BIN must name the installed binary");
  app = await launchApp();
});
after(async () => {
  await app?.stop();
});

test("the installed binary is the one that opened the window", () => {
  const pids = processesRunning(appBinary);
  assert.ok(pids.length > 0, `no running process has ${appBinary} as its executable`);
  // Its data folder is this test's, so it is the session we launched, not some other copy.
  const ours = pids.filter((pid) =>
    readFileSync(`/proc/${pid}/environ`, "utf8").split("\0").includes(`LIVETRIGGER_DATA_DIR=${app.dataDir}`),
  );
  assert.ok(ours.length > 0, `no ${appBinary} process runs with LIVETRIGGER_DATA_DIR=${app.dataDir}`);
});

test("the window opens on the Connect view with the embedded UI", async () => {
  const { browser } = app;
  assert.equal(await browser.getTitle(), "LiveTrigger");
  const main = await browser.$("main[data-view='connect']");
  await main.waitForDisplayed({ timeout: 15_000 });
  assert.equal(await main.$("h1").getText(), "Connect");
  assert.ok(await browser.$("#nav-mapping").isDisplayed(), "the navigation is drawn");
});

test("settings shows the packaged version and the test's data folder", async () => {
  const { browser } = app;
  await browser.$("#nav-settings").click();
  const version = await browser.$("#app-version");
  await version.waitForDisplayed({ timeout: 5_000 });
  const shown = await version.getText();
  assert.match(shown, /^\d+\.\d+\.\d+/);
  if (expectedVersion) assert.ok(shown.startsWith(expectedVersion), `${shown} is not ${expectedVersion}`);
  assert.equal(await browser.$("#app-data-dir").getText(), app.dataDir);
});
