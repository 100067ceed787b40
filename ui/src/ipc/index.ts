// The only module that talks to the backend. Features import from here, never from
// @tauri-apps/* directly, so tests can replace the whole backend in one place.
import { getCurrentWebview } from "@tauri-apps/api/webview";
import { open as openDialog, save as saveDialog } from "@tauri-apps/plugin-dialog";
import type { IpcError } from "./bindings";

export { commands } from "./bindings";
export type * from "./bindings";

/** True when an unknown rejection value has the backend's `{code, message}` shape. */
export function isIpcError(value: unknown): value is IpcError {
  return (
    typeof value === "object" &&
    value !== null &&
    "code" in value &&
    "message" in value &&
    typeof value.code === "string" &&
    typeof value.message === "string"
  );
}

/** A message fit to show the streamer, whatever the backend (or the bridge) rejected with. */
export function errorMessage(value: unknown): string {
  if (isIpcError(value)) return value.message;
  if (value instanceof Error) return value.message;
  if (typeof value === "string") return value;
  return "Something went wrong talking to the LiveTrigger backend.";
}

/** Calls `handler` with the paths of files dropped onto the window from the desktop. Returns
 * the unsubscribe function. Outside the app (UI tests) there is no window to listen to. */
export function onFileDrop(handler: (paths: string[]) => void): () => void {
  let stop: (() => void) | null = null;
  let done = false;
  try {
    getCurrentWebview()
      .onDragDropEvent((event) => {
        if (event.payload.type === "drop") handler(event.payload.paths);
      })
      .then(
        (unlisten) => {
          if (done) unlisten();
          else stop = unlisten;
        },
        () => undefined,
      );
  } catch {
    // No Tauri window (tests): nothing to listen to.
  }
  return () => {
    done = true;
    stop?.();
  };
}

const PROFILE_FILTER = [{ name: "LiveTrigger profile", extensions: ["json"] }];

/** The system's save dialog for a profile export: the chosen path, or null when cancelled. */
export function pickExportPath(): Promise<string | null> {
  return saveDialog({
    title: "Export the LiveTrigger profile",
    defaultPath: "livetrigger-profile.json",
    filters: PROFILE_FILTER,
  });
}

/** The system's open dialog for a profile import: the chosen path, or null when cancelled. */
export function pickImportPath(): Promise<string | null> {
  return openDialog({
    title: "Import a LiveTrigger profile",
    multiple: false,
    directory: false,
    filters: PROFILE_FILTER,
  });
}
