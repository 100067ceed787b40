//! Tauri commands. Each one is listed once in `ipc::commands!`, which both registers it with
//! Tauri and generates its typed TypeScript wrapper.

use serde::Serialize;
use tauri::State;
use ts_rs::TS;

use crate::error::IpcError;
use crate::paths::AppPaths;
use crate::status::{StatusHub, StatusSnapshot};

/// Facts about this build and where it keeps its files, for the Settings and About views.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct AppInfo {
    pub name: String,
    pub version: String,
    pub data_dir: String,
    pub log_dir: String,
    pub os: String,
    pub arch: String,
}

#[tauri::command]
pub fn app_info(paths: State<'_, AppPaths>) -> Result<AppInfo, IpcError> {
    Ok(AppInfo {
        name: "LiveTrigger".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        data_dir: paths.data_dir.display().to_string(),
        log_dir: paths.log_dir.display().to_string(),
        os: std::env::consts::OS.into(),
        arch: std::env::consts::ARCH.into(),
    })
}

#[tauri::command]
pub fn status(hub: State<'_, StatusHub>) -> Result<StatusSnapshot, IpcError> {
    Ok(hub.snapshot())
}
