// The profile as the Mapping view edits it. Only the parts the editor touches are typed; every
// object keeps the fields it does not know (`[key: string]: unknown`), so a profile written by
// a newer engine survives a save from this editor unchanged.

export type Trigger =
  | { type: "gift"; id?: number; name?: string; [key: string]: unknown }
  | {
      type: "giftCoins";
      // Each unit's value (a Rose is 1 coin however many are sent)...
      unitCoinsAtLeast?: number;
      unitCoinsAtMost?: number;
      // ...or the whole streak's value.
      streakCoinsAtLeast?: number;
      [key: string]: unknown;
    }
  | { type: "follow" | "share" | "join" | "subscribe" | "streamStart" | "streamEnd" }
  | { type: "likes"; every?: number; perUser?: number; [key: string]: unknown }
  | { type: "chatCommand"; command: string }
  | { type: "viewerMilestone"; every: number }
  | { type: string; [key: string]: unknown };

export type StreakMode = "perUnit" | "perStreak" | "live";

export interface Filters {
  followersOnly?: boolean;
  minFollowers?: number;
  moderatorsOnly?: boolean;
  subscribersOnly?: boolean;
  userCooldownMs?: number;
  globalCooldownMs?: number;
  oncePerUserPerStream?: boolean;
  [key: string]: unknown;
}

export interface Rule {
  id: string;
  name?: string;
  enabled?: boolean;
  trigger: Trigger;
  filters?: Filters;
  actions: string[];
  streakMode?: StreakMode;
  maxPerStreak?: number;
  [key: string]: unknown;
}

export type Step =
  | { type: "command"; template: string }
  | { type: "sound"; file: string; volume?: number }
  | { type: "delay"; ms: number }
  | { type: string; [key: string]: unknown };

export interface Action {
  id: string;
  name?: string;
  lane?: string;
  steps: Step[];
  [key: string]: unknown;
}

export interface Lane {
  name: string;
  [key: string]: unknown;
}

export interface Profile {
  schemaVersion: number;
  lanes?: Lane[];
  actions: Action[];
  rules: Rule[];
  [key: string]: unknown;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Reads the backend's JSON; throws with a readable message when it is not a profile. */
export function parseProfile(json: string): Profile {
  const value: unknown = JSON.parse(json);
  if (!isObject(value) || typeof value.schemaVersion !== "number") {
    throw new Error("This is not a LiveTrigger profile.");
  }
  const actions = Array.isArray(value.actions) ? (value.actions as Action[]) : [];
  const rules = Array.isArray(value.rules) ? (value.rules as Rule[]) : [];
  return { ...value, schemaVersion: value.schemaVersion, actions, rules };
}

export function toJson(p: Profile): string {
  return JSON.stringify(p, null, 2);
}

/** A "whole streak worth N+ coins" trigger: it fires once per streak, so its streak mode and
 * per-streak cap do not apply. */
export function isStreakValue(t: Trigger): boolean {
  return t.type === "giftCoins" && typeof t.streakCoinsAtLeast === "number";
}

/** What a palette tile stands for. */
export type PaletteTrigger =
  | { kind: "gift"; id: number; name: string; coins: number }
  | { kind: "follow" | "share" | "join" | "subscribe" }
  | { kind: "likes"; every: number }
  | { kind: "chat"; command: string }
  | { kind: "coins"; min: number; max: number | null }
  // The whole streak's value: fires once per streak worth `min`+ coins in total.
  | { kind: "streakCoins"; min: number };

/** The `data-trigger` of a palette tile. */
export function triggerKey(t: PaletteTrigger): string {
  if (t.kind === "gift") return `gift:${t.id}`;
  if (t.kind === "streakCoins") return "streak-coins";
  return t.kind;
}

/** What a new streak-value rule starts with. */
export const DEFAULT_STREAK_COINS = 100;

export function toTrigger(t: PaletteTrigger): Trigger {
  switch (t.kind) {
    case "gift":
      return { type: "gift", id: t.id, name: t.name };
    case "likes":
      return { type: "likes", every: t.every };
    case "chat":
      return { type: "chatCommand", command: t.command };
    case "coins":
      return t.max === null
        ? { type: "giftCoins", unitCoinsAtLeast: t.min }
        : { type: "giftCoins", unitCoinsAtLeast: t.min, unitCoinsAtMost: t.max };
    case "streakCoins":
      return { type: "giftCoins", streakCoinsAtLeast: t.min };
    default:
      return { type: t.kind };
  }
}

export function paletteLabel(t: PaletteTrigger): string {
  switch (t.kind) {
    case "gift":
      return t.name;
    case "likes":
      return `Every ${t.every} likes`;
    case "chat":
      return `Chat ${t.command}`;
    case "coins":
      return t.max === null
        ? `Each gift worth ${t.min}+ coins`
        : `Each gift worth ${t.min}–${t.max} coins`;
    case "streakCoins":
      return `Streak worth ${t.min}+ coins`;
    case "follow":
      return "Follow";
    case "share":
      return "Share";
    case "join":
      return "Join";
    case "subscribe":
      return "Subscribe";
  }
}

export function describeTrigger(t: Trigger): string {
  const n = (v: unknown) => (typeof v === "number" ? v : undefined);
  const s = (v: unknown) => (typeof v === "string" ? v : undefined);
  switch (t.type) {
    case "gift": {
      const name = s(t.name);
      const id = n(t.id);
      if (name && id !== undefined) return `${name} (gift ${id})`;
      if (name) return `${name} (by name)`;
      return `Gift ${id ?? "?"} (by id)`;
    }
    case "giftCoins": {
      const min = n(t.unitCoinsAtLeast);
      const max = n(t.unitCoinsAtMost);
      const streak = n(t.streakCoinsAtLeast);
      const unit =
        min === undefined && max === undefined
          ? undefined
          : max === undefined
            ? `Each gift worth ${min ?? 0}+ coins`
            : `Each gift worth ${min ?? 0}–${max} coins`;
      const whole = streak === undefined ? undefined : `a streak worth ${streak}+ coins`;
      if (unit && whole) return `${unit}, ${whole}`;
      return unit ?? (whole ? `A streak worth ${streak}+ coins` : "Any gift");
    }
    case "likes": {
      const every = n(t.every);
      const per = n(t.perUser);
      return [every && `every ${every} likes`, per && `every ${per} likes from one viewer`]
        .filter(Boolean)
        .join(" or ")
        .replace(/^./, (c) => c.toUpperCase());
    }
    case "chatCommand":
      return `Chat command ${s(t.command) ?? ""}`;
    case "viewerMilestone":
      return `Every ${n(t.every) ?? "?"} viewers`;
    case "follow":
      return "Follow";
    case "share":
      return "Share";
    case "join":
      return "Join";
    case "subscribe":
      return "Subscribe";
    case "streamStart":
      return "Stream start";
    case "streamEnd":
      return "Stream end";
    default:
      return t.type;
  }
}

export function isCommandAction(a: Action): boolean {
  return a.steps.some((s) => s.type === "command");
}

export function actionLane(a: Action): string {
  return a.lane ?? (isCommandAction(a) ? "minecraft" : "sound");
}

/** A fresh id not used in `taken`, made from readable words. */
export function uniqueId(base: string, taken: Iterable<string>): string {
  const used = new Set(taken);
  const slug =
    base
      .toLowerCase()
      .normalize("NFKD")
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-+|-+$/g, "")
      .slice(0, 40) || "item";
  if (!used.has(slug)) return slug;
  for (let i = 2; ; i++) {
    const id = `${slug}-${i}`;
    if (!used.has(id)) return id;
  }
}

/** The command a new action starts with, fitting what triggers it. */
export function starterTemplate(t: PaletteTrigger): string {
  switch (t.kind) {
    case "gift":
    case "coins":
      return "say {user} sent {gift} x{count}";
    case "streakCoins":
      return "say {user}: a {gift} streak worth {coins} coins!";
    case "chat":
      return "say {user} typed {comment}";
    case "likes":
      return "say {likes} likes!";
    default:
      return `say {user}: ${t.kind}`;
  }
}

export function newCommandAction(p: Profile, name: string, template: string): Action {
  return {
    id: uniqueId(
      name,
      p.actions.map((a) => a.id),
    ),
    name,
    steps: [{ type: "command", template }],
  };
}

export function newSoundAction(p: Profile, name: string, file: string): Action {
  return {
    id: uniqueId(
      name,
      p.actions.map((a) => a.id),
    ),
    name,
    lane: "sound",
    steps: [{ type: "sound", file, volume: 1 }],
  };
}

/** A rule running `action` on `trigger`, with the defaults a streamer expects: once per gift
 * for commands (5 roses = 5 creepers), once per streak for sounds (no sound spam). */
export function newRule(p: Profile, trigger: PaletteTrigger, action: Action): Rule {
  const label = paletteLabel(trigger);
  const rule: Rule = {
    id: uniqueId(
      `${label} ${action.id}`,
      p.rules.map((r) => r.id),
    ),
    name: `${label} → ${action.name ?? action.id}`,
    enabled: true,
    trigger: toTrigger(trigger),
    actions: [action.id],
  };
  if (trigger.kind === "gift" || trigger.kind === "coins") {
    rule.streakMode = isCommandAction(action) ? "perUnit" : "perStreak";
    rule.maxPerStreak = 100;
  }
  // A streak-value rule runs once per streak by itself: the engine warns about a streak mode
  // or cap set on one, so it gets neither.
  return rule;
}

export interface Conflict {
  /** The other rule. */
  with: Rule;
  how: string;
}

function giftOf(
  r: Rule,
  names: ReadonlyMap<number, string>,
): { id: number | undefined; name: string | undefined } | null {
  if (r.trigger.type !== "gift") return null;
  const t = r.trigger as { id?: unknown; name?: unknown };
  const id = typeof t.id === "number" ? t.id : undefined;
  // A rule by id only is compared by the catalogue's name for that id too.
  const raw = typeof t.name === "string" ? t.name : id === undefined ? undefined : names.get(id);
  return { id, name: raw?.trim().toLowerCase() };
}

/** Other enabled rules that fire for the same gift: one by name and one by id (or both by the
 * same), so a streamer sees that both run, in list order. */
export function conflicts(
  p: Profile,
  rule: Rule,
  names: ReadonlyMap<number, string> = new Map(),
): Conflict[] {
  const mine = giftOf(rule, names);
  if (!mine || rule.enabled === false) return [];
  const out: Conflict[] = [];
  const myIndex = p.rules.indexOf(rule);
  for (const [i, other] of p.rules.entries()) {
    if (other === rule || other.enabled === false) continue;
    const theirs = giftOf(other, names);
    if (!theirs) continue;
    const byName = mine.name !== undefined && mine.name === theirs.name;
    const byId = mine.id !== undefined && mine.id === theirs.id;
    if (!byName && !byId) continue;
    const first = i < myIndex ? `“${other.name ?? other.id}” runs first` : "this rule runs first";
    const how =
      byName && !byId
        ? "the same gift name"
        : byId && !byName
          ? "the same gift id"
          : "the same gift";
    out.push({
      with: other,
      how: `Also matched by “${other.name ?? other.id}” (${how}): both run for each gift; ${first}.`,
    });
  }
  return out;
}
