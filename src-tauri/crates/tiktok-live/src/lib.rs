//! TikTok LIVE webcast client and a local webcast simulator.
//!
//! This crate has no Tauri dependency: the desktop app, the headless CLI and the tests all use
//! it the same way. The protocol facts it follows are in `shared/protocol.md`.

pub mod target;
