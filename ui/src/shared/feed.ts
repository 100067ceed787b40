// The store of everything the backend pushes, fed by `feed-batch` events (at most 10 a
// second). Each batch has a sequence number: on load, and whenever one is missing, the store
// asks for a snapshot and goes on from there, so it is never silently wrong.
import { create } from "zustand";
import {
  commands,
  events,
  type FeedBatch,
  type FeedSnapshot,
  type LaneView,
  type LogCursor,
  type QueueItemView,
  type StatusSnapshot,
} from "../ipc";
import { keys, queryClient } from "./query";

export interface FeedState {
  /** The last batch applied (null until the first snapshot). */
  seq: number | null;
  status: StatusSnapshot | null;
  bridgeDown: boolean;
  log: LogCursor;
  items: ReadonlyMap<number, QueueItemView>;
  lanes: readonly LaneView[];
  missedUpdates: number;
  /** Snapshots taken after a gap (0 on a healthy stream). */
  resyncs: number;
}

const emptyLog: LogCursor = { count: 0, firstId: 1, lastId: 0, added: 0 };

export const useFeed = create<FeedState>(() => ({
  seq: null,
  status: null,
  bridgeDown: false,
  log: emptyLog,
  items: new Map(),
  lanes: [],
  missedUpdates: 0,
  resyncs: 0,
}));

function applySnapshot(s: FeedSnapshot) {
  useFeed.setState({
    seq: s.seq,
    status: s.status,
    bridgeDown: false,
    log: s.log,
    items: new Map(s.items.map((i) => [i.id, i])),
    lanes: s.lanes,
    missedUpdates: s.missedUpdates,
  });
  void queryClient.invalidateQueries({ queryKey: keys.log });
  void queryClient.invalidateQueries({ queryKey: keys.trace });
  void queryClient.invalidateQueries({ queryKey: keys.stats });
}

/** Applies one batch; false when it does not follow the last one (a snapshot is needed). */
export function applyBatch(b: FeedBatch): boolean {
  const cur = useFeed.getState();
  if (cur.seq === null) return false;
  if (b.seq <= cur.seq) return true; // already in the snapshot
  if (b.seq !== cur.seq + 1) return false;
  let items = cur.items;
  if (b.reset || b.items.length > 0 || b.removedItems.length > 0) {
    const next = b.reset ? new Map<number, QueueItemView>() : new Map(cur.items);
    for (const i of b.items) next.set(i.id, i);
    for (const id of b.removedItems) next.delete(id);
    items = next;
  }
  useFeed.setState({
    seq: b.seq,
    status: b.status ?? cur.status,
    log: b.log,
    items,
    lanes: b.lanes ?? cur.lanes,
    missedUpdates: b.missedUpdates,
  });
  // For the flood benchmark and e2e tests: which batch the window has applied.
  document.documentElement.dataset.feedSeq = String(b.seq);
  if (b.log.added > 0) refreshLog();
  if (b.tracesChanged) void queryClient.invalidateQueries({ queryKey: keys.trace });
  if (b.statsChanged) void queryClient.invalidateQueries({ queryKey: keys.stats });
  return true;
}

/**
 * The log's rows are asked for again at most every `LOG_REFRESH_MS`: a flood brings new rows
 * with every batch (10 a second), faster than anyone reads them, and each refresh costs the
 * window a request and a repaint of the list. The first new rows after a quiet spell show at
 * once; the last ones of a burst within that time.
 */
export const LOG_REFRESH_MS = 250;
let logRefreshedAt = -Infinity;
let logRefreshTimer: ReturnType<typeof setTimeout> | null = null;

function refreshLog() {
  if (logRefreshTimer !== null) return;
  const wait = logRefreshedAt + LOG_REFRESH_MS - Date.now();
  const run = () => {
    logRefreshTimer = null;
    logRefreshedAt = Date.now();
    void queryClient.invalidateQueries({ queryKey: keys.log });
  };
  if (wait <= 0) run();
  else logRefreshTimer = setTimeout(run, wait);
}

let running: (() => void) | null = null;

/**
 * Tells the backend that batch `seq` is on screen, once the frame after it has been painted:
 * the backend sends the next batch only then (or after a second), so a busy window receives
 * fewer, larger batches instead of a backlog queued in front of the streamer's clicks.
 */
function acknowledge(seq: number) {
  requestAnimationFrame(() => {
    setTimeout(() => {
      commands.feedAck({ seq }).catch(() => undefined);
    }, 0);
  });
}

/** Starts following the backend (once); returns a function that stops it. */
export function startFeed(): () => void {
  if (running) return running;
  let live = true;
  let syncing = false;
  let pending: FeedBatch[] = [];
  const resync = () => {
    if (syncing) return;
    syncing = true;
    commands.feedSnapshot().then(
      (s) => {
        syncing = false;
        if (!live) return;
        const first = useFeed.getState().seq === null;
        applySnapshot(s);
        if (!first) useFeed.setState((st) => ({ resyncs: st.resyncs + 1 }));
        const queued = pending;
        pending = [];
        for (const b of queued) {
          if (!applyBatch(b)) {
            resync();
            return;
          }
        }
      },
      () => {
        syncing = false;
        if (live) useFeed.setState({ bridgeDown: true });
      },
    );
  };
  const unlisten = events.feedBatch((b) => {
    if (!live) return;
    if (syncing) {
      pending.push(b);
    } else if (!applyBatch(b)) {
      pending.push(b);
      resync();
    }
    acknowledge(b.seq);
  });
  resync();
  const stop = () => {
    live = false;
    running = null;
    unlisten.then(
      (off) => {
        off();
      },
      () => undefined,
    );
  };
  running = stop;
  return stop;
}

/** Forgets everything (tests). */
export function resetFeed() {
  running?.();
  if (logRefreshTimer !== null) clearTimeout(logRefreshTimer);
  logRefreshTimer = null;
  logRefreshedAt = -Infinity;
  useFeed.setState({
    seq: null,
    status: null,
    bridgeDown: false,
    log: emptyLog,
    items: new Map(),
    lanes: [],
    missedUpdates: 0,
    resyncs: 0,
  });
}
