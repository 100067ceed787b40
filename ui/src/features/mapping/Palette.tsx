import { useDraggable } from "@dnd-kit/core";
import { useMemo, useState, type KeyboardEvent } from "react";
import type { CatalogView, GiftView } from "../../ipc";
import { DEFAULT_STREAK_COINS, paletteLabel, triggerKey, type PaletteTrigger } from "./model";

/** A gift picture, or a drawn placeholder when there is none or it does not load. */
export function GiftImage({ gift }: { gift: GiftView }) {
  const [broken, setBroken] = useState(false);
  if (!gift.imageUrl || broken) {
    return (
      <span className="gift-placeholder" aria-hidden="true" data-placeholder="true">
        {gift.name.slice(0, 1).toUpperCase() || "?"}
      </span>
    );
  }
  return (
    <img
      src={gift.imageUrl}
      alt=""
      loading="lazy"
      width={40}
      height={40}
      onError={() => {
        setBroken(true);
      }}
    />
  );
}

interface CountFieldProps {
  id?: string;
  label: string;
  ariaLabel: string;
  /** Lower bound; anything below it (or not a number) becomes it. */
  min: number;
  value: number | null;
  onChange: (v: number) => void;
  /** The field may be emptied (no limit): called then, and `placeholder` says what empty means. */
  onClear?: () => void;
  placeholder?: string;
}

/** A whole-number palette setting (likes, coins), clamped at `min`. */
function CountField({
  id,
  label,
  ariaLabel,
  min,
  value,
  onChange,
  onClear,
  placeholder,
}: CountFieldProps) {
  return (
    <label className="field inline">
      <span>{label}</span>
      <input
        id={id}
        type="number"
        min={min}
        value={value ?? ""}
        placeholder={placeholder}
        aria-label={ariaLabel}
        onChange={(e) => {
          if (onClear && e.target.value === "") onClear();
          else onChange(Math.max(min, Number(e.target.value) || min));
        }}
      />
    </label>
  );
}

interface TileProps {
  trigger: PaletteTrigger;
  gift?: GiftView;
  detail?: string;
  /** Enter on a focused tile: choose an action from a list (the keyboard path). */
  onChoose: (t: PaletteTrigger) => void;
}

export function TriggerTile({ trigger, gift, detail, onChoose }: TileProps) {
  const key = triggerKey(trigger);
  const { attributes, listeners, setNodeRef, isDragging } = useDraggable({
    id: `trigger:${key}`,
    data: { trigger },
  });
  const label = paletteLabel(trigger);
  const onKeyDown = (e: KeyboardEvent<HTMLElement>) => {
    if (e.key === "Enter") {
      e.preventDefault();
      onChoose(trigger);
      return;
    }
    listeners?.onKeyDown?.(e);
  };
  return (
    <li
      ref={setNodeRef}
      className={isDragging ? "tile dragging" : "tile"}
      data-trigger={key}
      {...(trigger.kind === "gift" ? { "data-gift-id": trigger.id } : {})}
      {...attributes}
      {...listeners}
      onKeyDown={onKeyDown}
      aria-label={`${label}${detail ? `, ${detail}` : ""}. Drag onto an action, or press Enter to choose one.`}
      aria-roledescription="trigger"
    >
      {gift ? (
        <GiftImage gift={gift} />
      ) : (
        <span className="gift-placeholder" aria-hidden="true">
          {GLYPHS[trigger.kind] ?? "•"}
        </span>
      )}
      <span className="gift-name">{label}</span>
      {detail && <span className="muted">{detail}</span>}
    </li>
  );
}

const GLYPHS: Partial<Record<PaletteTrigger["kind"], string>> = {
  follow: "＋",
  share: "↗",
  join: "→",
  subscribe: "★",
  likes: "♥",
  chat: "!",
  coins: "¢",
  streakCoins: "Σ",
};

interface PaletteProps {
  catalog: CatalogView | undefined;
  catalogError: string | null;
  onChoose: (t: PaletteTrigger) => void;
}

export function Palette({ catalog, catalogError, onChoose }: PaletteProps) {
  const [filter, setFilter] = useState("");
  const [likes, setLikes] = useState(100);
  const [command, setCommand] = useState("!tnt");
  const [min, setMin] = useState(100);
  const [max, setMax] = useState<number | null>(null);
  const [streakMin, setStreakMin] = useState(DEFAULT_STREAK_COINS);

  const gifts = useMemo(() => {
    const needle = filter.trim().toLowerCase();
    const all = catalog?.gifts ?? [];
    return needle ? all.filter((g) => g.name.toLowerCase().includes(needle)) : all;
  }, [catalog, filter]);

  const cleanCommand = command.trim().split(/\s+/)[0] ?? "";

  return (
    <section className="panel palette" aria-label="Triggers">
      <div className="panel-title">
        <h2>Triggers</h2>
        {catalog && (
          <span className="badge" id="catalog-source">
            {catalog.source === "room" ? "from your room" : "common gifts"}
          </span>
        )}
      </div>
      <p className="muted">Drag a trigger onto an action, or focus it and press Enter.</p>
      <ul className="tile-grid" aria-label="Events">
        {(["follow", "share", "join", "subscribe"] as const).map((kind) => (
          <TriggerTile key={kind} trigger={{ kind }} onChoose={onChoose} />
        ))}
        <TriggerTile trigger={{ kind: "likes", every: likes }} onChoose={onChoose} />
        {cleanCommand && (
          <TriggerTile trigger={{ kind: "chat", command: cleanCommand }} onChoose={onChoose} />
        )}
        <TriggerTile
          trigger={{ kind: "coins", min, max }}
          detail="every gift on its own"
          onChoose={onChoose}
        />
        <TriggerTile
          trigger={{ kind: "streakCoins", min: streakMin }}
          detail="once per streak, all gifts added up"
          onChoose={onChoose}
        />
      </ul>
      <div className="row small-fields">
        <CountField
          label="Likes"
          ariaLabel="Every how many likes"
          min={1}
          value={likes}
          onChange={setLikes}
        />
        <label className="field inline">
          <span>Command</span>
          <input
            type="text"
            value={command}
            aria-label="Chat command"
            onChange={(e) => {
              setCommand(e.target.value);
            }}
          />
        </label>
        <CountField
          label="Each gift from"
          ariaLabel="Each gift worth at least (coins)"
          min={0}
          value={min}
          onChange={setMin}
        />
        <CountField
          label="to"
          ariaLabel="Each gift worth at most (coins; empty: no limit)"
          min={0}
          value={max}
          onChange={setMax}
          onClear={() => {
            setMax(null);
          }}
          placeholder="any"
        />
        <CountField
          id="streak-coins-min"
          label="Streak worth"
          ariaLabel="A whole streak worth at least (coins)"
          min={1}
          value={streakMin}
          onChange={setStreakMin}
        />
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
      {catalogError && (
        <p className="error" role="alert">
          {catalogError}
        </p>
      )}
      {!catalog && !catalogError ? (
        <p className="muted">Loading gifts…</p>
      ) : (
        <ul className="tile-grid gifts" id="gift-grid" aria-label="Gifts">
          {gifts.map((g) => (
            <TriggerTile
              key={g.id}
              trigger={{ kind: "gift", id: g.id, name: g.name, coins: g.diamondCount }}
              gift={g}
              detail={`${g.diamondCount} coins${g.streakable ? " · combo" : ""}`}
              onChoose={onChoose}
            />
          ))}
        </ul>
      )}
    </section>
  );
}
