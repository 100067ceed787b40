// The live log: the newest entries fed by `log` events.
import { events, type LogEntry } from "../../ipc";
import { createEventStore } from "../../shared/event-store";

export const LOG_CAPACITY = 500;

const store = createEventStore<LogEntry>(LOG_CAPACITY, events.log);

export const logEntries = store.get;
export const subscribe = store.subscribe;
export const appendEntry = store.push;
export const clearLog = store.clear;
export const startLogFeed = store.start;
