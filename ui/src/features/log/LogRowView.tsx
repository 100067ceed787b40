import type { LogRow } from "../../ipc";
import { clock, ICONS, safeImage } from "./format";

/** One line of the log. Every viewer-supplied string is rendered as text. */
export function LogRowView({
  row,
  expanded,
  onToggle,
}: {
  row: LogRow;
  expanded: boolean;
  onToggle: () => void;
}) {
  const image = safeImage(row.gift?.imageUrl ?? null);
  const body = (
    <>
      <time className="log-time" dateTime={new Date(row.atMs).toISOString()}>
        {clock(row.atMs)}
      </time>
      <span className="log-icon" title={row.kind} aria-label={row.kind}>
        {ICONS[row.kind] ?? "•"}
      </span>
      <span className="log-user" title={row.handle ? `@${row.handle}` : undefined}>
        {row.user ?? ""}
      </span>
      {row.gift ? (
        <span className="log-gift">
          {image ? <img src={image} alt="" width={20} height={20} loading="lazy" /> : null}
          <span className="log-gift-name">{row.gift.name}</span>
          <span className="log-gift-count">×{row.gift.count}</span>
          <span className="muted">{row.gift.coins} coins</span>
        </span>
      ) : (
        <span className="log-text">{row.comment ?? row.text}</span>
      )}
      {row.history && <span className="badge">history</span>}
      {row.fired > 0 && <span className="badge good">{row.fired} rule(s)</span>}
    </>
  );
  if (!row.traced) return <div className="log-line">{body}</div>;
  return (
    <button
      type="button"
      className="log-line log-toggle"
      aria-expanded={expanded}
      onClick={onToggle}
    >
      {body}
    </button>
  );
}
