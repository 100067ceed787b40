// Starts the installed app the way a desktop launcher does: the Exec line of the installed
// .desktop entry, found on PATH, with no WebDriver in between. Run by scripts/installer-test.sh
// under Xvfb with LIVETRIGGER_DESKTOP_FILE (and PATH holding the installed bin folder).
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Top-level X windows titled exactly `title`, as `xwininfo -root -children` lists them. */
function windowsTitled(title) {
  const tree = execFileSync("xwininfo", ["-root", "-children"], { encoding: "utf8" });
  return tree.split("\n").filter((line) => line.includes(`"${title}"`));
}

/** The program and its arguments from a desktop entry's Exec key (field codes dropped). */
function execLine(desktopFile) {
  const text = readFileSync(desktopFile, "utf8");
  const line = text.split("\n").find((l) => l.startsWith("Exec="));
  assert.ok(line, `${desktopFile} has no Exec line`);
  return line
    .slice("Exec=".length)
    .trim()
    .split(/\s+/)
    .filter((arg) => !/^%[fFuUdDnNickvm]$/.test(arg));
}

test("the desktop entry's Exec line opens the LiveTrigger window", { timeout: 60_000 }, async () => {
  const desktopFile = process.env.LIVETRIGGER_DESKTOP_FILE;
  assert.ok(desktopFile && existsSync(desktopFile), "LIVETRIGGER_DESKTOP_FILE must name the installed entry");
  const [program, ...args] = execLine(desktopFile);
  const before = windowsTitled("LiveTrigger").length;
  const dataDir = mkdtempSync(join(tmpdir(), "livetrigger-installed-"));
  const env = { ...process.env, LIVETRIGGER_DATA_DIR: dataDir };
  // Another LiveTrigger on a shared session bus would take the launch over (single instance).
  delete env.DBUS_SESSION_BUS_ADDRESS;
  const child = spawn(program, args, { env, stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  let exited = null;
  child.on("exit", (code, signal) => (exited = { code, signal }));
  try {
    const deadline = Date.now() + 30_000;
    while (windowsTitled("LiveTrigger").length <= before) {
      assert.equal(exited, null, `the app exited early (${JSON.stringify(exited)}):\n${stderr}`);
      assert.ok(Date.now() < deadline, `no LiveTrigger window appeared within 30 s:\n${stderr}`);
      await sleep(200);
    }
    // Launchers match the window to its entry (icon, "running" marker) by WM_CLASS, which
    // xwininfo prints as ("instance" "Class") after the title.
    const wmClass = /StartupWMClass=(.+)/.exec(readFileSync(desktopFile, "utf8"))?.[1]?.trim();
    assert.ok(wmClass, `${desktopFile} has no StartupWMClass`);
    const classes = windowsTitled("LiveTrigger").map((l) => /\("([^"]*)" "([^"]*)"\)/.exec(l)?.slice(1) ?? []);
    assert.ok(
      classes.some((pair) => pair.includes(wmClass)),
      `no LiveTrigger window has WM_CLASS ${wmClass}: ${JSON.stringify(classes)}`,
    );
    // First start writes the starter profile into the data folder it was given.
    const profile = join(dataDir, "profile.json");
    while (!existsSync(profile)) {
      assert.ok(Date.now() < deadline, `no ${profile} after start:\n${stderr}`);
      await sleep(100);
    }
    assert.ok(JSON.parse(readFileSync(profile, "utf8")));
    assert.equal(exited, null, `the app exited (${JSON.stringify(exited)}):\n${stderr}`);
  } finally {
    if (exited === null) {
      child.kill("SIGTERM");
      const stopBy = Date.now() + 10_000;
      while (exited === null && Date.now() < stopBy) await sleep(100);
      if (exited === null) child.kill("SIGKILL");
    }
    rmSync(dataDir, { recursive: true, force: true });
  }
});
