import { useQuery } from "@tanstack/react-query";
import { commands, errorMessage, type TraceView as Trace } from "../../ipc";
import { keys } from "../../shared/query";

/** Event → rules (or why none) → queued items → outcome, for one row. */
export function TraceView({ id }: { id: number }) {
  const trace = useQuery({
    queryKey: [...keys.trace, id],
    queryFn: () => commands.logTrace({ id }),
  });
  if (trace.isPending) return <p className="muted trace">Loading the trace…</p>;
  if (trace.isError) {
    return (
      <p className="error trace" role="alert">
        {errorMessage(trace.error)}
      </p>
    );
  }
  if (!trace.data) return <p className="muted trace">This row has left the log.</p>;
  return <TraceBody trace={trace.data} />;
}

export function TraceBody({ trace }: { trace: Trace }) {
  return (
    <section className="trace" id={`trace-${String(trace.row.id)}`} aria-label="Trace">
      <p className="trace-verdict">{trace.verdict}</p>
      {(trace.matches.length > 0 || trace.skips.length > 0) && (
        <div className="trace-step">
          <h4>Rules</h4>
          <ul className="trace-rules">
            {trace.matches.map((m, i) => (
              <li key={`m${String(i)}`} className="trace-match" data-rule={m.rule}>
                <span className="badge good">fired</span> <code>{m.rule}</code>
                {m.runs > 1 ? ` ×${String(m.runs)}` : ""}
              </li>
            ))}
            {trace.skips.map((s, i) => (
              <li key={`s${String(i)}`} className="trace-skip">
                <span className="badge">held back</span> {s.rule ? <code>{s.rule}</code> : null}{" "}
                <span className="muted">{s.reason}</span>
              </li>
            ))}
          </ul>
        </div>
      )}
      {trace.items.length > 0 && (
        <div className="trace-step">
          <h4>Actions</h4>
          <ol className="trace-items">
            {trace.items.map((it) => (
              <li key={it.id} className={`trace-item status-${it.status}`} data-status={it.status}>
                <div>
                  <span className="queue-status">{it.status}</span> #{it.id} · {it.lane} ·{" "}
                  <code>{it.rule}</code>
                </div>
                {it.commands.map((c, i) => (
                  <code key={`c${String(i)}`} className="queue-command">
                    {c}
                  </code>
                ))}
                {it.sounds.map((s, i) => (
                  <span key={`s${String(i)}`} className="muted">
                    ♪ {s}
                  </span>
                ))}
                {it.outputs.map((o, i) => (
                  <span key={`o${String(i)}`} className="trace-output">
                    ↳ {o || "(empty reply)"}
                  </span>
                ))}
                {it.detail && <span className="queue-detail">{it.detail}</span>}
              </li>
            ))}
          </ol>
        </div>
      )}
    </section>
  );
}
