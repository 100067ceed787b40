import { render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { fakeBackend, sampleInfo } from "../../test/backend";
import { SettingsView } from "./SettingsView";

describe("settings: about panel", () => {
  it("shows the version and folders the backend reports", async () => {
    const calls = fakeBackend();
    render(<SettingsView />);
    expect((await screen.findByText(sampleInfo.version)).id).toBe("app-version");
    expect(screen.getByText(sampleInfo.dataDir).id).toBe("app-data-dir");
    expect(screen.getByText(sampleInfo.logDir).id).toBe("app-log-dir");
    expect(calls).toContain("app_info");
  });

  it("shows the backend's error message", async () => {
    fakeBackend({
      app_info: () => {
        // The bridge rejects with whatever the command returned as its error.
        // eslint-disable-next-line @typescript-eslint/only-throw-error
        throw { code: "path", message: "cannot create folder /nope: permission denied" };
      },
    });
    render(<SettingsView />);
    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toBe("cannot create folder /nope: permission denied");
  });
});
