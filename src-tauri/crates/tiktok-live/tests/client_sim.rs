//! The real client against the webcast simulator on 127.0.0.1: the whole protocol, end to end.

use std::collections::BTreeMap;
use std::time::Duration;

use futures_util::StreamExt;
use tiktok_live::client::{
    Backoff, ClientConfig, ConnectionState, LiveClient, SignBudget, SignConfig, SignPathStyle,
};
use tiktok_live::error::Error;
use tiktok_live::event::Event;
use tiktok_live::streak::SettleReason;
use tiktok_live::target::Target;
use tokio_util::sync::CancellationToken;
use webcast_sim::{
    ConnFault, Expected, HandshakeFault, RoomState, Scenario, SignFault, SimConfig, SimHandle,
    Simulator,
};

const LIMIT: Duration = Duration::from_secs(30);

async fn start_sim(config: SimConfig) -> SimHandle {
    Simulator::start(config, "127.0.0.1:0".parse().unwrap())
        .await
        .expect("simulator starts")
}

fn fast_config(sim: &SimHandle) -> ClientConfig {
    let mut cfg = ClientConfig::local(&sim.base_url());
    cfg.backoff = Backoff {
        initial: Duration::from_millis(40),
        max: Duration::from_millis(400),
        max_attempts: Some(6),
    };
    cfg.streak_timeout = Duration::from_millis(300);
    cfg.connect_timeout = Duration::from_secs(5);
    cfg.http_timeout = Duration::from_secs(5);
    // Fast retries on purpose: the sign budget has its own tests (conn_policy.rs).
    cfg.sign_budget = SignBudget {
        per_minute: 0,
        per_hour: 0,
    };
    cfg
}

fn quick_sim() -> SimConfig {
    SimConfig {
        time_scale: 0.0,
        end_grace: Duration::from_millis(200),
        ..SimConfig::default()
    }
}

/// Everything the stream yielded until it ended, and the final state.
struct Run {
    events: Vec<Event>,
    errors: Vec<Error>,
    state: ConnectionState,
}

async fn run_client(cfg: ClientConfig, target: Target) -> Run {
    let client = LiveClient::new(cfg).unwrap();
    let mut stream = client.connect(target, CancellationToken::new());
    let states = stream.state();
    let mut events = Vec::new();
    let mut errors = Vec::new();
    let collect = async {
        while let Some(item) = stream.next().await {
            match item {
                Ok(e) => events.push(e),
                Err(e) => errors.push(e),
            }
        }
    };
    tokio::time::timeout(LIMIT, collect)
        .await
        .expect("the stream ends by itself");
    let state = states.borrow().clone();
    Run {
        events,
        errors,
        state,
    }
}

/// Tallies events the way `Expected` counts the script.
#[derive(Debug, Default, PartialEq)]
struct Tally {
    chats: Vec<String>,
    gift_units: BTreeMap<String, u64>,
    settled_gifts: usize,
    diamonds: u64,
    timeouts: usize,
    likes: u64,
    follows: usize,
    shares: usize,
    joins: usize,
    subs: usize,
    viewer_updates: usize,
    connected: usize,
}

fn tally(events: &[Event]) -> Tally {
    let mut t = Tally::default();
    for e in events {
        match e {
            Event::Chat(c) => t.chats.push(c.content.clone()),
            Event::Gift(g) => {
                if let Some(s) = &g.settled {
                    *t.gift_units
                        .entry(g.gift.gift_name().to_string())
                        .or_default() += u64::from(s.count);
                    t.settled_gifts += usize::from(s.reason != SettleReason::Late);
                    t.diamonds += g.settled_diamonds().unwrap_or(0);
                    t.timeouts += usize::from(s.reason == SettleReason::Timeout);
                }
            }
            Event::Like(l) => t.likes += u64::from(l.count),
            Event::Follow(_) => t.follows += 1,
            Event::Share(_) => t.shares += 1,
            Event::Join(_) => t.joins += 1,
            Event::Subscribe(_) => t.subs += 1,
            Event::ViewerCount(_) => t.viewer_updates += 1,
            Event::Connected { .. } => t.connected += 1,
            _ => {}
        }
    }
    t
}

fn assert_matches_script(events: &[Event], want: &Expected) {
    let t = tally(events);
    let mut all_chats = want.chat_contents.clone();
    all_chats.sort();
    let mut got_chats = t.chats.clone();
    got_chats.sort();
    assert_eq!(got_chats, all_chats, "every chat exactly once");
    assert_eq!(t.gift_units, want.gift_units, "settled units per gift");
    assert_eq!(t.settled_gifts, want.settled_gifts);
    assert_eq!(t.diamonds, want.diamonds);
    assert_eq!(t.likes, want.likes);
    assert_eq!(t.follows, want.follows);
    assert_eq!(t.shares, want.shares);
    assert_eq!(t.joins, want.joins, "joins only (leaves are not joins)");
    assert_eq!(t.subs, want.subscriptions);
    assert_eq!(t.viewer_updates, want.viewer_updates);
}

#[tokio::test]
async fn the_demo_stream_arrives_exactly_and_the_end_stops_the_client() {
    let sim = start_sim(quick_sim()).await;
    let want = sim.expected().cloned().expect("scripted");
    let run = run_client(fast_config(&sim), Target::parse("@simstreamer").unwrap()).await;

    assert_eq!(run.state, ConnectionState::Ended);
    assert_matches_script(&run.events, &want);
    let t = tally(&run.events);
    assert_eq!(t.connected, 1);
    assert_eq!(
        t.timeouts,
        want.lost_finals.len(),
        "lost finals settle by timeout"
    );
    assert!(matches!(
        run.events.last(),
        Some(Event::StreamEnded { suspended: false })
    ));
    assert!(run.events.contains(&Event::StreamPaused));
    assert!(run.events.contains(&Event::StreamUnpaused));
    let unknown = run
        .events
        .iter()
        .filter(|e| matches!(e, Event::Unknown { .. }))
        .count();
    assert_eq!(unknown, want.unknown);
    let decode_errors = run
        .errors
        .iter()
        .filter(|e| matches!(e, Error::Decode(_)))
        .count();
    assert_eq!(
        decode_errors, want.corrupt,
        "a corrupt payload is an error item, not the end"
    );
    let history = run
        .events
        .iter()
        .filter(|e| matches!(e, Event::Chat(c) if c.meta.is_history))
        .count();
    assert_eq!(
        history, want.history,
        "the initial batch is flagged as history"
    );

    // What the server saw: a correct handshake, enter-room, heartbeats and acks (once it has
    // read everything the client sent before closing).
    let rec = sim
        .wait_for(|r| r.open_connections == 0 && !r.closed.is_empty(), LIMIT)
        .await
        .expect("the socket closes");
    let sign = &rec.sign_requests[0];
    let hs = rec
        .handshakes
        .iter()
        .find(|h| h.accepted)
        .expect("a socket opened");
    assert_eq!(hs.query("room_id"), Some("7140000000000000001"));
    assert_eq!(hs.query("cursor"), Some("c-1"));
    assert!(hs.query("internal_ext").is_some_and(|e| !e.is_empty()));
    assert_eq!(hs.query("compress"), Some("gzip"));
    assert_eq!(hs.cookie("ttwid"), Some("fake-ttwid"));
    assert_eq!(
        hs.header("user-agent"),
        sign.query("user_agent"),
        "socket UA = signing UA"
    );
    assert_eq!(rec.enter_rooms.len(), 1);
    assert_eq!(rec.enter_rooms[0].room_id, 7_140_000_000_000_000_001);
    assert_eq!(rec.enter_rooms[0].live_id, 12);
    assert_eq!(rec.enter_rooms[0].identity, "audience");
    assert_eq!(rec.heartbeats.first().and_then(|h| h.seq), Some(1));
    assert_eq!(rec.heartbeats[0].room_id, Some(7_140_000_000_000_000_001));
    let acked: Vec<(u64, &str)> = rec
        .acks
        .iter()
        .map(|a| (a.log_id, a.payload.as_str()))
        .collect();
    for p in rec.pushed.iter().filter(|p| p.need_ack) {
        assert!(
            acked.contains(&(p.log_id, p.internal_ext.as_str())),
            "frame {} was not acked with its ext",
            p.log_id
        );
    }
    assert_eq!(
        rec.acks.len(),
        rec.pushed.iter().filter(|p| p.need_ack).count()
    );
}

#[tokio::test]
async fn heartbeats_follow_the_interval_with_rising_seq() {
    let sim = start_sim(SimConfig {
        scenario: Scenario::Script(webcast_sim::script::idle()),
        ..quick_sim()
    })
    .await;
    let mut cfg = fast_config(&sim);
    cfg.heartbeat_interval = Duration::from_millis(50);
    let client = LiveClient::new(cfg).unwrap();
    let stream = client.connect(
        Target::Room(7_140_000_000_000_000_001),
        CancellationToken::new(),
    );
    let rec = sim
        .wait_for(|r| r.heartbeats.len() >= 4, LIMIT)
        .await
        .expect("heartbeats arrive");
    let seqs: Vec<u64> = rec.heartbeats.iter().filter_map(|h| h.seq).collect();
    assert_eq!(&seqs[..4], &[1, 2, 3, 4]);
    stream.shutdown().await;
    let rec = sim
        .wait_for(|r| r.open_connections == 0, LIMIT)
        .await
        .unwrap();
    assert_eq!(rec.connections, 1);
}

#[tokio::test]
async fn a_dropped_socket_reconnects_without_duplicated_or_missing_gifts() {
    let sim = start_sim(SimConfig {
        conn_faults: vec![ConnFault::DropAfter { frames: 12 }],
        // The server replays frames the client already had: dedupe must drop them.
        resend_on_reconnect: 3,
        ..quick_sim()
    })
    .await;
    let want = sim.expected().cloned().unwrap();
    let run = run_client(fast_config(&sim), Target::parse("simstreamer").unwrap()).await;
    assert_eq!(run.state, ConnectionState::Ended);
    assert_matches_script(&run.events, &want);
    let connects: Vec<bool> = run
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Connected { reconnect, .. } => Some(*reconnect),
            _ => None,
        })
        .collect();
    assert_eq!(connects, [false, true]);
    assert!(run.events.iter().any(|e| matches!(
        e,
        Event::Disconnected {
            will_reconnect: true,
            ..
        }
    )));
    let rec = sim.recorded();
    assert_eq!(rec.sign_requests.len(), 2, "every reconnect signs again");
    assert!(
        rec.pushed.iter().any(|p| p.resent),
        "the fault really re-sent frames"
    );
}

#[tokio::test]
async fn rate_limits_are_waited_out() {
    let sim = start_sim(SimConfig {
        sign_faults: vec![SignFault::RateLimited {
            retry_after_secs: 1,
        }],
        ..quick_sim()
    })
    .await;
    let client = LiveClient::new(fast_config(&sim)).unwrap();
    let mut stream = client.connect(
        Target::parse("simstreamer").unwrap(),
        CancellationToken::new(),
    );
    let mut states = stream.state();
    let started = tokio::time::Instant::now();
    let first = stream.next().await.unwrap();
    assert!(
        matches!(&first, Err(Error::RateLimited { retry_after: Some(d), .. }) if *d == Duration::from_secs(1)),
        "{first:?}"
    );
    let waited = states
        .wait_for(|s| matches!(s, ConnectionState::Reconnecting { .. }))
        .await
        .unwrap()
        .clone();
    let ConnectionState::Reconnecting { retry_in_ms, .. } = waited else {
        unreachable!()
    };
    assert!(
        retry_in_ms >= 1000,
        "never faster than retry-after: {retry_in_ms}"
    );
    let connected = stream.next().await.unwrap().unwrap();
    assert!(
        matches!(connected, Event::Connected { .. }),
        "{connected:?}"
    );
    // Room info was read before the socket opened: the window can show the room's title.
    assert_eq!(client.room_title().as_deref(), Some("Simulated stream"));
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert_eq!(sim.recorded().sign_requests.len(), 2);
    stream.shutdown().await;
}

#[tokio::test]
async fn a_rejected_handshake_is_reported_then_retried() {
    let sim = start_sim(SimConfig {
        handshake_faults: vec![HandshakeFault::device_blocked()],
        ..quick_sim()
    })
    .await;
    let run = run_client(fast_config(&sim), Target::parse("simstreamer").unwrap()).await;
    assert!(
        run.errors.iter().any(|e| matches!(e, Error::HandshakeRejected { status, message } if status == "415" && message == "DEVICE_BLOCKED")),
        "{:?}",
        run.errors
    );
    assert_eq!(
        run.state,
        ConnectionState::Ended,
        "it connected on the next attempt"
    );
}

async fn failure(config: SimConfig, target: &str) -> (Run, SimHandle) {
    let sim = start_sim(config).await;
    let run = run_client(fast_config(&sim), Target::parse(target).unwrap()).await;
    (run, sim)
}

fn failed_code(run: &Run) -> &str {
    match &run.state {
        ConnectionState::Failed { code, .. } => code,
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[tokio::test]
async fn every_error_of_the_table_is_typed() {
    let (run, _s) = failure(
        SimConfig {
            room_state: RoomState::NotFound,
            ..quick_sim()
        },
        "nobody",
    )
    .await;
    assert_eq!(failed_code(&run), "user_not_found");
    assert!(matches!(run.errors.last(), Some(Error::UserNotFound(u)) if u == "nobody"));

    let (run, _s) = failure(
        SimConfig {
            room_state: RoomState::Offline,
            ..quick_sim()
        },
        "simstreamer",
    )
    .await;
    assert_eq!(failed_code(&run), "offline");

    let (run, _s) = failure(
        SimConfig {
            room_state: RoomState::AgeRestricted,
            ..quick_sim()
        },
        "simstreamer",
    )
    .await;
    assert_eq!(failed_code(&run), "age_restricted");

    let (run, _s) = failure(
        SimConfig {
            sign_faults: vec![SignFault::Status(402)],
            ..quick_sim()
        },
        "simstreamer",
    )
    .await;
    assert_eq!(failed_code(&run), "premium");

    let (run, _s) = failure(
        SimConfig {
            sign_faults: vec![SignFault::Status(500); 10],
            ..quick_sim()
        },
        "simstreamer",
    )
    .await;
    assert_eq!(failed_code(&run), "sign_server", "retried, then given up");
    assert!(run
        .errors
        .iter()
        .all(|e| matches!(e, Error::SignServer { status: 500, .. })));

    let (run, _s) = failure(
        SimConfig {
            sign_faults: vec![SignFault::EmptyCursor; 10],
            ..quick_sim()
        },
        "simstreamer",
    )
    .await;
    assert_eq!(failed_code(&run), "protocol");

    let (run, _s) = failure(
        SimConfig {
            sign_faults: vec![SignFault::NoCookie; 10],
            ..quick_sim()
        },
        "simstreamer",
    )
    .await;
    assert_eq!(failed_code(&run), "sign_server");
    assert!(run.errors[0].to_string().contains("X-Set-TT-Cookie"));

    let (run, _s) = failure(
        SimConfig {
            sign_faults: vec![SignFault::EmptyBody; 10],
            ..quick_sim()
        },
        "simstreamer",
    )
    .await;
    assert_eq!(failed_code(&run), "sign_server");

    // A bot-check page and no api-live: "bot_check", retried, given up with the reason.
    let (run, _s) = failure(
        SimConfig {
            live_page: webcast_sim::LivePage::Blocked,
            api_live_down: true,
            ..quick_sim()
        },
        "simstreamer",
    )
    .await;
    assert_eq!(failed_code(&run), "bot_check");
    assert!(
        run.errors[0].to_string().contains("bot check"),
        "{}",
        run.errors[0]
    );

    // Nothing listening: a network error, retried, then given up.
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let mut cfg = ClientConfig::local(&format!("http://{dead}"));
    cfg.backoff = Backoff {
        initial: Duration::from_millis(10),
        max: Duration::from_millis(20),
        max_attempts: Some(2),
    };
    let run = run_client(cfg, Target::parse("simstreamer").unwrap()).await;
    assert!(
        matches!(&run.state, ConnectionState::Failed { code, .. } if code == "network" || code == "bot_check"),
        "{:?}",
        run.state
    );
}

#[tokio::test]
async fn a_blocked_live_page_falls_back_to_api_live_and_room_targets_skip_lookup() {
    let sim = start_sim(SimConfig {
        live_page: webcast_sim::LivePage::Blocked,
        ..quick_sim()
    })
    .await;
    let run = run_client(fast_config(&sim), Target::parse("simstreamer").unwrap()).await;
    assert_eq!(run.state, ConnectionState::Ended);
    let rec = sim.recorded();
    assert!(rec
        .http_requests
        .iter()
        .any(|r| r.path.starts_with("/api-live/user/room")));

    let sim = start_sim(quick_sim()).await;
    let run = run_client(fast_config(&sim), Target::Room(7_140_000_000_000_000_001)).await;
    assert_eq!(run.state, ConnectionState::Ended);
    let rec = sim.recorded();
    assert!(rec
        .http_requests
        .iter()
        .any(|r| r.path.contains("check_alive")));
    assert!(
        !rec.http_requests.iter().any(|r| r.path.contains("/live")),
        "no page lookup for a room id"
    );
}

#[tokio::test]
async fn both_sign_path_styles_and_the_api_key_work() {
    for style in [SignPathStyle::Fetch, SignPathStyle::RoomConnect] {
        let sim = start_sim(SimConfig {
            api_key: Some("secret-key".into()),
            ..quick_sim()
        })
        .await;
        let mut cfg = fast_config(&sim);
        cfg.sign = SignConfig::Euler {
            base_url: sim.base_url(),
            path_style: style,
            api_key: Some(tiktok_live::client::Secret::new("secret-key")),
            client_name: "ttlive-rust".into(),
        };
        let run = run_client(cfg, Target::parse("simstreamer").unwrap()).await;
        assert_eq!(run.state, ConnectionState::Ended, "{style:?}");
        let rec = sim.recorded();
        let path = &rec.sign_requests[0].path;
        match style {
            SignPathStyle::Fetch => assert_eq!(path, "/webcast/fetch"),
            SignPathStyle::RoomConnect => {
                assert_eq!(path, "/webcast/rooms/7140000000000000001/connect")
            }
        }
        assert_eq!(rec.sign_requests[0].header("x-api-key"), Some("secret-key"));
    }
}

#[tokio::test]
async fn a_silent_socket_is_detected_and_replaced() {
    let sim = start_sim(SimConfig {
        conn_faults: vec![ConnFault::SilentAfter { frames: 5 }],
        ..quick_sim()
    })
    .await;
    let want = sim.expected().cloned().unwrap();
    let mut cfg = fast_config(&sim);
    cfg.stale_timeout = Duration::from_millis(500);
    // Heartbeat answers would count as data: keep them out of the way.
    cfg.heartbeat_interval = Duration::from_secs(30);
    let run = run_client(cfg, Target::parse("simstreamer").unwrap()).await;
    assert_eq!(run.state, ConnectionState::Ended);
    assert!(run
        .events
        .iter()
        .any(|e| matches!(e, Event::Disconnected { reason, .. } if reason.contains("no data"))));
    assert_matches_script(&run.events, &want);
}

#[tokio::test]
async fn a_recorded_stream_replays_to_the_same_events() {
    let dir = tempfile::tempdir().unwrap();
    let sim1 = start_sim(quick_sim()).await;
    let mut cfg = fast_config(&sim1);
    let file = dir.path().join("stream.ltrec");
    cfg.record_file = Some(file.clone());
    let first = run_client(cfg, Target::parse("simstreamer").unwrap()).await;
    assert!(tiktok_live::record::is_recording_file(&file).unwrap());

    let sim2 = start_sim(SimConfig {
        scenario: Scenario::Replay {
            path: file,
            interval: Duration::ZERO,
            speed: 0.0,
            max_gap: Duration::ZERO,
        },
        ..quick_sim()
    })
    .await;
    let second = run_client(fast_config(&sim2), Target::parse("simstreamer").unwrap()).await;
    assert_eq!(second.state, ConnectionState::Ended);
    assert_eq!(tally(&first.events), tally(&second.events));
}

#[tokio::test]
async fn a_second_run_appends_and_a_bad_recording_path_never_stops_the_stream() {
    use tiktok_live::record::{Reader, RecordKind};
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("stream.ltrec");
    let count = |path: &std::path::Path| {
        let mut reader = Reader::open(path).unwrap();
        let (mut replies, mut frames) = (0, 0);
        while let Some(item) = reader.next_record().unwrap() {
            match item.kind {
                RecordKind::SignReply => replies += 1,
                RecordKind::Frame => frames += 1,
            }
        }
        assert!(reader.torn().is_none());
        (replies, frames)
    };
    let mut first_frames = 0;
    for round in 1..=2 {
        let sim = start_sim(quick_sim()).await;
        let mut cfg = fast_config(&sim);
        cfg.record_file = Some(file.clone());
        let run = run_client(cfg, Target::parse("simstreamer").unwrap()).await;
        assert_eq!(run.state, ConnectionState::Ended);
        let (replies, frames) = count(&file);
        // The sign reply is the recording's start: written once, not again after a restart.
        assert_eq!(replies, 1);
        if round == 1 {
            first_frames = frames;
            assert!(frames > 0);
        } else {
            assert!(frames > first_frames, "the second run appended");
        }
    }

    // A path that cannot be a recording: a warning, and the stream is received in full.
    let foreign = dir.path().join("notes.txt");
    std::fs::write(&foreign, "not a recording").unwrap();
    for path in [foreign.clone(), dir.path().to_path_buf()] {
        let sim = start_sim(quick_sim()).await;
        let want = sim.expected().cloned().unwrap();
        let mut cfg = fast_config(&sim);
        cfg.record_file = Some(path);
        let run = run_client(cfg, Target::parse("simstreamer").unwrap()).await;
        assert_eq!(run.state, ConnectionState::Ended);
        assert_matches_script(&run.events, &want);
    }
    assert_eq!(
        std::fs::read_to_string(&foreign).unwrap(),
        "not a recording"
    );
}

#[tokio::test]
async fn the_gift_catalogue_comes_from_the_room() {
    let sim = start_sim(quick_sim()).await;
    let client = LiveClient::new(fast_config(&sim)).unwrap();
    let gifts = client.gift_list(7_140_000_000_000_000_001).await.unwrap();
    let rose = gifts
        .iter()
        .find(|g| g.name == "Rose")
        .expect("Rose is listed");
    assert_eq!(
        (rose.id, rose.diamond_count, rose.streakable),
        (5655, 1, true)
    );
    assert!(rose
        .image_url
        .as_deref()
        .is_some_and(|u| u.starts_with(&sim.base_url())));
    assert!(gifts.len() >= 20);
}

#[tokio::test]
async fn the_experimental_direct_method_connects_without_a_sign_server() {
    let sim = start_sim(quick_sim()).await;
    let want = sim.expected().cloned().unwrap();
    let mut cfg = fast_config(&sim);
    cfg.sign = SignConfig::DirectTtwid {
        push_server: sim.ws_url(),
    };
    let run = run_client(cfg, Target::parse("simstreamer").unwrap()).await;
    assert_eq!(run.state, ConnectionState::Ended);
    let rec = sim
        .wait_for(|r| r.open_connections == 0 && !r.closed.is_empty(), LIMIT)
        .await
        .unwrap();
    assert!(rec.sign_requests.is_empty(), "no sign server involved");
    assert!(
        rec.http_requests.iter().any(|r| r.path == "/"),
        "ttwid from the home page"
    );
    let hs = rec.handshakes.iter().find(|h| h.accepted).unwrap();
    assert_eq!(hs.cookie("ttwid"), Some("fake-ttwid"));
    assert_eq!(hs.query("room_id"), Some("7140000000000000001"));
    // No history batch without a sign reply; the live part arrives in full.
    let t = tally(&run.events);
    assert_eq!(t.gift_units, want.gift_units);
    assert_eq!(t.follows, want.follows);
}

/// A run restarted mid-stream: ids the earlier run handled are dropped, and the initial batch
/// (sent while it was down) is live, not history; no new stream start.
#[tokio::test]
async fn a_resumed_run_drops_seen_ids_and_acts_on_the_gap() {
    use tiktok_live::client::Resume;
    use webcast_sim::{Msg, Script, SimUser, Step};
    let fan = SimUser::new(7, "fan", "Fan");
    let chat = |t: &str| Msg::Chat {
        user: fan.clone(),
        content: t.into(),
    };
    let script = Script {
        history: vec![chat("seen before the crash"), chat("sent in the gap")],
        steps: vec![
            Step::Frame {
                messages: vec![chat("seen before the crash, again"), chat("live")],
            },
            Step::EndStream,
        ],
    };
    let mut config = quick_sim();
    config.scenario = Scenario::Script(script.clone());
    let sim = start_sim(config).await;
    let seen = vec![
        script.msg_id_of(0).expect("id"),
        script.msg_id_of(2).expect("id"),
    ];
    let client = LiveClient::new(fast_config(&sim)).unwrap();
    let mut stream = client.connect_resuming(
        Target::User(webcast_sim::DEFAULT_USER.into()),
        CancellationToken::new(),
        Resume {
            seen_msg_ids: seen,
            mid_stream: true,
        },
    );
    let mut chats = Vec::new();
    let mut connected = Vec::new();
    while let Some(item) = tokio::time::timeout(LIMIT, stream.next())
        .await
        .expect("the stream ends")
    {
        match item {
            Ok(Event::Chat(c)) => chats.push((c.content.clone(), c.meta.is_history)),
            Ok(Event::Connected { reconnect, .. }) => connected.push(reconnect),
            _ => {}
        }
    }
    assert_eq!(
        chats,
        vec![("sent in the gap".into(), false), ("live".into(), false)]
    );
    assert_eq!(
        connected,
        vec![true],
        "a resumed run reports no new stream start"
    );
}
