import { act, render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { emit } from "@tauri-apps/api/event";
import { describe, expect, it } from "vitest";
import { fakeBackend } from "../test/backend";
import { App } from "./App";
import { VIEWS } from "./views";

describe("app shell", () => {
  it("reaches every view from the navigation", async () => {
    fakeBackend();
    const user = userEvent.setup();
    render(<App />);
    const nav = screen.getByRole("navigation", { name: "Main" });
    for (const view of VIEWS) {
      await user.click(within(nav).getByRole("button", { name: new RegExp(view.label) }));
      const main = screen.getByRole("main");
      expect(main.dataset.view).toBe(view.id);
      expect(within(main).getByRole("heading", { level: 1 }).textContent).toBe(view.label);
      expect(
        within(nav)
          .getByRole("button", { name: new RegExp(view.label) })
          .getAttribute("aria-current"),
      ).toBe("page");
    }
  });

  it("shows the backend status and follows status events", async () => {
    fakeBackend();
    render(<App />);
    expect(await screen.findByText("TikTok: Offline")).toBeTruthy();
    expect(screen.getByText("Queue: 0")).toBeTruthy();
    await act(async () => {
      await emit("status", {
        connection: "connected",
        rcon: "ok",
        audio: "down",
        queueDepth: 3,
      });
    });
    expect(await screen.findByText("TikTok: Live")).toBeTruthy();
    expect(screen.getByText("RCON: ok")).toBeTruthy();
    expect(screen.getByText("Audio: down")).toBeTruthy();
    expect(screen.getByText("Queue: 3")).toBeTruthy();
  });

  it("says so when the backend does not answer", async () => {
    fakeBackend({
      status: () => {
        throw new Error("bridge down");
      },
    });
    render(<App />);
    expect(await screen.findByText("Backend unavailable")).toBeTruthy();
  });
});
