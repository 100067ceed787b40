export { QueueView } from "./QueueView";
export { startQueueFeed } from "./feed";
