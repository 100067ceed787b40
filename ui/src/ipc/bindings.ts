// Generated from src-tauri/src/ipc.rs. Do not edit by hand.
// Regenerate: UPDATE_BINDINGS=1 cargo test --test ipc
import { invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";

export type ErrorCode = "path" | "invalid_input" | "internal";

export type IpcError = { code: ErrorCode, message: string, };

export type AppInfo = { name: string, version: string, dataDir: string, logDir: string, os: string, arch: string, };

export type ConnectionState = "disconnected" | "connecting" | "connected" | "reconnecting" | "ended";

export type OutputHealth = "not_configured" | "ok" | "degraded" | "down";

export type StatusSnapshot = { connection: ConnectionState, 
/**
 * The room, or why the connection failed or is reconnecting.
 */
connectionDetail: string | null, rcon: OutputHealth, audio: OutputHealth, queueDepth: number, 
/**
 * Set once a part of the engine (handler, a lane, RCON, sound) failed internally and
 * restarted: how many times, and the last one. Triggers may have been lost; the log
 * file has the details.
 */
fault?: string, };

export type ConnectRequest = { 
/**
 * `@user`, a live link or a room id.
 */
target: string, 
/**
 * An Euler-compatible sign server (empty: the default one).
 */
signUrl?: string, 
/**
 * The sign server's API key, if it needs one.
 */
apiKey?: string, 
/**
 * TikTok's web base URL (empty: tiktok.com). Pointing it at a local simulator is how the
 * app is tested without the internet.
 */
webUrl?: string, };

export type LogEntry = { 
/**
 * Increases by one per entry of this app run.
 */
seq: number, 
/**
 * `gift`, `chat`, `like`, `follow`, `share`, `join`, `subscribe`, `viewers`, `stream`,
 * `connection` or `error`.
 */
kind: string, 
/**
 * The viewer's display name (untrusted text: the UI shows it as text only).
 */
user: string | null, 
/**
 * The viewer's @handle.
 */
handle: string | null, text: string, };

export type LaneView = { name: string, paused: boolean, waiting: number, running: number, done: number, failed: number, dropped: number, };

export type QueueItemView = { 
/**
 * Item ids are small counters of this data folder (safe as JS numbers).
 */
id: number, lane: string, rule: string, 
/**
 * queued, running, done, failed, dropped, skipped or interrupted.
 */
status: string, 
/**
 * Why it failed or was dropped; "may have run" when that is possible.
 */
detail: string | null, commands: Array<string>, 
/**
 * The viewer's @handle (untrusted text).
 */
user: string | null, };

export type LaneOp = "pause" | "resume" | "skip" | "clear";

export type Count = { name: string, count: number, };

export type GifterView = { 
/**
 * The @handle and display name (untrusted text).
 */
username: string, nickname: string, diamonds: number, units: number, };

export type StatsView = { 
/**
 * Events received per kind.
 */
events: Array<Count>, giftUnits: number, diamonds: number, topGifters: Array<GifterView>, 
/**
 * Settled gift units per minute since the session started, oldest first.
 */
giftsPerMinute: Array<number>, 
/**
 * Queue items per final status.
 */
items: Array<Count>, };

export type GiftView = { 
/**
 * Gift ids are small numbers (safe in JS).
 */
id: number, name: string, diamondCount: number, imageUrl: string | null, streakable: boolean, };

export type CatalogSource = "room" | "builtin";

export type CatalogView = { source: CatalogSource, gifts: Array<GiftView>, };

export const commands = {
  /**
   * Version, platform, and the data and log folders.
   */
  appInfo: (): Promise<AppInfo> => invoke<AppInfo>("app_info"),
  /**
   * The status bar's current snapshot (later changes arrive as `status` events).
   */
  status: (): Promise<StatusSnapshot> => invoke<StatusSnapshot>("status"),
  /**
   * Connects to a TikTok LIVE (stopping a running connection first).
   */
  liveConnect: (args: { request: ConnectRequest }): Promise<null> => invoke<null>("live_connect", args),
  /**
   * Stops the running connection, if any.
   */
  liveDisconnect: (): Promise<null> => invoke<null>("live_disconnect"),
  /**
   * The action lanes (starts the trigger engine if needed).
   */
  queueLanes: (): Promise<Array<LaneView>> => invoke<Array<LaneView>>("queue_lanes"),
  /**
   * Pause, resume, skip the running item of, or clear one lane.
   */
  laneControl: (args: { lane: string; op: LaneOp }): Promise<Array<LaneView>> => invoke<Array<LaneView>>("lane_control", args),
  /**
   * The panic button: clear and pause every lane.
   */
  queuePanic: (): Promise<Array<LaneView>> => invoke<Array<LaneView>>("queue_panic"),
  /**
   * Resume every lane.
   */
  queueResumeAll: (): Promise<Array<LaneView>> => invoke<Array<LaneView>>("queue_resume_all"),
  /**
   * This session's totals: events, gifts, diamonds, top gifters, actions.
   */
  sessionStats: (): Promise<StatsView> => invoke<StatsView>("session_stats"),
  /**
   * The gifts to map: the room's (cached), else the built-in list.
   */
  giftCatalog: (): Promise<CatalogView> => invoke<CatalogView>("gift_catalog"),
} as const;

export const events = {
  /**
   * Connection, output health or queue depth changed.
   */
  status: (handler: (payload: StatusSnapshot) => void): Promise<UnlistenFn> =>
    listen<StatusSnapshot>("status", (event) => handler(event.payload)),
  /**
   * One line of the live event log.
   */
  log: (handler: (payload: LogEntry) => void): Promise<UnlistenFn> =>
    listen<LogEntry>("log", (event) => handler(event.payload)),
  /**
   * A queue item changed state.
   */
  queueItem: (handler: (payload: QueueItemView) => void): Promise<UnlistenFn> =>
    listen<QueueItemView>("queue-item", (event) => handler(event.payload)),
} as const;
