//! The device-free half of the sound output: it only ever talks to a rodio [`Mixer`], so tests
//! drive it with `rodio::mixer::mixer` and read the mixed samples back.

use std::collections::{HashMap, VecDeque};
use std::fs::File;
use std::io;
use std::num::NonZero;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rodio::mixer::Mixer;
use rodio::source::UniformSourceIterator;
use rodio::{Decoder, Source};
use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;

use super::{Playing, SoundError};

#[derive(Clone, Debug)]
pub struct SoundConfig {
    /// Sounds playing at once (each busy one-at-a-time lane counts as one).
    pub max_simultaneous: usize,
    /// Sounds waiting in one one-at-a-time lane.
    pub lane_queue_limit: usize,
    /// Longest clip accepted; a decoded minute of 48 kHz stereo is already 23 MB.
    pub max_clip: Duration,
}

impl Default for SoundConfig {
    fn default() -> Self {
        SoundConfig {
            max_simultaneous: 8,
            lane_queue_limit: 16,
            max_clip: Duration::from_secs(60),
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum LaneMode {
    /// Every sound starts at once, on top of the others.
    #[default]
    Overlap,
    /// Sounds wait for the one before them (a streak of roses plays as a sequence).
    OneAtATime,
}

/// A decoded clip in the output format, shared by every play of it.
#[derive(Debug)]
pub struct Clip {
    samples: Arc<[f32]>,
    frame_rate: u32,
    channels: u16,
}

impl Clip {
    pub fn duration(&self) -> Duration {
        let frames = self.samples.len() as u64 / u64::from(self.channels);
        Duration::from_nanos(frames * 1_000_000_000 / u64::from(self.frame_rate))
    }
}

/// Shared between the engine and the voices it started, read on the audio thread.
struct Shared {
    master: AtomicU32,
    /// Bumped by stop-all; voices from an older generation end at their next sample.
    generation: AtomicU64,
    /// Overlap voices playing plus busy lanes.
    busy: AtomicUsize,
}

/// One play of a clip.
struct Voice {
    samples: Arc<[f32]>,
    pos: usize,
    gain: f32,
    generation: u64,
    shared: Arc<Shared>,
    finished: Option<oneshot::Sender<()>>,
}

impl Voice {
    fn next_sample(&mut self) -> Option<f32> {
        if self.shared.generation.load(Ordering::Relaxed) != self.generation {
            return None;
        }
        let s = *self.samples.get(self.pos)?;
        self.pos += 1;
        let master = f32::from_bits(self.shared.master.load(Ordering::Relaxed));
        Some(s * self.gain * master)
    }
}

impl Drop for Voice {
    fn drop(&mut self) {
        if let Some(tx) = self.finished.take() {
            let _ = tx.send(());
        }
    }
}

/// Releases one busy slot exactly once.
struct Slot(Option<Arc<Shared>>);

impl Slot {
    fn release(&mut self) {
        if let Some(s) = self.0.take() {
            s.busy.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.release();
    }
}

/// A rodio source over one voice.
struct VoiceSource {
    voice: Voice,
    channels: NonZero<u16>,
    rate: NonZero<u32>,
    slot: Slot,
}

impl Iterator for VoiceSource {
    type Item = f32;
    fn next(&mut self) -> Option<f32> {
        let s = self.voice.next_sample();
        if s.is_none() {
            self.slot.release();
        }
        s
    }
}

impl Source for VoiceSource {
    fn current_span_len(&self) -> Option<usize> {
        None
    }
    fn channels(&self) -> NonZero<u16> {
        self.channels
    }
    fn sample_rate(&self) -> NonZero<u32> {
        self.rate
    }
    fn total_duration(&self) -> Option<Duration> {
        None
    }
}

#[derive(Default)]
struct LaneQueue {
    current: Option<Voice>,
    waiting: VecDeque<Voice>,
    running: bool,
}

/// A one-at-a-time lane as a single source: plays its voices back to back and ends when its
/// queue is empty. The queue and the `running` flag share one lock, so a sound queued just as
/// the lane ends either gets played by it or restarts it, never neither.
struct LaneSource {
    queue: Arc<Mutex<LaneQueue>>,
    channels: NonZero<u16>,
    rate: NonZero<u32>,
    slot: Slot,
}

impl Iterator for LaneSource {
    type Item = f32;
    fn next(&mut self) -> Option<f32> {
        let Ok(mut q) = self.queue.lock() else {
            return None;
        };
        loop {
            if let Some(v) = q.current.as_mut() {
                if let Some(s) = v.next_sample() {
                    return Some(s);
                }
            }
            q.current = q.waiting.pop_front();
            if q.current.is_none() {
                q.running = false;
                drop(q);
                self.slot.release();
                return None;
            }
        }
    }
}

impl Source for LaneSource {
    fn current_span_len(&self) -> Option<usize> {
        None
    }
    fn channels(&self) -> NonZero<u16> {
        self.channels
    }
    fn sample_rate(&self) -> NonZero<u32> {
        self.rate
    }
    fn total_duration(&self) -> Option<Duration> {
        None
    }
}

struct Lane {
    mode: LaneMode,
    queue: Arc<Mutex<LaneQueue>>,
}

pub struct SoundEngine {
    mixer: Mixer,
    channels: NonZero<u16>,
    rate: NonZero<u32>,
    config: SoundConfig,
    cache: HashMap<PathBuf, Arc<Clip>>,
    decodes: usize,
    lanes: HashMap<String, Lane>,
    shared: Arc<Shared>,
}

impl SoundEngine {
    /// An engine feeding `mixer`, whose output has `channels` and `rate`.
    pub fn new(
        mixer: Mixer,
        channels: NonZero<u16>,
        rate: NonZero<u32>,
        config: SoundConfig,
    ) -> Self {
        SoundEngine {
            mixer,
            channels,
            rate,
            config,
            cache: HashMap::new(),
            decodes: 0,
            lanes: HashMap::new(),
            shared: Arc::new(Shared {
                master: AtomicU32::new(1.0f32.to_bits()),
                generation: AtomicU64::new(0),
                busy: AtomicUsize::new(0),
            }),
        }
    }

    /// How many files were decoded so far (each at most once).
    pub fn decodes(&self) -> usize {
        self.decodes
    }

    /// Sounds playing now (busy lanes count once).
    pub fn playing(&self) -> usize {
        self.shared.busy.load(Ordering::Acquire)
    }

    /// The clip for `path`, decoding it on first use.
    pub fn clip(&mut self, path: &Path) -> Result<Arc<Clip>, SoundError> {
        if let Some(c) = self.cache.get(path) {
            return Ok(c.clone());
        }
        let clip = Arc::new(self.decode(path)?);
        self.decodes += 1;
        self.cache.insert(path.to_owned(), clip.clone());
        Ok(clip)
    }

    fn decode(&self, path: &Path) -> Result<Clip, SoundError> {
        let file = File::open(path).map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => SoundError::NotFound {
                path: path.to_owned(),
            },
            _ => SoundError::Unreadable {
                path: path.to_owned(),
                reason: e.to_string(),
            },
        })?;
        let decoder = Decoder::try_from(file).map_err(|e| match e {
            rodio::decoder::DecoderError::UnrecognizedFormat => SoundError::Unsupported {
                path: path.to_owned(),
            },
            other => SoundError::Corrupt {
                path: path.to_owned(),
                reason: other.to_string(),
            },
        })?;
        // Decoded in full at the file's own format first: rodio 0.23's converter ends at once
        // on its Ogg Vorbis decoder (it reports an empty first span), so the conversion runs
        // on a plain buffer instead. Bounded by the same length limit as the output below.
        let (src_channels, src_rate) = (decoder.channels(), decoder.sample_rate());
        let src_limit = self.config.max_clip.as_secs_f64()
            * f64::from(src_rate.get())
            * f64::from(src_channels.get());
        let mut raw = Vec::new();
        for s in decoder {
            if raw.len() as f64 > src_limit {
                return Err(SoundError::TooLong {
                    path: path.to_owned(),
                    max_secs: self.config.max_clip.as_secs(),
                });
            }
            raw.push(s);
        }
        let buffer = rodio::buffer::SamplesBuffer::new(src_channels, src_rate, raw);
        // Converted to the output format here, once, so playing is a plain copy.
        let uniform = UniformSourceIterator::new(buffer, self.channels, self.rate);
        let max_samples = self.config.max_clip.as_secs_f64()
            * f64::from(self.rate.get())
            * f64::from(self.channels.get());
        let max_samples = max_samples as usize;
        let mut samples = Vec::new();
        for s in uniform {
            if samples.len() >= max_samples {
                return Err(SoundError::TooLong {
                    path: path.to_owned(),
                    max_secs: self.config.max_clip.as_secs(),
                });
            }
            samples.push(s);
        }
        if samples.is_empty() {
            return Err(SoundError::Empty {
                path: path.to_owned(),
            });
        }
        Ok(Clip {
            samples: samples.into(),
            frame_rate: self.rate.get(),
            channels: self.channels.get(),
        })
    }

    pub fn set_lane(&mut self, lane: &str, mode: LaneMode) {
        self.lanes
            .entry(lane.to_owned())
            .or_insert_with(|| Lane {
                mode,
                queue: Arc::default(),
            })
            .mode = mode;
    }

    pub fn set_master_volume(&mut self, volume: f32) {
        let v = if volume.is_finite() {
            volume.clamp(0.0, 2.0)
        } else {
            1.0
        };
        self.shared.master.store(v.to_bits(), Ordering::Relaxed);
    }

    /// Silences everything now and drops what lanes had waiting.
    pub fn stop_all(&mut self) {
        self.shared.generation.fetch_add(1, Ordering::AcqRel);
        for lane in self.lanes.values() {
            if let Ok(mut q) = lane.queue.lock() {
                q.waiting.clear();
            }
        }
    }

    fn try_reserve(&self) -> Result<Slot, SoundError> {
        let limit = self.config.max_simultaneous;
        self.shared
            .busy
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < limit).then_some(n + 1)
            })
            .map_err(|_| SoundError::TooManySounds { limit })?;
        Ok(Slot(Some(self.shared.clone())))
    }

    /// Plays `path` at `volume` (0–2) in `lane` (unknown lanes overlap).
    pub fn play(&mut self, path: &Path, volume: f32, lane: &str) -> Result<Playing, SoundError> {
        if !(0.0..=2.0).contains(&volume) {
            return Err(SoundError::InvalidVolume(volume));
        }
        let clip = self.clip(path)?;
        let (tx, rx) = oneshot::channel();
        let voice = Voice {
            samples: clip.samples.clone(),
            pos: 0,
            gain: volume,
            generation: self.shared.generation.load(Ordering::Acquire),
            shared: self.shared.clone(),
            finished: Some(tx),
        };
        let lane_q = self
            .lanes
            .get(lane)
            .filter(|l| l.mode == LaneMode::OneAtATime)
            .map(|l| l.queue.clone());
        let Some(queue) = lane_q else {
            let slot = self.try_reserve()?;
            self.mixer.add(VoiceSource {
                voice,
                channels: self.channels,
                rate: self.rate,
                slot,
            });
            return Ok(Playing::new(clip.duration(), false, rx));
        };
        let mut q = queue.lock().map_err(|_| SoundError::Stopped)?;
        if q.running {
            if q.waiting.len() >= self.config.lane_queue_limit {
                return Err(SoundError::LaneFull {
                    lane: lane.to_owned(),
                    limit: self.config.lane_queue_limit,
                });
            }
            q.waiting.push_back(voice);
            return Ok(Playing::new(clip.duration(), true, rx));
        }
        let slot = self.try_reserve()?;
        q.current = Some(voice);
        q.running = true;
        drop(q);
        self.mixer.add(LaneSource {
            queue,
            channels: self.channels,
            rate: self.rate,
            slot,
        });
        Ok(Playing::new(clip.duration(), false, rx))
    }
}
