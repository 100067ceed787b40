import { useEffect, useMemo, useState, useSyncExternalStore } from "react";
import { commands, errorMessage, type LaneOp, type LaneView } from "../../ipc";
import { ViewHeader } from "../../shared/ViewHeader";
import { queueItems, subscribe } from "./feed";

function LaneRow({ lane, onOp }: { lane: LaneView; onOp: (op: LaneOp) => void }) {
  return (
    <li className="lane" data-lane={lane.name}>
      <div className="lane-name">
        <strong>{lane.name}</strong>
        {lane.paused && <span className="badge">paused</span>}
      </div>
      <span className="muted">
        {lane.waiting} waiting · {lane.running} running · {lane.done} done · {lane.failed} failed ·{" "}
        {lane.dropped} dropped
      </span>
      <div className="row">
        {lane.paused ? (
          <button
            type="button"
            className="secondary"
            onClick={() => {
              onOp("resume");
            }}
          >
            Resume
          </button>
        ) : (
          <button
            type="button"
            className="secondary"
            onClick={() => {
              onOp("pause");
            }}
          >
            Pause
          </button>
        )}
        <button
          type="button"
          className="secondary"
          onClick={() => {
            onOp("skip");
          }}
        >
          Skip current
        </button>
        <button
          type="button"
          className="secondary"
          onClick={() => {
            onOp("clear");
          }}
        >
          Clear
        </button>
      </div>
    </li>
  );
}

export function QueueView() {
  const [lanes, setLanes] = useState<LaneView[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const items = useSyncExternalStore(subscribe, queueItems);
  const newest = useMemo(() => items.slice().reverse(), [items]);

  useEffect(() => {
    let live = true;
    commands.queueLanes().then(
      (l) => {
        if (live) setLanes(l);
      },
      (e: unknown) => {
        if (live) setError(errorMessage(e));
      },
    );
    return () => {
      live = false;
    };
    // Lane counters change with every item: refresh them when the item list changes.
  }, [items]);

  async function act(run: () => Promise<LaneView[]>) {
    setError(null);
    try {
      setLanes(await run());
    } catch (e: unknown) {
      setError(errorMessage(e));
    }
  }

  return (
    <>
      <ViewHeader title="Queue" subtitle="Every triggered action, in order, paced per lane." />
      <div className="row">
        <button
          id="panic-button"
          type="button"
          className="danger"
          onClick={() => void act(commands.queuePanic)}
        >
          Panic: clear and pause everything
        </button>
        <button
          type="button"
          className="secondary"
          onClick={() => void act(commands.queueResumeAll)}
        >
          Resume all
        </button>
      </div>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <section className="panel" aria-label="Lanes">
        <div className="panel-title">
          <h2>Lanes</h2>
        </div>
        {lanes === null ? (
          <p className="muted">Loading…</p>
        ) : (
          <ul className="lanes">
            {lanes.map((lane) => (
              <LaneRow
                key={lane.name}
                lane={lane}
                onOp={(op) => void act(() => commands.laneControl({ lane: lane.name, op }))}
              />
            ))}
          </ul>
        )}
      </section>
      <section className="panel" aria-label="Recent actions">
        <div className="panel-title">
          <h2>Recent actions</h2>
        </div>
        {newest.length === 0 ? (
          <p className="muted">Nothing queued yet.</p>
        ) : (
          <ol id="queue-items" className="queue-items">
            {newest.map((i) => (
              <li key={i.id} className={`queue-item status-${i.status}`} data-status={i.status}>
                <span className="queue-status">{i.status}</span>
                <span className="queue-what">
                  <span className="queue-rule">
                    {i.lane} · {i.rule}
                    {i.user ? ` · @${i.user}` : ""}
                  </span>
                  <code className="queue-command">{i.commands.join(" ; ") || "(sound)"}</code>
                  {i.detail && <span className="queue-detail">{i.detail}</span>}
                </span>
              </li>
            ))}
          </ol>
        )}
      </section>
    </>
  );
}
