import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { FeedBatch } from "../ipc";
import { applyBatch, LOG_REFRESH_MS, resetFeed, useFeed } from "./feed";
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
    expect(useFeed.getState().seq).toBe(10); // every batch applied to the store at once
    expect(logRefreshes()).toBeLessThanOrEqual(1 + Math.ceil(900 / LOG_REFRESH_MS));
    expect(logRefreshes()).toBeGreaterThanOrEqual(3);
    // The last rows of the burst are asked for within the interval, not lost.
    const before = logRefreshes();
    vi.advanceTimersByTime(LOG_REFRESH_MS);
    expect(logRefreshes()).toBe(before + 1);
    vi.advanceTimersByTime(5 * LOG_REFRESH_MS);
    expect(logRefreshes()).toBe(before + 1);
    // A batch without new rows asks for nothing; after a quiet spell new rows show at once.
    expect(applyBatch(batch(11, 0))).toBe(true);
    expect(logRefreshes()).toBe(before + 1);
    expect(applyBatch(batch(12, 3))).toBe(true);
    expect(logRefreshes()).toBe(before + 2);
  });
});
