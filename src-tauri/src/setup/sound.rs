//! Sound for the Mapping and Settings views: play a file (the action cards' Play button and
//! the test sound), and copy a sound file dropped on the window into the profile's folder.

use std::path::{Path, PathBuf};

use serde::Serialize;
use tauri::{AppHandle, Manager, Runtime};
use ts_rs::TS;

use crate::error::{ErrorCode, IpcError};
use crate::paths::AppPaths;

/// The test sound's file name in the sound folder.
pub const TEST_SOUND: &str = "livetrigger-test.wav";

/// The folder relative sound files are read from (the profile's `sound.folder`, next to the
/// profile; `sounds` when unset).
pub fn sound_dir(data_dir: &Path) -> PathBuf {
    let folder = crate::engine::load_profile(data_dir)
        .ok()
        .and_then(|(p, _)| p.sound.folder)
        .unwrap_or_else(|| "sounds".into());
    data_dir.join(folder)
}

/// Notes played one after the other, as 16-bit mono WAV (written by hand: the test sound
/// needs no asset file; the starter's sounds ship with the engine crate).
pub fn tones_wav(freqs: &[f64], note_secs: f64) -> Vec<u8> {
    const RATE: u32 = 22_050;
    let per_note = (f64::from(RATE) * note_secs) as u32;
    let samples: Vec<i16> = freqs
        .iter()
        .flat_map(|&freq| {
            (0..per_note).map(move |i| {
                let t = f64::from(i) / f64::from(RATE);
                // A quick fade in and out per note, so there are no clicks between them.
                let edge = f64::from(i.min(per_note - i)) / f64::from(per_note / 10).max(1.0);
                let env = edge.min(1.0);
                (f64::sin(t * freq * std::f64::consts::TAU) * 0.4 * env * f64::from(i16::MAX))
                    as i16
            })
        })
        .collect();
    let data_len = u32::try_from(samples.len() * 2).unwrap_or(0);
    let mut out = Vec::with_capacity(44 + samples.len() * 2);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&1u16.to_le_bytes()); // mono
    out.extend_from_slice(&RATE.to_le_bytes());
    out.extend_from_slice(&(RATE * 2).to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    for s in samples {
        out.extend_from_slice(&s.to_le_bytes());
    }
    out
}

/// The test sound: two notes.
pub fn chime_wav() -> Vec<u8> {
    tones_wav(&[660.0, 880.0], 0.16)
}

/// Copies `from` into the sound folder (keeping its name, or adding `-2`, `-3`… when taken by
/// a different file) and returns the name to use in an action.
pub fn import(data_dir: &Path, from: &Path) -> Result<String, IpcError> {
    let name = from
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| IpcError::new(ErrorCode::InvalidInput, "That file has no usable name"))?;
    let ext = from
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    if !["mp3", "wav", "ogg", "flac"].contains(&ext.as_str()) {
        return Err(IpcError::new(
            ErrorCode::InvalidInput,
            format!("{name}: LiveTrigger plays mp3, wav, ogg and flac files"),
        ));
    }
    let bytes = std::fs::read(from).map_err(|e| {
        IpcError::new(
            ErrorCode::Path,
            format!("cannot read {}: {e}", from.display()),
        )
    })?;
    let dir = sound_dir(data_dir);
    std::fs::create_dir_all(&dir).map_err(|e| {
        IpcError::new(
            ErrorCode::Path,
            format!("cannot create {}: {e}", dir.display()),
        )
    })?;
    let stem = from.file_stem().and_then(|s| s.to_str()).unwrap_or("sound");
    let mut candidate = name.to_string();
    for n in 2.. {
        let target = dir.join(&candidate);
        match std::fs::read(&target) {
            Ok(existing) if existing == bytes => return Ok(candidate),
            Ok(_) => candidate = format!("{stem}-{n}.{ext}"),
            Err(_) => {
                std::fs::write(&target, &bytes).map_err(|e| {
                    IpcError::new(
                        ErrorCode::Path,
                        format!("cannot write {}: {e}", target.display()),
                    )
                })?;
                return Ok(candidate);
            }
        }
    }
    unreachable!("the loop returns")
}

async fn play<R: Runtime>(app: &AppHandle<R>, file: &str, volume: f32) -> Result<(), IpcError> {
    let data_dir = app.state::<AppPaths>().data_dir.clone();
    let mut path = PathBuf::from(file);
    if path.is_relative() {
        path = sound_dir(&data_dir).join(path);
    }
    let sound = app
        .state::<crate::engine::EngineState>()
        .sound_handle(app)
        .await?
        .ok_or_else(|| IpcError::new(ErrorCode::Internal, "The sound output is not running"))?;
    sound
        .play(&path, volume.clamp(0.0, 2.0), "preview")
        .await
        .map(|_| ())
        .map_err(|e| IpcError::new(ErrorCode::InvalidInput, format!("Cannot play {file}: {e}")))
}

#[tauri::command]
pub async fn sound_play<R: Runtime>(
    app: AppHandle<R>,
    file: String,
    volume: f32,
) -> Result<(), IpcError> {
    play(&app, &file, volume).await
}

/// Plays a short chime on the current output device.
#[tauri::command]
pub async fn sound_test<R: Runtime>(app: AppHandle<R>) -> Result<(), IpcError> {
    let data_dir = app.state::<AppPaths>().data_dir.clone();
    let dir = sound_dir(&data_dir);
    let path = dir.join(TEST_SOUND);
    if !path.exists() {
        std::fs::create_dir_all(&dir)
            .and_then(|()| std::fs::write(&path, chime_wav()))
            .map_err(|e| {
                IpcError::new(
                    ErrorCode::Path,
                    format!("cannot write {}: {e}", path.display()),
                )
            })?;
    }
    play(&app, TEST_SOUND, 1.0).await
}

/// One choice of Settings → Sound → Output device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SoundDeviceView {
    /// What is saved in the settings; empty: the system default.
    pub name: String,
    /// What the list shows.
    pub label: String,
}

/// "System default" first, then the host's output devices by name.
pub fn device_choices(names: Vec<String>) -> Vec<SoundDeviceView> {
    let mut out = vec![SoundDeviceView {
        name: String::new(),
        label: "System default".into(),
    }];
    out.extend(
        names
            .into_iter()
            .filter(|n| !n.trim().is_empty())
            .map(|n| SoundDeviceView {
                label: n.clone(),
                name: n,
            }),
    );
    out
}

/// The output devices to choose from. A host that cannot list them still offers the
/// system default (the reason goes to the log).
#[tauri::command]
pub async fn sound_devices() -> Result<Vec<SoundDeviceView>, IpcError> {
    let names =
        tokio::task::spawn_blocking(livetrigger_engine::outputs::sound::output_device_names)
            .await
            .map_err(|e| IpcError::new(ErrorCode::Internal, e.to_string()))?
            .unwrap_or_else(|e| {
                tracing::warn!(error = %e, "cannot list the sound devices");
                Vec::new()
            });
    Ok(device_choices(names))
}

#[tauri::command]
pub fn sound_import<R: Runtime>(app: AppHandle<R>, path: String) -> Result<String, IpcError> {
    let data_dir = app.state::<AppPaths>().data_dir.clone();
    let name = import(&data_dir, Path::new(&path))?;
    tracing::info!(%name, "sound file added");
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dropped_sounds_are_copied_once_and_names_never_clash() {
        let root = std::env::temp_dir().join(format!("lt-sound-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let data = root.join("data");
        std::fs::create_dir_all(&data).unwrap();
        let a = root.join("boom.wav");
        std::fs::write(&a, chime_wav()).unwrap();
        assert_eq!(import(&data, &a).unwrap(), "boom.wav");
        assert_eq!(
            import(&data, &a).unwrap(),
            "boom.wav",
            "the same file is not copied twice"
        );
        let b = root.join("other").join("boom.wav");
        std::fs::create_dir_all(b.parent().unwrap()).unwrap();
        std::fs::write(&b, b"different").unwrap();
        assert_eq!(import(&data, &b).unwrap(), "boom-2.wav");
        assert!(sound_dir(&data).join("boom-2.wav").exists());
        let txt = root.join("notes.txt");
        std::fs::write(&txt, b"x").unwrap();
        assert!(import(&data, &txt).is_err());
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn the_device_list_starts_with_the_system_default() {
        let list = device_choices(vec!["HDMI".into(), " ".into(), "USB Headset".into()]);
        let labels: Vec<&str> = list.iter().map(|d| d.label.as_str()).collect();
        assert_eq!(labels, ["System default", "HDMI", "USB Headset"]);
        assert_eq!(list[0].name, "", "the default is saved as an empty name");
        assert_eq!(device_choices(Vec::new()).len(), 1);
    }

    #[test]
    fn the_generated_test_sound_is_a_valid_wav() {
        let wav = chime_wav();
        assert_eq!(&wav[0..4], b"RIFF");
        assert_eq!(&wav[8..12], b"WAVE");
        let data_len = u32::from_le_bytes(wav[40..44].try_into().unwrap()) as usize;
        assert_eq!(wav.len(), 44 + data_len);
    }
}
