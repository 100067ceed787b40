import { memo } from "react";
import type { LogRow } from "../../ipc";
import { clock, ICONS, safeImage } from "./format";

interface Props {
  row: LogRow;
  expanded: boolean;
  onToggle: (id: number) => void;
}

/**
 * One line of the log. Every viewer-supplied string is rendered as text. A row with the same
 * id is the same event: only its rule count can change (the engine reports after the row is
 * shown), so a fresh copy from the next page does not render it again.
 */
export const LogRowView = memo(LogRowLine, (a: Props, b: Props) => {
  return (
    a.row.id === b.row.id &&
    a.row.fired === b.row.fired &&
    a.expanded === b.expanded &&
    a.onToggle === b.onToggle
  );
});

function LogRowLine({ row, expanded, onToggle }: Props) {
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
      onClick={() => {
        onToggle(row.id);
      }}
    >
      {body}
    </button>
  );
}
