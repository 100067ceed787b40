// The Queue view's items: the latest state of each recent item, fed by `queue-item` events.
import { events, type QueueItemView } from "../../ipc";
import { createEventStore } from "../../shared/event-store";

export const QUEUE_CAPACITY = 300;

const store = createEventStore<QueueItemView>(QUEUE_CAPACITY, events.queueItem, (i) => i.id);

export const queueItems = store.get;
export const subscribe = store.subscribe;
export const applyUpdate = store.push;
export const clearItems = store.clear;
export const startQueueFeed = store.start;
