//! Where `livetrigger-cli` keeps its data: the app's data folder, so a headless run and the
//! window share the secrets file and the queue (never at the same time: see docs/engine.md).

use std::path::{Path, PathBuf};

use anyhow::Context;

/// The env var that moves all app state to one folder (the app honours it too).
pub const DATA_DIR_ENV: &str = "LIVETRIGGER_DATA_DIR";
/// The app's bundle identifier: the name of its folder in the platform's data folder.
const APP_ID: &str = "app.livetrigger.desktop";

/// `LIVETRIGGER_DATA_DIR`, else the platform's data folder for the app, as Tauri resolves it:
/// `$XDG_DATA_HOME` or `~/.local/share` on Linux, `~/Library/Application Support` on macOS,
/// `%APPDATA%` on Windows.
pub fn data_dir() -> anyhow::Result<PathBuf> {
    if let Some(dir) = std::env::var_os(DATA_DIR_ENV).filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    platform_data_dir().map(|d| d.join(APP_ID)).context(
        "cannot find the platform's data folder; give --data-dir or set LIVETRIGGER_DATA_DIR",
    )
}

fn platform_data_dir() -> Option<PathBuf> {
    let env = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if cfg!(windows) {
        env("APPDATA")
    } else if cfg!(target_os = "macos") {
        env("HOME").map(|h| h.join("Library/Application Support"))
    } else {
        env("XDG_DATA_HOME")
            .filter(|p| p.is_absolute())
            .or_else(|| env("HOME").map(|h| h.join(".local/share")))
    }
}

/// Panics in any task or thread are written to `<data>/logs/panic.log` with a backtrace.
pub fn install_panic_hook(data_dir: &Path) {
    livetrigger_engine::panic_log::install(&data_dir.join("logs"));
}
