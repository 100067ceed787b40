import { useFeed } from "./feed";
import type { StatusSnapshot } from "../ipc";

export type StatusView = { status: StatusSnapshot | null; bridgeDown: boolean };

/** The backend's status snapshot, kept current by the feed. */
export function useStatus(): StatusView {
  const status = useFeed((s) => s.status);
  const bridgeDown = useFeed((s) => s.bridgeDown);
  return { status, bridgeDown };
}
