import { useQuery } from "@tanstack/react-query";
import { useEffect, useRef, useState, type SyntheticEvent } from "react";
import { commands, errorMessage, type RoomStats } from "../../ipc";
import { useStatus } from "../../shared/use-status";
import { ViewHeader } from "../../shared/ViewHeader";
import { DemoPanel } from "./DemoPanel";
import { SimulatePanel } from "./SimulatePanel";
import { formatCount } from "../../shared/locale";

const STATE_TEXT = {
  disconnected: "Not connected",
  connecting: "Connecting…",
  connected: "Live",
  reconnecting: "Reconnecting…",
  ended: "The stream ended",
} as const;

/** The last @user and the sign server from Settings, filled in once they arrive (unless the
 * streamer already typed something). */
function useRemembered(setTarget: (v: string) => void, setSignUrl: (v: string) => void) {
  const settings = useQuery({ queryKey: ["settings"], queryFn: commands.settingsGet });
  const done = useRef(false);
  useEffect(() => {
    const s = settings.data;
    if (!s || done.current) return;
    done.current = true;
    if (s.lastTarget) setTarget(s.lastTarget);
    if (s.signUrl) setSignUrl(s.signUrl);
  }, [settings.data, setTarget, setSignUrl]);
}

const count = (n: number | null) => (n === null ? "—" : formatCount(n));

/** The room as its events describe it; the figures update with each feed batch. */
function RoomStatsView({ room }: { room: RoomStats }) {
  return (
    <dl className="facts" id="room-stats" aria-label="Room">
      {room.title && (
        <>
          <dt>Title</dt>
          <dd id="room-title">{room.title}</dd>
        </>
      )}
      <dt>Viewers</dt>
      <dd id="room-viewers" data-value={room.viewers ?? ""}>
        {count(room.viewers)}
      </dd>
      <dt>Likes</dt>
      <dd id="room-likes" data-value={room.likes ?? ""}>
        {count(room.likes)}
      </dd>
    </dl>
  );
}

export function ConnectView() {
  const { status } = useStatus();
  const [target, setTarget] = useState("");
  const [signUrl, setSignUrl] = useState("");
  const [apiKey, setApiKey] = useState("");
  const [webUrl, setWebUrl] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  useRemembered(
    (v) => {
      setTarget((t) => t || v);
    },
    (v) => {
      setSignUrl((u) => u || v);
    },
  );

  const state = status?.connection ?? "disconnected";
  const active = state === "connecting" || state === "connected" || state === "reconnecting";

  async function onConnect(e: SyntheticEvent) {
    e.preventDefault();
    setError(null);
    setBusy(true);
    try {
      const request = {
        target,
        ...(signUrl.trim() ? { signUrl: signUrl.trim() } : {}),
        ...(apiKey.trim() ? { apiKey: apiKey.trim() } : {}),
        ...(webUrl.trim() ? { webUrl: webUrl.trim() } : {}),
      };
      await commands.liveConnect({ request });
    } catch (err: unknown) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  }

  async function onDisconnect() {
    setError(null);
    try {
      await commands.liveDisconnect();
    } catch (err: unknown) {
      setError(errorMessage(err));
    }
  }

  return (
    <>
      <ViewHeader title="Connect" subtitle="Join a TikTok LIVE stream and start triggering." />
      <form className="panel" noValidate onSubmit={(e) => void onConnect(e)} aria-label="Connect">
        <label className="field">
          <span>TikTok @username, live link or room id</span>
          <input
            id="connect-target"
            type="text"
            placeholder="@yourname"
            autoComplete="off"
            spellCheck={false}
            value={target}
            onChange={(e) => {
              setTarget(e.target.value);
            }}
          />
        </label>
        <details className="advanced">
          <summary id="connect-advanced">Advanced: sign server and test servers</summary>
          <label className="field">
            <span>Sign server URL (Euler-compatible; empty = default)</span>
            <input
              id="connect-sign-url"
              type="url"
              value={signUrl}
              onChange={(e) => {
                setSignUrl(e.target.value);
              }}
            />
          </label>
          <label className="field">
            <span>Sign server API key</span>
            <input
              id="connect-api-key"
              type="password"
              autoComplete="off"
              value={apiKey}
              onChange={(e) => {
                setApiKey(e.target.value);
              }}
            />
          </label>
          <label className="field">
            <span>TikTok web URL (empty = tiktok.com; a local simulator for testing)</span>
            <input
              id="connect-web-url"
              type="url"
              value={webUrl}
              onChange={(e) => {
                setWebUrl(e.target.value);
              }}
            />
          </label>
        </details>
        <div className="row">
          <button
            id="connect-button"
            type="submit"
            className="primary"
            disabled={busy || target.trim() === ""}
          >
            {active ? "Reconnect" : "Connect"}
          </button>
          <button
            id="disconnect-button"
            type="button"
            className="secondary"
            disabled={!active}
            onClick={() => void onDisconnect()}
          >
            Disconnect
          </button>
        </div>
        {error && (
          <p className="error" role="alert" id="connect-error">
            {error}
          </p>
        )}
      </form>
      <section className="panel" aria-label="Connection">
        <div className="panel-title">
          <h2>Connection</h2>
        </div>
        <p id="connect-state" data-state={state}>
          {STATE_TEXT[state]}
          {status?.connectionDetail ? ` · ${status.connectionDetail}` : ""}
        </p>
        {status && state !== "disconnected" && state !== "connecting" && (
          <RoomStatsView room={status.room} />
        )}
      </section>
      <div className="grid-2">
        <DemoPanel live={state === "connected"} />
        <SimulatePanel />
      </div>
    </>
  );
}
