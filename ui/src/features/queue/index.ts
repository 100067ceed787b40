export { QueueView } from "./QueueView";
