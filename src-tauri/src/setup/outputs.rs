//! The outputs as the window's engine uses them: an RCON target that can be swapped when the
//! streamer saves new settings (without restarting the engine or touching queued items), and
//! a dry run of the Minecraft lane while no RCON server is set up.

use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use livetrigger_engine::engine::{ExecError, Executor, OutputsExecutor};
use livetrigger_engine::outputs::rcon::{RconConfig, RconHandle, RconOutput};
use livetrigger_engine::outputs::sound::SoundHandle;
use tauri::{AppHandle, Manager, Runtime};

use crate::status::{OutputHealth, StatusHub};

/// What a dry-run command answers, so the queue shows it as done, with the reason.
pub const DRY_RUN_REPLY: &str = "dry run: no RCON server is set up (Settings → Minecraft)";

#[derive(Default)]
struct Inner {
    handle: RwLock<Option<RconHandle>>,
    output: tokio::sync::Mutex<Option<RconOutput>>,
}

/// The current RCON target, shared by the engine's executor and the settings commands.
#[derive(Clone, Default)]
pub struct RconSlot(Arc<Inner>);

impl RconSlot {
    pub fn handle(&self) -> Option<RconHandle> {
        self.0
            .handle
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// True while Minecraft commands are not sent anywhere.
    pub fn is_dry(&self) -> bool {
        self.handle().is_none()
    }

    /// Points the slot at a new target (`None`: dry run). Commands already handed to the old
    /// output finish there; new ones go to the new one.
    pub async fn apply<R: Runtime>(&self, app: &AppHandle<R>, config: Option<RconConfig>) {
        let mut output = self.0.output.lock().await;
        let new = config.map(RconOutput::spawn);
        *self.0.handle.write().unwrap_or_else(|p| p.into_inner()) =
            new.as_ref().map(RconOutput::handle);
        match &new {
            Some(o) => watch_health(app, o.handle()),
            None => app
                .state::<StatusHub>()
                .update(app, |s| s.rcon = OutputHealth::NotConfigured),
        }
        if let Some(old) = std::mem::replace(&mut *output, new) {
            // Give the old connection time to finish what it was sending.
            tauri::async_runtime::spawn(async move {
                tokio::time::sleep(std::time::Duration::from_secs(2)).await;
                old.shutdown().await;
            });
        }
    }

    pub async fn shutdown(&self) {
        *self.0.handle.write().unwrap_or_else(|p| p.into_inner()) = None;
        if let Some(old) = self.0.output.lock().await.take() {
            old.shutdown().await;
        }
    }
}

fn watch_health<R: Runtime>(app: &AppHandle<R>, handle: RconHandle) {
    let mut health = handle.health();
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        loop {
            let state = crate::engine::rcon_health(&health.borrow_and_update());
            app.state::<StatusHub>().update(&app, |s| s.rcon = state);
            // Ends when the output is replaced and its health sender goes away.
            if health.changed().await.is_err() {
                break;
            }
        }
    });
}

/// The engine's executor in the app.
#[derive(Clone)]
pub struct AppExecutor {
    pub rcon: RconSlot,
    pub sound: Option<SoundHandle>,
    pub sound_dir: Option<PathBuf>,
}

impl Executor for AppExecutor {
    async fn command(&self, command: &str) -> Result<String, ExecError> {
        match self.rcon.handle() {
            None => Ok(DRY_RUN_REPLY.to_string()),
            Some(rcon) => {
                let exec = OutputsExecutor {
                    rcon: Some(rcon),
                    sound: None,
                    sound_dir: None,
                };
                exec.command(command).await
            }
        }
    }

    async fn sound(&self, file: &str, volume: f32) -> Result<(), ExecError> {
        let exec = OutputsExecutor {
            rcon: None,
            sound: self.sound.clone(),
            sound_dir: self.sound_dir.clone(),
        };
        exec.sound(file, volume).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn without_a_target_commands_run_dry_and_say_so() {
        let exec = AppExecutor {
            rcon: RconSlot::default(),
            sound: None,
            sound_dir: None,
        };
        assert_eq!(exec.command("say hi").await.unwrap(), DRY_RUN_REPLY);
        // Sounds are not faked: with no device they fail with the reason.
        assert!(exec.sound("x.ogg", 1.0).await.is_err());
    }
}
