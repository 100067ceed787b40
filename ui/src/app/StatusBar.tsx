import type { ConnectionState, OutputHealth } from "../ipc";
import { useStatus } from "../shared/use-status";

const CONNECTION_LABEL: Record<ConnectionState, string> = {
  disconnected: "Offline",
  connecting: "Connecting…",
  connected: "Live",
  reconnecting: "Reconnecting…",
  ended: "Stream ended",
};

const HEALTH_LABEL: Record<OutputHealth, string> = {
  not_configured: "not set up",
  ok: "ok",
  degraded: "degraded",
  down: "down",
};

function tone(value: ConnectionState | OutputHealth): string {
  switch (value) {
    case "connected":
    case "ok":
      return "good";
    case "connecting":
    case "reconnecting":
    case "degraded":
      return "warn";
    case "down":
    case "ended":
      return "bad";
    default:
      return "idle";
  }
}

export function StatusBar() {
  const { status, bridgeDown } = useStatus();

  if (!status) {
    return (
      <footer className="statusbar" aria-label="Status">
        <span className="status-item">{bridgeDown ? "Backend unavailable" : "Starting…"}</span>
      </footer>
    );
  }
  return (
    <footer className="statusbar" aria-label="Status">
      <span className={`status-item tone-${tone(status.connection)}`} id="status-connection">
        <span className="dot" aria-hidden="true" />
        TikTok: {CONNECTION_LABEL[status.connection]}
        {status.connectionDetail ? (
          <span className="status-detail"> · {status.connectionDetail}</span>
        ) : null}
      </span>
      <span className={`status-item tone-${tone(status.rcon)}`} id="status-rcon">
        <span className="dot" aria-hidden="true" />
        RCON: {HEALTH_LABEL[status.rcon]}
      </span>
      <span
        className={`status-item tone-${tone(status.audio)}`}
        id="status-audio"
        title={status.audioDetail}
      >
        <span className="dot" aria-hidden="true" />
        Audio: {HEALTH_LABEL[status.audio]}
      </span>
      <span className="status-item" id="status-queue">
        Queue: {status.queueDepth}
      </span>
    </footer>
  );
}
