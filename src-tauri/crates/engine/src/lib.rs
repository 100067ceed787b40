//! LiveTrigger's trigger engine and its outputs.
//!
//! Tauri-free on purpose: the desktop app and the headless `livetrigger-cli` drive the same
//! engine. Modules arrive with their issues: outputs (RCON, sound, command templates), then the
//! handler registry, rules, lanes and the durable queue.

pub mod engine;
pub mod outputs;
pub mod panic_log;
pub mod secrets;
pub mod starter;
pub mod supervise;
