import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import type { CatalogView } from "../../ipc";
import { fakeBackend } from "../../test/backend";
import { MappingView } from "./MappingView";

const catalog: CatalogView = {
  source: "room",
  gifts: [
    { id: 5655, name: "Rose", diamondCount: 1, imageUrl: null, streakable: true },
    { id: 6369, name: "Lion", diamondCount: 29999, imageUrl: null, streakable: false },
  ],
};

describe("mapping: gift catalogue", () => {
  it("lists the room's gifts and filters them by name", async () => {
    fakeBackend({ gift_catalog: () => catalog });
    render(<MappingView />);
    const grid = await screen.findByRole("list");
    expect(within(grid).getAllByRole("listitem")).toHaveLength(2);
    expect(screen.getByText("from your room")).toBeTruthy();
    expect(screen.getByText("1 coins · combo")).toBeTruthy();
    await userEvent.setup().type(screen.getByLabelText("Find a gift"), "li");
    expect(
      within(grid)
        .getAllByRole("listitem")
        .map((li) => li.dataset.giftId),
    ).toEqual(["6369"]);
  });
});
