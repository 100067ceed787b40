import { useVirtualizer } from "@tanstack/react-virtual";
import { useEffect, useRef, useState } from "react";
import type { LogFilters } from "./filters";
import { LogRowView } from "./LogRowView";
import { useLogCount, useLogRows, useLogTail } from "./rows";
import { TraceView } from "./TraceView";

const ROW_HEIGHT = 34;
const OVERSCAN = 12;
/** Within this many pixels of the end counts as "at the bottom". */
const BOTTOM_SLACK = 48;

/**
 * The log as a virtual list: only the rows on screen are in the DOM and only their pages are
 * fetched, so 100,000 rows cost what 30 do. It follows new rows until the streamer scrolls
 * up; then a pill counts what came in since and jumps back.
 */
export function VirtualLog({ filters }: { filters: LogFilters }) {
  const parentRef = useRef<HTMLDivElement>(null);
  const [follow, setFollow] = useState(true);
  const [pausedAt, setPausedAt] = useState<number | null>(null);
  const [expanded, setExpanded] = useState<ReadonlySet<number>>(new Set());
  const userScroll = useRef(0);

  // Following the end: one request per batch brings the count and the rows on screen.
  // Scrolled up: the count (with the "N new" figure) and the pages on screen.
  const viewport = parentRef.current?.clientHeight ?? 0;
  const tailSize = Math.max(60, Math.ceil((viewport / ROW_HEIGHT + 2 * OVERSCAN) / 20) * 20);
  const tail = useLogTail(filters, tailSize, follow);
  const count = useLogCount(filters, pausedAt, !follow);
  // The other source's last answer bridges the moment the streamer switches between them.
  const counted = follow ? (tail.data ?? count.data) : (count.data ?? tail.data);
  const total = counted?.total ?? 0;
  const lastId = counted?.lastId ?? 0;

  // The virtualizer's functions change under it; this component re-renders on every scroll
  // anyway, so skipping the compiler's memoizing here is what we want.
  // eslint-disable-next-line react-hooks/incompatible-library
  const virtualizer = useVirtualizer({
    count: total,
    getScrollElement: () => parentRef.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: OVERSCAN,
  });
  const items = virtualizer.getVirtualItems();
  const first = items[0]?.index ?? 0;
  const last = items[items.length - 1]?.index ?? -1;
  const rowAt = useLogRows(filters, first, last, follow ? tail.data : undefined);

  useEffect(() => {
    if (follow && total > 0) virtualizer.scrollToIndex(total - 1, { align: "end" });
  }, [follow, total, virtualizer]);

  // Only the streamer's own scrolling pauses the follow; the list's own jumps never do.
  const markUser = () => {
    userScroll.current = Date.now();
  };
  const onScroll = () => {
    const el = parentRef.current;
    if (!el) return;
    const atBottom = el.scrollHeight - el.scrollTop - el.clientHeight <= BOTTOM_SLACK;
    if (atBottom) {
      if (!follow) {
        setFollow(true);
        setPausedAt(null);
      }
    } else if (follow && Date.now() - userScroll.current < 500) {
      setFollow(false);
      setPausedAt(lastId);
    }
  };

  const toggle = (id: number) => {
    setExpanded((cur) => {
      const next = new Set(cur);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
  };

  const newer = follow ? 0 : (count.data?.newer ?? 0);
  return (
    <div className="log-frame">
      <div
        ref={parentRef}
        className="log-scroll"
        id="log-scroll"
        onScroll={onScroll}
        onWheel={markUser}
        onPointerDown={markUser}
        onTouchStart={markUser}
        onKeyDown={markUser}
        tabIndex={0}
      >
        {total === 0 ? (
          <p className="muted log-empty">
            {(follow ? tail : count).isPending
              ? "Loading…"
              : "No events yet. Connect to a stream to see them here."}
          </p>
        ) : (
          <div
            id="log-list"
            role="list"
            aria-label="Events"
            aria-rowcount={total}
            className="log-list"
            style={{ height: `${String(virtualizer.getTotalSize())}px` }}
          >
            {items.map((v) => {
              const row = rowAt(v.index);
              return (
                <div
                  key={v.key}
                  role="listitem"
                  ref={virtualizer.measureElement}
                  data-index={v.index}
                  data-kind={row?.kind}
                  data-id={row?.id}
                  className={row ? `log-entry kind-${row.kind}` : "log-entry loading"}
                  style={{ transform: `translateY(${String(v.start)}px)` }}
                >
                  {row ? (
                    <>
                      <LogRowView
                        row={row}
                        expanded={expanded.has(row.id)}
                        onToggle={() => {
                          toggle(row.id);
                        }}
                      />
                      {expanded.has(row.id) && <TraceView id={row.id} />}
                    </>
                  ) : (
                    <span className="muted">…</span>
                  )}
                </div>
              );
            })}
          </div>
        )}
      </div>
      {!follow && (
        <button
          type="button"
          id="log-new-pill"
          className="pill"
          onClick={() => {
            setFollow(true);
            setPausedAt(null);
          }}
        >
          {newer > 0 ? `${String(newer)} new ↓` : "Back to live ↓"}
        </button>
      )}
    </div>
  );
}
