// A fake backend for UI tests: answers the real command names through Tauri's own IPC mock,
// so components run the same code path as in the app.
import { mockIPC } from "@tauri-apps/api/mocks";
import { act } from "@testing-library/react";
import type {
  AppInfo,
  DemoView,
  FeedBatch,
  FeedSnapshot,
  LaneView,
  LogPage,
  LogQuery,
  LogRow,
  ProfileDoc,
  SettingsView,
  StatsView,
  StatusSnapshot,
} from "../ipc";
import { startFeed, useFeed } from "../shared/feed";

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
  room: { title: null, viewers: null, likes: null },
};

export const sampleLanes: LaneView[] = [
  {
    name: "minecraft",
    paused: false,
    waiting: 0,
    running: 0,
    done: 5,
    failed: 0,
    dropped: 0,
    skipped: 0,
  },
  {
    name: "sound",
    paused: true,
    waiting: 0,
    running: 0,
    done: 1,
    failed: 1,
    dropped: 0,
    skipped: 0,
  },
];

export const emptyStats: StatsView = {
  events: [],
  giftUnits: 0,
  diamonds: 0,
  topGifters: [],
  minuteStartMs: null,
  giftsPerMinute: [],
  coinsPerMinute: [],
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
export function snapshot(over: Partial<FeedSnapshot> = {}): FeedSnapshot {
  return {
    seq: 0,
    log: { count: 0, firstId: 1, lastId: 0, added: 0 },
    items: [],
    lanes: sampleLanes,
    status: idleStatus,
    missedUpdates: 0,
    ...over,
  };
}

/** Answers `log_page` from `rows` (or from `rowAt` for huge logs), as the backend does. */
export function logPages(count: number, rowAt: (index: number) => LogRow) {
  return (args: unknown): LogPage => {
    const q = (args as { query: LogQuery }).query;
    const search = q.search.toLowerCase();
    const matches = (r: LogRow) =>
      (q.kinds.length === 0 || q.kinds.includes(r.kind)) &&
      (!search ||
        (r.user ?? "").toLowerCase().includes(search) ||
        (r.handle ?? "").toLowerCase().includes(search));
    const filtered = q.kinds.length === 0 && !search;
    if (filtered) {
      // `tail`: the newest `limit` rows, and where they start.
      const offset = q.tail ? Math.max(0, count - q.limit) : Math.min(q.offset, count);
      const rows: LogRow[] = [];
      for (let i = offset; i < Math.min(count, offset + q.limit); i++) rows.push(rowAt(i));
      return { total: count, offset, rows, newer: 0, lastId: count };
    }
    const all: LogRow[] = [];
    for (let i = 0; i < count; i++) {
      const r = rowAt(i);
      if (matches(r)) all.push(r);
    }
    const offset = q.tail ? Math.max(0, all.length - q.limit) : Math.min(q.offset, all.length);
    return {
      total: all.length,
      offset,
      rows: all.slice(offset, offset + q.limit),
      newer: 0,
      lastId: count,
    };
  };
}

/** Batches `pushBatch` made that no `feed_next` request has taken yet, and the requests waiting. */
let feedQueue: FeedBatch[] = [];
let feedWaiters: ((b: FeedBatch | null) => void)[] = [];

/** Answers `feed_next` as the backend does: the next batch after `after`, when there is one. */
export function nextBatch(args: unknown): FeedBatch | null | Promise<FeedBatch | null> {
  const after = (args as { after: number }).after;
  feedQueue = feedQueue.filter((b) => b.seq > after);
  const next = feedQueue.shift();
  if (next) return next;
  return new Promise((resolve) => feedWaiters.push(resolve));
}

function deliver(batch: FeedBatch) {
  const waiter = feedWaiters.shift();
  if (waiter) waiter(batch);
  else feedQueue.push(batch);
}

export function fakeBackend(overrides: Record<string, (args: unknown) => unknown> = {}) {
  const calls: string[] = [];
  // Requests of an earlier test's feed end empty; its batches are gone.
  for (const w of feedWaiters) w(null);
  feedWaiters = [];
  feedQueue = [];
  mockIPC(
    (cmd, args) => {
      calls.push(cmd);
      const handler = overrides[cmd];
      if (handler) return handler(args);
      if (cmd === "app_info") return sampleInfo;
      if (cmd === "status") return idleStatus;
      if (cmd === "feed_snapshot") return snapshot();
      if (cmd === "feed_next") return nextBatch(args);
      if (cmd === "queue_lanes") return sampleLanes;
      if (cmd === "session_stats") return emptyStats;
      if (cmd === "gift_catalog") return { source: "builtin", gifts: [] };
      if (cmd === "profile_get") return sampleProfileDoc;
      if (cmd === "profile_backups") return [];
      if (cmd === "settings_get") return sampleSettings;
      if (cmd === "demo_status") return idleDemo;
      if (cmd === "sound_devices")
        return [
          { name: "", label: "System default" },
          { name: "USB Headset", label: "USB Headset" },
        ];
      if (cmd === "template_preview")
        return {
          command: "say preview",
          bytes: 11,
          truncated: false,
          placeholders: [],
          error: null,
          sampleUser: "Bob",
        };
      if (cmd === "log_page") return { total: 0, offset: 0, rows: [], newer: 0, lastId: 0 };
      if (cmd === "log_trace") return null;
      return undefined;
    },
    { shouldMockEvents: true },
  );
  return calls;
}

/** A batch that changes nothing but what `over` says. */
export function feedBatch(over: Partial<FeedBatch> & Pick<FeedBatch, "seq">): FeedBatch {
  return {
    reset: false,
    log: { count: 0, firstId: 1, lastId: 0, added: 0 },
    tracesChanged: false,
    items: [],
    removedItems: [],
    lanes: null,
    status: null,
    statsChanged: false,
    missedUpdates: 0,
    ...over,
  };
}

/** Starts the feed (if needed), waits for its snapshot, then hands it the batch after it. */
export async function pushBatch(over: Partial<FeedBatch>) {
  startFeed();
  await act(async () => {
    for (let i = 0; i < 50 && useFeed.getState().seq === null; i++) {
      await new Promise((r) => setTimeout(r, 5));
    }
    const cur = useFeed.getState();
    const batch = feedBatch({
      seq: (cur.seq ?? 0) + 1,
      log: cur.log,
      missedUpdates: cur.missedUpdates,
      ...over,
    });
    deliver(batch);
    // The store shows batches at most every `PUBLISH_MS` (250 ms).
    for (let i = 0; i < 200 && useFeed.getState().seq !== batch.seq; i++) {
      await new Promise((r) => setTimeout(r, 5));
    }
  });
}

export async function pushStatus(status: StatusSnapshot) {
  await pushBatch({ status });
}
