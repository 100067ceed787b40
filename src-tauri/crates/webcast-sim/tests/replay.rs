//! Replaying recordings: a recording file keeps its recorded timing (gaps capped, speed
//! applied), an old folder replays at a fixed interval, as before.

mod common;

use std::path::Path;
use std::time::Duration;

use common::*;
use tiktok_live::frame;
use tiktok_live::proto::{BaseMessage, FetchResult};
use tiktok_live::record::{RecordKind, Recorder};
use tokio::time::Instant;
use webcast_sim::{Scenario, SimConfig};

/// A msg frame carrying one message with this id.
fn msg(id: u64) -> Vec<u8> {
    let result = FetchResult {
        messages: vec![BaseMessage {
            method: "WebcastChatMessage".into(),
            msg_id: id as i64,
            ..Default::default()
        }],
        ..Default::default()
    };
    frame::msg_frame(id as i64, 1000 + id, &result, true)
}

/// Arrival times (ms) of the recorded frames: gaps of 1 s, 60 s (a paused stream), 0.5 s.
const ARRIVALS: [u64; 4] = [
    1_700_000_001_000,
    1_700_000_002_000,
    1_700_000_062_000,
    1_700_000_062_500,
];

fn write_file(path: &Path) {
    let mut rec = Recorder::open(path).unwrap();
    for (i, at) in ARRIVALS.iter().enumerate() {
        rec.push(RecordKind::Frame, *at, &msg(i as u64 + 1));
    }
    assert!(rec.finish());
}

/// Connects, then returns the msg ids received and the (virtual) time between them.
async fn replay_gaps(scenario: Scenario) -> (Vec<i64>, Vec<Duration>) {
    let sim = start(SimConfig {
        scenario,
        end_grace: Duration::from_millis(50),
        ..SimConfig::default()
    })
    .await;
    let (_, mut ws) = sign_and_connect(&sim, true, true).await;
    let mut ids = Vec::new();
    let mut times = Vec::new();
    while ids.len() < ARRIVALS.len() {
        let (_, result) = next_msg(&mut ws).await.expect("a replayed frame");
        times.push(Instant::now());
        ids.extend(result.messages.iter().map(|m| m.msg_id));
    }
    let gaps = times.windows(2).map(|w| w[1] - w[0]).collect();
    (ids, gaps)
}

fn ms(v: &[u64]) -> Vec<Duration> {
    v.iter().map(|m| Duration::from_millis(*m)).collect()
}

#[tokio::test(start_paused = true)]
async fn a_recording_file_replays_with_its_timing_and_a_long_pause_capped() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("stream.ltrec");
    write_file(&file);

    let (ids, gaps) = replay_gaps(Scenario::replay(&file)).await;
    assert_eq!(ids, vec![1, 2, 3, 4]);
    // 1 s as recorded, 60 s capped at the default 5 s, 0.5 s as recorded.
    assert_eq!(gaps, ms(&[1_000, 5_000, 500]));

    let (_, gaps) = replay_gaps(Scenario::Replay {
        path: file.clone(),
        interval: Duration::ZERO,
        speed: 4.0,
        max_gap: Duration::from_secs(2),
    })
    .await;
    assert_eq!(gaps, ms(&[250, 500, 125]));

    // Speed 0 ignores the recorded times: frames `interval` apart.
    let (_, gaps) = replay_gaps(Scenario::Replay {
        path: file,
        interval: Duration::from_millis(30),
        speed: 0.0,
        max_gap: Duration::from_secs(5),
    })
    .await;
    assert_eq!(gaps, ms(&[30, 30, 30]));
}

#[tokio::test(start_paused = true)]
async fn an_old_folder_has_no_times_and_replays_at_the_interval() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("frames")).unwrap();
    for i in 0..ARRIVALS.len() {
        std::fs::write(
            dir.path().join("frames").join(format!("{i:08}.bin")),
            msg(i as u64 + 1),
        )
        .unwrap();
    }
    let (ids, gaps) = replay_gaps(Scenario::Replay {
        path: dir.path().to_path_buf(),
        interval: Duration::from_millis(200),
        speed: 1.0,
        max_gap: Duration::from_secs(5),
    })
    .await;
    assert_eq!(ids, vec![1, 2, 3, 4]);
    assert_eq!(gaps, ms(&[200, 200, 200]));
}

#[tokio::test]
async fn a_torn_recording_replays_what_is_whole_and_a_foreign_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("stream.ltrec");
    write_file(&file);
    let len = std::fs::metadata(&file).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&file)
        .unwrap()
        .set_len(len - 2)
        .unwrap();
    let rec = webcast_sim::replay::load(&file, "ws://127.0.0.1:1/ws").unwrap();
    assert_eq!(rec.frames.len(), ARRIVALS.len() - 1);
    assert!(rec.torn.is_some());

    let junk = dir.path().join("junk.bin");
    std::fs::write(&junk, b"{\"not\": \"a recording\"}").unwrap();
    let started = webcast_sim::Simulator::start(
        SimConfig {
            scenario: Scenario::replay(&junk),
            ..SimConfig::default()
        },
        "127.0.0.1:0".parse().unwrap(),
    )
    .await;
    let Err(err) = started else {
        panic!("a foreign file is refused")
    };
    assert!(
        err.to_string().contains("not a LiveTrigger recording"),
        "{err}"
    );
}
