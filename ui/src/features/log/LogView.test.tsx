import { act, render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { emit } from "@tauri-apps/api/event";
import { afterEach, describe, expect, it } from "vitest";
import type { LogEntry } from "../../ipc";
import { fakeBackend } from "../../test/backend";
import { clearLog, LOG_CAPACITY, startLogFeed } from "./feed";
import { LogView } from "./LogView";

function entry(seq: number, kind: string, user: string | null, text: string): LogEntry {
  return { seq, kind, user, handle: user ? "h" : null, text };
}

afterEach(clearLog);

describe("live log", () => {
  it("shows events newest first, filters them, and keeps hostile names as text", async () => {
    fakeBackend();
    const stop = startLogFeed();
    render(<LogView />);
    const hostile = '<img src=x onerror=alert(1)> "},{"text":"pwn';
    await act(async () => {
      await emit("log", entry(1, "chat", "anna", "!tnt"));
      await emit("log", entry(2, "gift", hostile, "sent Rose ×5 · 5 coins"));
    });
    const items = within(screen.getByRole("list")).getAllByRole("listitem");
    expect(items.map((i) => i.dataset.kind)).toEqual(["gift", "chat"]);
    expect(screen.getByText(hostile).tagName).toBe("SPAN");
    expect(document.querySelector("img")).toBeNull();

    await userEvent.setup().click(screen.getByRole("button", { name: "gift" }));
    expect(within(screen.getByRole("list")).getAllByRole("listitem")).toHaveLength(1);
    stop();
  });

  it("keeps only the newest entries", async () => {
    fakeBackend();
    const stop = startLogFeed();
    await act(async () => {
      for (let i = 1; i <= LOG_CAPACITY + 5; i++) {
        await emit("log", entry(i, "like", "u", `like ${i}`));
      }
    });
    render(<LogView />);
    const items = within(screen.getByRole("list")).getAllByRole("listitem");
    expect(items).toHaveLength(LOG_CAPACITY);
    expect(items[0]?.textContent).toContain(`like ${LOG_CAPACITY + 5}`);
    stop();
  });
});
