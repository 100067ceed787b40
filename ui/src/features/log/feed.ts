// The live log's store: a bounded ring of entries fed by `log` events. It lives outside React
// so entries keep arriving while the Log view is not on screen.
import { events, type LogEntry } from "../../ipc";

export const LOG_CAPACITY = 500;

let entries: readonly LogEntry[] = [];
const listeners = new Set<() => void>();
let stopFeed: Promise<() => void> | null = null;

export function logEntries(): readonly LogEntry[] {
  return entries;
}

export function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function appendEntry(entry: LogEntry): void {
  const next = entries.length >= LOG_CAPACITY ? entries.slice(1) : entries.slice();
  next.push(entry);
  entries = next;
  for (const l of listeners) l();
}

export function clearLog(): void {
  entries = [];
  for (const l of listeners) l();
}

/** Starts listening to the backend once; returns a function that stops it. */
export function startLogFeed(): () => void {
  stopFeed ??= events.log(appendEntry);
  const current = stopFeed;
  return () => {
    if (stopFeed === current) stopFeed = null;
    current.then(
      (stop) => {
        stop();
      },
      () => undefined,
    );
  };
}
