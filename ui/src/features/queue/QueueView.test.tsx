import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import type { LaneView, QueueItemView } from "../../ipc";
import { renderView } from "../../test/render";
import { fakeBackend, pushBatch, sampleLanes, snapshot } from "../../test/backend";
import { QueueView } from "./QueueView";

function item(id: number, status: string, detail: string | null = null): QueueItemView {
  return {
    id,
    lane: "minecraft",
    rule: "rose-creeper",
    status,
    detail,
    commands: ["summon minecraft:creeper ~ ~ ~"],
    sounds: [],
    user: "anna",
    event: "Rose ×1",
    queuedMs: Date.now() - 5_000,
    rerunOf: null,
    dryRun: false,
  };
}

function lanes(waiting: number, running: number, failed: number): LaneView[] {
  return [{ ...sampleLanes[0]!, waiting, running, failed }, sampleLanes[1]!];
}

describe("queue", () => {
  it("groups items per lane with counters equal to the items shown", async () => {
    fakeBackend();
    await pushBatch({});
    renderView(<QueueView />);
    const lane = await screen.findByRole("region", { name: "Lane minecraft" });
    // An empty lane says so.
    expect(within(lane).getByText("Nothing waiting or running.")).toBeTruthy();
    await pushBatch({ items: [item(1, "queued"), item(2, "queued")], lanes: lanes(2, 0, 0) });
    await waitFor(() => {
      expect(within(lane).queryByText("Nothing waiting or running.")).toBeNull();
    });
    await pushBatch({
      items: [item(1, "failed", "reply lost (may have run)"), item(3, "running")],
      lanes: lanes(1, 1, 1),
    });
    await waitFor(() => {
      expect(lane.querySelectorAll("li[data-status='failed']")).toHaveLength(1);
    });
    const count = (s: string) => lane.querySelectorAll(`li[data-status='${s}']`).length;
    expect(lane.dataset.waiting).toBe(String(count("queued")));
    expect(lane.dataset.running).toBe(String(count("running")));
    expect(within(lane).getByText("reply lost (may have run)")).toBeTruthy();
    expect(within(lane).getAllByText("5s").length).toBeGreaterThan(0);
    expect(
      within(screen.getByRole("region", { name: "Lane sound" })).getByText("paused"),
    ).toBeTruthy();
  });

  it("lists the waiting items it is sent and counts the rest of a flooded lane", async () => {
    fakeBackend();
    await pushBatch({});
    renderView(<QueueView />);
    const lane = await screen.findByRole("region", { name: "Lane minecraft" });
    const first = Array.from({ length: 200 }, (_, i) => item(i + 1, "queued"));
    await pushBatch({ items: first, lanes: lanes(12_345, 0, 0) });
    // The first 25 are listed, in queue order; the rest (sent or not) are counted.
    await waitFor(() => {
      expect(lane.querySelectorAll("li[data-status='queued']")).toHaveLength(25);
    });
    expect(lane.querySelector("li[data-status='queued']")?.getAttribute("data-id")).toBe("1");
    expect(lane.dataset.waiting).toBe("12345");
    expect(lane.dataset.moreWaiting).toBe("12320");
    expect(within(lane).getByText(/12,320 more waiting/)).toBeTruthy();
    // The first one runs and the next moves into view: the count follows.
    await pushBatch({
      items: [item(1, "running"), item(201, "queued")],
      lanes: lanes(12_344, 1, 0),
    });
    await waitFor(() => {
      expect(lane.dataset.moreWaiting).toBe("12319");
    });
    expect(lane.querySelectorAll("li[data-status='queued']")).toHaveLength(25);
    expect(lane.querySelector("li[data-status='queued']")?.getAttribute("data-id")).toBe("2");
    expect(lane.querySelector("li[data-status='running']")?.getAttribute("data-id")).toBe("1");
  });

  it("lists the 20 latest finished items until asked for all", async () => {
    fakeBackend();
    await pushBatch({});
    renderView(<QueueView />);
    const lane = await screen.findByRole("region", { name: "Lane minecraft" });
    const done = Array.from({ length: 80 }, (_, i) => item(i + 1, "done"));
    await pushBatch({ items: done, lanes: lanes(0, 0, 0) });
    await waitFor(() => {
      expect(lane.querySelectorAll("li[data-status='done']")).toHaveLength(20);
    });
    // Newest first.
    expect(lane.querySelector("li[data-status='done']")?.getAttribute("data-id")).toBe("80");
    await userEvent.click(within(lane).getByRole("button", { name: "Show all 80" }));
    expect(lane.querySelectorAll("li[data-status='done']")).toHaveLength(80);
  });

  it("shows a dry run as done without RCON, not as an error", async () => {
    fakeBackend();
    await pushBatch({});
    renderView(<QueueView />);
    const lane = await screen.findByRole("region", { name: "Lane minecraft" });
    const dry = { ...item(7, "done", "dry run: no RCON server is set up"), dryRun: true };
    await pushBatch({ items: [dry], lanes: lanes(0, 0, 0) });
    const row = await waitFor(() => {
      const li = lane.querySelector<HTMLElement>("li[data-id='7']");
      expect(li).toBeTruthy();
      return li!;
    });
    expect(row.dataset.dryRun).toBe("true");
    expect(row.className).not.toContain("status-failed");
    expect(within(row).getByText("dry run")).toBeTruthy();
    expect(within(row).queryByRole("button", { name: /re-run/i })).toBeNull();
  });

  it("re-runs failed items and sends lane controls", async () => {
    const calls: unknown[] = [];
    fakeBackend({
      feed_snapshot: () => snapshot({ items: [item(4, "failed", "no RCON"), item(5, "done")] }),
      queue_rerun: (args) => {
        calls.push(["queue_rerun", args]);
        return 6;
      },
      lane_control: (args) => {
        calls.push(["lane_control", args]);
        return sampleLanes;
      },
      queue_panic: () => {
        calls.push(["queue_panic"]);
        return sampleLanes;
      },
    });
    await pushBatch({});
    const user = userEvent.setup();
    renderView(<QueueView />);
    const lane = await screen.findByRole("region", { name: "Lane minecraft" });
    const rerun = within(lane).getAllByRole("button", { name: "Re-run" });
    expect(rerun).toHaveLength(1); // the done item cannot be re-run
    await user.click(rerun[0]!);
    await user.click(within(lane).getByRole("button", { name: "Pause" }));
    await user.click(screen.getByRole("button", { name: /Panic/ }));
    await waitFor(() => {
      expect(calls).toHaveLength(3);
    });
    expect(calls).toEqual([
      ["queue_rerun", { id: 4 }],
      ["lane_control", { lane: "minecraft", op: "pause" }],
      ["queue_panic"],
    ]);
  });

  it("replaces its items when the backend resynced", async () => {
    fakeBackend({ feed_snapshot: () => snapshot({ items: [item(1, "queued")] }) });
    renderView(<QueueView />);
    await pushBatch({
      reset: true,
      items: [item(2, "running")],
      lanes: lanes(0, 1, 0),
      missedUpdates: 9,
    });
    const lane = await screen.findByRole("region", { name: "Lane minecraft" });
    await waitFor(() => {
      expect(lane.querySelectorAll("li[data-status]")).toHaveLength(1);
    });
    expect(lane.querySelector("li[data-status='running']")).not.toBeNull();
    expect(screen.getByText(/Resynced after 9 missed updates/)).toBeTruthy();
  });
});
