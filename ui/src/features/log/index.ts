export { LogView } from "./LogView";
export { startLogFeed } from "./feed";
