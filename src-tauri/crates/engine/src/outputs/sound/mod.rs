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
        /// Set when the chosen device could not be used and the system default plays instead.
        #[serde(skip_serializing_if = "Option::is_none")]
        warning: Option<String>,
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
    /// Reopen on another output device (`None`: the system default).
    UseDevice(Option<String>),
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

    /// Moves the output to the device named `name` (`None` or empty: the system default).
    /// Sounds playing on the old device stop; a device that is gone falls back to the
    /// default, and the health says so.
    pub fn use_device(&self, name: Option<String>) {
        let _ = self.tx.send(Msg::UseDevice(name));
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

/// Which output device to open for a saved device name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeviceChoice {
    /// No name saved: the system default.
    Default,
    /// The device at this index of the host's list.
    Named(usize),
    /// The saved device is not there (unplugged, renamed): the system default plays, and
    /// the streamer is told why.
    Missing { warning: String },
}

/// Picks the device for `wanted` among the host's output devices, by exact name. Kept apart
/// from cpal so the fallback is tested without sound hardware.
pub fn choose_device(wanted: Option<&str>, available: &[String]) -> DeviceChoice {
    let Some(wanted) = wanted.map(str::trim).filter(|w| !w.is_empty()) else {
        return DeviceChoice::Default;
    };
    match available.iter().position(|n| n == wanted) {
        Some(i) => DeviceChoice::Named(i),
        None => DeviceChoice::Missing {
            warning: missing_warning(wanted, "it is not connected"),
        },
    }
}

fn missing_warning(wanted: &str, why: &str) -> String {
    format!("The sound device \"{wanted}\" cannot be used ({why}); playing on the system default instead")
}

/// The names of the host's output devices, as [`open_device`] matches them.
pub fn output_device_names() -> Result<Vec<String>, String> {
    use rodio::cpal::traits::HostTrait;
    let devices = rodio::cpal::default_host()
        .output_devices()
        .map_err(|e| e.to_string())?;
    let mut names: Vec<String> = Vec::new();
    for d in devices {
        let name = d.to_string();
        if !names.contains(&name) {
            names.push(name);
        }
    }
    Ok(names)
}

fn device_of(mut sink: rodio::MixerDeviceSink) -> Device {
    sink.log_on_drop(false);
    Device {
        mixer: sink.mixer().clone(),
        channels: sink.config().channel_count(),
        sample_rate: sink.config().sample_rate(),
        keep_alive: Box::new(sink),
    }
}

/// Opens the output device named `name` (`None` or empty: the system default). When that
/// device is gone or refuses to open, the default is opened instead and the second value is
/// the warning to show.
pub fn open_device(name: Option<&str>) -> Result<(Device, Option<String>), String> {
    use rodio::cpal::traits::HostTrait;
    let devices: Vec<rodio::cpal::Device> = match name.map(str::trim).filter(|n| !n.is_empty()) {
        None => Vec::new(),
        Some(_) => rodio::cpal::default_host()
            .output_devices()
            .map(Iterator::collect)
            .unwrap_or_default(),
    };
    let names: Vec<String> = devices.iter().map(ToString::to_string).collect();
    let warning = match choose_device(name, &names) {
        DeviceChoice::Default => None,
        DeviceChoice::Named(i) => {
            match rodio::DeviceSinkBuilder::from_device(devices[i].clone())
                .and_then(|b| b.open_sink_or_fallback())
            {
                Ok(sink) => return Ok((device_of(sink), None)),
                Err(e) => Some(missing_warning(
                    name.unwrap_or_default().trim(),
                    &e.to_string(),
                )),
            }
        }
        DeviceChoice::Missing { warning } => Some(warning),
    };
    if let Some(w) = &warning {
        tracing::warn!(warning = %w, "sound device fallback");
    }
    open_default_device().map(|d| (d, warning))
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

    /// Starts the thread on the output device named `device` (`None` or empty: the system
    /// default), falling back to the default with a warning in the health.
    pub fn start_on(config: SoundConfig, device: Option<String>) -> Self {
        Self::start_opening(config, move || open_device(device.as_deref()))
    }

    /// Starts the thread with `open` run on it (the device must be created where it is used).
    pub fn start_with<F>(config: SoundConfig, open: F) -> Self
    where
        F: FnOnce() -> Result<Device, String> + Send + 'static,
    {
        Self::start_opening(config, move || open().map(|d| (d, None)))
    }

    fn start_opening<F>(config: SoundConfig, open: F) -> Self
    where
        F: FnOnce() -> Result<(Device, Option<String>), String> + Send + 'static,
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

/// The engine on an opened device, or a device-less one that reports why it cannot play.
struct Opened {
    engine: SoundEngine,
    no_device: Option<String>,
    _keep_alive: Option<Box<dyn std::any::Any>>,
}

/// Runs `open` on this thread; a device whose driver panics while opening is the same as no
/// device, and is reported.
fn open_guarded<F>(open: F) -> Result<(Device, Option<String>), String>
where
    F: FnOnce() -> Result<(Device, Option<String>), String>,
{
    catch_unwind(AssertUnwindSafe(open)).unwrap_or_else(|panic| {
        let fault = crate::supervise::report("sound", &*panic);
        Err(format!(
            "opening the audio device failed: {}",
            fault.message
        ))
    })
}

fn engine_on(
    opened: Result<(Device, Option<String>), String>,
    config: &SoundConfig,
    health: &watch::Sender<SoundHealth>,
) -> Opened {
    // Without a device the engine still decodes, so a missing or broken file is reported as
    // such; only the final step, playing, fails with the device reason.
    match opened {
        Ok((d, warning)) => {
            health.send_replace(SoundHealth::Ready {
                channels: d.channels.get(),
                sample_rate: d.sample_rate.get(),
                warning,
            });
            Opened {
                engine: SoundEngine::new(d.mixer, d.channels, d.sample_rate, config.clone()),
                no_device: None,
                _keep_alive: Some(d.keep_alive),
            }
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
            Opened {
                engine: SoundEngine::new(mixer, channels, rate, config.clone()),
                no_device: Some(reason),
                _keep_alive: None,
            }
        }
    }
}

fn run<F>(
    config: SoundConfig,
    open: F,
    rx: std_mpsc::Receiver<Msg>,
    health: watch::Sender<SoundHealth>,
) where
    F: FnOnce() -> Result<(Device, Option<String>), String>,
{
    let mut out = engine_on(open_guarded(open), &config, &health);
    // What the streamer set, applied again when the device changes.
    let mut master: Option<f32> = None;
    let mut lane_modes: Vec<(String, LaneMode)> = Vec::new();
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
                let result = catch_unwind(AssertUnwindSafe(|| match &out.no_device {
                    Some(reason) => out.engine.clip(&path).and_then(|_| {
                        Err(SoundError::NoAudioDevice {
                            reason: reason.clone(),
                        })
                    }),
                    None => out.engine.play(&path, volume, &lane),
                }))
                .unwrap_or_else(|p| Err(contained(p)));
                let _ = reply.send(result);
            }
            Msg::Preload { path, reply } => {
                let result = catch_unwind(AssertUnwindSafe(|| {
                    out.engine.clip(&path).map(|c| c.duration())
                }))
                .unwrap_or_else(|p| Err(contained(p)));
                let _ = reply.send(result);
            }
            Msg::SetLane { lane, mode } => {
                lane_modes.retain(|(l, _)| *l != lane);
                lane_modes.push((lane.clone(), mode));
                if let Err(p) = catch_unwind(AssertUnwindSafe(|| out.engine.set_lane(&lane, mode)))
                {
                    contained(p);
                }
            }
            Msg::UseDevice(name) => {
                // The old stream closes first: some devices open only once at a time.
                out.engine.stop_all();
                drop(out);
                out = engine_on(
                    open_guarded(|| open_device(name.as_deref())),
                    &config,
                    &health,
                );
                if let Some(v) = master {
                    out.engine.set_master_volume(v);
                }
                for (lane, mode) in &lane_modes {
                    out.engine.set_lane(lane, *mode);
                }
            }
            Msg::SetMaster(v) => {
                master = Some(v);
                if let Err(p) = catch_unwind(AssertUnwindSafe(|| out.engine.set_master_volume(v))) {
                    contained(p);
                }
            }
            Msg::StopAll => {
                if let Err(p) = catch_unwind(AssertUnwindSafe(|| out.engine.stop_all())) {
                    contained(p);
                }
            }
            Msg::Shutdown => break,
        }
    }
    out.engine.stop_all();
    health.send_replace(SoundHealth::Stopped);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_saved_device_is_found_by_name_and_a_missing_one_falls_back_with_a_warning() {
        let host = vec!["default".to_string(), "USB Headset".to_string()];
        assert_eq!(choose_device(None, &host), DeviceChoice::Default);
        assert_eq!(choose_device(Some("  "), &host), DeviceChoice::Default);
        assert_eq!(
            choose_device(Some("USB Headset"), &host),
            DeviceChoice::Named(1)
        );
        match choose_device(Some("HDMI \"TV\""), &host) {
            DeviceChoice::Missing { warning } => {
                assert!(warning.contains("HDMI \"TV\""), "{warning}");
                assert!(warning.contains("system default"), "{warning}");
            }
            other => panic!("{other:?}"),
        }
        // Names match exactly: a similar device is not taken for the saved one.
        assert!(matches!(
            choose_device(Some("usb headset"), &host),
            DeviceChoice::Missing { .. }
        ));
        assert!(matches!(
            choose_device(Some("USB"), &[]),
            DeviceChoice::Missing { .. }
        ));
    }
}
