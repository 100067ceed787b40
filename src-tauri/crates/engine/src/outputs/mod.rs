//! Where triggered actions leave the app: Minecraft over RCON, sound effects, and the command
//! templates that turn a viewer's event into an RCON command without letting the viewer write
//! any part of the command's structure.
//!
//! Each serial resource has one owner: the RCON connection is owned by a tokio task
//! ([`rcon::RconOutput`]), the audio device by a dedicated thread ([`sound::SoundOutput`]).
//! Callers talk to both by message and get each outcome back, so the queue above can record
//! exactly what happened to every paid-for action.

pub mod rcon;
pub mod sound;
pub mod template;

/// Longest command body vanilla Minecraft executes over RCON. Its reader takes one 1460-byte
/// read per packet: 1460 minus the 4-byte length, 4-byte id, 4-byte type and 2 NULs.
pub const MAX_COMMAND_BYTES: usize = 1446;
