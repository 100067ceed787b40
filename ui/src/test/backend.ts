// A fake backend for UI tests: answers the real command names through Tauri's own IPC mock,
// so components run the same code path as in the app.
import { mockIPC } from "@tauri-apps/api/mocks";
import type {
  AppInfo,
  DemoView,
  LaneView,
  ProfileDoc,
  SettingsView,
  StatsView,
  StatusSnapshot,
} from "../ipc";

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

/** A small profile like the starter one: two command actions, a sound, two rules. */
export const sampleProfile = {
  schemaVersion: 1,
  name: "Test profile",
  rcon: { host: "127.0.0.1", port: 25575 },
  sound: { folder: "sounds", masterVolume: 1 },
  sign: {},
  lanes: [{ name: "minecraft" }, { name: "sound" }],
  actions: [
    {
      id: "creeper",
      name: "Summon a creeper",
      steps: [{ type: "command", template: "summon minecraft:creeper ~ ~ ~" }],
    },
    { id: "tnt", name: "Drop a TNT", steps: [{ type: "command", template: "summon tnt" }] },
    {
      id: "fanfare",
      name: "Fanfare",
      lane: "sound",
      steps: [{ type: "sound", file: "fanfare.ogg", volume: 1 }],
    },
  ],
  rules: [
    {
      id: "rose-creeper",
      name: "Rose: a creeper",
      trigger: { type: "gift", name: "Rose" },
      actions: ["creeper"],
      futureField: { kept: true },
    },
    { id: "follow-tnt", trigger: { type: "follow" }, actions: ["tnt"] },
  ],
};

export const sampleProfileDoc: ProfileDoc = {
  json: JSON.stringify(sampleProfile),
  path: "/data/profile.json",
  problem: null,
};

export const sampleSettings: SettingsView = {
  rconHost: "127.0.0.1",
  rconPort: 25575,
  rconPasswordSet: false,
  minecraftPlayer: "",
  masterVolume: 1,
  soundDevice: "",
  signUrl: "",
  signApiKeySet: false,
  sessionIdSet: false,
  trustSignServer: false,
  lastTarget: "",
};

const idleDemo: DemoView = { running: false, url: null, target: "@simstreamer" };

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
      if (cmd === "profile_get") return sampleProfileDoc;
      if (cmd === "profile_backups") return [];
      if (cmd === "settings_get") return sampleSettings;
      if (cmd === "demo_status") return idleDemo;
      if (cmd === "template_preview")
        return {
          command: "say preview",
          bytes: 11,
          truncated: false,
          placeholders: [],
          error: null,
          sampleUser: "Bob",
        };
      return undefined;
    },
    { shouldMockEvents: true },
  );
  return calls;
}
