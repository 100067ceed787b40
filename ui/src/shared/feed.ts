// The store of everything the backend pushes. The window pulls it: it asks for the batch after
// the one it has painted (`feed_next`, at most 10 a second) and applies it; the views see the
// result at most 4 times a second (`PUBLISH_MS`). Each batch has a
// sequence number: on load, and whenever one is missing, the store asks for a snapshot and goes
// on from there, so it is never silently wrong.
import { create } from "zustand";
import {
  commands,
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

/**
 * The views see the feed's state at most every `PUBLISH_MS`: a flood brings a batch every
 * 100 ms, and each change the views see is a render, a layout and a repaint of the window on
 * its main thread, where the streamer's clicks wait. Batches are still applied (and asked
 * for) as fast as they come; the first change after a quiet spell shows at once, the last of
 * a burst within that time. Snapshots show at once.
 */
export const PUBLISH_MS = 250;
/** The state as the batches left it; `useFeed` gets it at most every `PUBLISH_MS`. */
let latest: FeedState | null = null;
let publishedAt = -Infinity;
let publishTimer: ReturnType<typeof setTimeout> | null = null;

function current(): FeedState {
  return latest ?? useFeed.getState();
}

function publishNow() {
  if (publishTimer !== null) clearTimeout(publishTimer);
  publishTimer = null;
  publishedAt = Date.now();
  if (latest) useFeed.setState(latest);
  latest = null;
}

function publish(next: FeedState) {
  latest = next;
  if (publishTimer !== null) return;
  const wait = publishedAt + PUBLISH_MS - Date.now();
  if (wait <= 0) publishNow();
  else publishTimer = setTimeout(publishNow, wait);
}

function applySnapshot(s: FeedSnapshot) {
  latest = {
    ...current(),
    seq: s.seq,
    status: s.status,
    bridgeDown: false,
    log: s.log,
    items: new Map(s.items.map((i) => [i.id, i])),
    lanes: s.lanes,
    missedUpdates: s.missedUpdates,
  };
  publishNow();
  void queryClient.invalidateQueries({ queryKey: keys.log });
  void queryClient.invalidateQueries({ queryKey: keys.trace });
  void queryClient.invalidateQueries({ queryKey: keys.stats });
}

/** Applies one batch; false when it does not follow the last one (a snapshot is needed). */
export function applyBatch(b: FeedBatch): boolean {
  const cur = current();
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
  publish({
    ...cur,
    seq: b.seq,
    status: b.status ?? cur.status,
    log: b.log,
    items,
    lanes: b.lanes ?? cur.lanes,
    missedUpdates: b.missedUpdates,
  });
  // For the flood benchmark and e2e tests: which batch the window has applied, and how many
  // engine updates the backend's feed could not keep up with.
  document.documentElement.dataset.feedSeq = String(b.seq);
  document.documentElement.dataset.feedMissed = String(b.missedUpdates);
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

/** How long the feed waits before asking again after the bridge failed. */
const RETRY_MS = 1000;

/**
 * Resolves once the frame after the last change has been painted, or after a second when the
 * window paints nothing (minimised). Only then does the window ask for the next batch, and
 * asking is what lets the backend make it: a busy window receives fewer, larger batches
 * instead of a backlog queued in front of the streamer's clicks.
 */
function painted(): Promise<void> {
  return new Promise((resolve) => {
    const fallback = setTimeout(resolve, 1000);
    requestAnimationFrame(() => {
      setTimeout(() => {
        clearTimeout(fallback);
        resolve();
      }, 0);
    });
  });
}

/** Starts following the backend (once); returns a function that stops it. */
export function startFeed(): () => void {
  if (running) return running;
  let live = true;
  // Read through a function: `stop` changes it while a request is out.
  const stopped = () => !live;
  let synced = false;
  const resync = async () => {
    const s = await commands.feedSnapshot();
    if (stopped()) return;
    const first = current().seq === null;
    applySnapshot(s);
    if (!first) {
      const resyncs = useFeed.getState().resyncs + 1;
      useFeed.setState({ resyncs });
      document.documentElement.dataset.feedResyncs = String(resyncs);
    }
    synced = true;
  };
  const follow = async () => {
    while (live) {
      try {
        const seq = current().seq;
        if (!synced || seq === null) {
          await resync();
          continue;
        }
        const batch = await commands.feedNext({ after: seq });
        if (stopped()) return;
        if (batch === null) continue; // nothing happened for a while: ask again
        if (!applyBatch(batch)) {
          synced = false; // a gap: start again from a snapshot
          continue;
        }
        await painted();
      } catch {
        if (stopped()) return;
        publishNow();
        useFeed.setState({ bridgeDown: true });
        synced = false;
        await new Promise((r) => setTimeout(r, RETRY_MS));
      }
    }
  };
  void follow();
  const stop = () => {
    live = false;
    running = null;
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
  if (publishTimer !== null) clearTimeout(publishTimer);
  publishTimer = null;
  publishedAt = -Infinity;
  latest = null;
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
