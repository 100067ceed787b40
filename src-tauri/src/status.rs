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

/// The live room as the Connect view shows it, from the stream's own events.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct RoomStats {
    /// From room info, when TikTok gave one (untrusted text).
    pub title: Option<String>,
    /// Watching now (the room user-seq messages).
    pub viewers: Option<u32>,
    /// The room's like total (each like message carries it).
    pub likes: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct StatusSnapshot {
    pub connection: ConnectionState,
    /// The room, or why the connection failed or is reconnecting.
    pub connection_detail: Option<String>,
    pub rcon: OutputHealth,
    pub audio: OutputHealth,
    /// Why the sound output is not as set up: the chosen device is gone and the system
    /// default plays instead, or there is no device at all.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub audio_detail: Option<String>,
    pub queue_depth: u32,
    /// The connected room's title, viewers and likes (kept after the stream ends, cleared by
    /// the next connection).
    pub room: RoomStats,
    /// Set once a part of the engine (handler, a lane, RCON, sound) failed internally and
    /// restarted: how many times, and the last one. Triggers may have been lost; the log
    /// file has the details.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub fault: Option<String>,
}

impl Default for StatusSnapshot {
    fn default() -> Self {
        Self {
            connection: ConnectionState::Disconnected,
            connection_detail: None,
            rcon: OutputHealth::NotConfigured,
            audio: OutputHealth::NotConfigured,
            audio_detail: None,
            queue_depth: 0,
            room: RoomStats::default(),
            fault: None,
        }
    }
}

/// The status bar's line for contained faults.
pub fn fault_line(state: &livetrigger_engine::supervise::FaultState) -> Option<String> {
    let last = state.last.as_ref()?;
    Some(format!(
        "{} internal error(s) contained; last in {}: {}",
        state.count, last.component, last.message
    ))
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

#[cfg(test)]
mod tests {
    use livetrigger_engine::supervise::{Fault, FaultState};

    use super::*;

    #[test]
    fn a_contained_fault_shows_in_the_status_and_none_is_omitted() {
        assert_eq!(fault_line(&FaultState::default()), None);
        let state = FaultState {
            count: 2,
            last: Some(Fault {
                component: "lane minecraft".into(),
                message: "boom".into(),
                at_ms: 1,
            }),
            recent: Vec::new(),
        };
        let line = fault_line(&state).expect("a line");
        assert!(line.starts_with("2 internal error(s)") && line.contains("lane minecraft: boom"));
        let json = serde_json::to_value(StatusSnapshot::default()).expect("json");
        assert!(json.get("fault").is_none(), "optional in the UI's type");
    }
}
