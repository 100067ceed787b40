import { useEffect, useMemo, useState } from "react";
import { commands, errorMessage, type CatalogView } from "../../ipc";
import { Coming } from "../../shared/Coming";
import { ViewHeader } from "../../shared/ViewHeader";

function GiftCatalog() {
  const [catalog, setCatalog] = useState<CatalogView | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [filter, setFilter] = useState("");

  useEffect(() => {
    let live = true;
    commands.giftCatalog().then(
      (c) => {
        if (live) setCatalog(c);
      },
      (e: unknown) => {
        if (live) setError(errorMessage(e));
      },
    );
    return () => {
      live = false;
    };
  }, []);

  const shown = useMemo(() => {
    const needle = filter.trim().toLowerCase();
    const gifts = catalog?.gifts ?? [];
    return needle ? gifts.filter((g) => g.name.toLowerCase().includes(needle)) : gifts;
  }, [catalog, filter]);

  return (
    <section className="panel" aria-label="Gift catalogue">
      <div className="panel-title">
        <h2>Gift catalogue</h2>
        {catalog && (
          <span className="badge" id="catalog-source">
            {catalog.source === "room" ? "from your room" : "common gifts"}
          </span>
        )}
      </div>
      <input
        type="search"
        placeholder="Find a gift"
        aria-label="Find a gift"
        value={filter}
        onChange={(e) => {
          setFilter(e.target.value);
        }}
      />
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {catalog === null && !error ? (
        <p className="muted">Loading…</p>
      ) : (
        <ul className="gift-grid" id="gift-grid">
          {shown.map((g) => (
            <li key={g.id} className="gift" data-gift-id={g.id} title={`id ${String(g.id)}`}>
              {g.imageUrl ? (
                <img src={g.imageUrl} alt="" loading="lazy" width={40} height={40} />
              ) : (
                <span className="gift-placeholder" aria-hidden="true">
                  🎁
                </span>
              )}
              <span className="gift-name">{g.name}</span>
              <span className="muted">
                {g.diamondCount} coins{g.streakable ? " · combo" : ""}
              </span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

export function MappingView() {
  return (
    <>
      <ViewHeader title="Mapping" subtitle="Drag gifts onto actions: commands and sounds." />
      <div className="grid-2">
        <GiftCatalog />
        <Coming title="Actions">
          Drag a gift onto a Minecraft command or a sound, with live previews of what each gift will
          run. Until then, rules live in profile.json in the data folder.
        </Coming>
      </div>
    </>
  );
}
