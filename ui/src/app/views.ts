import type { ComponentType } from "react";
import { ConnectView } from "../features/connect/ConnectView";
import { LogView } from "../features/log";
import { MappingView } from "../features/mapping/MappingView";
import { QueueView } from "../features/queue";
import { SettingsView } from "../features/settings/SettingsView";
import { StatsView } from "../features/stats";

export type ViewId = "connect" | "mapping" | "queue" | "log" | "stats" | "settings";

export interface ViewDef {
  id: ViewId;
  label: string;
  hint: string;
  glyph: string;
  component: ComponentType;
}

/** The navigation order. The shell is the one place that knows every feature. */
export const VIEWS: readonly ViewDef[] = [
  { id: "connect", label: "Connect", hint: "Go live", glyph: "◉", component: ConnectView },
  { id: "mapping", label: "Mapping", hint: "Gifts → actions", glyph: "⇄", component: MappingView },
  { id: "queue", label: "Queue", hint: "What runs next", glyph: "☰", component: QueueView },
  { id: "log", label: "Log", hint: "Live events", glyph: "≡", component: LogView },
  { id: "stats", label: "Stats", hint: "This stream", glyph: "▥", component: StatsView },
  {
    id: "settings",
    label: "Settings",
    hint: "RCON, sound, app",
    glyph: "⚙",
    component: SettingsView,
  },
];
