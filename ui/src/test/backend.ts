// A fake backend for UI tests: answers the real command names through Tauri's own IPC mock,
// so components run the same code path as in the app.
import { mockIPC } from "@tauri-apps/api/mocks";
import { emit } from "@tauri-apps/api/event";
import { act } from "@testing-library/react";
import type {
  AppInfo,
  FeedBatch,
  FeedSnapshot,
  LaneView,
  LogPage,
  LogQuery,
  LogRow,
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
      const rows: LogRow[] = [];
      for (let i = q.offset; i < Math.min(count, q.offset + q.limit); i++) rows.push(rowAt(i));
      return { total: count, offset: q.offset, rows, newer: 0, lastId: count };
    }
    const all: LogRow[] = [];
    for (let i = 0; i < count; i++) {
      const r = rowAt(i);
      if (matches(r)) all.push(r);
    }
    return {
      total: all.length,
      offset: q.offset,
      rows: all.slice(q.offset, q.offset + q.limit),
      newer: 0,
      lastId: count,
    };
  };
}

export function fakeBackend(overrides: Record<string, (args: unknown) => unknown> = {}) {
  const calls: string[] = [];
  mockIPC(
    (cmd, args) => {
      calls.push(cmd);
      const handler = overrides[cmd];
      if (handler) return handler(args);
      if (cmd === "app_info") return sampleInfo;
      if (cmd === "status") return idleStatus;
      if (cmd === "feed_snapshot") return snapshot();
      if (cmd === "queue_lanes") return sampleLanes;
      if (cmd === "session_stats") return emptyStats;
      if (cmd === "gift_catalog") return { source: "builtin", gifts: [] };
      if (cmd === "log_page") return { total: 0, offset: 0, rows: [], newer: 0, lastId: 0 };
      if (cmd === "log_trace") return null;
      return undefined;
    },
    { shouldMockEvents: true },
  );
  return calls;
}

/** Starts the feed (if needed), waits for its snapshot, then pushes one batch after it. */
export async function pushBatch(over: Partial<FeedBatch>) {
  startFeed();
  await act(async () => {
    for (let i = 0; i < 50 && useFeed.getState().seq === null; i++) {
      await new Promise((r) => setTimeout(r, 5));
    }
    const cur = useFeed.getState();
    const batch: FeedBatch = {
      seq: (cur.seq ?? 0) + 1,
      reset: false,
      log: cur.log,
      tracesChanged: false,
      items: [],
      removedItems: [],
      lanes: null,
      status: null,
      statsChanged: false,
      missedUpdates: cur.missedUpdates,
      ...over,
    };
    await emit("feed-batch", batch);
  });
}

export async function pushStatus(status: StatusSnapshot) {
  await pushBatch({ status });
}
