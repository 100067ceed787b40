import { commands, errorMessage, type AppInfo } from "../../ipc";
import { Coming } from "../../shared/Coming";
import { useAsync } from "../../shared/use-async";
import { ViewHeader } from "../../shared/ViewHeader";

function AboutPanel() {
  const info = useAsync<AppInfo>(commands.appInfo);
  return (
    <section className="panel" aria-label="About this app">
      <div className="panel-title">
        <h2>About</h2>
      </div>
      {info.status === "loading" && <p className="muted">Loading…</p>}
      {info.status === "error" && (
        <p className="error" role="alert">
          {errorMessage(info.error)}
        </p>
      )}
      {info.status === "ready" && (
        <dl className="facts">
          <dt>Version</dt>
          <dd id="app-version">{info.value.version}</dd>
          <dt>Platform</dt>
          <dd id="app-platform">
            {info.value.os} / {info.value.arch}
          </dd>
          <dt>Data folder</dt>
          <dd id="app-data-dir" className="path">
            {info.value.dataDir}
          </dd>
          <dt>Log folder</dt>
          <dd id="app-log-dir" className="path">
            {info.value.logDir}
          </dd>
        </dl>
      )}
    </section>
  );
}

export function SettingsView() {
  return (
    <>
      <ViewHeader title="Settings" subtitle="Minecraft RCON, sound output and the app itself." />
      <div className="grid-2">
        <Coming title="Minecraft RCON">Server address, password and a connection test.</Coming>
        <Coming title="Sound">Output device, master volume and simultaneous-sound limit.</Coming>
      </div>
      <AboutPanel />
    </>
  );
}
