// A fake backend for UI tests: answers the real command names through Tauri's own IPC mock,
// so components run the same code path as in the app.
import { mockIPC } from "@tauri-apps/api/mocks";
import type { AppInfo, LaneView, StatsView, StatusSnapshot } from "../ipc";

export const sampleInfo: AppInfo = {
  name: "LiveTrigger",
  version: "9.8.7",
  dataDir: "/home/streamer/.local/share/app.livetrigger.desktop",
  logDir: "/home/streamer/.local/share/app.livetrigger.desktop/logs",
  os: "linux",
  arch: "x86_64",
};

export const idleStatus: StatusSnapshot = {
  connection: "disconnected",
  connectionDetail: null,
  rcon: "not_configured",
  audio: "not_configured",
  queueDepth: 0,
};

export const sampleLanes: LaneView[] = [
  { name: "minecraft", paused: false, waiting: 2, running: 1, done: 5, failed: 0, dropped: 0 },
  { name: "sound", paused: true, waiting: 0, running: 0, done: 1, failed: 1, dropped: 0 },
];

export const emptyStats: StatsView = {
  events: [],
  giftUnits: 0,
  diamonds: 0,
  topGifters: [],
  giftsPerMinute: [],
  items: [],
};

export function fakeBackend(overrides: Record<string, (args: unknown) => unknown> = {}) {
  const calls: string[] = [];
  mockIPC(
    (cmd, args) => {
      calls.push(cmd);
      const handler = overrides[cmd];
      if (handler) return handler(args);
      if (cmd === "app_info") return sampleInfo;
      if (cmd === "status") return idleStatus;
      if (cmd === "queue_lanes") return sampleLanes;
      if (cmd === "session_stats") return emptyStats;
      if (cmd === "gift_catalog") return { source: "builtin", gifts: [] };
      return undefined;
    },
    { shouldMockEvents: true },
  );
  return calls;
}
