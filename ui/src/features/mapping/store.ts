import { create } from "zustand";
import type { Action, Profile, Rule } from "./model";
import { toJson } from "./model";

interface Deleted {
  kind: "rule" | "action";
  index: number;
  rule?: Rule;
  action?: Action;
  /** Rules that lost this action when it was deleted, with their previous action lists. */
  detached?: { ruleId: string; actions: string[] }[];
}

export interface MappingState {
  /** The profile as last loaded or saved. */
  saved: Profile | null;
  /** The profile being edited. */
  draft: Profile | null;
  lastDeleted: Deleted | null;
  /** The rule whose editor is open. */
  selectedRule: string | null;
  load: (p: Profile) => void;
  /** Replaces the draft's rules/actions with `f`'s result. */
  edit: (f: (p: Profile) => Profile) => void;
  addRule: (rule: Rule, action?: Action) => void;
  updateRule: (id: string, patch: Partial<Rule>) => void;
  deleteRule: (id: string) => void;
  /** Moves a rule up (-1) or down (+1): rules for the same event run in list order. */
  moveRule: (id: string, delta: -1 | 1) => void;
  addAction: (action: Action) => void;
  updateAction: (id: string, patch: Partial<Action>) => void;
  deleteAction: (id: string) => void;
  undoDelete: () => void;
  select: (id: string | null) => void;
}

export const useMapping = create<MappingState>()((set, get) => ({
  saved: null,
  draft: null,
  lastDeleted: null,
  selectedRule: null,
  load: (p) => {
    set({ saved: p, draft: structuredClone(p), lastDeleted: null });
  },
  edit: (f) => {
    const d = get().draft;
    if (d) set({ draft: f(d) });
  },
  addRule: (rule, action) => {
    get().edit((p) => ({
      ...p,
      actions: action ? [...p.actions, action] : p.actions,
      rules: [...p.rules, rule],
    }));
    set({ selectedRule: rule.id });
  },
  updateRule: (id, patch) => {
    get().edit((p) => ({
      ...p,
      rules: p.rules.map((r) => (r.id === id ? { ...r, ...patch } : r)),
    }));
  },
  deleteRule: (id) => {
    const d = get().draft;
    if (!d) return;
    const index = d.rules.findIndex((r) => r.id === id);
    const rule = d.rules[index];
    if (!rule) return;
    set({
      draft: { ...d, rules: d.rules.filter((r) => r.id !== id) },
      lastDeleted: { kind: "rule", index, rule },
      selectedRule: get().selectedRule === id ? null : get().selectedRule,
    });
  },
  moveRule: (id, delta) => {
    get().edit((p) => {
      const from = p.rules.findIndex((r) => r.id === id);
      const to = from + delta;
      if (from < 0 || to < 0 || to >= p.rules.length) return p;
      const rules = [...p.rules];
      const [rule] = rules.splice(from, 1);
      if (rule) rules.splice(to, 0, rule);
      return { ...p, rules };
    });
  },
  addAction: (action) => {
    get().edit((p) => ({ ...p, actions: [...p.actions, action] }));
  },
  updateAction: (id, patch) => {
    get().edit((p) => ({
      ...p,
      actions: p.actions.map((a) => (a.id === id ? { ...a, ...patch } : a)),
    }));
  },
  deleteAction: (id) => {
    const d = get().draft;
    if (!d) return;
    const index = d.actions.findIndex((a) => a.id === id);
    const action = d.actions[index];
    if (!action) return;
    const detached = d.rules
      .filter((r) => r.actions.includes(id))
      .map((r) => ({ ruleId: r.id, actions: [...r.actions] }));
    set({
      draft: {
        ...d,
        actions: d.actions.filter((a) => a.id !== id),
        rules: d.rules.map((r) =>
          r.actions.includes(id) ? { ...r, actions: r.actions.filter((a) => a !== id) } : r,
        ),
      },
      lastDeleted: { kind: "action", index, action, detached },
    });
  },
  undoDelete: () => {
    const { draft, lastDeleted } = get();
    if (!draft || !lastDeleted) return;
    if (lastDeleted.kind === "rule" && lastDeleted.rule) {
      const rules = [...draft.rules];
      rules.splice(lastDeleted.index, 0, lastDeleted.rule);
      set({ draft: { ...draft, rules }, lastDeleted: null });
    } else if (lastDeleted.kind === "action" && lastDeleted.action) {
      const actions = [...draft.actions];
      actions.splice(lastDeleted.index, 0, lastDeleted.action);
      const back = new Map((lastDeleted.detached ?? []).map((d) => [d.ruleId, d.actions]));
      const rules = draft.rules.map((r) => {
        const old = back.get(r.id);
        return old ? { ...r, actions: old } : r;
      });
      set({ draft: { ...draft, actions, rules }, lastDeleted: null });
    }
  },
  select: (id) => {
    set({ selectedRule: id });
  },
}));

/** True when the draft differs from what is saved. */
export function isDirty(s: Pick<MappingState, "saved" | "draft">): boolean {
  if (!s.saved || !s.draft) return false;
  return toJson(s.saved) !== toJson(s.draft);
}

/** Problems the engine would refuse the draft for, found before saving. */
export function draftProblems(p: Profile): string[] {
  const out: string[] = [];
  for (const r of p.rules) {
    if (r.actions.length === 0) out.push(`Rule “${r.name ?? r.id}” has no action.`);
  }
  return out;
}
