// Starts tauri-driver for one test file, opens the real app window through WebDriver, and
// stops everything afterwards. The app binary must be a `tauri/custom-protocol` build (it embeds
// ui/dist); the test command builds it before running these tests.
import { spawn } from "node:child_process";
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { remote } from "webdriverio";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const targetDir = process.env.CARGO_TARGET_DIR ?? join(repoRoot, "target");

export const appBinary = process.env.LIVETRIGGER_BIN ?? join(targetDir, "debug", "livetrigger");
export const cliBinary = process.env.LIVETRIGGER_CLI_BIN ?? join(targetDir, "debug", "livetrigger-cli");

/** Starts `livetrigger-cli simulate` on a free loopback port; resolves to `{url, stop}`. */
export function startSimulator(args = []) {
  return new Promise((resolve, reject) => {
    const child = spawn(cliBinary, ["simulate", "--listen", "127.0.0.1:0", ...args], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`the simulator did not start:\n${err}`));
    }, 20_000);
    child.stderr.on("data", (d) => (err += d));
    child.stdout.on("data", (d) => {
      out += d;
      const line = out.split("\n")[0];
      const m = /^listening on (http:\/\/127\.0\.0\.1:\d+)$/.exec(line);
      if (m && out.includes("\n")) {
        clearTimeout(timer);
        resolve({ url: m[1], stop: () => child.kill() });
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`the simulator exited (${code}):\n${err}`));
    });
  });
}
/** Starts `livetrigger-cli rcon-server` (vanilla-like RCON on 127.0.0.1); resolves to
 * `{host, port, executed(), stop}` where `executed()` lists the commands it ran so far. */
export function startRconServer(password) {
  return new Promise((resolve, reject) => {
    const child = spawn(cliBinary, ["rcon-server", "--password", password], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    let started = false;
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`the RCON server did not start:\n${err}`));
    }, 20_000);
    child.stderr.on("data", (d) => (err += d));
    child.stdout.on("data", (d) => {
      out += d;
      const m = /^listening on (127\.0\.0\.1):(\d+)\n/.exec(out);
      if (m && !started) {
        started = true;
        clearTimeout(timer);
        resolve({
          host: m[1],
          port: Number(m[2]),
          executed: () =>
            out
              .split("\n")
              .filter((l) => l.startsWith("exec "))
              .map((l) => l.slice(5)),
          stop: () => child.kill(),
        });
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      if (!started) reject(new Error(`the RCON server exited (${code}):\n${err}`));
    });
  });
}

export const screenshotDir = join(repoRoot, "target", "e2e-screenshots");

function freePort() {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", fail);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => ok(port));
    });
  });
}

async function waitForDriver(port, driver, log) {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (driver.exitCode !== null) throw new Error(`tauri-driver exited early:\n${log()}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/status`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`tauri-driver did not start on port ${port}:\n${log()}`);
}

/** The starter profile with its RCON target pointed at `port`. */
export function starterProfile({ port, password }) {
  const profile = JSON.parse(readFileSync(join(repoRoot, "examples", "minecraft-starter.json"), "utf8"));
  profile.rcon = { ...profile.rcon, host: "127.0.0.1", port, password };
  return JSON.stringify(profile, null, 2);
}

/**
 * Launches the app with its own data folder and returns `{browser, dataDir, stop}`. `files`
 * are written into the data folder first (e.g. `{"profile.json": ...}`).
 *
 * `rendering: "composited"` (the default) keeps WebKit's GL compositing on even without a GPU:
 * WebKitWebDriver's screenshots never return from a page painted without it (observed under
 * Xvfb: every screenshot timed out after 120 s). `"app"` leaves the choice to the app
 * (`src-tauri/src/rendering.rs`: no GPU render node, no compositing), which is what a streamer
 * without a GPU gets; tests in that mode take no screenshots.
 */
export async function launchApp({ files = {}, rendering = "composited" } = {}) {
  const port = await freePort();
  const nativePort = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), "livetrigger-e2e-"));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dataDir, name), content);
  // The driver's (and so the app's) output goes to a file, not a pipe: an app that outlives
  // its session must not keep this test process waiting on an open pipe.
  const logPath = join(dataDir, "driver.log");
  const logFd = openSync(logPath, "w");
  // Its own process group, so stopping it also stops WebKitWebDriver and the app.
  const driver = spawn("tauri-driver", ["--port", String(port), "--native-port", String(nativePort)], {
    env: {
      ...process.env,
      LIVETRIGGER_DATA_DIR: dataDir,
      // WebKit reads "0" as "do not disable"; the app leaves a variable the user set alone.
      ...(rendering === "composited" ? { WEBKIT_DISABLE_COMPOSITING_MODE: "0" } : {}),
    },
    stdio: ["ignore", logFd, logFd],
    detached: true,
  });
  closeSync(logFd);
  const output = () => {
    try {
      return readFileSync(logPath, "utf8");
    } catch {
      return "";
    }
  };
  const killGroup = () => {
    try {
      process.kill(-driver.pid, "SIGKILL");
    } catch {
      // already gone
    }
  };
  await waitForDriver(port, driver, output);
  let browser;
  try {
    browser = await remote({
      hostname: "127.0.0.1",
      port,
      logLevel: "warn",
      capabilities: {
        // Debian's WebKitWebDriver rejects the BiDi capability webdriverio adds by default.
        "wdio:enforceWebDriverClassic": true,
        "tauri:options": { application: appBinary },
      },
    });
  } catch (e) {
    killGroup();
    throw new Error(`could not open the app (${appBinary}): ${e}\n${output()}`);
  }
  return {
    browser,
    dataDir,
    async screenshot(name) {
      mkdirSync(screenshotDir, { recursive: true });
      const png = await browser.takeScreenshot();
      writeFileSync(join(screenshotDir, `${name}.png`), Buffer.from(png, "base64"));
    },
    async stop() {
      try {
        await Promise.race([
          browser.deleteSession(),
          new Promise((resolve) => setTimeout(resolve, 10_000)),
        ]);
      } finally {
        killGroup();
        rmSync(dataDir, { recursive: true, force: true });
      }
    },
  };
}

/** Whether this machine has a GPU render node (`/dev/dri/renderD*`). */
export function hasRenderNode() {
  try {
    return readdirSync("/dev/dri").some((n) => n.startsWith("renderD"));
  } catch {
    return false;
  }
}

/**
 * Whether the app paints without GL compositing here (`src-tauri/src/rendering.rs`: no GPU
 * render node, or the variable set by the user), so benches can draw their floor the same way.
 */
export function compositingOff() {
  return process.env.WEBKIT_DISABLE_COMPOSITING_MODE !== undefined || !hasRenderNode();
}
