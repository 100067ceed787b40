//! TikTok LIVE webcast client and a local webcast simulator.
//!
//! This crate has no Tauri dependency: the desktop app, the headless CLI and the tests all use
//! it the same way. The protocol facts it follows are in `shared/protocol.md`.
//!
//! Layers, bottom up:
//! - [`proto`]: the generated protobuf types of `proto/webcast.proto`;
//! - [`frame`]: websocket push frames, gzip, and the frames a client sends;
//! - [`message`]: one typed message per webcast message;
//! - [`json`]: the JSON line format of `livetrigger-cli decode`.

pub mod client;
pub mod dispatch;
pub mod error;
pub mod event;
pub mod frame;
pub mod gifts;
pub mod json;
pub mod message;
pub mod proto;
pub mod record;
pub mod streak;
pub mod target;
