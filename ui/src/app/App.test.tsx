import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it } from "vitest";
import {
  fakeBackend,
  idleStatus,
  nextBatch,
  pushBatch,
  pushStatus,
  snapshot,
} from "../test/backend";
import { App } from "./App";
import { VIEWS } from "./views";

beforeEach(() => {
  window.location.hash = "";
});

describe("app shell", () => {
  it("reaches every view from the navigation, and each view is a route", async () => {
    fakeBackend();
    const user = userEvent.setup();
    render(<App />);
    const nav = screen.getByRole("navigation", { name: "Main" });
    expect(screen.getByRole("main").dataset.view).toBe("connect");
    for (const view of VIEWS) {
      await user.click(within(nav).getByRole("button", { name: new RegExp(view.label) }));
      const main = screen.getByRole("main");
      expect(main.dataset.view).toBe(view.id);
      expect(window.location.hash).toBe(`#/${view.id}`);
      expect(within(main).getByRole("heading", { level: 1 }).textContent).toBe(view.label);
      expect(
        within(nav)
          .getByRole("button", { name: new RegExp(view.label) })
          .getAttribute("aria-current"),
      ).toBe("page");
    }
  });

  it("opens the view the URL names", () => {
    fakeBackend();
    window.location.hash = "#/stats";
    render(<App />);
    expect(screen.getByRole("main").dataset.view).toBe("stats");
  });

  it("shows the backend status and follows the feed's batches", async () => {
    fakeBackend();
    render(<App />);
    expect(await screen.findByText("TikTok: Offline")).toBeTruthy();
    expect(screen.getByText("Queue: 0")).toBeTruthy();
    await pushStatus({
      ...idleStatus,
      connection: "connected",
      rcon: "ok",
      audio: "down",
      queueDepth: 3,
    });
    expect(await screen.findByText("TikTok: Live")).toBeTruthy();
    expect(screen.getByText("RCON: ok")).toBeTruthy();
    expect(screen.getByText("Audio: down")).toBeTruthy();
    expect(screen.getByText("Queue: 3")).toBeTruthy();
  });

  it("takes a new snapshot when a batch is missing", async () => {
    let snapshots = 0;
    fakeBackend({
      feed_snapshot: () => {
        snapshots += 1;
        return snapshot({
          seq: snapshots === 1 ? 0 : 41,
          status: { ...idleStatus, queueDepth: snapshots === 1 ? 0 : 7 },
        });
      },
    });
    render(<App />);
    expect(await screen.findByText("Queue: 0")).toBeTruthy();
    // Batch 40 after 0: batches 1..39 were missed, so the window resyncs instead.
    await pushBatch({ seq: 40, status: { ...idleStatus, queueDepth: 99 } });
    expect(await screen.findByText("Queue: 7")).toBeTruthy();
    expect(snapshots).toBe(2);
    expect(screen.queryByText("Queue: 99")).toBeNull();
  });

  it("asks for the next batch only once the previous one is on screen (flow control)", async () => {
    const afters: number[] = [];
    fakeBackend({
      feed_next: (args) => {
        afters.push((args as { after: number }).after);
        return nextBatch(args);
      },
    });
    render(<App />);
    expect(await screen.findByText("Queue: 0")).toBeTruthy();
    await waitFor(() => {
      expect(afters).toEqual([0]);
    });
    await pushBatch({ status: { ...idleStatus, queueDepth: 5 } });
    expect(await screen.findByText("Queue: 5")).toBeTruthy();
    await waitFor(() => {
      expect(afters).toEqual([0, 1]);
    });
  });

  it("says so when the backend does not answer, and follows it again once it does", async () => {
    let down = true;
    fakeBackend({
      feed_snapshot: () => {
        if (down) throw new Error("bridge down");
        return snapshot({ status: { ...idleStatus, queueDepth: 2 } });
      },
    });
    render(<App />);
    expect(await screen.findByText("Backend unavailable")).toBeTruthy();
    down = false;
    expect(await screen.findByText("Queue: 2", {}, { timeout: 3000 })).toBeTruthy();
    expect(screen.queryByText("Backend unavailable")).toBeNull();
  });
});
