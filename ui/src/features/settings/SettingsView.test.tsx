import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import type { SettingsUpdate } from "../../ipc";
import {
  fakeBackend,
  idleStatus,
  sampleInfo,
  sampleProfileDoc,
  sampleSettings,
  pushStatus,
} from "../../test/backend";
import { renderWithClient } from "../../test/render";
import { SettingsView } from "./SettingsView";

describe("settings: about panel", () => {
  it("shows the version and folders the backend reports", async () => {
    const calls = fakeBackend();
    renderWithClient(<SettingsView />);
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
    renderWithClient(<SettingsView />);
    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toBe("cannot create folder /nope: permission denied");
  });
});

describe("settings: minecraft", () => {
  it("tests the values in the form and says the answer in plain words", async () => {
    const tested: unknown[] = [];
    fakeBackend({
      rcon_test: (args) => {
        tested.push(args);
        return { ok: false, message: "The server refused the password", reply: null };
      },
    });
    const user = userEvent.setup();
    renderWithClient(<SettingsView />);
    const port = await screen.findByLabelText("RCON port");
    await user.clear(port);
    await user.type(port, "25580");
    await user.type(screen.getByLabelText(/RCON password/), "wrong");
    await user.click(screen.getByRole("button", { name: "Test" }));
    const result = await screen.findByText("The server refused the password");
    expect(result.id).toBe("rcon-test-result");
    expect(result.getAttribute("role")).toBe("status");
    expect(result.dataset.ok).toBe("false");
    expect(tested).toEqual([{ host: "127.0.0.1", port: 25580, password: "wrong" }]);
  });

  it("sends a password only when one was typed, and shows it as set afterwards", async () => {
    const saved: SettingsUpdate[] = [];
    fakeBackend({
      settings_save: (args) => {
        const update = (args as { update: SettingsUpdate }).update;
        saved.push(update);
        return {
          ...sampleSettings,
          minecraftPlayer: update.minecraftPlayer,
          rconPasswordSet: sampleSettings.rconPasswordSet || update.rconPassword !== undefined,
        };
      },
    });
    const user = userEvent.setup();
    renderWithClient(<SettingsView />);
    await user.type(await screen.findByLabelText(/Minecraft player/), "Steve");
    await user.click(screen.getByRole("button", { name: "Save settings" }));
    await screen.findByText("Saved.");
    expect(saved[0]?.rconPassword).toBeUndefined();
    expect(saved[0]?.minecraftPlayer).toBe("Steve");

    await user.type(screen.getByLabelText(/RCON password/), "s3cret");
    await user.click(screen.getByRole("button", { name: "Save settings" }));
    await waitFor(() => {
      expect(saved).toHaveLength(2);
    });
    expect(saved[1]?.rconPassword).toBe("s3cret");
    expect((await screen.findByText(/set — type to replace/)).id).toBe("rcon-password-state");
    expect(screen.getByLabelText<HTMLInputElement>(/RCON password/).value).toBe("");
  });

  it("shows why a save was refused", async () => {
    fakeBackend({
      settings_save: () => {
        // eslint-disable-next-line @typescript-eslint/only-throw-error
        throw { code: "invalid_input", message: "RCON port: enter the rcon.port" };
      },
    });
    const user = userEvent.setup();
    renderWithClient(<SettingsView />);
    await user.click(await screen.findByRole("button", { name: "Save settings" }));
    expect((await screen.findByRole("alert")).textContent).toBe("RCON port: enter the rcon.port");
  });
});

describe("settings: sound", () => {
  it("lists the output devices, keeps an unplugged saved one, and saves the choice", async () => {
    const saved: SettingsUpdate[] = [];
    fakeBackend({
      settings_get: () => ({ ...sampleSettings, soundDevice: "Old speakers" }),
      settings_save: (args) => {
        const update = (args as { update: SettingsUpdate }).update;
        saved.push(update);
        return { ...sampleSettings, soundDevice: update.soundDevice };
      },
    });
    const user = userEvent.setup();
    renderWithClient(<SettingsView />);
    const select = await screen.findByRole<HTMLSelectElement>("combobox", {
      name: "Sound output device",
    });
    expect(select.id).toBe("sound-device");
    await waitFor(() => {
      expect([...select.options].map((o) => o.text)).toEqual([
        "System default",
        "USB Headset",
        "Old speakers (not connected)",
      ]);
    });
    expect(select.value).toBe("Old speakers");
    await user.selectOptions(select, "USB Headset");
    await user.click(screen.getByRole("button", { name: "Save settings" }));
    await screen.findByText("Saved.");
    expect(saved[0]?.soundDevice).toBe("USB Headset");
  });

  it("shows why the sound plays on the default device", async () => {
    fakeBackend();
    renderWithClient(<SettingsView />);
    await screen.findByRole("combobox", { name: "Sound output device" });
    await pushStatus({
      ...idleStatus,
      audio: "degraded",
      audioDetail: 'The sound device "USB" cannot be used (it is not connected)',
    });
    expect((await screen.findByText(/cannot be used/)).id).toBe("sound-health-detail");
    expect(screen.getByText("Playing on the default device").id).toBe("sound-health");
  });
});

describe("settings: profile", () => {
  it("exports and imports through the native dialogs; cancel does nothing", async () => {
    const exported: unknown[] = [];
    const imported: unknown[] = [];
    let picked: string | null = null;
    fakeBackend({
      "plugin:dialog|save": () => picked,
      "plugin:dialog|open": () => picked,
      profile_export: (args) => {
        exported.push(args);
        return (args as { path: string }).path;
      },
      profile_import_file: (args) => {
        imported.push(args);
        return sampleProfileDoc;
      },
    });
    const user = userEvent.setup();
    renderWithClient(<SettingsView />);
    const exportButton = await screen.findByRole("button", { name: "Export…" });
    await user.click(exportButton);
    await user.click(screen.getByRole("button", { name: "Import…" }));
    await new Promise((r) => setTimeout(r, 20));
    expect(exported).toEqual([]);
    expect(imported).toEqual([]);
    expect(document.getElementById("profile-message")).toBeNull();

    picked = "/home/streamer/my-profile.json";
    await user.click(exportButton);
    expect((await screen.findByText(`Exported to ${picked}`)).id).toBe("profile-message");
    expect(exported).toEqual([{ path: picked }]);
    await user.click(screen.getByRole("button", { name: "Import…" }));
    await screen.findByText(/^Imported \/home\/streamer\/my-profile.json/);
    expect(imported).toEqual([{ path: picked }]);
  });
});
