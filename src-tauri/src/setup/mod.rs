//! Setting up in the window: the profile editor's backend (Mapping), the settings (Minecraft,
//! sound, TikTok), the demo stream and the Simulate panel.

pub mod demo;
pub mod outputs;
pub mod profile;
pub mod secrets;
pub mod settings;
pub mod simulate;
pub mod sound;
