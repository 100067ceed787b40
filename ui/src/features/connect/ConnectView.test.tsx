import { render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { fakeBackend, idleStatus, pushStatus } from "../../test/backend";
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
    render(<ConnectView />);
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
    render(<ConnectView />);
    await user.type(screen.getByLabelText(/username/), "a b");
    await user.click(screen.getByRole("button", { name: "Connect" }));
    expect((await screen.findByRole("alert")).textContent).toBe("enter a TikTok @username");

    await pushStatus({ ...idleStatus, connection: "connected", connectionDetail: "room 7" });
    expect(screen.getByText("Live · room 7")).toBeTruthy();
    expect(screen.getByRole<HTMLButtonElement>("button", { name: "Disconnect" }).disabled).toBe(
      false,
    );
  });
});
