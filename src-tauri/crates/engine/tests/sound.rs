//! Sound output with real files decoded by rodio/symphonia: WAV and FLAC written by the test
//! itself. The engine is checked device-free through rodio's mixer, reading the mixed samples
//! back; the one test that opens a real device is `#[ignore]`d and runs in CI with ALSA's null
//! PCM (`ALSA_CONFIG_PATH=.ci/asound-null.conf ... -- --include-ignored`).

use std::num::NonZero;
use std::path::{Path, PathBuf};
use std::time::Duration;

use livetrigger_engine::outputs::sound::{
    LaneMode, SoundConfig, SoundEngine, SoundError, SoundHealth, SoundOutput,
};
use rodio::mixer::{mixer, MixerSource};

const RATE: u32 = 8000;

struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let p =
            std::env::temp_dir().join(format!("livetrigger-sound-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    fn path(&self, f: &str) -> PathBuf {
        self.0.join(f)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// 16-bit PCM WAV.
fn write_wav(path: &Path, channels: u16, rate: u32, samples: &[i16]) {
    let data_len = (samples.len() * 2) as u32;
    let mut b = Vec::new();
    b.extend_from_slice(b"RIFF");
    b.extend_from_slice(&(36 + data_len).to_le_bytes());
    b.extend_from_slice(b"WAVEfmt ");
    b.extend_from_slice(&16u32.to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes());
    b.extend_from_slice(&channels.to_le_bytes());
    b.extend_from_slice(&rate.to_le_bytes());
    b.extend_from_slice(&(rate * u32::from(channels) * 2).to_le_bytes());
    b.extend_from_slice(&(channels * 2).to_le_bytes());
    b.extend_from_slice(&16u16.to_le_bytes());
    b.extend_from_slice(b"data");
    b.extend_from_slice(&data_len.to_le_bytes());
    for s in samples {
        b.extend_from_slice(&s.to_le_bytes());
    }
    std::fs::write(path, b).unwrap();
}

fn crc8(data: &[u8]) -> u8 {
    let mut crc = 0u8;
    for &byte in data {
        crc ^= byte;
        for _ in 0..8 {
            crc = if crc & 0x80 != 0 {
                (crc << 1) ^ 0x07
            } else {
                crc << 1
            };
        }
    }
    crc
}

fn crc16(data: &[u8]) -> u16 {
    let mut crc = 0u16;
    for &byte in data {
        crc ^= u16::from(byte) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x8005
            } else {
                crc << 1
            };
        }
    }
    crc
}

/// Mono 16-bit FLAC with one VERBATIM subframe per frame: the simplest valid encoding, enough
/// to run symphonia's real FLAC demuxer and decoder (frame CRCs included).
fn write_flac(path: &Path, rate: u32, samples: &[i16]) {
    const BLOCK: usize = 1024;
    let mut b = b"fLaC".to_vec();
    b.push(0x80); // last metadata block, STREAMINFO
    b.extend_from_slice(&[0, 0, 34]);
    b.extend_from_slice(&(BLOCK as u16).to_be_bytes());
    b.extend_from_slice(&(BLOCK as u16).to_be_bytes());
    b.extend_from_slice(&[0; 6]); // frame sizes unknown
                                  // rate:20 | channels-1:3 (0, mono) | bps-1:5 | total samples:36
    let packed: u64 = (u64::from(rate) << 44) | (15u64 << 36) | samples.len() as u64;
    b.extend_from_slice(&packed.to_be_bytes());
    b.extend_from_slice(&[0; 16]); // MD5 unknown
    for (n, block) in samples.chunks(BLOCK).enumerate() {
        assert!(n < 128, "one-byte frame numbers only");
        let mut f = vec![0xFF, 0xF8, 0x70, 0x08, n as u8];
        f.extend_from_slice(&((block.len() - 1) as u16).to_be_bytes());
        f.push(crc8(&f));
        f.push(0x02); // VERBATIM subframe
        for s in block {
            f.extend_from_slice(&s.to_be_bytes());
        }
        let crc = crc16(&f);
        f.extend_from_slice(&crc.to_be_bytes());
        b.extend_from_slice(&f);
    }
    std::fs::write(path, b).unwrap();
}

fn engine(config: SoundConfig) -> (SoundEngine, MixerSource) {
    let ch = NonZero::new(1).unwrap();
    let rate = NonZero::new(RATE).unwrap();
    let (m, out) = mixer(ch, rate);
    (SoundEngine::new(m, ch, rate, config), out)
}

fn take(out: &mut MixerSource, n: usize) -> Vec<f32> {
    out.by_ref().take(n).collect()
}

fn close(a: f32, b: f32) -> bool {
    (a - b).abs() < 1e-3
}

#[test]
fn wav_and_flac_decode_to_the_samples_written() {
    let dir = TempDir::new("formats");
    let ramp: Vec<i16> = (0..3000)
        .map(|i| ((i * 7) % 20000 - 10000) as i16)
        .collect();
    write_wav(&dir.path("a.wav"), 1, RATE, &ramp);
    write_flac(&dir.path("a.flac"), RATE, &ramp);
    for file in ["a.wav", "a.flac"] {
        let (mut e, mut out) = engine(SoundConfig::default());
        let clip = e.clip(&dir.path(file)).unwrap();
        assert_eq!(clip.duration(), Duration::from_micros(375_000), "{file}");
        e.play(&dir.path(file), 1.0, "fx").unwrap();
        let got = take(&mut out, 4000);
        assert_eq!(got.len(), 3000, "{file}");
        for (i, (g, w)) in got.iter().zip(&ramp).enumerate() {
            assert!(close(*g, f32::from(*w) / 32768.0), "{file} sample {i}: {g}");
        }
    }
}

#[test]
fn each_file_is_decoded_once_and_played_from_the_cache() {
    let dir = TempDir::new("cache");
    let p = dir.path("pop.wav");
    write_wav(&p, 1, RATE, &[8000; 400]);
    let (mut e, mut out) = engine(SoundConfig::default());
    e.play(&p, 1.0, "fx").unwrap();
    take(&mut out, 400);
    std::fs::remove_file(&p).unwrap();
    // The file is gone: only the cache can still play it.
    e.play(&p, 1.0, "fx").unwrap();
    assert_eq!(take(&mut out, 1000).len(), 400);
    assert_eq!(e.decodes(), 1);
}

#[test]
fn action_volume_and_master_volume_multiply() {
    let dir = TempDir::new("volume");
    let p = dir.path("half.wav");
    write_wav(&p, 1, RATE, &[16384; 100]);
    let (mut e, mut out) = engine(SoundConfig::default());
    e.set_master_volume(0.5);
    e.play(&p, 0.5, "fx").unwrap();
    assert!(take(&mut out, 100).iter().all(|&s| close(s, 0.125)));
    e.set_master_volume(1.0);
    e.play(&p, 2.0, "fx").unwrap();
    assert!(take(&mut out, 100).iter().all(|&s| close(s, 1.0)));
    assert_eq!(
        e.play(&p, 3.0, "fx").unwrap_err(),
        SoundError::InvalidVolume(3.0)
    );
    assert!(matches!(
        e.play(&p, f32::NAN, "fx"),
        Err(SoundError::InvalidVolume(_))
    ));
}

#[test]
fn overlapping_sounds_mix_up_to_the_limit() {
    let dir = TempDir::new("limit");
    let p = dir.path("q.wav");
    write_wav(&p, 1, RATE, &[4096; 200]);
    let (mut e, mut out) = engine(SoundConfig {
        max_simultaneous: 2,
        ..SoundConfig::default()
    });
    e.play(&p, 1.0, "fx").unwrap();
    e.play(&p, 1.0, "fx").unwrap();
    assert_eq!(
        e.play(&p, 1.0, "fx").unwrap_err(),
        SoundError::TooManySounds { limit: 2 }
    );
    assert!(take(&mut out, 200).iter().all(|&s| close(s, 0.25)));
    assert_eq!(take(&mut out, 10).len(), 0);
    assert_eq!(e.playing(), 0);
    e.play(&p, 1.0, "fx").unwrap();
}

#[test]
fn one_at_a_time_lane_plays_in_order_without_overlap() {
    let dir = TempDir::new("lane");
    let (a, b) = (dir.path("a.wav"), dir.path("b.wav"));
    write_wav(&a, 1, RATE, &[8192; 100]);
    write_wav(&b, 1, RATE, &[16384; 50]);
    let (mut e, mut out) = engine(SoundConfig {
        lane_queue_limit: 2,
        ..SoundConfig::default()
    });
    e.set_lane("roses", LaneMode::OneAtATime);
    assert!(!e.play(&a, 1.0, "roses").unwrap().queued);
    assert!(e.play(&b, 1.0, "roses").unwrap().queued);
    assert!(e.play(&a, 1.0, "roses").unwrap().queued);
    assert_eq!(
        e.play(&b, 1.0, "roses").unwrap_err(),
        SoundError::LaneFull {
            lane: "roses".into(),
            limit: 2
        }
    );
    assert_eq!(e.playing(), 1, "a busy lane takes one slot");
    let got = take(&mut out, 1000);
    assert_eq!(got.len(), 250);
    assert!(got[..100].iter().all(|&s| close(s, 0.25)));
    assert!(got[100..150].iter().all(|&s| close(s, 0.5)));
    assert!(got[150..].iter().all(|&s| close(s, 0.25)));
    assert_eq!(e.playing(), 0);
    // An idle lane starts again on the next sound.
    assert!(!e.play(&b, 1.0, "roses").unwrap().queued);
    assert_eq!(take(&mut out, 1000).len(), 50);
}

#[tokio::test]
async fn stop_all_silences_playing_and_waiting_sounds() {
    let dir = TempDir::new("stop");
    let p = dir.path("long.wav");
    write_wav(&p, 1, RATE, &[1000; 8000]);
    let (mut e, mut out) = engine(SoundConfig::default());
    e.set_lane("q", LaneMode::OneAtATime);
    let first = e.play(&p, 1.0, "fx").unwrap();
    let queued = e.play(&p, 1.0, "q").unwrap();
    let waiting = e.play(&p, 1.0, "q").unwrap();
    assert_eq!(take(&mut out, 10).len(), 10);
    e.stop_all();
    assert_eq!(take(&mut out, 10).len(), 0);
    first.finished().await;
    queued.finished().await;
    waiting.finished().await;
    assert_eq!(e.playing(), 0);
}

#[test]
fn missing_and_broken_files_are_named_in_the_error() {
    let dir = TempDir::new("broken");
    let (mut e, _out) = engine(SoundConfig::default());

    let missing = dir.path("nope.mp3");
    let err = e.play(&missing, 1.0, "fx").unwrap_err();
    assert_eq!(
        err,
        SoundError::NotFound {
            path: missing.clone()
        }
    );
    assert!(err.to_string().contains("nope.mp3"));

    let text = dir.path("notes.ogg");
    std::fs::write(&text, b"this is not audio at all, just text").unwrap();
    let err = e.play(&text, 1.0, "fx").unwrap_err();
    assert!(
        matches!(
            err,
            SoundError::Unsupported { .. } | SoundError::Corrupt { .. }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("notes.ogg"));

    // A WAV header promising data that is not there.
    let cut = dir.path("cut.wav");
    write_wav(&cut, 1, RATE, &[1; 100]);
    let bytes = std::fs::read(&cut).unwrap();
    std::fs::write(&cut, &bytes[..30]).unwrap();
    let err = e.play(&cut, 1.0, "fx").unwrap_err();
    assert!(err.to_string().contains("cut.wav"), "{err}");

    // A FLAC stream header with its frames cut off.
    let flac = dir.path("bad.flac");
    write_flac(&flac, RATE, &[500; 100]);
    let bytes = std::fs::read(&flac).unwrap();
    std::fs::write(&flac, &bytes[..42]).unwrap();
    let err = e.play(&flac, 1.0, "fx").unwrap_err();
    assert!(err.to_string().contains("bad.flac"), "{err}");
    assert_eq!(e.decodes(), 0);
}

#[test]
fn over_long_clips_are_refused() {
    let dir = TempDir::new("long");
    let p = dir.path("long.wav");
    write_wav(&p, 1, RATE, &vec![1; RATE as usize * 3]);
    let (mut e, _out) = engine(SoundConfig {
        max_clip: Duration::from_secs(2),
        ..SoundConfig::default()
    });
    assert_eq!(
        e.play(&p, 1.0, "fx").unwrap_err(),
        SoundError::TooLong {
            path: p.clone(),
            max_secs: 2
        }
    );
}

#[tokio::test]
async fn without_a_device_every_play_fails_with_the_reason() {
    let dir = TempDir::new("nodevice");
    let p = dir.path("ding.wav");
    write_wav(&p, 1, RATE, &[100; 100]);
    let out = SoundOutput::start_with(SoundConfig::default(), || {
        Err("cannot find card '0'".to_owned())
    });
    let h = out.handle();
    let mut health = h.health();
    let state = health
        .wait_for(|s| *s != SoundHealth::Starting)
        .await
        .unwrap()
        .clone();
    assert_eq!(
        state,
        SoundHealth::NoAudioDevice {
            reason: "cannot find card '0'".into()
        }
    );
    assert_eq!(
        h.play(&p, 1.0, "fx").await.unwrap_err(),
        SoundError::NoAudioDevice {
            reason: "cannot find card '0'".into()
        }
    );
    // Files are still checked, so the user learns about a bad path before going live.
    assert!(matches!(
        h.play(dir.path("missing.wav"), 1.0, "fx").await,
        Err(SoundError::NotFound { .. })
    ));
    // Resampled from 8 kHz to the output rate once, at decode time.
    let d = h.preload(&p).await.unwrap();
    assert!(
        d.abs_diff(Duration::from_micros(12_500)) < Duration::from_millis(1),
        "{d:?}"
    );
    out.shutdown();
    assert_eq!(*health.borrow_and_update(), SoundHealth::Stopped);
}

/// Opens the real default device. CI runs it with ALSA's null PCM.
#[tokio::test]
#[ignore = "needs an audio device; CI sets ALSA_CONFIG_PATH=.ci/asound-null.conf"]
async fn plays_on_the_default_device() {
    let dir = TempDir::new("device");
    let p = dir.path("beep.wav");
    let beep: Vec<i16> = (0..4410)
        .map(|i| ((i as f32 * 0.0627).sin() * 8000.0) as i16)
        .collect();
    write_wav(&p, 1, 44_100, &beep);
    let out = SoundOutput::start(SoundConfig::default());
    let h = out.handle();
    let state = h
        .health()
        .wait_for(|s| *s != SoundHealth::Starting)
        .await
        .unwrap()
        .clone();
    assert!(matches!(state, SoundHealth::Ready { .. }), "{state:?}");
    let playing = h.play(&p, 0.8, "fx").await.unwrap();
    let d = playing.duration;
    assert!(
        d.abs_diff(Duration::from_millis(100)) < Duration::from_millis(1),
        "{d:?}"
    );
    tokio::time::timeout(Duration::from_secs(10), playing.finished())
        .await
        .expect("the device should consume the sound");
    out.shutdown();
}

/// MP3 and Ogg Vorbis made by SoX (`sox -n -r 22050 -c 1 tone-660hz.{mp3,ogg} synth 0.25 sine
/// 660 vol 0.5`, committed in tests/fixtures): lossy formats cannot be compared sample by
/// sample, so the decoded signal is measured instead — its pitch and its loudness.
#[test]
fn mp3_and_ogg_decode_to_the_tone_they_hold() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    for file in ["tone-660hz.mp3", "tone-660hz.ogg"] {
        let path = fixtures.join(file);
        let (mut e, mut out) = engine(SoundConfig::default());
        let clip = e.clip(&path).unwrap_or_else(|err| panic!("{file}: {err}"));
        let ms = clip.duration().as_millis();
        // Encoders pad the start and end a little.
        assert!((240..=320).contains(&ms), "{file}: {ms} ms");
        e.play(&path, 1.0, "fx").unwrap();
        let got = take(&mut out, RATE as usize / 2);
        // The middle 150 ms, clear of encoder ramps at both ends.
        let start = (RATE as usize * 50) / 1000;
        let mid = &got[start..start + (RATE as usize * 150) / 1000];
        let crossings = mid
            .windows(2)
            .filter(|w| (w[0] < 0.0) != (w[1] < 0.0))
            .count();
        let hz = crossings as f64 / 2.0 / 0.150;
        assert!((600.0..720.0).contains(&hz), "{file}: {hz:.0} Hz");
        let rms =
            (mid.iter().map(|s| f64::from(*s).powi(2)).sum::<f64>() / mid.len() as f64).sqrt();
        assert!((0.25..0.45).contains(&rms), "{file}: rms {rms:.3}");
    }
}

/// A saved device that is gone plays on the default one, and the health says so; switching
/// back to the default clears the warning. CI runs it with ALSA's null PCM.
#[tokio::test]
#[ignore = "needs an audio device; CI sets ALSA_CONFIG_PATH=.ci/asound-null.conf"]
async fn a_missing_device_falls_back_to_the_default_with_a_warning() {
    let out = SoundOutput::start_on(
        SoundConfig::default(),
        Some("LiveTrigger test headset (unplugged)".into()),
    );
    let h = out.handle();
    let mut health = h.health();
    let state = health
        .wait_for(|s| *s != SoundHealth::Starting)
        .await
        .unwrap()
        .clone();
    match state {
        SoundHealth::Ready {
            warning: Some(w), ..
        } => assert!(
            w.contains("LiveTrigger test headset (unplugged)") && w.contains("system default"),
            "{w}"
        ),
        other => panic!("expected the default device with a warning, got {other:?}"),
    }
    h.use_device(None);
    let state = health
        .wait_for(|s| matches!(s, SoundHealth::Ready { warning: None, .. }))
        .await
        .unwrap()
        .clone();
    assert!(matches!(state, SoundHealth::Ready { .. }));
    out.shutdown();
}
