//! LiveTrigger's Tauri app: thin glue between the window and the Tauri-free core crates
//! (`tiktok-live` for the protocol, `livetrigger-engine` for rules, queue and outputs).
//!
//! What lives here: commands ([`commands`]), the typed IPC list ([`ipc`]), app paths, logging
//! and the status model the window shows. What does not: any protocol or trigger logic.

pub mod commands;
pub mod engine;
pub mod error;
pub mod feed;
pub mod gifts;
pub mod ipc;
pub mod live;
pub mod logging;
pub mod paths;
pub mod priority;
pub mod queue;
pub mod rendering;
pub mod setup;
pub mod stats;
pub mod status;

// The setup commands under names the IPC list can use (its entries are `module::command`).
pub use setup::{
    demo as setup_demo, profile as setup_profile, settings as setup_settings,
    simulate as setup_simulate, sound as setup_sound,
};

use tauri::{AppHandle, Builder, Manager, Runtime};

use crate::paths::AppPaths;
use crate::status::StatusHub;

/// Registers commands, state and the setup hook. Split out so tests can drive the same app
/// with Tauri's mock runtime.
pub fn app_builder<R: Runtime>(builder: Builder<R>) -> Builder<R> {
    builder
        .manage(StatusHub::default())
        .manage(live::LiveSessions::default())
        .manage(engine::EngineState::default())
        .manage(setup::outputs::RconSlot::default())
        .manage(setup::demo::DemoState::default())
        .manage(feed::FeedHub::default())
        .invoke_handler(ipc::handler())
        .setup(|app| {
            init_state(app.handle())?;
            start_engine(app.handle());
            Ok(())
        })
}

/// Resolves the app folders, starts logging and manages the state commands rely on. Runs from
/// the setup hook; tests with the mock runtime call it directly (setup only runs once an event
/// loop starts).
pub fn init_state<R: Runtime>(app: &AppHandle<R>) -> Result<(), error::IpcError> {
    let paths = AppPaths::resolve(app)?;
    livetrigger_engine::panic_log::install(&paths.log_dir);
    if let Some(guard) = logging::init(&paths.log_dir) {
        // Flushes the log file when the app exits.
        app.manage(LogGuard(guard));
    }
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        data_dir = %paths.data_dir.display(),
        log_dir = %paths.log_dir.display(),
        "LiveTrigger starting"
    );
    app.manage(paths);
    feed::start(app);
    Ok(())
}

/// Starts the trigger engine with the app, not when a view first needs it: what the last
/// run left queued is triaged and resumed (or listed) at once, and the outputs come up.
pub fn start_engine<R: Runtime>(app: &AppHandle<R>) {
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let state = app.state::<engine::EngineState>();
        if let Err(e) = state.handle(&app).await {
            tracing::error!(error = %e, "the trigger engine did not start");
        }
    });
}

struct LogGuard(#[allow(dead_code)] tracing_appender::non_blocking::WorkerGuard);

/// Runs the desktop app until its window is closed.
/// When this process started (`run` was called).
pub fn started() -> std::time::Instant {
    static STARTED: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    *STARTED.get_or_init(std::time::Instant::now)
}

pub fn run() {
    started();
    rendering::choose();
    // Background work below the window (priority.rs). Kept for the life of the process.
    let runtime = match priority::background_runtime() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("LiveTrigger could not start its runtime: {e}");
            std::process::exit(1);
        }
    };
    tauri::async_runtime::set(runtime.handle().clone());
    // First: a second launch only focuses this window and exits, so two processes never
    // resume the same queue.
    let single = tauri_plugin_single_instance::init(|app, _args, _cwd| {
        tracing::info!("a second launch was turned away; focusing this window instead");
        if let Some(window) = app.get_webview_window("main") {
            let _ = window.unminimize();
            let _ = window.show();
            let _ = window.set_focus();
        }
    });
    // The native save and open dialogs of Settings → Profile (export, import).
    let builder = tauri::Builder::default()
        .plugin(single)
        .plugin(tauri_plugin_dialog::init());
    let app = match app_builder(builder).build(tauri::generate_context!()) {
        Ok(app) => app,
        Err(e) => {
            eprintln!("LiveTrigger could not start: {e}");
            std::process::exit(1);
        }
    };
    let _runtime = runtime;
    app.run(|handle, event| {
        if let tauri::RunEvent::Exit = event {
            // Keep what is still queued for the next start instead of leaving it "running".
            let state = handle.state::<engine::EngineState>();
            tauri::async_runtime::block_on(state.shutdown());
        }
    });
}
