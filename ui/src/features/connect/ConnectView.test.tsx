import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { fakeBackend, idleStatus, pushStatus, sampleSettings } from "../../test/backend";
import { renderWithClient } from "../../test/render";
import { ConnectView } from "./ConnectView";

describe("connect", () => {
  it("sends the target and the advanced settings", async () => {
    const sent: unknown[] = [];
    fakeBackend({
      live_connect: (args) => {
        sent.push(args);
        return null;
      },
    });
    const user = userEvent.setup();
    renderWithClient(<ConnectView />);
    const button = screen.getByRole("button", { name: "Connect" });
    expect(button.hasAttribute("disabled")).toBe(true);
    await user.type(screen.getByLabelText(/username/), "@streamer");
    await user.click(screen.getByText(/Advanced/));
    await user.type(screen.getByLabelText(/Sign server URL/), "http://127.0.0.1:9/");
    await user.click(button);
    await waitFor(() => {
      expect(sent).toHaveLength(1);
    });
    expect(sent).toEqual([{ request: { target: "@streamer", signUrl: "http://127.0.0.1:9/" } }]);
  });

  it("shows the backend's error and the live state", async () => {
    fakeBackend({
      live_connect: () => {
        // eslint-disable-next-line @typescript-eslint/only-throw-error
        throw { code: "invalid_input", message: "enter a TikTok @username" };
      },
    });
    const user = userEvent.setup();
    renderWithClient(<ConnectView />);
    await user.type(screen.getByLabelText(/username/), "a b");
    await user.click(screen.getByRole("button", { name: "Connect" }));
    expect((await screen.findByRole("alert")).textContent).toBe("enter a TikTok @username");

    await pushStatus({ ...idleStatus, connection: "connected", connectionDetail: "room 7" });
    expect(screen.getByText("Live · room 7")).toBeTruthy();
    expect(screen.getByRole<HTMLButtonElement>("button", { name: "Disconnect" }).disabled).toBe(
      false,
    );
  });

  it("shows the room's title, viewers and likes as batches bring them", async () => {
    fakeBackend();
    renderWithClient(<ConnectView />);
    await pushStatus({ ...idleStatus, connection: "connecting" });
    expect(document.getElementById("room-viewers")).toBeNull();
    const live = { ...idleStatus, connection: "connected" as const, connectionDetail: "room 7" };
    await pushStatus({ ...live, room: { title: "<b>Castle</b>", viewers: null, likes: null } });
    expect(screen.getByText("<b>Castle</b>").id).toBe("room-title");
    expect(document.getElementById("room-viewers")?.textContent).toBe("—");
    await pushStatus({ ...live, room: { title: "<b>Castle</b>", viewers: 42, likes: 1250 } });
    const viewers = document.getElementById("room-viewers");
    expect(viewers?.dataset.value).toBe("42");
    expect(document.getElementById("room-likes")?.dataset.value).toBe("1250");
    // The numbers stay readable after the stream ends.
    await pushStatus({
      ...live,
      connection: "ended",
      room: { title: null, viewers: 40, likes: 1300 },
    });
    expect(document.getElementById("room-likes")?.dataset.value).toBe("1300");
    expect(document.getElementById("room-title")).toBeNull();
  });

  it("fills in the last user and starts and stops the demo stream", async () => {
    let running = false;
    const calls = fakeBackend({
      settings_get: () => ({ ...sampleSettings, lastTarget: "@lastone" }),
      demo_start: () => {
        running = true;
        return { running, url: "http://127.0.0.1:4000", target: "@simstreamer" };
      },
      demo_stop: () => {
        running = false;
        return { running, url: null, target: "@simstreamer" };
      },
    });
    const user = userEvent.setup();
    renderWithClient(<ConnectView />);
    await waitFor(() => {
      expect(screen.getByLabelText<HTMLInputElement>(/username/).value).toBe("@lastone");
    });
    const demo = await screen.findByRole("button", { name: "Try the demo stream" });
    await user.click(demo);
    expect(await screen.findByRole("button", { name: "Stop the demo stream" })).toBeTruthy();
    await user.click(screen.getByRole("button", { name: "Stop the demo stream" }));
    expect(await screen.findByRole("button", { name: "Try the demo stream" })).toBeTruthy();
    expect(calls.filter((c) => c.startsWith("demo_"))).toEqual([
      "demo_status",
      "demo_start",
      "demo_stop",
    ]);
  });

  it("simulates a gift streak through the backend", async () => {
    const sent: unknown[] = [];
    fakeBackend({
      gift_catalog: () => ({
        source: "builtin",
        gifts: [{ id: 5655, name: "Rose", diamondCount: 1, imageUrl: null, streakable: true }],
      }),
      simulate: (args) => {
        sent.push(args);
        return 4;
      },
    });
    const user = userEvent.setup();
    renderWithClient(<ConnectView />);
    await screen.findByRole("option", { name: "Rose (1 coins)" });
    const count = screen.getByLabelText("How many");
    await user.clear(count);
    await user.type(count, "3");
    await user.click(screen.getByRole("button", { name: "Send gift" }));
    expect((await screen.findByText(/Sent Rose ×3 as a streak/)).id).toBe("sim-message");
    expect(sent).toEqual([
      {
        request: { kind: "gift", giftId: 5655, name: "Rose", coins: 1, count: 3, streak: true },
      },
    ]);
  });
});
