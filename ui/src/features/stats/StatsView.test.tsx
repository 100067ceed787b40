import { render, screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import type { StatsView as Stats } from "../../ipc";
import { fakeBackend } from "../../test/backend";
import { StatsView } from "./StatsView";

const sample: Stats = {
  events: [
    { name: "gift", count: 12 },
    { name: "chat", count: 40 },
  ],
  giftUnits: 9,
  diamonds: 31046,
  topGifters: [
    { username: "mia", nickname: "Mia", diamonds: 1000, units: 1 },
    { username: "rtl", nickname: "\u202eevil", diamonds: 30000, units: 1 },
  ],
  giftsPerMinute: [1, 0, 8],
  items: [{ name: "done", count: 7 }],
};

describe("stats", () => {
  it("shows the session's totals from the backend", async () => {
    fakeBackend({ session_stats: () => sample });
    render(<StatsView />);
    expect((await screen.findByText("31046 coins")).id).toBe("stats-diamonds");
    expect(screen.getByText("9 gifts")).toBeTruthy();
    const events = screen.getByRole("region", { name: "Events" });
    expect(within(events).getByText("chat")).toBeTruthy();
    expect(within(events).getByText("40")).toBeTruthy();
    const gifters = screen.getByRole("region", { name: "Top gifters" });
    expect(within(gifters).getAllByRole("listitem")).toHaveLength(2);
    expect(screen.getByLabelText("Gifts per minute").children).toHaveLength(3);
  });

  it("says why when the stats cannot be read", async () => {
    fakeBackend({
      session_stats: () => {
        // eslint-disable-next-line @typescript-eslint/only-throw-error
        throw { code: "internal", message: "the store is unavailable" };
      },
    });
    render(<StatsView />);
    expect((await screen.findByRole("alert")).textContent).toBe("the store is unavailable");
  });
});
