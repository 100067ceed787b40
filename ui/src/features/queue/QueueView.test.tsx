import { act, render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { emit } from "@tauri-apps/api/event";
import { afterEach, describe, expect, it } from "vitest";
import type { QueueItemView } from "../../ipc";
import { fakeBackend, sampleLanes } from "../../test/backend";
import { clearItems, startQueueFeed } from "./feed";
import { QueueView } from "./QueueView";

afterEach(clearItems);

function item(id: number, status: string, detail: string | null = null): QueueItemView {
  return {
    id,
    lane: "minecraft",
    rule: "rose-creeper",
    status,
    detail,
    commands: ["summon minecraft:creeper ~ ~ ~"],
    user: "anna",
  };
}

describe("queue", () => {
  it("shows lanes and keeps each item's latest state", async () => {
    fakeBackend();
    const stop = startQueueFeed();
    render(<QueueView />);
    const lanes = await screen.findByRole("region", { name: "Lanes" });
    expect(within(lanes).getByText("minecraft")).toBeTruthy();
    expect(within(lanes).getByText("paused")).toBeTruthy();
    await act(async () => {
      await emit("queue-item", item(1, "queued"));
      await emit("queue-item", item(1, "running"));
      await emit("queue-item", item(2, "queued"));
      await emit("queue-item", item(1, "failed", "reply lost (may have run)"));
    });
    const list = document.getElementById("queue-items");
    expect(list).not.toBeNull();
    const statuses = Array.from(list!.querySelectorAll("li")).map((li) => li.dataset.status);
    expect(statuses).toEqual(["failed", "queued"]);
    expect(screen.getByText("reply lost (may have run)")).toBeTruthy();
    stop();
  });

  it("sends lane controls and the panic button", async () => {
    const calls: unknown[] = [];
    fakeBackend({
      lane_control: (args) => {
        calls.push(["lane_control", args]);
        return sampleLanes;
      },
      queue_panic: () => {
        calls.push(["queue_panic"]);
        return sampleLanes.map((l) => ({ ...l, paused: true, waiting: 0 }));
      },
    });
    const user = userEvent.setup();
    render(<QueueView />);
    const lanes = await screen.findByRole("region", { name: "Lanes" });
    await user.click(within(lanes).getAllByRole("button", { name: "Pause" })[0]!);
    await user.click(within(lanes).getAllByRole("button", { name: "Skip current" })[0]!);
    await user.click(screen.getByRole("button", { name: /Panic/ }));
    await waitFor(() => {
      expect(calls).toHaveLength(3);
    });
    expect(calls).toEqual([
      ["lane_control", { lane: "minecraft", op: "pause" }],
      ["lane_control", { lane: "minecraft", op: "skip" }],
      ["queue_panic"],
    ]);
    await waitFor(() => {
      expect(within(lanes).getAllByText("paused")).toHaveLength(2);
    });
  });
});
