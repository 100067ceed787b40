import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type SyntheticEvent } from "react";
import {
  commands,
  errorMessage,
  pickExportPath,
  pickImportPath,
  type RconTestResult,
  type SettingsUpdate,
  type SettingsView as Settings,
} from "../../ipc";
import { useStatus } from "../../shared/use-status";
import { ViewHeader } from "../../shared/ViewHeader";
import "./settings.css";

interface Form {
  rconHost: string;
  rconPort: string;
  rconPassword: string;
  minecraftPlayer: string;
  masterVolume: number;
  soundDevice: string;
  signUrl: string;
  signApiKey: string;
  sessionId: string;
  trustSignServer: boolean;
}

function formOf(s: Settings): Form {
  return {
    rconHost: s.rconHost,
    rconPort: String(s.rconPort),
    rconPassword: "",
    minecraftPlayer: s.minecraftPlayer,
    masterVolume: s.masterVolume,
    soundDevice: s.soundDevice,
    signUrl: s.signUrl,
    signApiKey: "",
    sessionId: "",
    trustSignServer: s.trustSignServer,
  };
}

/** The update to send: secrets only when typed (an untouched field keeps the saved one). */
export function updateOf(f: Form): SettingsUpdate {
  return {
    rconHost: f.rconHost.trim(),
    rconPort: Number(f.rconPort),
    minecraftPlayer: f.minecraftPlayer.trim(),
    masterVolume: f.masterVolume,
    soundDevice: f.soundDevice,
    signUrl: f.signUrl.trim(),
    trustSignServer: f.trustSignServer,
    ...(f.rconPassword ? { rconPassword: f.rconPassword } : {}),
    ...(f.signApiKey ? { signApiKey: f.signApiKey } : {}),
    ...(f.sessionId ? { sessionId: f.sessionId } : {}),
  };
}

const HEALTH_TEXT = {
  not_configured: "Not set up",
  ok: "Working",
  degraded: "Starting or reconnecting",
  down: "Not working",
} as const;

function SettingsForm({ settings }: { settings: Settings }) {
  const queryClient = useQueryClient();
  const { status } = useStatus();
  const [form, setForm] = useState<Form>(() => formOf(settings));
  const [test, setTest] = useState<RconTestResult | null>(null);
  const [testing, setTesting] = useState(false);
  const [soundMsg, setSoundMsg] = useState<{ ok: boolean; text: string } | null>(null);
  const devices = useQuery({ queryKey: ["sound-devices"], queryFn: commands.soundDevices });
  // The saved device stays listed while unplugged, so the form never silently changes it.
  const deviceChoices = [...(devices.data ?? [{ name: "", label: "System default" }])];
  if (!deviceChoices.some((d) => d.name === form.soundDevice)) {
    deviceChoices.push({ name: form.soundDevice, label: `${form.soundDevice} (not connected)` });
  }
  const set = (patch: Partial<Form>) => {
    setForm((f) => ({ ...f, ...patch }));
  };

  const save = useMutation({
    mutationFn: (update: SettingsUpdate) => commands.settingsSave({ update }),
    onSuccess: (saved) => {
      queryClient.setQueryData(["settings"], saved);
      // The player lives in the profile: the Mapping draft and its previews must see it.
      void queryClient.invalidateQueries({ queryKey: ["profile"] });
      void queryClient.invalidateQueries({ queryKey: ["template-preview"] });
      setForm(formOf(saved));
    },
  });

  async function onTest() {
    setTesting(true);
    setTest(null);
    try {
      setTest(
        await commands.rconTest({
          host: form.rconHost.trim(),
          port: Number(form.rconPort),
          password: form.rconPassword || null,
        }),
      );
    } catch (e: unknown) {
      setTest({ ok: false, message: errorMessage(e), reply: null });
    } finally {
      setTesting(false);
    }
  }

  function onSubmit(e: SyntheticEvent) {
    e.preventDefault();
    save.mutate(updateOf(form));
  }

  const secretHint = (isSet: boolean) => (isSet ? "set — type to replace" : "not set");

  return (
    <form className="settings-form" noValidate onSubmit={onSubmit} aria-label="Settings">
      <div className="grid-2">
        <section className="panel" aria-label="Minecraft">
          <div className="panel-title">
            <h2>Minecraft</h2>
            <span className="badge">{HEALTH_TEXT[status?.rcon ?? "not_configured"]}</span>
          </div>
          <p className="muted">
            From your server’s <code>server.properties</code>: <code>enable-rcon=true</code>,{" "}
            <code>rcon.port</code> and <code>rcon.password</code>. Without a password, Minecraft
            actions run dry: the queue shows the command without sending it.
          </p>
          <div className="row">
            <label className="field grow">
              <span>RCON host</span>
              <input
                id="rcon-host"
                type="text"
                autoComplete="off"
                spellCheck={false}
                value={form.rconHost}
                onChange={(e) => {
                  set({ rconHost: e.target.value });
                }}
              />
            </label>
            <label className="field">
              <span>RCON port</span>
              <input
                id="rcon-port"
                type="number"
                min={1}
                max={65535}
                value={form.rconPort}
                onChange={(e) => {
                  set({ rconPort: e.target.value });
                }}
              />
            </label>
          </div>
          <label className="field">
            <span>
              RCON password{" "}
              <span className="muted" id="rcon-password-state">
                ({secretHint(settings.rconPasswordSet)})
              </span>
            </span>
            <input
              id="rcon-password"
              type="password"
              autoComplete="new-password"
              placeholder={settings.rconPasswordSet ? "••••••••" : ""}
              value={form.rconPassword}
              onChange={(e) => {
                set({ rconPassword: e.target.value });
              }}
            />
          </label>
          <div className="row">
            <button
              id="rcon-test"
              type="button"
              className="secondary"
              disabled={testing}
              onClick={() => void onTest()}
            >
              {testing ? "Testing…" : "Test"}
            </button>
            <span
              id="rcon-test-result"
              role="status"
              data-ok={test ? String(test.ok) : undefined}
              className={test ? (test.ok ? "ok" : "error") : "muted"}
            >
              {test?.message ?? ""}
            </span>
          </div>
          <label className="field">
            <span>
              Your Minecraft player (for {"{player}"} in commands; empty: the nearest player, @p)
            </span>
            <input
              id="minecraft-player"
              type="text"
              autoComplete="off"
              spellCheck={false}
              placeholder="Steve"
              value={form.minecraftPlayer}
              onChange={(e) => {
                set({ minecraftPlayer: e.target.value });
              }}
            />
          </label>
        </section>

        <section className="panel" aria-label="Sound">
          <div className="panel-title">
            <h2>Sound</h2>
            <span className="badge" id="sound-health">
              {status?.audioDetail && status.audio === "degraded"
                ? "Playing on the default device"
                : HEALTH_TEXT[status?.audio ?? "not_configured"]}
            </span>
          </div>
          {status?.audioDetail && (
            <p className="warning" role="status" id="sound-health-detail">
              {status.audioDetail}
            </p>
          )}
          <label className="field">
            <span>Output device</span>
            <select
              id="sound-device"
              aria-label="Sound output device"
              value={form.soundDevice}
              onChange={(e) => {
                set({ soundDevice: e.target.value });
              }}
            >
              {deviceChoices.map((d) => (
                <option key={d.name} value={d.name}>
                  {d.label}
                </option>
              ))}
            </select>
          </label>
          <label className="field">
            <span>Master volume: {Math.round(form.masterVolume * 100)} %</span>
            <input
              id="master-volume"
              type="range"
              min={0}
              max={2}
              step={0.05}
              value={form.masterVolume}
              onChange={(e) => {
                set({ masterVolume: Number(e.target.value) });
              }}
            />
          </label>
          <div className="row">
            <button
              id="sound-test"
              type="button"
              className="secondary"
              onClick={() => {
                setSoundMsg(null);
                commands.soundTest().then(
                  () => {
                    setSoundMsg({ ok: true, text: "Playing a test chime." });
                  },
                  (e: unknown) => {
                    setSoundMsg({ ok: false, text: errorMessage(e) });
                  },
                );
              }}
            >
              Play a test sound
            </button>
            {soundMsg && (
              <span role="status" className={soundMsg.ok ? "ok" : "error"}>
                {soundMsg.text}
              </span>
            )}
          </div>
        </section>

        <section className="panel" aria-label="TikTok">
          <div className="panel-title">
            <h2>TikTok</h2>
          </div>
          <label className="field">
            <span>Sign server (empty: the default one)</span>
            <input
              id="sign-url"
              type="url"
              placeholder="https://…"
              value={form.signUrl}
              onChange={(e) => {
                set({ signUrl: e.target.value });
              }}
            />
          </label>
          <label className="field">
            <span>
              Sign server API key{" "}
              <span className="muted">({secretHint(settings.signApiKeySet)})</span>
            </span>
            <input
              id="sign-api-key"
              type="password"
              autoComplete="off"
              value={form.signApiKey}
              onChange={(e) => {
                set({ signApiKey: e.target.value });
              }}
            />
          </label>
          <label className="field">
            <span>
              TikTok session id <span className="muted">({secretHint(settings.sessionIdSet)})</span>
            </span>
            <input
              id="session-id"
              type="password"
              autoComplete="off"
              value={form.sessionId}
              onChange={(e) => {
                set({ sessionId: e.target.value });
              }}
            />
          </label>
          <label className="check">
            <input
              id="trust-sign-server"
              type="checkbox"
              checked={form.trustSignServer}
              onChange={(e) => {
                set({ trustSignServer: e.target.checked });
              }}
            />
            <span>
              Send my session id to this sign server (only if you trust whoever runs it: it can act
              as your account)
            </span>
          </label>
        </section>
      </div>
      <div className="save-row">
        <button id="settings-save" type="submit" className="primary" disabled={save.isPending}>
          {save.isPending ? "Saving…" : "Save settings"}
        </button>
        {save.isSuccess && (
          <span role="status" className="ok" id="settings-saved">
            Saved.
          </span>
        )}
        {save.error && (
          <span role="alert" className="error" id="settings-error">
            {errorMessage(save.error)}
          </span>
        )}
      </div>
    </form>
  );
}

function ProfilePanel() {
  const queryClient = useQueryClient();
  const info = useQuery({ queryKey: ["app-info"], queryFn: commands.appInfo });
  const profile = useQuery({ queryKey: ["profile"], queryFn: commands.profileGet });
  const backups = useQuery({ queryKey: ["profile-backups"], queryFn: commands.profileBackups });
  const [msg, setMsg] = useState<{ ok: boolean; text: string } | null>(null);
  const [typedPath, setTypedPath] = useState("");

  const refresh = () => {
    void queryClient.invalidateQueries({ queryKey: ["profile"] });
    void queryClient.invalidateQueries({ queryKey: ["profile-backups"] });
  };
  const run = (p: Promise<string>) => {
    setMsg(null);
    p.then(
      (text) => {
        setMsg({ ok: true, text });
        refresh();
      },
      (e: unknown) => {
        setMsg({ ok: false, text: errorMessage(e) });
      },
    );
  };

  const exportTo = (path: string) => {
    run(commands.profileExport({ path }).then((p) => `Exported to ${p}`));
  };
  const importFrom = (path: string) => {
    run(
      commands
        .profileImportFile({ path })
        .then(() => `Imported ${path}. The running engine uses it now.`),
    );
  };
  // The native dialogs pick the file; cancelling them (null) does nothing at all.
  const onExport = async () => {
    try {
      const path = await pickExportPath();
      if (path) exportTo(path);
    } catch (e: unknown) {
      setMsg({ ok: false, text: errorMessage(e) });
    }
  };
  const onImport = async () => {
    try {
      const path = await pickImportPath();
      if (path) importFrom(path);
    } catch (e: unknown) {
      setMsg({ ok: false, text: errorMessage(e) });
    }
  };

  return (
    <section className="panel" aria-label="Profile">
      <div className="panel-title">
        <h2>Profile</h2>
      </div>
      <p className="muted">
        Your rules and actions. Exports never contain passwords or keys. Every save keeps the
        previous version as a backup.
      </p>
      <div className="row">
        <button
          id="profile-export"
          type="button"
          className="secondary"
          onClick={() => {
            void onExport();
          }}
        >
          Export…
        </button>
        <button
          id="profile-import"
          type="button"
          className="secondary"
          onClick={() => {
            void onImport();
          }}
        >
          Import…
        </button>
      </div>
      <details className="advanced" id="profile-typed-path">
        <summary>Type a file path instead</summary>
        <label className="field">
          <span>Full path of the profile file</span>
          <input
            id="profile-export-path"
            type="text"
            spellCheck={false}
            placeholder="/home/you/Documents/my-profile.json"
            value={typedPath}
            onChange={(e) => {
              setTypedPath(e.target.value);
            }}
          />
        </label>
        <div className="row">
          <button
            id="profile-export-typed"
            type="button"
            className="secondary small"
            disabled={typedPath.trim() === ""}
            onClick={() => {
              exportTo(typedPath.trim());
            }}
          >
            Export to this path
          </button>
          <button
            id="profile-import-typed"
            type="button"
            className="secondary small"
            disabled={typedPath.trim() === ""}
            onClick={() => {
              importFrom(typedPath.trim());
            }}
          >
            Import this file
          </button>
        </div>
      </details>
      {msg && (
        <p role="status" id="profile-message" className={msg.ok ? "ok" : "error"}>
          {msg.text}
        </p>
      )}
      <h3 className="sub">Backups</h3>
      {backups.data?.length === 0 && <p className="muted">No backups yet.</p>}
      <ul className="backups" id="profile-backups">
        {(backups.data ?? []).map((b) => (
          <li key={b.n}>
            <span>
              {new Date(b.modifiedMs).toLocaleString()} · {b.rules} rules, {b.actions} actions
            </span>
            <button
              type="button"
              className="secondary small"
              aria-label={`Restore the backup from ${new Date(b.modifiedMs).toLocaleString()}`}
              onClick={() => {
                run(commands.profileRestore({ n: b.n }).then(() => "Restored."));
              }}
            >
              Restore
            </button>
          </li>
        ))}
      </ul>
      <h3 className="sub">Where the files are</h3>
      <dl className="facts">
        <dt>Profile</dt>
        <dd id="profile-path" className="path">
          {profile.data?.path ?? "…"}
        </dd>
        <dt>Data folder</dt>
        <dd id="app-data-dir" className="path">
          {info.data?.dataDir ?? "…"}
        </dd>
        <dt>Log folder</dt>
        <dd id="app-log-dir" className="path">
          {info.data?.logDir ?? "…"}
        </dd>
        <dt>Version</dt>
        <dd id="app-version">{info.data?.version ?? "…"}</dd>
        <dt>Platform</dt>
        <dd id="app-platform">{info.data ? `${info.data.os} / ${info.data.arch}` : "…"}</dd>
      </dl>
      {info.error && (
        <p className="error" role="alert">
          {errorMessage(info.error)}
        </p>
      )}
    </section>
  );
}

export function SettingsView() {
  const settings = useQuery({ queryKey: ["settings"], queryFn: commands.settingsGet });
  return (
    <>
      <ViewHeader title="Settings" subtitle="Minecraft RCON, sound, TikTok and your profile." />
      {settings.error && (
        <p className="error" role="alert">
          {errorMessage(settings.error)}
        </p>
      )}
      {!settings.data && !settings.error && <p className="muted">Loading…</p>}
      {/* The form starts from the first answer; a save updates it through its mutation. */}
      {settings.data && <SettingsForm settings={settings.data} />}
      <ProfilePanel />
    </>
  );
}
