import { useEffect, useState } from "react";
import { commands, events, type StatusSnapshot } from "../ipc";

export type StatusView = { status: StatusSnapshot | null; bridgeDown: boolean };

/** The backend's status snapshot, kept current by `status` events. */
export function useStatus(): StatusView {
  const [status, setStatus] = useState<StatusSnapshot | null>(null);
  const [bridgeDown, setBridgeDown] = useState(false);
  useEffect(() => {
    let live = true;
    commands.status().then(
      (s) => {
        if (live) setStatus(s);
      },
      () => {
        if (live) setBridgeDown(true);
      },
    );
    const unlisten = events.status((s) => {
      if (live) setStatus(s);
    });
    return () => {
      live = false;
      // Teardown only: if subscribing failed there is nothing to undo.
      unlisten.then(
        (stop) => {
          stop();
        },
        () => undefined,
      );
    };
  }, []);
  return { status, bridgeDown };
}
