export { StatsView } from "./StatsView";
