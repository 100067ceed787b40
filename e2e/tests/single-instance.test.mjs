// One instance only: a second launch of the app hands over to the first (which focuses its
// window) and exits, so two processes never resume the same queue. The plugin finds the first
// instance over the D-Bus session bus, so this test gives both launches a private bus of
// their own (the other tests run without one).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import {
  existsSync,
  mkdtempSync,
  openSync,
  closeSync,
  readFileSync,
  rmSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { appBinary } from "../lib/harness.mjs";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function until(what, check, ms) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (check()) return;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}

function launch(env, logPath) {
  const fd = openSync(logPath, "w");
  const child = spawn(appBinary, [], { env, stdio: ["ignore", fd, fd] });
  closeSync(fd);
  return child;
}

test(
  "a second launch focuses the first window and exits",
  { timeout: 120_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "livetrigger-single-"));
    const dataDir = join(dir, "data");
    const bus = spawn(
      "dbus-daemon",
      [
        "--session",
        "--nofork",
        "--nopidfile",
        `--address=unix:path=${join(dir, "bus")}`,
      ],
      { stdio: "ignore" },
    );
    let first;
    try {
      await until(
        "the private session bus",
        () => existsSync(join(dir, "bus")),
        10_000,
      );
      const env = {
        ...process.env,
        DBUS_SESSION_BUS_ADDRESS: `unix:path=${join(dir, "bus")}`,
        LIVETRIGGER_DATA_DIR: dataDir,
      };
      const log1 = join(dir, "first.log");
      const read1 = () => (existsSync(log1) ? readFileSync(log1, "utf8") : "");
      first = launch(env, log1);
      // The first instance owns the data folder once its engine has opened the store.
      await until(
        "the first instance to start its engine",
        () =>
          first.exitCode === null &&
          existsSync(join(dataDir, "engine", "livetrigger.lock")),
        60_000,
      );
      await sleep(1_000);

      const log2 = join(dir, "second.log");
      const second = launch(env, log2);
      const code = await new Promise((resolve) => {
        const timer = setTimeout(() => resolve("still running"), 30_000);
        second.on("exit", (c) => {
          clearTimeout(timer);
          resolve(c);
        });
      });
      if (code === "still running") second.kill("SIGKILL");
      assert.equal(
        code,
        0,
        `the second launch must exit at once:\n${readFileSync(log2, "utf8")}`,
      );
      assert.equal(
        first.exitCode,
        null,
        `the first instance goes on:\n${read1()}`,
      );
      await until(
        "the first instance to hear of the second launch",
        () => read1().includes("a second launch was turned away"),
        10_000,
      );
      assert.doesNotMatch(
        readFileSync(log2, "utf8"),
        /trigger engine cannot start/,
        "the second launch never got as far as the engine",
      );
    } finally {
      first?.kill("SIGKILL");
      bus.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
