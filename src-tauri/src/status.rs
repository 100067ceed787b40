//! The status bar's model: connection, RCON health, audio health and queue depth.
//!
//! The backend owns it; every change travels to the UI with the next feed batch
//! ([`crate::feed`]), and the UI can also ask for the current snapshot.

use std::sync::Mutex;

use serde::Serialize;
use tauri::{AppHandle, Runtime};
use ts_rs::TS;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionState {
    Disconnected,
    Connecting,
    Connected,
    Reconnecting,
    Ended,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum OutputHealth {
    /// Not set up by the streamer yet.
    NotConfigured,
    Ok,
    Degraded,
    Down,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct StatusSnapshot {
    pub connection: ConnectionState,
    /// The room, or why the connection failed or is reconnecting.
    pub connection_detail: Option<String>,
    pub rcon: OutputHealth,
    pub audio: OutputHealth,
    pub queue_depth: u32,
}

impl Default for StatusSnapshot {
    fn default() -> Self {
        Self {
            connection: ConnectionState::Disconnected,
            connection_detail: None,
            rcon: OutputHealth::NotConfigured,
            audio: OutputHealth::NotConfigured,
            queue_depth: 0,
        }
    }
}

/// Holds the latest snapshot. A std mutex is right here: no `.await` ever happens under it.
#[derive(Default)]
pub struct StatusHub {
    current: Mutex<StatusSnapshot>,
}

impl StatusHub {
    pub fn snapshot(&self) -> StatusSnapshot {
        self.current
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Applies `change` and pushes the new snapshot to the UI if anything changed.
    pub fn update<R: Runtime>(&self, app: &AppHandle<R>, change: impl FnOnce(&mut StatusSnapshot)) {
        let next = {
            let mut guard = self.current.lock().unwrap_or_else(|p| p.into_inner());
            let before = guard.clone();
            change(&mut guard);
            (*guard != before).then(|| guard.clone())
        };
        if next.is_some() {
            // It travels to the window with the next feed batch.
            crate::feed::status_changed(app);
        }
    }
}
