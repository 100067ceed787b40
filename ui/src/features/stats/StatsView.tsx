import { useEffect, useState } from "react";
import { commands, errorMessage, type StatsView as Stats } from "../../ipc";
import { ViewHeader } from "../../shared/ViewHeader";

function Bars({ values }: { values: number[] }) {
  const recent = values.slice(-30);
  const max = Math.max(1, ...recent);
  return (
    <div className="bars" aria-label="Gifts per minute">
      {recent.map((v, i) => (
        <span
          key={i}
          className="bar"
          style={{ height: `${String(Math.round((v / max) * 100))}%` }}
          title={`${String(v)} gifts`}
        />
      ))}
    </div>
  );
}

export function StatsView() {
  const [stats, setStats] = useState<Stats | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    const load = () => {
      commands.sessionStats().then(
        (s) => {
          if (live) {
            setStats(s);
            setError(null);
          }
        },
        (e: unknown) => {
          if (live) setError(errorMessage(e));
        },
      );
    };
    load();
    // The store is the source of truth; a few seconds' delay is fine for totals.
    const timer = setInterval(load, 5000);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, []);

  return (
    <>
      <ViewHeader title="Stats" subtitle="This stream at a glance." />
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {stats === null ? (
        <p className="muted">Loading…</p>
      ) : (
        <>
          <div className="grid-2">
            <section className="panel" aria-label="Gifts">
              <div className="panel-title">
                <h2>Gifts</h2>
              </div>
              <p className="big" id="stats-diamonds">
                {stats.diamonds} coins
              </p>
              <p className="muted" id="stats-units">
                {stats.giftUnits} gifts
              </p>
              <Bars values={stats.giftsPerMinute} />
            </section>
            <section className="panel" aria-label="Top gifters">
              <div className="panel-title">
                <h2>Top gifters</h2>
              </div>
              {stats.topGifters.length === 0 ? (
                <p className="muted">No gifts yet.</p>
              ) : (
                <ol className="gifters">
                  {stats.topGifters.map((g) => (
                    <li key={g.username}>
                      <span className="log-user">{g.nickname || g.username}</span>
                      <span className="muted">
                        {g.diamonds} coins · {g.units} gifts
                      </span>
                    </li>
                  ))}
                </ol>
              )}
            </section>
          </div>
          <div className="grid-2">
            <section className="panel" aria-label="Events">
              <div className="panel-title">
                <h2>Events</h2>
              </div>
              <dl className="facts" id="stats-events">
                {stats.events.map((c) => (
                  <FactRow key={c.name} name={c.name} count={c.count} />
                ))}
              </dl>
            </section>
            <section className="panel" aria-label="Actions">
              <div className="panel-title">
                <h2>Actions</h2>
              </div>
              <dl className="facts">
                {stats.items.map((c) => (
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
