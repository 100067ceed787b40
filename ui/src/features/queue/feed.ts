// The Queue view's item list: the latest state of recent items, fed by `queue-item` events and
// kept outside React so nothing is missed while another view is on screen.
import { events, type QueueItemView } from "../../ipc";

export const QUEUE_CAPACITY = 300;

let items: readonly QueueItemView[] = [];
const listeners = new Set<() => void>();
let feed: Promise<() => void> | null = null;

export function queueItems(): readonly QueueItemView[] {
  return items;
}

export function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Replaces an item's previous state (same id) or adds it, newest last. */
export function applyUpdate(update: QueueItemView): void {
  const rest = items.filter((i) => i.id !== update.id);
  rest.push(update);
  items = rest.length > QUEUE_CAPACITY ? rest.slice(rest.length - QUEUE_CAPACITY) : rest;
  for (const l of listeners) l();
}

export function clearItems(): void {
  items = [];
  for (const l of listeners) l();
}

/** Starts listening once; returns a function that stops it. */
export function startQueueFeed(): () => void {
  feed ??= events.queueItem(applyUpdate);
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
}
