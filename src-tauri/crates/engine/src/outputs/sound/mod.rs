//! Sound effects. [`SoundEngine`] is the device-free part (decode cache, volumes, the limit on
//! simultaneous sounds, lanes) and feeds a rodio [`Mixer`]; [`SoundOutput`] runs it on its own
//! thread next to the audio device, because rodio's output stream is not `Send`.
//!
//! Every clip is decoded and converted to the device's channel count and sample rate once, on
//! first use or [`SoundHandle::preload`]; later plays only copy an `Arc`, so a gift's sound
//! starts without decoding.

mod engine;

pub use engine::{Clip, LaneMode, SoundConfig, SoundEngine};

use std::num::NonZero;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::mpsc as std_mpsc;
use std::thread;
use std::time::Duration;

use serde::Serialize;
use thiserror::Error;
use tokio::sync::{oneshot, watch};

#[derive(Clone, Debug, Error, PartialEq)]
pub enum SoundError {
    #[error("sound file not found: {path}")]
    NotFound { path: PathBuf },
    #[error("cannot read sound file {path}: {reason}")]
    Unreadable { path: PathBuf, reason: String },
    #[error("{path} is not a sound file rodio can play (mp3, wav, ogg, flac)")]
    Unsupported { path: PathBuf },
    #[error("{path} is damaged and cannot be decoded: {reason}")]
    Corrupt { path: PathBuf, reason: String },
    #[error("{path} holds no audio")]
    Empty { path: PathBuf },
    #[error("{path} is longer than {max_secs} s; sound effects are kept short")]
    TooLong { path: PathBuf, max_secs: u64 },
    #[error("volume {0} is not between 0 and 2")]
    InvalidVolume(f32),
    #[error("no audio device: {reason}")]
    NoAudioDevice { reason: String },
    #[error("{limit} sounds are already playing")]
    TooManySounds { limit: usize },
    #[error("lane {lane:?} already has {limit} sounds waiting")]
    LaneFull { lane: String, limit: usize },
    #[error("the sound output has stopped")]
    Stopped,
    #[error("the sound output failed (internal error: {0}); it goes on with the next sound")]
    Internal(String),
}

/// What the app shows for the audio output.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "camelCase")]
pub enum SoundHealth {
    Starting,
    Ready {
        channels: u16,
        sample_rate: u32,
    },
    /// No usable output device (CI, servers, unplugged headset). Every play fails with
    /// [`SoundError::NoAudioDevice`].
    NoAudioDevice {
        reason: String,
    },
    Stopped,
}

/// A sound that started (or was queued in its lane).
#[derive(Debug)]
pub struct Playing {
    pub duration: Duration,
    /// Waiting behind another sound in a one-at-a-time lane.
    pub queued: bool,
    finished: oneshot::Receiver<()>,
}

impl Playing {
    pub(crate) fn new(duration: Duration, queued: bool, finished: oneshot::Receiver<()>) -> Self {
        Playing {
            duration,
            queued,
            finished,
        }
    }

    /// Resolves when the sound has played out or was stopped.
    pub async fn finished(self) {
        let _ = self.finished.await;
    }
}

enum Msg {
    Play {
        path: PathBuf,
        volume: f32,
        lane: String,
        reply: oneshot::Sender<Result<Playing, SoundError>>,
    },
    Preload {
        path: PathBuf,
        reply: oneshot::Sender<Result<Duration, SoundError>>,
    },
    SetLane {
        lane: String,
        mode: LaneMode,
    },
    SetMaster(f32),
    StopAll,
    Shutdown,
}

/// Cloneable, `Send` handle to the sound thread.
#[derive(Clone)]
pub struct SoundHandle {
    tx: std_mpsc::Sender<Msg>,
    health: watch::Receiver<SoundHealth>,
}

impl SoundHandle {
    /// Plays `path` at `volume` (0–2, times the master volume) in `lane`.
    pub async fn play(
        &self,
        path: impl AsRef<Path>,
        volume: f32,
        lane: &str,
    ) -> Result<Playing, SoundError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Msg::Play {
                path: path.as_ref().to_owned(),
                volume,
                lane: lane.to_owned(),
                reply,
            })
            .map_err(|_| SoundError::Stopped)?;
        rx.await.unwrap_or(Err(SoundError::Stopped))
    }

    /// Decodes and caches `path` now, so its first play starts at once. Works without a
    /// device too, to check files.
    pub async fn preload(&self, path: impl AsRef<Path>) -> Result<Duration, SoundError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Msg::Preload {
                path: path.as_ref().to_owned(),
                reply,
            })
            .map_err(|_| SoundError::Stopped)?;
        rx.await.unwrap_or(Err(SoundError::Stopped))
    }

    pub fn set_lane(&self, lane: &str, mode: LaneMode) {
        let _ = self.tx.send(Msg::SetLane {
            lane: lane.to_owned(),
            mode,
        });
    }

    pub fn set_master_volume(&self, volume: f32) {
        let _ = self.tx.send(Msg::SetMaster(volume));
    }

    pub fn stop_all(&self) {
        let _ = self.tx.send(Msg::StopAll);
    }

    pub fn health(&self) -> watch::Receiver<SoundHealth> {
        self.health.clone()
    }
}

/// What an output device gives the sound thread: the mixer to feed, its format, and the
/// object that keeps the stream open (dropped when the thread ends).
pub struct Device {
    pub mixer: rodio::mixer::Mixer,
    pub channels: NonZero<u16>,
    pub sample_rate: NonZero<u32>,
    pub keep_alive: Box<dyn std::any::Any>,
}

/// Opens the system's default output device.
pub fn open_default_device() -> Result<Device, String> {
    let mut sink = rodio::DeviceSinkBuilder::open_default_sink().map_err(|e| e.to_string())?;
    sink.log_on_drop(false);
    Ok(Device {
        mixer: sink.mixer().clone(),
        channels: sink.config().channel_count(),
        sample_rate: sink.config().sample_rate(),
        keep_alive: Box::new(sink),
    })
}

/// Owns the sound thread. Dropping it (or every handle) ends the thread.
pub struct SoundOutput {
    handle: SoundHandle,
    thread: Option<thread::JoinHandle<()>>,
}

impl SoundOutput {
    /// Starts the thread on the default output device.
    pub fn start(config: SoundConfig) -> Self {
        Self::start_with(config, open_default_device)
    }

    /// Starts the thread with `open` run on it (the device must be created where it is used).
    pub fn start_with<F>(config: SoundConfig, open: F) -> Self
    where
        F: FnOnce() -> Result<Device, String> + Send + 'static,
    {
        let (tx, rx) = std_mpsc::channel();
        let (health_tx, health) = watch::channel(SoundHealth::Starting);
        let thread = thread::Builder::new()
            .name("livetrigger-sound".into())
            .spawn(move || run(config, open, rx, health_tx))
            .expect("spawning the sound thread");
        SoundOutput {
            handle: SoundHandle { tx, health },
            thread: Some(thread),
        }
    }

    pub fn handle(&self) -> SoundHandle {
        self.handle.clone()
    }

    /// Stops every sound and ends the thread; handles left over then answer `Stopped`.
    pub fn shutdown(mut self) {
        self.stop_thread();
    }

    fn stop_thread(&mut self) {
        let _ = self.handle.tx.send(Msg::Shutdown);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for SoundOutput {
    fn drop(&mut self) {
        self.stop_thread();
    }
}

fn run<F>(
    config: SoundConfig,
    open: F,
    rx: std_mpsc::Receiver<Msg>,
    health: watch::Sender<SoundHealth>,
) where
    F: FnOnce() -> Result<Device, String>,
{
    // Without a device the engine still decodes, so a missing or broken file is reported as
    // such; only the final step, playing, fails with the device reason.
    // A device whose driver panics while opening is the same as no device, and is reported.
    let opened = catch_unwind(AssertUnwindSafe(open)).unwrap_or_else(|panic| {
        let fault = crate::supervise::report("sound", &*panic);
        Err(format!(
            "opening the audio device failed: {}",
            fault.message
        ))
    });
    let (engine, no_device, _keep_alive) = match opened {
        Ok(d) => {
            health.send_replace(SoundHealth::Ready {
                channels: d.channels.get(),
                sample_rate: d.sample_rate.get(),
            });
            (
                SoundEngine::new(d.mixer, d.channels, d.sample_rate, config),
                None,
                Some(d.keep_alive),
            )
        }
        Err(reason) => {
            tracing::warn!(%reason, "no audio device; sounds will fail");
            health.send_replace(SoundHealth::NoAudioDevice {
                reason: reason.clone(),
            });
            let (channels, rate) = (
                NonZero::new(2).expect("2"),
                NonZero::new(48_000).expect("48k"),
            );
            let (mixer, _) = rodio::mixer::mixer(channels, rate);
            (
                SoundEngine::new(mixer, channels, rate, config),
                Some(reason),
                None,
            )
        }
    };
    let mut engine = engine;
    // Each message is handled under a guard: a panic fails that one request with the reason
    // and the thread goes on (its engine is still usable: voices live in the mixer).
    let contained = |panic: Box<dyn std::any::Any + Send>| {
        let fault = crate::supervise::report("sound", &*panic);
        SoundError::Internal(fault.message)
    };
    while let Ok(msg) = rx.recv() {
        match msg {
            Msg::Play {
                path,
                volume,
                lane,
                reply,
            } => {
                let result = catch_unwind(AssertUnwindSafe(|| match &no_device {
                    Some(reason) => engine.clip(&path).and_then(|_| {
                        Err(SoundError::NoAudioDevice {
                            reason: reason.clone(),
                        })
                    }),
                    None => engine.play(&path, volume, &lane),
                }))
                .unwrap_or_else(|p| Err(contained(p)));
                let _ = reply.send(result);
            }
            Msg::Preload { path, reply } => {
                let result = catch_unwind(AssertUnwindSafe(|| {
                    engine.clip(&path).map(|c| c.duration())
                }))
                .unwrap_or_else(|p| Err(contained(p)));
                let _ = reply.send(result);
            }
            Msg::SetLane { lane, mode } => {
                if let Err(p) = catch_unwind(AssertUnwindSafe(|| engine.set_lane(&lane, mode))) {
                    contained(p);
                }
            }
            Msg::SetMaster(v) => {
                if let Err(p) = catch_unwind(AssertUnwindSafe(|| engine.set_master_volume(v))) {
                    contained(p);
                }
            }
            Msg::StopAll => {
                if let Err(p) = catch_unwind(AssertUnwindSafe(|| engine.stop_all())) {
                    contained(p);
                }
            }
            Msg::Shutdown => break,
        }
    }
    engine.stop_all();
    health.send_replace(SoundHealth::Stopped);
}
