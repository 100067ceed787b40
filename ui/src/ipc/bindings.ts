// Generated from src-tauri/src/ipc.rs. Do not edit by hand.
// Regenerate: UPDATE_BINDINGS=1 cargo test --test ipc
import { invoke } from "@tauri-apps/api/core";

export type ErrorCode = "path" | "invalid_input" | "internal";

export type IpcError = { code: ErrorCode, message: string, };

export type AppInfo = { name: string, version: string, dataDir: string, logDir: string, os: string, arch: string, };

export type ConnectionState = "disconnected" | "connecting" | "connected" | "reconnecting" | "ended";

export type OutputHealth = "not_configured" | "ok" | "degraded" | "down";

export type RoomStats = { 
/**
 * From room info, when TikTok gave one (untrusted text).
 */
title: string | null, 
/**
 * Watching now (the room user-seq messages).
 */
viewers: number | null, 
/**
 * The room's like total (each like message carries it).
 */
likes: number | null, };

export type StatusSnapshot = { connection: ConnectionState, 
/**
 * The room, or why the connection failed or is reconnecting.
 */
connectionDetail: string | null, rcon: OutputHealth, audio: OutputHealth, 
/**
 * Why the sound output is not as set up: the chosen device is gone and the system
 * default plays instead, or there is no device at all.
 */
audioDetail?: string, queueDepth: number, 
/**
 * The connected room's title, viewers and likes (kept after the stream ends, cleared by
 * the next connection).
 */
room: RoomStats, 
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

export type LaneView = { name: string, paused: boolean, waiting: number, running: number, done: number, failed: number, dropped: number, skipped: number, };

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
 * Sound files it plays.
 */
sounds: Array<string>, 
/**
 * The viewer's @handle (untrusted text).
 */
user: string | null, 
/**
 * What triggered it, for people.
 */
event: string, queuedMs: number, 
/**
 * The item this one runs again, if it is a re-run.
 */
rerunOf: number | null, 
/**
 * Its commands went nowhere: no RCON server is set up, so the Minecraft lane runs dry
 * (`detail` says so). Not a failure.
 */
dryRun: boolean, };

export type LaneOp = "pause" | "resume" | "skip" | "clear";

export type Count = { name: string, count: number, };

export type GifterGift = { name: string, imageUrl: string | null, count: number, };

export type GifterView = { 
/**
 * The @handle and display name (untrusted text).
 */
username: string, nickname: string, diamonds: number, units: number, 
/**
 * What they sent, most units first.
 */
gifts: Array<GifterGift>, };

export type StatsView = { 
/**
 * Events received per kind.
 */
events: Array<Count>, giftUnits: number, diamonds: number, 
/**
 * The biggest gifters of this app run, with the gifts they sent.
 */
topGifters: Array<GifterView>, 
/**
 * Where the per-minute series start (wall-clock ms of the first minute), if any gift
 * came yet.
 */
minuteStartMs: number | null, 
/**
 * Settled gift units per minute, oldest first.
 */
giftsPerMinute: Array<number>, 
/**
 * Coins of those gifts per minute.
 */
coinsPerMinute: Array<number>, 
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

export type GiftInfo = { id: number, 
/**
 * Untrusted text from the stream.
 */
name: string, imageUrl: string | null, 
/**
 * Units settled by this streak.
 */
count: number, 
/**
 * Coins for all of them.
 */
coins: number, };

export type LogRow = { 
/**
 * Increases by one per row of this app run.
 */
id: number, atMs: number, 
/**
 * `gift`, `chat`, `like`, `follow`, `share`, `join`, `subscribe`, `viewers`, `stream`,
 * `connection`, `error` or `warning`.
 */
kind: string, 
/**
 * The viewer's display name (untrusted text: the UI shows it as text only).
 */
user: string | null, 
/**
 * The viewer's @handle.
 */
handle: string | null, text: string, gift: GiftInfo | null, 
/**
 * What a chat message said.
 */
comment: string | null, 
/**
 * Replayed at connect from before this session: shown, never acted on.
 */
history: boolean, 
/**
 * Whether the row has a trace (the engine handles this kind of event).
 */
traced: boolean, 
/**
 * Rules that fired for it so far.
 */
fired: number, };

export type LogQuery = { 
/**
 * Row kinds to show; empty: all.
 */
kinds: Array<string>, 
/**
 * Part of the viewer's name or @handle, any case; empty: everyone.
 */
search: string, 
/**
 * Index into the matching rows, oldest first.
 */
offset: number, limit: number, 
/**
 * Count the matching rows newer than this id (the "N new" pill).
 */
afterId?: number, 
/**
 * The newest `limit` matching rows, whatever `offset` says (the page says where they
 * start): a view following the live end gets its count and rows in one request.
 */
tail?: boolean, };

export type LogPage = { 
/**
 * Matching rows in the ring.
 */
total: number, offset: number, rows: Array<LogRow>, 
/**
 * Matching rows newer than `afterId` (0 without it).
 */
newer: number, 
/**
 * The newest row id in the ring (0 when empty).
 */
lastId: number, };

export type LogCursor = { count: number, firstId: number, lastId: number, 
/**
 * Rows added since the previous batch.
 */
added: number, };

export type TraceMatch = { rule: string, runs: number, };

export type TraceSkip = { rule: string | null, reason: string, };

export type TraceItem = { id: number, lane: string, rule: string, status: string, 
/**
 * Why it failed or was dropped.
 */
detail: string | null, commands: Array<string>, sounds: Array<string>, 
/**
 * The RCON server's replies and sounds played, in step order.
 */
outputs: Array<string>, };

export type TraceView = { row: LogRow, 
/**
 * One sentence: what happened overall.
 */
verdict: string, matches: Array<TraceMatch>, skips: Array<TraceSkip>, items: Array<TraceItem>, };

export type FeedBatch = { 
/**
 * One more than the previous batch's.
 */
seq: number, 
/**
 * The queue was rebuilt (updates were missed): `items` is the whole list, replace it.
 */
reset: boolean, log: LogCursor, 
/**
 * Some row's trace changed (open traces should be fetched again).
 */
tracesChanged: boolean, 
/**
 * Changed queue items, latest state only (all items when `reset`).
 */
items: Array<QueueItemView>, 
/**
 * Items no longer shown.
 */
removedItems: Array<number>, 
/**
 * Every lane, when any counter changed.
 */
lanes: Array<LaneView> | null, status: StatusSnapshot | null, 
/**
 * The stats changed (fetch `session_stats` again).
 */
statsChanged: boolean, 
/**
 * Engine updates this window's feed could not keep up with, in total.
 */
missedUpdates: number, };

export type FeedSnapshot = { seq: number, log: LogCursor, items: Array<QueueItemView>, lanes: Array<LaneView>, status: StatusSnapshot, missedUpdates: number, };

export type ExportFormat = "json_lines" | "csv";

export type ProfileDoc = { 
/**
 * The profile, pretty JSON, secrets removed.
 */
json: string, 
/**
 * Where the file is.
 */
path: string, 
/**
 * Set when the file on disk is broken and the last good copy is shown instead.
 */
problem: string | null, };

export type BackupView = { 
/**
 * 1 = the newest.
 */
n: number, path: string, 
/**
 * When it was written, in milliseconds since the Unix epoch.
 */
modifiedMs: number, rules: number, actions: number, };

export type TemplatePreview = { 
/**
 * The command exactly as it would be sent for the sample viewer.
 */
command: string | null, bytes: number, truncated: boolean, 
/**
 * The placeholders it uses, in order.
 */
placeholders: Array<string>, 
/**
 * Why it cannot be used, in plain words.
 */
error: string | null, 
/**
 * The sample viewer's display name (hostile on purpose).
 */
sampleUser: string, };

export type SettingsView = { rconHost: string, rconPort: number, rconPasswordSet: boolean, minecraftPlayer: string, masterVolume: number, soundDevice: string, signUrl: string, signApiKeySet: boolean, sessionIdSet: boolean, trustSignServer: boolean, lastTarget: string, };

export type SettingsUpdate = { rconHost: string, rconPort: number, rconPassword?: string, minecraftPlayer: string, masterVolume: number, soundDevice: string, signUrl: string, signApiKey?: string, sessionId?: string, trustSignServer: boolean, };

export type RconTestResult = { ok: boolean, message: string, 
/**
 * The server's raw reply to `list`, when it answered.
 */
reply: string | null, };

export type DemoView = { running: boolean, 
/**
 * The simulator's address (loopback).
 */
url: string | null, 
/**
 * The @user to connect to.
 */
target: string, };

export type SimulateRequest = { "kind": "gift", giftId: number, name: string, coins: number, count: number, streak: boolean, } | { "kind": "follow" } | { "kind": "share" } | { "kind": "join" } | { "kind": "subscribe" } | { "kind": "likes", count: number, total: number, } | { "kind": "chat", text: string, };

export type SoundDeviceView = { 
/**
 * What is saved in the settings; empty: the system default.
 */
name: string, 
/**
 * What the list shows.
 */
label: string, };

export const commands = {
  /**
   * Version, platform, and the data and log folders.
   */
  appInfo: (): Promise<AppInfo> => invoke<AppInfo>("app_info"),
  /**
   * The status bar's current snapshot (later changes arrive in feed batches).
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
   * Queue a failed, interrupted, skipped or dropped item again; returns the new id.
   */
  queueRerun: (args: { id: number }): Promise<number> => invoke<number>("queue_rerun", args),
  /**
   * Everything the window shows, as of batch `seq` (on load, or after a missed batch).
   */
  feedSnapshot: (): Promise<FeedSnapshot> => invoke<FeedSnapshot>("feed_snapshot"),
  /**
   * The batch after `after`, once it is made (at most 10 a second; null after 25 s without one). Asking says batch `after` is applied and painted: a busy window gets fewer, larger batches.
   */
  feedNext: (args: { after: number }): Promise<FeedBatch | null> => invoke<FeedBatch | null>("feed_next", args),
  /**
   * One page of the session log (filtered), oldest first.
   */
  logPage: (args: { query: LogQuery }): Promise<LogPage> => invoke<LogPage>("log_page", args),
  /**
   * What the engine did with one log row.
   */
  logTrace: (args: { id: number }): Promise<TraceView | null> => invoke<TraceView | null>("log_trace", args),
  /**
   * Writes the session log to the data folder; returns the file's path.
   */
  logExport: (args: { format: ExportFormat }): Promise<string> => invoke<string>("log_export", args),
  /**
   * This session's totals: events, gifts, diamonds, top gifters, actions.
   */
  sessionStats: (): Promise<StatsView> => invoke<StatsView>("session_stats"),
  /**
   * The gifts to map: the room's (cached), else the built-in list.
   */
  giftCatalog: (): Promise<CatalogView> => invoke<CatalogView>("gift_catalog"),
  /**
   * The profile as JSON (secrets removed), its path, and a problem with the file if any.
   */
  profileGet: (): Promise<ProfileDoc> => invoke<ProfileDoc>("profile_get"),
  /**
   * Saves rules, actions and lanes (checked by the engine; a backup is kept) and applies them to the running engine; RCON, sound and sign settings stay as saved in Settings.
   */
  profileSave: (args: { json: string }): Promise<ProfileDoc> => invoke<ProfileDoc>("profile_save", args),
  /**
   * Replaces the profile with an imported file's text (secrets in it are ignored).
   */
  profileImport: (args: { json: string }): Promise<ProfileDoc> => invoke<ProfileDoc>("profile_import", args),
  /**
   * Imports the profile file at a full path (the file the open dialog picked); secrets in it are ignored.
   */
  profileImportFile: (args: { path: string }): Promise<ProfileDoc> => invoke<ProfileDoc>("profile_import_file", args),
  /**
   * Writes the profile without secrets to `path`, or to the data folder's exports; returns where.
   */
  profileExport: (args: { path: string | null }): Promise<string> => invoke<string>("profile_export", args),
  /**
   * The automatic backups, newest first.
   */
  profileBackups: (): Promise<Array<BackupView>> => invoke<Array<BackupView>>("profile_backups"),
  /**
   * Restores backup `n` (the current profile becomes a backup itself).
   */
  profileRestore: (args: { n: number }): Promise<ProfileDoc> => invoke<ProfileDoc>("profile_restore", args),
  /**
   * Reads the profile file again and applies it to the running engine.
   */
  profileReload: (): Promise<ProfileDoc> => invoke<ProfileDoc>("profile_reload"),
  /**
   * A command template rendered for a hostile sample viewer.
   */
  templatePreview: (args: { template: string }): Promise<TemplatePreview> => invoke<TemplatePreview>("template_preview", args),
  /**
   * Settings (secrets only as set / not set).
   */
  settingsGet: (): Promise<SettingsView> => invoke<SettingsView>("settings_get"),
  /**
   * Saves the settings and points the engine at the new RCON target.
   */
  settingsSave: (args: { update: SettingsUpdate }): Promise<SettingsView> => invoke<SettingsView>("settings_save", args),
  /**
   * Connects to RCON with these values (empty password: the saved one) and runs `list`.
   */
  rconTest: (args: { host: string; port: number; password: string | null }): Promise<RconTestResult> => invoke<RconTestResult>("rcon_test", args),
  /**
   * Starts the built-in demo stream and connects to it.
   */
  demoStart: (): Promise<DemoView> => invoke<DemoView>("demo_start"),
  /**
   * Stops the demo stream.
   */
  demoStop: (): Promise<DemoView> => invoke<DemoView>("demo_stop"),
  /**
   * Whether the demo stream runs.
   */
  demoStatus: (): Promise<DemoView> => invoke<DemoView>("demo_status"),
  /**
   * Plays a sound file (relative: from the profile's sound folder) at a volume (0–2).
   */
  soundPlay: (args: { file: string; volume: number }): Promise<null> => invoke<null>("sound_play", args),
  /**
   * Copies a sound file into the sound folder; returns the name to use in an action.
   */
  soundImport: (args: { path: string }): Promise<string> => invoke<string>("sound_import", args),
  /**
   * Plays a short chime on the output device.
   */
  soundTest: (): Promise<null> => invoke<null>("sound_test"),
  /**
   * The output devices: "System default" (saved as an empty name), then the host's by name.
   */
  soundDevices: (): Promise<Array<SoundDeviceView>> => invoke<Array<SoundDeviceView>>("sound_devices"),
  /**
   * Fires a simulated event through the real pipeline; returns the messages sent.
   */
  simulate: (args: { request: SimulateRequest }): Promise<number> => invoke<number>("simulate", args),
  /**
   * Fires an event matching a saved rule (marked as a test).
   */
  ruleTestFire: (args: { ruleId: string }): Promise<number> => invoke<number>("rule_test_fire", args),
} as const;
