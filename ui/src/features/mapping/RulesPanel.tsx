import { useState } from "react";
import { commands, errorMessage } from "../../ipc";
import {
  actionLane,
  conflicts,
  describeTrigger,
  DEFAULT_STREAK_COINS,
  isStreakValue,
  type Filters,
  type Profile,
  type Rule,
  type StreakMode,
} from "./model";
import { useMapping } from "./store";

const STREAK_MODES: { value: StreakMode; label: string }[] = [
  { value: "perUnit", label: "Once per gift (5 roses = 5 runs)" },
  { value: "perStreak", label: "Once per streak, with {count}" },
  { value: "live", label: "Live, as the streak grows" },
];

function NumberField({
  label,
  value,
  onChange,
  min = 0,
}: {
  label: string;
  value: number | undefined;
  onChange: (v: number | undefined) => void;
  min?: number;
}) {
  return (
    <label className="field inline">
      <span>{label}</span>
      <input
        type="number"
        min={min}
        value={value ?? ""}
        aria-label={label}
        onChange={(e) => {
          onChange(e.target.value === "" ? undefined : Math.max(min, Number(e.target.value)));
        }}
      />
    </label>
  );
}

function Check({
  label,
  checked,
  onChange,
}: {
  label: string;
  checked: boolean;
  onChange: (v: boolean) => void;
}) {
  return (
    <label className="check">
      <input
        type="checkbox"
        checked={checked}
        onChange={(e) => {
          onChange(e.target.checked);
        }}
      />
      <span>{label}</span>
    </label>
  );
}

function RuleEditor({ rule, profile }: { rule: Rule; profile: Profile }) {
  const updateRule = useMapping((s) => s.updateRule);
  const filters: Filters = rule.filters ?? {};
  const setFilter = (patch: Partial<Filters>) => {
    const next: Filters = { ...filters, ...patch };
    for (const [k, v] of Object.entries(next)) {
      if (v === undefined || v === false || v === 0) Reflect.deleteProperty(next, k);
    }
    updateRule(rule.id, { filters: next });
  };
  const isGift = rule.trigger.type === "gift" || rule.trigger.type === "giftCoins";
  const streakValue = isStreakValue(rule.trigger);
  const coinField = (key: string, v: number | undefined) => {
    const next: Record<string, unknown> = { ...rule.trigger };
    if (v === undefined) Reflect.deleteProperty(next, key);
    else next[key] = v;
    updateRule(rule.id, { trigger: next as Rule["trigger"] });
  };
  const coinValue = (key: string) => {
    const v = (rule.trigger as Record<string, unknown>)[key];
    return typeof v === "number" ? v : undefined;
  };
  const unused = profile.actions.filter((a) => !rule.actions.includes(a.id));
  const secs = (ms: number | undefined) => (ms ? ms / 1000 : undefined);
  return (
    <div className="rule-editor" aria-label={`Edit rule ${rule.name ?? rule.id}`} role="group">
      <label className="field">
        <span>Name</span>
        <input
          type="text"
          value={rule.name ?? ""}
          onChange={(e) => {
            updateRule(rule.id, { name: e.target.value });
          }}
        />
      </label>
      {rule.trigger.type === "giftCoins" && streakValue && (
        <div className="row">
          <NumberField
            label="Streak worth at least (coins)"
            min={1}
            value={coinValue("streakCoinsAtLeast")}
            onChange={(v) => {
              coinField("streakCoinsAtLeast", v ?? DEFAULT_STREAK_COINS);
            }}
          />
          <span className="muted">Runs once per streak whose gifts add up to this.</span>
        </div>
      )}
      {rule.trigger.type === "giftCoins" && !streakValue && (
        <div className="row">
          <NumberField
            label="Each gift worth at least (coins)"
            value={coinValue("unitCoinsAtLeast")}
            onChange={(v) => {
              coinField("unitCoinsAtLeast", v);
            }}
          />
          <NumberField
            label="Each gift worth at most (coins)"
            value={coinValue("unitCoinsAtMost")}
            onChange={(v) => {
              coinField("unitCoinsAtMost", v);
            }}
          />
        </div>
      )}
      {isGift && !streakValue && (
        <div className="row">
          <label className="field inline">
            <span>Streaks</span>
            <select
              value={rule.streakMode ?? "perUnit"}
              aria-label="How often it runs for a gift streak"
              onChange={(e) => {
                updateRule(rule.id, { streakMode: e.target.value as StreakMode });
              }}
            >
              {STREAK_MODES.map((m) => (
                <option key={m.value} value={m.value}>
                  {m.label}
                </option>
              ))}
            </select>
          </label>
          <NumberField
            label="At most per streak"
            min={1}
            value={rule.maxPerStreak ?? 100}
            onChange={(v) => {
              updateRule(rule.id, { maxPerStreak: v ?? 100 });
            }}
          />
        </div>
      )}
      <fieldset className="filters">
        <legend>Who and how often</legend>
        <div className="row">
          <NumberField
            label="Per-viewer cooldown (s)"
            value={secs(filters.userCooldownMs)}
            onChange={(v) => {
              setFilter({ userCooldownMs: Math.round((v ?? 0) * 1000) });
            }}
          />
          <NumberField
            label="Cooldown for everyone (s)"
            value={secs(filters.globalCooldownMs)}
            onChange={(v) => {
              setFilter({ globalCooldownMs: Math.round((v ?? 0) * 1000) });
            }}
          />
          <NumberField
            label="Minimum followers"
            value={filters.minFollowers}
            onChange={(v) => {
              setFilter({ minFollowers: v ?? 0 });
            }}
          />
        </div>
        <div className="row">
          <Check
            label="Once per viewer per stream"
            checked={filters.oncePerUserPerStream ?? false}
            onChange={(v) => {
              setFilter({ oncePerUserPerStream: v });
            }}
          />
          <Check
            label="Followers only"
            checked={filters.followersOnly ?? false}
            onChange={(v) => {
              setFilter({ followersOnly: v });
            }}
          />
          <Check
            label="Subscribers only"
            checked={filters.subscribersOnly ?? false}
            onChange={(v) => {
              setFilter({ subscribersOnly: v });
            }}
          />
        </div>
      </fieldset>
      <div className="row">
        <span className="muted">Actions:</span>
        {rule.actions.map((id) => {
          const a = profile.actions.find((x) => x.id === id);
          return (
            <span key={id} className="chip-static">
              {a?.name ?? id} <span className="muted">({a ? actionLane(a) : "missing"} lane)</span>
              <button
                type="button"
                className="icon"
                aria-label={`Remove action ${a?.name ?? id} from this rule`}
                onClick={() => {
                  updateRule(rule.id, { actions: rule.actions.filter((x) => x !== id) });
                }}
              >
                ✕
              </button>
            </span>
          );
        })}
        {unused.length > 0 && (
          <select
            aria-label="Add an action to this rule"
            value=""
            onChange={(e) => {
              if (e.target.value)
                updateRule(rule.id, { actions: [...rule.actions, e.target.value] });
            }}
          >
            <option value="">+ add an action…</option>
            {unused.map((a) => (
              <option key={a.id} value={a.id}>
                {a.name ?? a.id}
              </option>
            ))}
          </select>
        )}
      </div>
    </div>
  );
}

export function RulesPanel({
  profile,
  dirty,
  giftNames,
}: {
  profile: Profile;
  dirty: boolean;
  giftNames: ReadonlyMap<number, string>;
}) {
  const { selectedRule, select, updateRule, deleteRule, moveRule } = useMapping();
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);

  async function testFire(rule: Rule) {
    setMessage(null);
    try {
      await commands.ruleTestFire({ ruleId: rule.id });
      setMessage({
        ok: true,
        text: `Test event sent for “${rule.name ?? rule.id}”: see the Queue.`,
      });
    } catch (e: unknown) {
      setMessage({ ok: false, text: errorMessage(e) });
    }
  }

  return (
    <section className="panel" aria-label="Rules">
      <div className="panel-title">
        <h2>Rules</h2>
        <span className="badge">{profile.rules.length}</span>
      </div>
      {profile.rules.length === 0 && (
        <p className="muted">No rules yet: drag a trigger onto an action.</p>
      )}
      <ol className="rules" id="rules-list">
        {profile.rules.map((rule, index) => {
          const name = rule.name ?? rule.id;
          const open = selectedRule === rule.id;
          const clash = conflicts(profile, rule, giftNames);
          return (
            <li
              key={rule.id}
              className={rule.enabled === false ? "rule disabled" : "rule"}
              data-rule-id={rule.id}
            >
              <div className="rule-head">
                <input
                  type="checkbox"
                  checked={rule.enabled !== false}
                  aria-label={`Rule ${name} enabled`}
                  onChange={(e) => {
                    updateRule(rule.id, { enabled: e.target.checked });
                  }}
                />
                <button
                  type="button"
                  className="rule-title"
                  aria-expanded={open}
                  onClick={() => {
                    select(open ? null : rule.id);
                  }}
                >
                  <span className="rule-name">{name}</span>
                  <span className="muted">
                    {describeTrigger(rule.trigger)} →{" "}
                    {rule.actions
                      .map((id) => profile.actions.find((a) => a.id === id)?.name ?? id)
                      .join(", ") || "nothing"}
                  </span>
                </button>
                <button
                  type="button"
                  className="icon"
                  disabled={index === 0}
                  aria-label={`Move rule ${name} up`}
                  onClick={() => {
                    moveRule(rule.id, -1);
                  }}
                >
                  ↑
                </button>
                <button
                  type="button"
                  className="icon"
                  disabled={index === profile.rules.length - 1}
                  aria-label={`Move rule ${name} down`}
                  onClick={() => {
                    moveRule(rule.id, 1);
                  }}
                >
                  ↓
                </button>
                <button
                  type="button"
                  className="secondary small"
                  disabled={dirty}
                  title={dirty ? "Save first" : "Send a test event through the real pipeline"}
                  aria-label={`Test-fire rule ${name}`}
                  onClick={() => void testFire(rule)}
                >
                  Test
                </button>
                <button
                  type="button"
                  className="icon danger"
                  aria-label={`Delete rule ${name}`}
                  onClick={() => {
                    deleteRule(rule.id);
                  }}
                >
                  ✕
                </button>
              </div>
              {clash.map((c) => (
                <p key={c.with.id} className="warn conflict">
                  {c.how}
                </p>
              ))}
              {open && <RuleEditor rule={rule} profile={profile} />}
            </li>
          );
        })}
      </ol>
      {message && (
        <p role="status" className={message.ok ? "ok" : "error"}>
          {message.text}
        </p>
      )}
    </section>
  );
}
