// Generated from src-tauri/src/ipc.rs. Do not edit by hand.
// Regenerate: UPDATE_BINDINGS=1 cargo test --test ipc
import { invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";

export type ErrorCode = "path" | "invalid_input" | "internal";

export type IpcError = { code: ErrorCode, message: string, };

export type AppInfo = { name: string, version: string, dataDir: string, logDir: string, os: string, arch: string, };

export type ConnectionState = "disconnected" | "connecting" | "connected" | "reconnecting" | "ended";

export type OutputHealth = "not_configured" | "ok" | "degraded" | "down";

export type StatusSnapshot = { connection: ConnectionState, rcon: OutputHealth, audio: OutputHealth, queueDepth: number, };

export const commands = {
  /**
   * Version, platform, and the data and log folders.
   */
  appInfo: (): Promise<AppInfo> => invoke<AppInfo>("app_info"),
  /**
   * The status bar's current snapshot (later changes arrive as `status` events).
   */
  status: (): Promise<StatusSnapshot> => invoke<StatusSnapshot>("status"),
} as const;

export const events = {
  /**
   * Connection, output health or queue depth changed.
   */
  status: (handler: (payload: StatusSnapshot) => void): Promise<UnlistenFn> =>
    listen<StatusSnapshot>("status", (event) => handler(event.payload)),
} as const;
