import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { FeedBatch, QueueItemView } from "../ipc";
import { applyBatch, LOG_REFRESH_MS, PUBLISH_MS, resetFeed, useFeed } from "./feed";
import { feedBatch } from "../test/backend";
import { keys, queryClient } from "./query";

function batch(seq: number, added: number): FeedBatch {
  return feedBatch({ seq, log: { count: seq * 10, firstId: 1, lastId: seq * 10, added } });
}

describe("feed", () => {
  beforeEach(() => {
    vi.useFakeTimers();
    resetFeed();
    useFeed.setState({ seq: 0 });
  });
  afterEach(() => {
    resetFeed();
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  it("asks for the log's rows at most every 250 ms, the first and the last at once", () => {
    const spy = vi.spyOn(queryClient, "invalidateQueries").mockResolvedValue(undefined);
    const logRefreshes = () =>
      spy.mock.calls.filter(([f]) => JSON.stringify(f?.queryKey) === JSON.stringify(keys.log))
        .length;
    // A flood: a batch with new rows every 100 ms for a second.
    expect(applyBatch(batch(1, 500))).toBe(true);
    expect(logRefreshes()).toBe(1); // the first at once
    for (let seq = 2; seq <= 10; seq++) {
      vi.advanceTimersByTime(100);
      expect(applyBatch(batch(seq, 500))).toBe(true);
    }
    expect(logRefreshes()).toBeLessThanOrEqual(1 + Math.ceil(900 / LOG_REFRESH_MS));
    expect(logRefreshes()).toBeGreaterThanOrEqual(3);
    // The last rows of the burst are asked for within the interval, not lost.
    const before = logRefreshes();
    vi.advanceTimersByTime(LOG_REFRESH_MS);
    expect(logRefreshes()).toBe(before + 1);
    vi.advanceTimersByTime(5 * LOG_REFRESH_MS);
    expect(logRefreshes()).toBe(before + 1);
    expect(useFeed.getState().seq).toBe(10); // every batch applied
    // A batch without new rows asks for nothing; after a quiet spell new rows show at once.
    expect(applyBatch(batch(11, 0))).toBe(true);
    expect(logRefreshes()).toBe(before + 1);
    expect(applyBatch(batch(12, 3))).toBe(true);
    expect(logRefreshes()).toBe(before + 2);
  });

  it("shows the views a burst at most every 250 ms, the first change and the last at once", () => {
    const published: number[] = [];
    const unsubscribe = useFeed.subscribe((st) => {
      published.push(st.seq ?? -1);
    });
    try {
      expect(applyBatch(batch(1, 5))).toBe(true);
      expect(published).toEqual([1]); // after a quiet spell: at once
      // A flood: a batch every 100 ms for a second, each applied (the next must follow it).
      for (let seq = 2; seq <= 11; seq++) {
        vi.advanceTimersByTime(100);
        expect(applyBatch(batch(seq, 5))).toBe(true);
        expect(applyBatch(batch(seq, 5))).toBe(true); // already applied, not a gap
      }
      expect(applyBatch(batch(13, 5))).toBe(false); // a gap is seen before it is shown
      expect(published.length).toBeLessThanOrEqual(1 + Math.ceil(1000 / PUBLISH_MS));
      expect(published.length).toBeGreaterThanOrEqual(4);
      // Never out of order, and the last batch of the burst is shown within the interval.
      expect([...published].sort((a, b) => a - b)).toEqual(published);
      vi.advanceTimersByTime(PUBLISH_MS);
      expect(published.at(-1)).toBe(11);
      const count = published.length;
      vi.advanceTimersByTime(5 * PUBLISH_MS);
      expect(published.length).toBe(count);
      // Queue changes of batches never shown on their own are all there once shown.
      const item = (id: number): QueueItemView => ({
        id,
        lane: "minecraft",
        rule: "r",
        status: "queued",
        detail: null,
        commands: [],
        sounds: [],
        user: null,
        event: "gift",
        queuedMs: 0,
        rerunOf: null,
        dryRun: false,
      });
      expect(applyBatch(feedBatch({ seq: 12, items: [item(1), item(2)] }))).toBe(true);
      expect(applyBatch(feedBatch({ seq: 13, items: [item(3)], removedItems: [1] }))).toBe(true);
      expect(published.at(-1)).toBe(12); // after a quiet spell: at once
      expect(applyBatch(feedBatch({ seq: 14, items: [{ ...item(2), status: "done" }] }))).toBe(
        true,
      );
      expect(published.at(-1)).toBe(12);
      vi.advanceTimersByTime(PUBLISH_MS);
      expect(published.at(-1)).toBe(14);
      const items = useFeed.getState().items;
      expect([...items.keys()].sort()).toEqual([2, 3]);
      expect(items.get(2)?.status).toBe("done");
    } finally {
      unsubscribe();
    }
  });
});
