import { useMutation } from "@tanstack/react-query";
import { memo, useCallback, useEffect, useMemo, useState, useSyncExternalStore } from "react";
import { commands, errorMessage, type LaneOp, type LaneView, type QueueItemView } from "../../ipc";
import { useFeed } from "../../shared/feed";
import { ViewHeader } from "../../shared/ViewHeader";
import { formatCount } from "../../shared/locale";

/** Finished items listed per lane until "show all" (the backend keeps 200). */
const SHOWN_FINISHED = 20;
/**
 * Waiting items listed per lane (the backend sends the first 100); the rest are counted.
 * Every row listed is work for the window when the view opens mid-flood.
 */
const LISTED_WAITING = 25;

const RERUNNABLE = new Set(["failed", "interrupted"]);

function age(now: number, ms: number): string {
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 60) return `${String(s)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${String(m)}m ${String(s % 60)}s`;
  return `${String(Math.floor(m / 60))}h ${String(m % 60)}m`;
}

// One clock for every age on screen: a timer per row would re-render each row on its own.
let clockNow = Date.now();
const clockListeners = new Set<() => void>();
let clockTimer: ReturnType<typeof setInterval> | null = null;

function subscribeClock(listener: () => void): () => void {
  clockListeners.add(listener);
  if (clockTimer === null) {
    clockNow = Date.now();
    clockTimer = setInterval(() => {
      clockNow = Date.now();
      for (const l of clockListeners) l();
    }, 1000);
  }
  return () => {
    clockListeners.delete(listener);
    if (clockListeners.size === 0 && clockTimer !== null) {
      clearInterval(clockTimer);
      clockTimer = null;
    }
  };
}

/** The time, ticking once a second while anything shows an age. */
function useNow(): number {
  return useSyncExternalStore(subscribeClock, () => clockNow);
}

/** An item's age, ticking on its own: the clock re-renders this text, not the whole row. */
function Age({ since }: { since: number }) {
  const now = useNow();
  return (
    <span className="queue-age muted" title="Time since it was queued">
      {age(now, since)}
    </span>
  );
}

// Memoised: a batch changes a few items, and the rest keep their objects (and their rows).
const ItemRow = memo(function ItemRow({
  item,
  onRerun,
}: {
  item: QueueItemView;
  onRerun: (id: number) => void;
}) {
  const what = [...item.commands, ...item.sounds.map((s) => `♪ ${s}`)];
  return (
    <li
      className={`queue-item status-${item.status}${item.dryRun ? " dry-run" : ""}`}
      data-status={item.status}
      data-dry-run={item.dryRun ? "true" : undefined}
      data-id={item.id}
    >
      {/* A dry run is not a failure: its commands had nowhere to go (no RCON set up). */}
      <span className="queue-status">{item.dryRun ? "dry run" : item.status}</span>
      <span className="queue-what">
        <span className="queue-rule">
          #{item.id} · {item.rule}
          {item.user ? ` · @${item.user}` : ""} · <span className="muted">{item.event}</span>
          {item.rerunOf !== null ? ` · re-run of #${String(item.rerunOf)}` : ""}
        </span>
        <code className="queue-command">{what.join(" ; ") || "(nothing to run)"}</code>
        {item.detail && <span className="queue-detail">{item.detail}</span>}
      </span>
      <Age since={item.queuedMs} />
      {RERUNNABLE.has(item.status) ? (
        <button
          type="button"
          className="secondary"
          onClick={() => {
            onRerun(item.id);
          }}
        >
          Re-run
        </button>
      ) : (
        <span />
      )}
    </li>
  );
});

function Lane({
  lane,
  items,
  onOp,
  onRerun,
}: {
  lane: LaneView;
  items: QueueItemView[];
  onOp: (op: LaneOp) => void;
  onRerun: (id: number) => void;
}) {
  const running = items.filter((i) => i.status === "running");
  const waiting = items.filter((i) => i.status === "queued").slice(0, LISTED_WAITING);
  const [allFinished, setAllFinished] = useState(false);
  const kept = items.filter((i) => i.status !== "running" && i.status !== "queued").reverse();
  const finished = allFinished ? kept : kept.slice(0, SHOWN_FINISHED);
  // The first waiting items are listed; the rest (sent or only counted by the backend) are
  // counted, so the rows and the count always add up to the lane's counter.
  const moreWaiting = Math.max(0, lane.waiting - waiting.length);
  return (
    <section
      className="panel lane"
      data-lane={lane.name}
      data-waiting={lane.waiting}
      data-running={lane.running}
      data-more-waiting={moreWaiting}
      aria-label={`Lane ${lane.name}`}
    >
      <div className="panel-title lane-name">
        <h2>{lane.name}</h2>
        {lane.paused && <span className="badge">paused</span>}
        <span className="muted lane-counters">
          <span className="lane-waiting">{lane.waiting} waiting</span> ·{" "}
          <span className="lane-running">{lane.running} running</span> · {lane.done} done ·{" "}
          {lane.failed} failed · {lane.dropped} dropped · {lane.skipped} skipped
        </span>
      </div>
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
      <ol className="queue-items lane-items">
        {[...running, ...waiting].map((i) => (
          <ItemRow key={i.id} item={i} onRerun={onRerun} />
        ))}
      </ol>
      {running.length === 0 && waiting.length === 0 && moreWaiting === 0 && (
        <p className="muted lane-empty">Nothing waiting or running.</p>
      )}
      {moreWaiting > 0 && (
        <p className="muted lane-more">…and {formatCount(moreWaiting)} more waiting</p>
      )}
      {finished.length > 0 && (
        <details className="lane-finished" open>
          <summary>Recent ({kept.length})</summary>
          <ol className="queue-items">
            {finished.map((i) => (
              <ItemRow key={i.id} item={i} onRerun={onRerun} />
            ))}
          </ol>
          {kept.length > finished.length && (
            <button
              type="button"
              className="secondary lane-show-all"
              onClick={() => {
                setAllFinished(true);
              }}
            >
              Show all {kept.length}
            </button>
          )}
        </details>
      )}
    </section>
  );
}

export function QueueView() {
  const lanes = useFeed((s) => s.lanes);
  const itemMap = useFeed((s) => s.items);
  const missed = useFeed((s) => s.missedUpdates);
  const seq = useFeed((s) => s.seq);
  const [error, setError] = useState<string | null>(null);
  const byLane = useMemo(() => {
    const m = new Map<string, QueueItemView[]>();
    const sorted = [...itemMap.values()].sort((a, b) => a.id - b.id);
    for (const i of sorted) {
      const list = m.get(i.lane) ?? [];
      list.push(i);
      m.set(i.lane, list);
    }
    return m;
  }, [itemMap]);

  // Replies carry lane lists too, but the feed is the one source of truth for what is shown.
  const action = useMutation({
    mutationFn: (run: () => Promise<unknown>) => run(),
    onMutate: () => {
      setError(null);
    },
    onError: (e) => {
      setError(errorMessage(e));
    },
  });
  // Asking for the lanes starts the trigger engine if it is not running yet; its lanes then
  // arrive with the feed.
  useEffect(() => {
    commands.queueLanes().catch((e: unknown) => {
      setError(errorMessage(e));
    });
  }, []);
  const { mutate } = action;
  const rerun = useCallback(
    (id: number) => {
      mutate(() => commands.queueRerun({ id }));
    },
    [mutate],
  );

  return (
    <>
      <ViewHeader title="Queue" subtitle="Every triggered action, in order, paced per lane." />
      <div className="row">
        <button
          id="panic-button"
          type="button"
          className="danger"
          onClick={() => {
            action.mutate(commands.queuePanic);
          }}
        >
          Panic: clear and pause everything
        </button>
        <button
          type="button"
          className="secondary"
          onClick={() => {
            action.mutate(commands.queueResumeAll);
          }}
        >
          Resume all
        </button>
        {missed > 0 && (
          <span className="muted" title="The queue was rebuilt from the engine afterwards">
            Resynced after {missed} missed updates
          </span>
        )}
      </div>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {seq === null ? (
        <p className="muted">Loading…</p>
      ) : lanes.length === 0 ? (
        <p className="muted">No lanes yet: they start with the trigger engine.</p>
      ) : (
        <div id="queue-lanes" className="lanes" aria-label="Lanes" role="region">
          {lanes.map((lane) => (
            <Lane
              key={lane.name}
              lane={lane}
              items={byLane.get(lane.name) ?? []}
              onRerun={rerun}
              onOp={(op) => {
                action.mutate(() => commands.laneControl({ lane: lane.name, op }));
              }}
            />
          ))}
        </div>
      )}
    </>
  );
}
