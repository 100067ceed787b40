//! The starter kit: what a new streamer gets on first start, so the app does something useful
//! before anything is configured. A profile (`examples/minecraft-starter.json`) and its sounds
//! folder with LiveTrigger's own big-gift fanfare (synthesized by `scripts/synth-big-gift.py`).
//!
//! [`install`] writes only what is missing: an edited profile or a replaced sound is never
//! overwritten.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// The profile file in a data folder.
pub const PROFILE_FILE: &str = "profile.json";
/// The starter profile, as shipped.
pub const STARTER_PROFILE: &str = include_str!("../../../../examples/minecraft-starter.json");
/// The folder the starter profile's `sound.folder` names, next to the profile.
pub const SOUNDS_DIR: &str = "sounds";
/// The starter's fanfare for big gifts (WAV, 1.6 s).
pub const BIG_GIFT_FILE: &str = "big-gift.wav";
pub const BIG_GIFT_SOUND: &[u8] = include_bytes!("../../../../examples/sounds/big-gift.wav");

/// What [`install`] wrote (empty when everything was there already).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Installed {
    pub profile: Option<PathBuf>,
    pub sounds: Vec<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
#[error("cannot write the starter file {path}: {source}")]
pub struct StarterError {
    pub path: PathBuf,
    #[source]
    pub source: io::Error,
}

/// Writes the starter profile (`<data_dir>/profile.json`) and its sounds
/// (`<data_dir>/sounds/…`) where they do not exist yet.
pub fn install(data_dir: &Path) -> Result<Installed, StarterError> {
    let mut out = Installed::default();
    let profile = data_dir.join(PROFILE_FILE);
    if write_new(&profile, STARTER_PROFILE.as_bytes())? {
        out.profile = Some(profile);
    }
    let sound = data_dir.join(SOUNDS_DIR).join(BIG_GIFT_FILE);
    if write_new(&sound, BIG_GIFT_SOUND)? {
        out.sounds.push(sound);
    }
    Ok(out)
}

/// Writes `bytes` to `path` unless it exists, through a temporary file and a rename so a
/// crash never leaves half a file that would then never be replaced.
fn write_new(path: &Path, bytes: &[u8]) -> Result<bool, StarterError> {
    if path.exists() {
        return Ok(false);
    }
    let err = |source| StarterError {
        path: path.to_owned(),
        source,
    };
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(err)?;
    }
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    fs::write(&tmp, bytes).map_err(err)?;
    fs::rename(&tmp, path).map_err(err)?;
    Ok(true)
}
