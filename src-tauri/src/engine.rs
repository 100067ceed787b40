//! The trigger engine as the window runs it: the streamer's profile from the data folder, the
//! RCON and sound outputs it names, and the status bar's output health (the queue depth comes
//! from the feed, [`crate::feed`]).
//!
//! The engine starts with the app (the setup hook) and keeps running (so a queue drains after
//! a disconnect); it is shut down with the app, persisting what is still waiting.

use std::path::{Path, PathBuf};

use livetrigger_engine::engine::{Engine, EngineConfig, EngineHandle, ProfileFile, Shutdown};
use livetrigger_engine::outputs::rcon::RconHealth;
use livetrigger_engine::outputs::sound::{SoundConfig, SoundHealth, SoundOutput};
use livetrigger_engine::secrets::SecretStore;
use tauri::{AppHandle, Manager, Runtime};

use crate::error::{ErrorCode, IpcError};
use crate::paths::AppPaths;
use crate::status::{OutputHealth, StatusHub};

/// The profile file in the data folder.
pub const PROFILE_FILE: &str = "profile.json";
// The starter profile (written on first start by `livetrigger_engine::starter::install`).
#[cfg(test)]
use livetrigger_engine::starter::STARTER_PROFILE;

struct Running {
    engine: Engine,
    rcon: crate::setup::outputs::RconSlot,
    sound: Option<SoundOutput>,
}

/// Managed state: the running engine, started on demand.
#[derive(Default)]
pub struct EngineState {
    running: tokio::sync::Mutex<Option<Running>>,
}

pub fn rcon_health(h: &RconHealth) -> OutputHealth {
    match h {
        RconHealth::Connected => OutputHealth::Ok,
        RconHealth::Connecting | RconHealth::Reconnecting { .. } => OutputHealth::Degraded,
        RconHealth::AuthFailed | RconHealth::Unreachable { .. } | RconHealth::Stopped => {
            OutputHealth::Down
        }
    }
}

pub fn sound_health(h: &SoundHealth) -> OutputHealth {
    match h {
        SoundHealth::Ready { warning: None, .. } => OutputHealth::Ok,
        // It plays, but not where the streamer asked.
        SoundHealth::Ready {
            warning: Some(_), ..
        } => OutputHealth::Degraded,
        SoundHealth::Starting => OutputHealth::Degraded,
        SoundHealth::NoAudioDevice { .. } | SoundHealth::Stopped => OutputHealth::Down,
    }
}

/// The words next to the sound output's health: why it is not as set up.
pub fn sound_detail(h: &SoundHealth) -> Option<String> {
    match h {
        SoundHealth::Ready { warning, .. } => warning.clone(),
        SoundHealth::NoAudioDevice { reason } => Some(format!("No sound device: {reason}")),
        SoundHealth::Starting | SoundHealth::Stopped => None,
    }
}

/// The output device saved in Settings → Sound (`None`: the system default).
pub fn saved_sound_device(data_dir: &Path) -> Option<String> {
    Some(crate::setup::settings::StoredSettings::load(data_dir).sound_device)
        .filter(|d| !d.trim().is_empty())
}

/// Creates the profile from the starter on first use and loads it (falling back to the last
/// good copy when the file is broken).
pub fn load_profile(
    data_dir: &Path,
) -> Result<(livetrigger_engine::engine::Profile, PathBuf), IpcError> {
    let path = data_dir.join(PROFILE_FILE);
    // The starter profile and its sounds folder, where missing (never over the user's files).
    livetrigger_engine::starter::install(data_dir)
        .map_err(|e| IpcError::new(ErrorCode::Path, e.to_string()))?;
    let file = ProfileFile::new(&path);
    let (profile, problem) = file.load_or_last_good().map_err(|e| {
        IpcError::new(
            ErrorCode::InvalidInput,
            format!("the profile {} cannot be used: {e}", path.display()),
        )
    })?;
    if let Some(problem) = problem {
        tracing::warn!(path = %path.display(), error = %problem, "profile unreadable; using the last good copy");
    }
    Ok((profile, path))
}

/// The secrets file, with any secret still in the profile (an old or hand-edited one) moved
/// into it first. A broken secrets file is logged and the app runs without secrets.
fn open_secrets(data_dir: &Path, profile_path: &Path) -> Option<SecretStore> {
    let store = match SecretStore::open(data_dir) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "the secrets file cannot be used");
            return None;
        }
    };
    match ProfileFile::new(profile_path).move_secrets(&store) {
        Ok(moved) if !moved.is_empty() => {
            tracing::info!(?moved, "secrets moved from the profile to the secrets file");
        }
        Ok(_) => {}
        Err(e) => tracing::error!(error = %e, "secrets could not be moved out of the profile"),
    }
    Some(store)
}

impl EngineState {
    /// The running engine's handle, starting it first if needed.
    pub async fn handle<R: Runtime>(&self, app: &AppHandle<R>) -> Result<EngineHandle, IpcError> {
        let mut guard = self.running.lock().await;
        if let Some(running) = guard.as_ref() {
            return Ok(running.engine.handle());
        }
        let running = start(app).await?;
        let handle = running.engine.handle();
        crate::feed::attach_engine(app, &handle);
        *guard = Some(running);
        Ok(handle)
    }

    /// The engine's handle if it runs (without starting it).
    pub async fn running_handle(&self) -> Option<EngineHandle> {
        self.running
            .lock()
            .await
            .as_ref()
            .map(|r| r.engine.handle())
    }

    /// The sound output of the running engine (starting the engine if needed).
    pub async fn sound_handle<R: Runtime>(
        &self,
        app: &AppHandle<R>,
    ) -> Result<Option<livetrigger_engine::outputs::sound::SoundHandle>, IpcError> {
        self.handle(app).await?;
        Ok(self
            .running
            .lock()
            .await
            .as_ref()
            .and_then(|r| r.sound.as_ref().map(SoundOutput::handle)))
    }

    /// Stops the engine, keeping waiting items for the next start.
    pub async fn shutdown(&self) {
        let Some(running) = self.running.lock().await.take() else {
            return;
        };
        running.engine.shutdown(Shutdown::Persist).await;
        running.rcon.shutdown().await;
        if let Some(sound) = running.sound {
            let _ = tokio::task::spawn_blocking(move || sound.shutdown()).await;
        }
    }
}

/// Starts the sound output from the main thread: its thread (and the audio library's) then
/// run at the window's priority, not the background's (priority.rs), so a flood does not
/// make sounds stutter. Started here directly if the main thread does not take it within
/// 2 s (one started later there is dropped, which stops its thread).
async fn start_sound<R: Runtime>(app: &AppHandle<R>, device: Option<String>) -> SoundOutput {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let on_main = device.clone();
    let sent = app.run_on_main_thread(move || {
        let _ = tx.send(SoundOutput::start_on(SoundConfig::default(), on_main));
    });
    match sent {
        // A main thread busy quitting must not hold the engine's start (or the quit) up.
        Ok(()) => match tokio::time::timeout(std::time::Duration::from_secs(2), rx).await {
            Ok(Ok(sound)) => sound,
            _ => SoundOutput::start_on(SoundConfig::default(), device),
        },
        Err(e) => {
            tracing::debug!("starting the sound output here: {e}");
            SoundOutput::start_on(SoundConfig::default(), device)
        }
    }
}

async fn start<R: Runtime>(app: &AppHandle<R>) -> Result<Running, IpcError> {
    let paths = app.state::<AppPaths>();
    let (profile, profile_path) = load_profile(&paths.data_dir)?;
    // Secrets still in an old or hand-edited profile move to the secrets file first.
    let _ = open_secrets(&paths.data_dir, &profile_path);
    // The Minecraft target can change while the engine runs (Settings → Save); without a
    // password the lane runs dry instead of failing every command.
    let rcon = app
        .state::<crate::setup::outputs::RconSlot>()
        .inner()
        .clone();
    rcon.apply(
        app,
        crate::setup::settings::rcon_config(&paths.data_dir, &profile),
    )
    .await;

    let sound = start_sound(app, saved_sound_device(&paths.data_dir)).await;
    {
        let mut health = sound.handle().health();
        let app = app.clone();
        tauri::async_runtime::spawn(async move {
            let mut warned: Option<String> = None;
            loop {
                let (state, detail) = {
                    let h = health.borrow_and_update();
                    (sound_health(&h), sound_detail(&h))
                };
                // A fallback is said once in the log too, not only in the status.
                if let Some(d) = detail.as_ref().filter(|d| warned.as_ref() != Some(*d)) {
                    app.state::<crate::feed::FeedHub>()
                        .note("warning", format!("Sound: {d}"));
                }
                warned.clone_from(&detail);
                app.state::<StatusHub>().update(&app, |s| {
                    s.audio = state;
                    s.audio_detail = detail;
                });
                if health.changed().await.is_err() {
                    break;
                }
            }
        });
    }

    let sound_dir = profile
        .sound
        .folder
        .as_ref()
        .map(|f| profile_path.parent().unwrap_or(Path::new(".")).join(f));
    let exec = crate::setup::outputs::AppExecutor {
        rcon: rcon.clone(),
        sound: Some(sound.handle()),
        sound_dir,
    };
    let (engine, report) = Engine::start(
        &profile,
        exec,
        EngineConfig {
            data_dir: Some(paths.data_dir.join("engine")),
            ..EngineConfig::default()
        },
    )
    .map_err(|e| {
        IpcError::new(
            ErrorCode::Internal,
            format!("the trigger engine cannot start: {e}"),
        )
    })?;
    tracing::info!(
        resumed = report.resumed,
        interrupted = report.interrupted.len(),
        "trigger engine started"
    );

    // Contained faults (a panic in the handler, a lane, RCON or sound) reach the status bar.
    {
        let mut faults = livetrigger_engine::supervise::subscribe();
        let app = app.clone();
        tauri::async_runtime::spawn(async move {
            loop {
                let line = crate::status::fault_line(&faults.borrow_and_update());
                app.state::<StatusHub>().update(&app, |s| s.fault = line);
                if faults.changed().await.is_err() {
                    break;
                }
            }
        });
    }

    Ok(Running {
        engine,
        rcon,
        sound: Some(sound),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_starter_profile_is_written_once_and_loads() {
        let dir = std::env::temp_dir().join(format!("lt-app-profile-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let (profile, path) = load_profile(&dir).unwrap();
        assert!(!profile.rules.is_empty());
        assert!(dir
            .join(livetrigger_engine::starter::SOUNDS_DIR)
            .join(livetrigger_engine::starter::BIG_GIFT_FILE)
            .exists());
        assert_eq!(
            profile.rcon.as_ref().map(|r| r.addr()),
            Some("127.0.0.1:25575".into())
        );
        // An edited profile is kept, never overwritten by the starter.
        std::fs::write(&path, STARTER_PROFILE.replace("127.0.0.1", "127.0.0.2")).unwrap();
        let (profile, _) = load_profile(&dir).unwrap();
        assert_eq!(profile.rcon.map(|r| r.host), Some("127.0.0.2".into()));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn output_health_maps_to_the_status_bar() {
        assert_eq!(rcon_health(&RconHealth::Connected), OutputHealth::Ok);
        assert_eq!(rcon_health(&RconHealth::AuthFailed), OutputHealth::Down);
        assert_eq!(
            sound_health(&SoundHealth::NoAudioDevice {
                reason: "none".into()
            }),
            OutputHealth::Down
        );
        let fallback = SoundHealth::Ready {
            channels: 2,
            sample_rate: 48_000,
            warning: Some("The sound device \"USB\" cannot be used".into()),
        };
        assert_eq!(sound_health(&fallback), OutputHealth::Degraded);
        assert!(sound_detail(&fallback).is_some_and(|d| d.contains("USB")));
        let fine = SoundHealth::Ready {
            channels: 2,
            sample_rate: 48_000,
            warning: None,
        };
        assert_eq!(sound_health(&fine), OutputHealth::Ok);
        assert_eq!(sound_detail(&fine), None);
    }
}
