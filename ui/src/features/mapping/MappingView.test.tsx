import { act, fireEvent, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it } from "vitest";
import type { CatalogView } from "../../ipc";
import { fakeBackend, sampleProfileDoc } from "../../test/backend";
import { renderWithClient } from "../../test/render";
import { MappingView } from "./MappingView";
import { parseProfile } from "./model";
import { useMapping } from "./store";

const catalog: CatalogView = {
  source: "room",
  gifts: [
    { id: 5655, name: "Rose", diamondCount: 1, imageUrl: null, streakable: true },
    {
      id: 6369,
      name: "Lion",
      diamondCount: 29999,
      imageUrl: "http://127.0.0.1:1/missing.png",
      streakable: false,
    },
  ],
};

beforeEach(() => {
  useMapping.setState({ saved: null, draft: null, lastDeleted: null, selectedRule: null });
});

describe("mapping: palette", () => {
  it("lists the room's gifts with their ids, filters them, and has the other triggers", async () => {
    fakeBackend({ gift_catalog: () => catalog });
    renderWithClient(<MappingView />);
    const grid = await screen.findByRole("list", { name: "Gifts" });
    expect(
      within(grid)
        .getAllByRole("button")
        .map((li) => li.dataset.trigger),
    ).toEqual(["gift:5655", "gift:6369"]);
    expect(screen.getByText("from your room")).toBeTruthy();
    expect(screen.getByText("1 coins · combo")).toBeTruthy();
    const events = screen.getByRole("list", { name: "Events" });
    expect(
      within(events)
        .getAllByRole("button")
        .map((li) => li.dataset.trigger),
    ).toEqual(["follow", "share", "join", "subscribe", "likes", "chat", "coins", "streak-coins"]);
    await userEvent.setup().type(screen.getByLabelText("Find a gift"), "li");
    expect(
      within(grid)
        .getAllByRole("button")
        .map((li) => li.dataset.giftId),
    ).toEqual(["6369"]);
  });

  it("shows a placeholder instead of a broken image", async () => {
    fakeBackend({ gift_catalog: () => catalog });
    renderWithClient(<MappingView />);
    const lion = await screen.findByRole("button", { name: /^Lion/ });
    const img = lion.querySelector("img");
    expect(img).toBeTruthy();
    act(() => {
      img?.dispatchEvent(new Event("error"));
    });
    expect(lion.querySelector("img")).toBeNull();
    expect(lion.querySelector("[data-placeholder]")?.textContent).toBe("L");
  });
});

describe("mapping: rules", () => {
  it("maps a gift to an action from the keyboard, shows it unsaved, and saves it", async () => {
    const saved: string[] = [];
    fakeBackend({
      gift_catalog: () => catalog,
      profile_save: (args) => {
        const json = (args as { json: string }).json;
        saved.push(json);
        return { ...sampleProfileDoc, json };
      },
    });
    const user = userEvent.setup();
    renderWithClient(<MappingView />);
    const lion = await screen.findByRole("button", { name: /^Lion/ });
    expect(screen.getByText("All changes saved")).toBeTruthy();
    lion.focus();
    await user.keyboard("{Enter}");
    const chooser = await screen.findByRole("dialog", { name: "Choose an action for Lion" });
    await user.click(within(chooser).getByRole("button", { name: "Drop a TNT" }));

    const rule = await waitFor(() => {
      const el = document.querySelector<HTMLElement>("[data-rule-id='lion-tnt']");
      expect(el).toBeTruthy();
      return el!;
    });
    expect(rule.textContent).toContain("Lion (gift 6369) → Drop a TNT");
    expect(screen.getByText("Unsaved changes")).toBeTruthy();

    await user.click(screen.getByRole("button", { name: "Save" }));
    await screen.findByText("All changes saved");
    expect(saved).toHaveLength(1);
    const p = parseProfile(saved[0]!);
    expect(p.rules.at(-1)).toEqual({
      id: "lion-tnt",
      name: "Lion → Drop a TNT",
      enabled: true,
      trigger: { type: "gift", id: 6369, name: "Lion" },
      actions: ["tnt"],
      streakMode: "perUnit",
      maxPerStreak: 100,
    });
    // What the editor does not know is carried through unchanged.
    expect(p.rules[0]?.futureField).toEqual({ kept: true });
  });

  it("a new command from the chooser makes an action too; deleting a rule can be undone", async () => {
    fakeBackend({ gift_catalog: () => catalog });
    const user = userEvent.setup();
    renderWithClient(<MappingView />);
    (await screen.findByRole("button", { name: /^Follow/ })).focus();
    await user.keyboard("{Enter}");
    await user.click(await screen.findByRole("button", { name: "A new Minecraft command" }));
    const card = await waitFor(() => {
      const el = document.querySelector<HTMLElement>("[data-action-id='follow-command']");
      expect(el).toBeTruthy();
      return el!;
    });
    expect(within(card).getByLabelText<HTMLTextAreaElement>(/Command of action/).value).toBe(
      "say {user}: follow",
    );
    expect(await within(card).findByText("say preview")).toBeTruthy();

    await user.click(screen.getByRole("button", { name: "Delete rule Rose: a creeper" }));
    expect(document.querySelector("[data-rule-id='rose-creeper']")).toBeNull();
    await user.click(screen.getByRole("button", { name: /Undo delete/ }));
    const rules = [...document.querySelectorAll<HTMLElement>("[data-rule-id]")].map(
      (r) => r.dataset.ruleId,
    );
    expect(rules[0]).toBe("rose-creeper");
  });

  it("the streak-value tile makes a once-per-streak rule whose N is edited in the editor", async () => {
    fakeBackend({ gift_catalog: () => catalog });
    const user = userEvent.setup();
    renderWithClient(<MappingView />);
    const tile = await screen.findByRole("button", { name: /^Streak worth 100\+ coins/ });
    expect(screen.getByRole("button", { name: /^Each gift worth 100\+ coins/ })).toBeTruthy();
    tile.focus();
    await user.keyboard("{Enter}");
    await user.click(await screen.findByRole("button", { name: "Drop a TNT" }));
    const rule = await waitFor(() => {
      const el = document.querySelector<HTMLElement>("[data-rule-id='streak-worth-100-coins-tnt']");
      expect(el).toBeTruthy();
      return el!;
    });
    expect(rule.textContent).toContain("A streak worth 100+ coins → Drop a TNT");
    const n = within(rule).getByLabelText<HTMLInputElement>("Streak worth at least (coins)");
    expect(n.value).toBe("100");
    // The streak mode does not apply to a streak value: the editor does not offer it.
    expect(within(rule).queryByLabelText("How often it runs for a gift streak")).toBeNull();
    // Cleared, the field keeps the default (the rule must keep being a streak-value rule).
    fireEvent.change(n, { target: { value: "" } });
    expect(n.value).toBe("100");
    fireEvent.change(n, { target: { value: "250" } });
    const draft = useMapping.getState().draft!;
    expect(draft.rules.find((r) => r.id === "streak-worth-100-coins-tnt")?.trigger).toEqual({
      type: "giftCoins",
      streakCoinsAtLeast: 250,
    });
  });

  it("shows when a name rule and an id rule fire for the same gift", async () => {
    fakeBackend({ gift_catalog: () => catalog });
    const user = userEvent.setup();
    renderWithClient(<MappingView />);
    (await screen.findByRole("button", { name: /^Rose,/ })).focus();
    await user.keyboard("{Enter}");
    await user.click(await screen.findByRole("button", { name: "Drop a TNT" }));
    const warnings = await screen.findAllByText(/both run for each gift/);
    expect(warnings.length).toBe(2);
    expect(warnings[0]?.textContent).toContain("Also matched by “Rose → Drop a TNT”");
  });

  it("shows the engine's refusal and keeps the draft", async () => {
    fakeBackend({
      gift_catalog: () => catalog,
      profile_save: () => {
        // eslint-disable-next-line @typescript-eslint/only-throw-error
        throw { code: "invalid_input", message: "Not saved: at rules[2].actions[0]: no action" };
      },
    });
    const user = userEvent.setup();
    renderWithClient(<MappingView />);
    (await screen.findByRole("button", { name: /^Share/ })).focus();
    await user.keyboard("{Enter}");
    await user.click(await screen.findByRole("button", { name: "Fanfare" }));
    await user.click(screen.getByRole("button", { name: "Save" }));
    expect((await screen.findByText(/Not saved: at rules\[2\]/)).getAttribute("role")).toBe(
      "status",
    );
    expect(screen.getByText("Unsaved changes")).toBeTruthy();
  });
});
