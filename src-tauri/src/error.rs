//! The one error shape the UI sees: `{code, message}`.
//!
//! Library crates keep their own `thiserror` enums; they are folded into [`IpcError`] here,
//! at the edge, so the UI can branch on a stable `code` and show `message` to the streamer.

use serde::Serialize;
use ts_rs::TS;

/// Stable, machine-readable error codes. The UI switches on these, so renaming one is a
/// breaking change for the front end (the bindings check catches it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// A path the app needs (data or log folder) could not be resolved or created.
    Path,
    /// Invalid input from the UI.
    InvalidInput,
    /// Anything not classified yet; the message says what happened.
    Internal,
}

/// An error as sent over IPC.
#[derive(Debug, Clone, Serialize, TS, thiserror::Error)]
#[error("{message}")]
pub struct IpcError {
    pub code: ErrorCode,
    pub message: String,
}

impl IpcError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

impl From<tauri::Error> for IpcError {
    fn from(e: tauri::Error) -> Self {
        Self::new(ErrorCode::Internal, e.to_string())
    }
}
