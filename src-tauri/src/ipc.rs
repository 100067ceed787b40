//! The one list of everything the UI and the backend say to each other.
//!
//! `ipc!` below turns that list into (1) the Tauri invoke handler and (2) the TypeScript module
//! `ui/src/ipc/bindings.ts`. The test `src-tauri/tests/ipc.rs` fails when the committed
//! TypeScript differs from what this list generates, so the UI can never call a command or read
//! a reply with a stale shape. There are no events: what the backend pushes, the window pulls
//! with `feed_next` (see `feed`), so nothing is delivered by evaluating scripts in the page.

use tauri::Runtime;
use ts_rs::{Config, TS};

use crate::commands::AppInfo;
use crate::error::{ErrorCode, IpcError};
use crate::feed::log::{
    GiftInfo, LogCursor, LogPage, LogQuery, LogRow, TraceItem, TraceMatch, TraceSkip, TraceView,
};
use crate::feed::{ExportFormat, FeedBatch, FeedSnapshot, GifterGift, GifterView};
use crate::gifts::{CatalogSource, CatalogView, GiftView};
use crate::live::ConnectRequest;
use crate::queue::{LaneOp, LaneView, QueueItemView};
use crate::setup::demo::DemoView;
use crate::setup::profile::{BackupView, ProfileDoc, TemplatePreview};
use crate::setup::settings::{RconTestResult, SettingsUpdate, SettingsView};
use crate::setup::simulate::SimulateRequest;
use crate::setup::sound::SoundDeviceView;
use crate::stats::{Count, StatsView};
use crate::status::{ConnectionState, OutputHealth, RoomStats, StatusSnapshot};

/// Where the generated TypeScript lives, relative to the repository root.
pub const BINDINGS_PATH: &str = "ui/src/ipc/bindings.ts";

macro_rules! ipc {
    (
        commands { $( $(#[doc = $cdoc:literal])* fn $module:ident :: $cmd:ident ( $( $arg:ident : $argty:ty ),* ) -> $ret:ty; )* }
        types [ $( $ty:ty ),* $(,)? ]
    ) => {
        /// The invoke handler with every command of the list.
        pub fn handler<R: Runtime>() -> impl Fn(tauri::ipc::Invoke<R>) -> bool + Send + Sync + 'static {
            tauri::generate_handler![ $( crate::$module::$cmd ),* ]
        }

        /// The TypeScript module generated from this list.
        pub fn typescript() -> String {
            let cfg = Config::new().with_large_int("string");
            let mut out = String::new();
            out.push_str(HEADER);
            $( out.push_str(&format!("export {}\n\n", <$ty as TS>::decl(&cfg))); )*
            out.push_str("export const commands = {\n");
            $(
                let docs: &[&str] = &[$($cdoc),*];
                push_doc(&mut out, docs);
                let args: &[(&str, String)] = &[ $( (stringify!($arg), <$argty as TS>::name(&cfg)) ),* ];
                out.push_str(&command_ts(stringify!($cmd), args, &<$ret as TS>::name(&cfg)));
            )*
            out.push_str("} as const;\n");
            out
        }
    };
}

ipc! {
    commands {
        /// Version, platform, and the data and log folders.
        fn commands::app_info() -> AppInfo;
        /// The status bar's current snapshot (later changes arrive in feed batches).
        fn commands::status() -> StatusSnapshot;
        /// Connects to a TikTok LIVE (stopping a running connection first).
        fn live::live_connect(request: ConnectRequest) -> ();
        /// Stops the running connection, if any.
        fn live::live_disconnect() -> ();
        /// The action lanes (starts the trigger engine if needed).
        fn queue::queue_lanes() -> Vec<LaneView>;
        /// Pause, resume, skip the running item of, or clear one lane.
        fn queue::lane_control(lane: String, op: LaneOp) -> Vec<LaneView>;
        /// The panic button: clear and pause every lane.
        fn queue::queue_panic() -> Vec<LaneView>;
        /// Resume every lane.
        fn queue::queue_resume_all() -> Vec<LaneView>;
        /// Queue a failed, interrupted, skipped or dropped item again; returns the new id.
        fn queue::queue_rerun(id: u32) -> u32;
        /// Everything the window shows, as of batch `seq` (on load, or after a missed batch).
        fn feed::feed_snapshot() -> FeedSnapshot;
        /// The batch after `after`, once it is made (at most 10 a second; null after 25 s without one). Asking says batch `after` is applied and painted: a busy window gets fewer, larger batches.
        fn feed::feed_next(after: u32) -> Option<FeedBatch>;
        /// One page of the session log (filtered), oldest first.
        fn feed::log_page(query: LogQuery) -> LogPage;
        /// What the engine did with one log row.
        fn feed::log_trace(id: u32) -> Option<TraceView>;
        /// Writes the session log to the data folder; returns the file's path.
        fn feed::log_export(format: ExportFormat) -> String;
        /// This session's totals: events, gifts, diamonds, top gifters, actions.
        fn stats::session_stats() -> StatsView;
        /// The gifts to map: the room's (cached), else the built-in list.
        fn gifts::gift_catalog() -> CatalogView;
        /// The profile as JSON (secrets removed), its path, and a problem with the file if any.
        fn setup_profile::profile_get() -> ProfileDoc;
        /// Saves rules, actions and lanes (checked by the engine; a backup is kept) and applies them to the running engine; RCON, sound and sign settings stay as saved in Settings.
        fn setup_profile::profile_save(json: String) -> ProfileDoc;
        /// Replaces the profile with an imported file's text (secrets in it are ignored).
        fn setup_profile::profile_import(json: String) -> ProfileDoc;
        /// Imports the profile file at a full path (the file the open dialog picked); secrets in it are ignored.
        fn setup_profile::profile_import_file(path: String) -> ProfileDoc;
        /// Writes the profile without secrets to `path`, or to the data folder's exports; returns where.
        fn setup_profile::profile_export(path: Option<String>) -> String;
        /// The automatic backups, newest first.
        fn setup_profile::profile_backups() -> Vec<BackupView>;
        /// Restores backup `n` (the current profile becomes a backup itself).
        fn setup_profile::profile_restore(n: u32) -> ProfileDoc;
        /// Reads the profile file again and applies it to the running engine.
        fn setup_profile::profile_reload() -> ProfileDoc;
        /// A command template rendered for a hostile sample viewer.
        fn setup_profile::template_preview(template: String) -> TemplatePreview;
        /// Settings (secrets only as set / not set).
        fn setup_settings::settings_get() -> SettingsView;
        /// Saves the settings and points the engine at the new RCON target.
        fn setup_settings::settings_save(update: SettingsUpdate) -> SettingsView;
        /// Connects to RCON with these values (empty password: the saved one) and runs `list`.
        fn setup_settings::rcon_test(host: String, port: u16, password: Option<String>) -> RconTestResult;
        /// Starts the built-in demo stream and connects to it.
        fn setup_demo::demo_start() -> DemoView;
        /// Stops the demo stream.
        fn setup_demo::demo_stop() -> DemoView;
        /// Whether the demo stream runs.
        fn setup_demo::demo_status() -> DemoView;
        /// Plays a sound file (relative: from the profile's sound folder) at a volume (0–2).
        fn setup_sound::sound_play(file: String, volume: f32) -> ();
        /// Copies a sound file into the sound folder; returns the name to use in an action.
        fn setup_sound::sound_import(path: String) -> String;
        /// Plays a short chime on the output device.
        fn setup_sound::sound_test() -> ();
        /// The output devices: "System default" (saved as an empty name), then the host's by name.
        fn setup_sound::sound_devices() -> Vec<SoundDeviceView>;
        /// Fires a simulated event through the real pipeline; returns the messages sent.
        fn setup_simulate::simulate(request: SimulateRequest) -> u32;
        /// Fires an event matching a saved rule (marked as a test).
        fn setup_simulate::rule_test_fire(rule_id: String) -> u32;
    }
    types [ErrorCode, IpcError, AppInfo, ConnectionState, OutputHealth, RoomStats, StatusSnapshot, ConnectRequest, LaneView, QueueItemView, LaneOp, Count, GifterGift, GifterView, StatsView, GiftView, CatalogSource, CatalogView, GiftInfo, LogRow, LogQuery, LogPage, LogCursor, TraceMatch, TraceSkip, TraceItem, TraceView, FeedBatch, FeedSnapshot, ExportFormat, ProfileDoc, BackupView, TemplatePreview, SettingsView, SettingsUpdate, RconTestResult, DemoView, SimulateRequest, SoundDeviceView]
}

const HEADER: &str = "\
// Generated from src-tauri/src/ipc.rs. Do not edit by hand.
// Regenerate: UPDATE_BINDINGS=1 cargo test --test ipc
import { invoke } from \"@tauri-apps/api/core\";

";

fn push_doc(out: &mut String, docs: &[&str]) {
    if docs.is_empty() {
        return;
    }
    out.push_str("  /**\n");
    for line in docs {
        out.push_str(&format!("   * {}\n", line.trim()));
    }
    out.push_str("   */\n");
}

fn camel_case(snake: &str) -> String {
    let mut out = String::with_capacity(snake.len());
    let mut upper = false;
    for c in snake.chars() {
        if c == '_' || c == '-' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

fn command_ts(name: &str, args: &[(&str, String)], ret: &str) -> String {
    let fn_name = camel_case(name);
    if args.is_empty() {
        return format!("  {fn_name}: (): Promise<{ret}> => invoke<{ret}>(\"{name}\"),\n");
    }
    // Tauri maps snake_case Rust argument names to camelCase keys.
    let fields: Vec<String> = args
        .iter()
        .map(|(arg, ty)| format!("{}: {ty}", camel_case(arg)))
        .collect();
    format!(
        "  {fn_name}: (args: {{ {} }}): Promise<{ret}> => invoke<{ret}>(\"{name}\", args),\n",
        fields.join("; ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn camel_case_converts_snake_names() {
        assert_eq!(camel_case("app_info"), "appInfo");
        assert_eq!(camel_case("status"), "status");
        assert_eq!(camel_case("set_lane_paused"), "setLanePaused");
        assert_eq!(camel_case("queue-item"), "queueItem");
    }

    #[test]
    fn command_with_arguments_takes_an_object() {
        let ts = command_ts("set_volume", &[("lane_name", "string".into())], "null");
        assert_eq!(
            ts,
            "  setVolume: (args: { laneName: string }): Promise<null> => invoke<null>(\"set_volume\", args),\n"
        );
    }

    #[test]
    fn the_feed_is_a_command_and_nothing_is_an_event() {
        let ts = typescript();
        assert!(ts.contains("feedNext: (args: { after: number }): Promise<FeedBatch | null>"));
        assert!(
            !ts.contains("listen"),
            "no events: the window pulls its batches"
        );
    }
}
