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
  if (b.log.added > 0) void queryClient.invalidateQueries({ queryKey: keys.log });
  if (b.tracesChanged) void queryClient.invalidateQueries({ queryKey: keys.trace });
  if (b.statsChanged) void queryClient.invalidateQueries({ queryKey: keys.stats });
  return true;
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
