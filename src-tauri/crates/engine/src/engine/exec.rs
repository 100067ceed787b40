//! Where a lane hands a step over to the world.
//!
//! [`Executor`] is everything a lane needs from its outputs: run one command, play one sound.
//! Deliberately not in it: pacing, delays, retries and bookkeeping, which belong to the lane,
//! so the same lane logic runs against the real RCON and audio outputs in the app
//! ([`OutputsExecutor`]) and against a [`Recorder`] in tests.

use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;

use crate::outputs::rcon::{Delivery, RconHandle};
use crate::outputs::sound::SoundHandle;

/// Why a step failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct ExecError {
    pub reason: String,
    /// Part of it reached the output (a command whose reply was lost): it may have run, so it
    /// must not be retried blindly.
    pub may_have_run: bool,
}

impl ExecError {
    pub fn not_run(reason: impl Into<String>) -> Self {
        ExecError {
            reason: reason.into(),
            may_have_run: false,
        }
    }
}

/// Runs single steps. Implementations must be cheap to share between lanes.
pub trait Executor: Send + Sync + 'static {
    /// Runs one RCON command; `Ok` holds the server's reply.
    fn command(&self, command: &str) -> impl Future<Output = Result<String, ExecError>> + Send;
    /// Plays one sound to its end (so a one-at-a-time lane waits for it).
    fn sound(&self, file: &str, volume: f32) -> impl Future<Output = Result<(), ExecError>> + Send;
    /// The panic button: silence every sound playing now (a skipped item's sound would
    /// otherwise play to its end in the mixer).
    fn stop_all(&self) {}
}

/// The real outputs. Either may be missing (no RCON target, no audio device): steps that
/// need it fail with a reason the user sees, instead of vanishing.
#[derive(Clone, Default)]
pub struct OutputsExecutor {
    pub rcon: Option<RconHandle>,
    pub sound: Option<SoundHandle>,
    /// Relative sound files are looked up here.
    pub sound_dir: Option<PathBuf>,
}

impl Executor for OutputsExecutor {
    async fn command(&self, command: &str) -> Result<String, ExecError> {
        let Some(rcon) = &self.rcon else {
            return Err(ExecError::not_run("no RCON server is configured"));
        };
        match rcon.send(command).await {
            Ok(reply) => Ok(reply.text),
            Err(e) => Err(ExecError {
                may_have_run: e.delivery() == Delivery::SentReplyLost,
                reason: e.to_string(),
            }),
        }
    }

    fn stop_all(&self) {
        if let Some(sound) = &self.sound {
            sound.stop_all();
        }
    }

    async fn sound(&self, file: &str, volume: f32) -> Result<(), ExecError> {
        let Some(sound) = &self.sound else {
            return Err(ExecError::not_run("no sound output is available"));
        };
        let mut path = PathBuf::from(file);
        if path.is_relative() {
            if let Some(dir) = &self.sound_dir {
                path = dir.join(path);
            }
        }
        // The lane is named after ours so a one-at-a-time engine lane is not doubled by a
        // queue in the sound output: its own lane mode stays overlap.
        match sound.play(&path, volume, "engine").await {
            Ok(playing) => {
                playing.finished().await;
                Ok(())
            }
            Err(e) => Err(ExecError::not_run(e.to_string())),
        }
    }
}

/// What a [`Recorder`] saw.
#[derive(Clone, Debug, PartialEq)]
pub enum Recorded {
    Command(String),
    Sound(String),
}

/// A test executor: records every step; commands can be made slow or failing.
#[derive(Clone, Default)]
pub struct Recorder {
    log: Arc<Mutex<Vec<(tokio::time::Instant, Recorded)>>>,
    changed: Arc<watch::Sender<usize>>,
    command_time: Duration,
    sound_time: Duration,
    fail_if_contains: Option<String>,
    panic_if_contains: Option<String>,
    stops: Arc<std::sync::atomic::AtomicUsize>,
}

impl Recorder {
    pub fn new() -> Self {
        Recorder {
            changed: Arc::new(watch::channel(0).0),
            ..Recorder::default()
        }
    }

    /// Each command takes this long.
    pub fn with_command_time(mut self, d: Duration) -> Self {
        self.command_time = d;
        self
    }

    /// Each sound plays this long.
    pub fn with_sound_time(mut self, d: Duration) -> Self {
        self.sound_time = d;
        self
    }

    /// Commands containing `text` fail without running.
    pub fn failing_on(mut self, text: &str) -> Self {
        self.fail_if_contains = Some(text.to_owned());
        self
    }

    /// Commands containing `text` panic (an injected fault).
    pub fn panicking_on(mut self, text: &str) -> Self {
        self.panic_if_contains = Some(text.to_owned());
        self
    }

    /// How many times [`Executor::stop_all`] was called.
    pub fn stops(&self) -> usize {
        self.stops.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn push(&self, r: Recorded) {
        let n = {
            let mut log = self.log.lock().unwrap_or_else(|p| p.into_inner());
            log.push((tokio::time::Instant::now(), r));
            log.len()
        };
        self.changed.send_replace(n);
    }

    pub fn log(&self) -> Vec<(tokio::time::Instant, Recorded)> {
        self.log.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn commands(&self) -> Vec<String> {
        self.log()
            .into_iter()
            .filter_map(|(_, r)| match r {
                Recorded::Command(c) => Some(c),
                _ => None,
            })
            .collect()
    }

    /// Waits until at least `n` steps were recorded.
    pub async fn wait_for(&self, n: usize) {
        let mut rx = self.changed.subscribe();
        while *rx.borrow_and_update() < n {
            if rx.changed().await.is_err() {
                return;
            }
        }
    }
}

impl Executor for Recorder {
    async fn command(&self, command: &str) -> Result<String, ExecError> {
        if !self.command_time.is_zero() {
            tokio::time::sleep(self.command_time).await;
        }
        if self
            .fail_if_contains
            .as_deref()
            .is_some_and(|f| command.contains(f))
        {
            return Err(ExecError::not_run("refused by the test"));
        }
        if let Some(p) = self
            .panic_if_contains
            .as_deref()
            .filter(|p| command.contains(p))
        {
            panic!("injected executor fault on {p:?}");
        }
        self.push(Recorded::Command(command.to_owned()));
        Ok(String::new())
    }

    async fn sound(&self, file: &str, _volume: f32) -> Result<(), ExecError> {
        self.push(Recorded::Sound(file.to_owned()));
        if !self.sound_time.is_zero() {
            tokio::time::sleep(self.sound_time).await;
        }
        Ok(())
    }

    fn stop_all(&self) {
        self.stops
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
}
