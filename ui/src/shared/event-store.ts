// A small external store for feeds pushed by the backend (the live log, queue changes): it
// lives outside React, so nothing is missed while a view is not on screen, and keeps at most
// `capacity` entries, newest last.
import type { UnlistenFn } from "@tauri-apps/api/event";

export interface EventStore<T> {
  /** The current entries (a new array after every change, for useSyncExternalStore). */
  get: () => readonly T[];
  subscribe: (listener: () => void) => () => void;
  push: (entry: T) => void;
  clear: () => void;
  /** Starts listening once through `listen`; returns a function that stops it. */
  start: () => () => void;
}

export function createEventStore<T>(
  capacity: number,
  listen: (handler: (entry: T) => void) => Promise<UnlistenFn>,
  /** Replaces an earlier entry with the same key instead of adding a new one. */
  keyOf?: (entry: T) => unknown,
): EventStore<T> {
  let entries: readonly T[] = [];
  const listeners = new Set<() => void>();
  let feed: Promise<UnlistenFn> | null = null;
  const notify = () => {
    for (const l of listeners) l();
  };
  const push = (entry: T) => {
    const key = keyOf?.(entry);
    const next = keyOf ? entries.filter((e) => keyOf(e) !== key) : entries.slice();
    next.push(entry);
    entries = next.length > capacity ? next.slice(next.length - capacity) : next;
    notify();
  };
  return {
    get: () => entries,
    subscribe: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    push,
    clear: () => {
      entries = [];
      notify();
    },
    start: () => {
      feed ??= listen(push);
      const current = feed;
      return () => {
        if (feed === current) feed = null;
        current.then(
          (stop) => {
            stop();
          },
          () => undefined,
        );
      };
    },
  };
}
