import { describe, expect, it } from "vitest";
import { sampleProfile } from "../../test/backend";
import {
  conflicts,
  DEFAULT_STREAK_COINS,
  describeTrigger,
  isStreakValue,
  newRule,
  newSoundAction,
  paletteLabel,
  parseProfile,
  toJson,
  toTrigger,
  triggerKey,
  uniqueId,
} from "./model";
import { isDirty, useMapping } from "./store";

const profile = () => parseProfile(JSON.stringify(sampleProfile));

describe("mapping model", () => {
  it("gives commands one run per gift and sounds one per streak", () => {
    const p = profile();
    const creeper = p.actions[0]!;
    const rule = newRule(p, { kind: "gift", id: 5655, name: "Rose", coins: 1 }, creeper);
    expect(rule.streakMode).toBe("perUnit");
    const sound = newSoundAction(p, "boom", "boom.wav");
    expect(newRule(p, { kind: "coins", min: 100, max: null }, sound).streakMode).toBe("perStreak");
    expect(newRule(p, { kind: "follow" }, creeper).streakMode).toBeUndefined();
  });

  it("writes coin rules with the engine's named fields", () => {
    expect(toTrigger({ kind: "coins", min: 10, max: 99 })).toEqual({
      type: "giftCoins",
      unitCoinsAtLeast: 10,
      unitCoinsAtMost: 99,
    });
    expect(describeTrigger(toTrigger({ kind: "coins", min: 100, max: null }))).toBe(
      "Each gift worth 100+ coins",
    );
    expect(describeTrigger({ type: "giftCoins", streakCoinsAtLeast: 100 })).toBe(
      "A streak worth 100+ coins",
    );
  });

  it("builds a once-per-streak rule from the streak-value tile, told apart from the per-gift one", () => {
    const p = profile();
    const creeper = p.actions[0]!;
    const tile = { kind: "streakCoins", min: DEFAULT_STREAK_COINS } as const;
    expect(triggerKey(tile)).toBe("streak-coins");
    const rule = newRule(p, tile, creeper);
    expect(rule.trigger).toEqual({ type: "giftCoins", streakCoinsAtLeast: 100 });
    expect(isStreakValue(rule.trigger)).toBe(true);
    // Commands too fire once per streak: the engine ignores (and warns about) a streak mode.
    expect(rule.streakMode).toBeUndefined();
    expect(rule.maxPerStreak).toBeUndefined();
    expect(rule.name).toBe(`Streak worth 100+ coins → ${creeper.name ?? creeper.id}`);
    expect(describeTrigger(rule.trigger)).toBe("A streak worth 100+ coins");
    const perGift = newRule(p, { kind: "coins", min: 100, max: null }, creeper);
    expect(isStreakValue(perGift.trigger)).toBe(false);
    expect(paletteLabel({ kind: "coins", min: 100, max: null })).toBe("Each gift worth 100+ coins");
    expect(paletteLabel(tile)).not.toBe(paletteLabel({ kind: "coins", min: 100, max: null }));
    expect(toTrigger({ kind: "streakCoins", min: 250 })).toEqual({
      type: "giftCoins",
      streakCoinsAtLeast: 250,
    });
  });

  it("makes readable ids that never clash", () => {
    expect(uniqueId("Rose → Summon a creeper!", [])).toBe("rose-summon-a-creeper");
    expect(uniqueId("tnt", ["tnt", "tnt-2"])).toBe("tnt-3");
    expect(uniqueId("§§§", [])).toBe("item");
  });

  it("finds a rule by id and a rule by name for the same gift through the catalogue", () => {
    const p = profile();
    const byId = newRule(p, { kind: "gift", id: 5655, name: "Rose", coins: 1 }, p.actions[1]!);
    delete (byId.trigger as { name?: string }).name;
    p.rules.push(byId);
    const names = new Map([[5655, "Rose"]]);
    const found = conflicts(p, byId, names);
    expect(found.map((c) => c.with.id)).toEqual(["rose-creeper"]);
    expect(found[0]?.how).toContain("“Rose: a creeper” runs first");
    expect(conflicts(p, byId)).toEqual([]);
  });

  it("round-trips fields it does not know", () => {
    const p = profile();
    expect(JSON.parse(toJson(p))).toEqual(sampleProfile);
  });
});

describe("mapping store", () => {
  it("undoes the last delete of an action, reattaching it to its rules", () => {
    const s = useMapping.getState();
    s.load(profile());
    expect(isDirty(useMapping.getState())).toBe(false);
    useMapping.getState().deleteAction("creeper");
    let draft = useMapping.getState().draft!;
    expect(draft.actions.map((a) => a.id)).toEqual(["tnt", "fanfare"]);
    expect(draft.rules[0]?.actions).toEqual([]);
    expect(isDirty(useMapping.getState())).toBe(true);
    useMapping.getState().undoDelete();
    draft = useMapping.getState().draft!;
    expect(draft.actions.map((a) => a.id)).toEqual(["creeper", "tnt", "fanfare"]);
    expect(draft.rules[0]?.actions).toEqual(["creeper"]);
    expect(isDirty(useMapping.getState())).toBe(false);
  });

  it("moves rules up and down within the list", () => {
    useMapping.getState().load(profile());
    useMapping.getState().moveRule("follow-tnt", -1);
    expect(useMapping.getState().draft!.rules.map((r) => r.id)).toEqual([
      "follow-tnt",
      "rose-creeper",
    ]);
    useMapping.getState().moveRule("follow-tnt", -1);
    expect(useMapping.getState().draft!.rules[0]?.id).toBe("follow-tnt");
    expect(isDirty(useMapping.getState())).toBe(true);
  });
});
