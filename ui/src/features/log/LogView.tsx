import { useMemo, useState, useSyncExternalStore } from "react";
import { ViewHeader } from "../../shared/ViewHeader";
import { clearLog, logEntries, subscribe } from "./feed";

const FILTERS = ["all", "gift", "chat", "follow", "share", "like", "join", "stream"] as const;
type Filter = (typeof FILTERS)[number];

export function LogView() {
  const entries = useSyncExternalStore(subscribe, logEntries);
  const [filter, setFilter] = useState<Filter>("all");
  const shown = useMemo(() => {
    const list = filter === "all" ? entries : entries.filter((e) => e.kind === filter);
    return list.slice().reverse();
  }, [entries, filter]);

  return (
    <>
      <ViewHeader
        title="Log"
        subtitle="Gifts, follows, likes, shares, joins and chat as they arrive."
      />
      <div className="row" role="toolbar" aria-label="Filter">
        {FILTERS.map((f) => (
          <button
            key={f}
            type="button"
            className={f === filter ? "chip active" : "chip"}
            aria-pressed={f === filter}
            onClick={() => {
              setFilter(f);
            }}
          >
            {f}
          </button>
        ))}
        <button type="button" className="secondary" onClick={clearLog}>
          Clear
        </button>
      </div>
      <section className="panel log" aria-label="Live event log">
        {shown.length === 0 ? (
          <p className="muted">No events yet. Connect to a stream to see them here.</p>
        ) : (
          <ol id="log-list">
            {shown.map((e) => (
              <li key={e.seq} className={`log-entry kind-${e.kind}`} data-kind={e.kind}>
                <span className="log-kind">{e.kind}</span>
                <span className="log-user" title={e.handle ? `@${e.handle}` : undefined}>
                  {e.user ?? ""}
                </span>
                <span className="log-text">{e.text}</span>
              </li>
            ))}
          </ol>
        )}
      </section>
    </>
  );
}
