import { screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import type { StatsView as Stats } from "../../ipc";
import { renderView } from "../../test/render";
import { fakeBackend } from "../../test/backend";
import { chartData, xWindow } from "./GiftChart";
import { StatsView } from "./StatsView";

const sample: Stats = {
  events: [
    { name: "gift", count: 12 },
    { name: "chat", count: 40 },
  ],
  giftUnits: 9,
  diamonds: 31046,
  topGifters: [
    {
      username: "mia",
      nickname: "Mia",
      diamonds: 1000,
      units: 1,
      gifts: [{ name: "Lion", imageUrl: "http://127.0.0.1:9/lion.png", count: 1 }],
    },
    {
      username: "rtl",
      nickname: "\u202eevil",
      diamonds: 30000,
      units: 1,
      gifts: [{ name: "Galaxy", imageUrl: "file:///etc/passwd", count: 1 }],
    },
  ],
  minuteStartMs: 1_700_000_040_000,
  giftsPerMinute: [1, 0, 8],
  coinsPerMinute: [1, 0, 30045],
  items: [{ name: "done", count: 7 }],
};

describe("stats", () => {
  it("shows the session's totals and top gifters with their gift images", async () => {
    fakeBackend({ session_stats: () => sample });
    renderView(<StatsView />);
    expect((await screen.findByText("31046 coins")).id).toBe("stats-diamonds");
    expect(screen.getByText("9 gifts")).toBeTruthy();
    const events = screen.getByRole("region", { name: "Events" });
    expect(within(events).getByText("chat")).toBeTruthy();
    expect(within(events).getByText("40")).toBeTruthy();
    const gifters = screen.getByRole("region", { name: "Top gifters" });
    expect(within(gifters).getAllByRole("listitem")).toHaveLength(2);
    const imgs = gifters.querySelectorAll("img");
    expect(imgs).toHaveLength(1); // only web images are loaded
    expect(imgs[0]?.getAttribute("alt")).toBe("Lion");
    expect(screen.getByRole("region", { name: "Gifts and coins per minute" })).toBeTruthy();
  });

  it("lays the minutes out on a time axis", () => {
    const [xs, gifts, coins] = chartData({
      startMs: 1_700_000_040_000,
      gifts: [1, 0, 8],
      coins: [1, 0, 30045],
    });
    expect(xs).toEqual([1_700_000_040, 1_700_000_100, 1_700_000_160]);
    expect(gifts).toEqual([1, 0, 8]);
    expect(coins).toEqual([1, 0, 30045]);
    expect(xWindow([1_700_000_040])).toEqual({ min: 1_700_000_010, max: 1_700_000_370 });
  });

  it("says why when the stats cannot be read", async () => {
    fakeBackend({
      session_stats: () => {
        // eslint-disable-next-line @typescript-eslint/only-throw-error
        throw { code: "internal", message: "the store is unavailable" };
      },
    });
    renderView(<StatsView />);
    expect((await screen.findByRole("alert")).textContent).toBe("the store is unavailable");
  });
});
