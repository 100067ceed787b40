import { useQuery } from "@tanstack/react-query";
import { useMemo } from "react";
import { commands, errorMessage, type GifterView } from "../../ipc";
import { keys } from "../../shared/query";
import { ViewHeader } from "../../shared/ViewHeader";
import { GiftChart, type MinuteSeries } from "./GiftChart";

function safeImage(url: string | null): string | null {
  return url && /^https?:\/\//i.test(url) ? url : null;
}

function Gifter({ g }: { g: GifterView }) {
  return (
    <li className="gifter">
      <span className="log-user" title={`@${g.username}`}>
        {g.nickname || g.username}
      </span>
      <span className="gifter-gifts">
        {g.gifts.map((gift) => {
          const src = safeImage(gift.imageUrl);
          return (
            <span
              key={gift.name}
              className="gifter-gift"
              title={`${gift.name} ×${String(gift.count)}`}
            >
              {src ? <img src={src} alt={gift.name} width={22} height={22} loading="lazy" /> : null}
              <span className="muted">
                {src ? "" : `${gift.name} `}×{gift.count}
              </span>
            </span>
          );
        })}
      </span>
      <span className="muted">
        {g.diamonds} coins · {g.units} gifts
      </span>
    </li>
  );
}

export function StatsView() {
  // Refetched when a batch says the stats changed (at most once a second).
  const stats = useQuery({ queryKey: keys.stats, queryFn: commands.sessionStats });
  const series = useMemo<MinuteSeries | null>(() => {
    const s = stats.data;
    if (!s || s.minuteStartMs === null) return null;
    return { startMs: s.minuteStartMs, gifts: s.giftsPerMinute, coins: s.coinsPerMinute };
  }, [stats.data]);

  return (
    <>
      <ViewHeader title="Stats" subtitle="This stream at a glance." />
      {stats.isError && (
        <p className="error" role="alert">
          {errorMessage(stats.error)}
        </p>
      )}
      {!stats.data ? (
        <p className="muted">Loading…</p>
      ) : (
        <>
          <div className="grid-2">
            <section className="panel" aria-label="Gifts">
              <div className="panel-title">
                <h2>Gifts</h2>
              </div>
              <p className="big" id="stats-diamonds">
                {stats.data.diamonds} coins
              </p>
              <p className="muted" id="stats-units">
                {stats.data.giftUnits} gifts
              </p>
            </section>
            <section className="panel" aria-label="Top gifters">
              <div className="panel-title">
                <h2>Top gifters</h2>
              </div>
              {stats.data.topGifters.length === 0 ? (
                <p className="muted">No gifts yet.</p>
              ) : (
                <ol className="gifters" id="stats-gifters">
                  {stats.data.topGifters.map((g) => (
                    <Gifter key={g.username} g={g} />
                  ))}
                </ol>
              )}
            </section>
          </div>
          <section className="panel" aria-label="Gifts and coins per minute">
            <div className="panel-title">
              <h2>Gifts and coins per minute</h2>
            </div>
            {series ? (
              <GiftChart series={series} />
            ) : (
              <p className="muted">The chart starts with the first gift.</p>
            )}
          </section>
          <div className="grid-2">
            <section className="panel" aria-label="Events">
              <div className="panel-title">
                <h2>Events</h2>
              </div>
              <dl className="facts" id="stats-events">
                {stats.data.events.map((c) => (
                  <FactRow key={c.name} name={c.name} count={c.count} />
                ))}
              </dl>
            </section>
            <section className="panel" aria-label="Actions">
              <div className="panel-title">
                <h2>Actions</h2>
              </div>
              <dl className="facts">
                {stats.data.items.map((c) => (
                  <FactRow key={c.name} name={c.name} count={c.count} />
                ))}
              </dl>
            </section>
          </div>
        </>
      )}
    </>
  );
}

function FactRow({ name, count }: { name: string; count: number }) {
  return (
    <>
      <dt>{name}</dt>
      <dd>{count}</dd>
    </>
  );
}
