//! Connection policy against the simulator (issue 9): when to give up, when to retry, how
//! often to ask the sign server, and what goes to whom. Pacing tests run on tokio's paused
//! clock: the simulator records times on the same clock, so spacing is asserted exactly
//! without real waiting.

use std::time::Duration;

use futures_util::StreamExt;
use tiktok_live::client::{
    Backoff, ClientConfig, ConnectionState, LiveClient, Secret, SignBudget, SignConfig,
    SignPathStyle,
};
use tiktok_live::error::Error;
use tiktok_live::event::Event;
use tiktok_live::streak::SettleReason;
use tiktok_live::target::Target;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use webcast_sim::script::{Msg, Script, SimUser, Step};
use webcast_sim::{ConnFault, HttpRequest, RoomState, SignFault, SimConfig, SimHandle, Simulator};

/// Real-time limit for tests on the real clock.
const LIMIT: Duration = Duration::from_secs(30);
/// Virtual-time limit for paused-clock tests (costs nothing to wait).
const VIRTUAL: Duration = Duration::from_secs(6 * 3600);

async fn start_sim(config: SimConfig) -> SimHandle {
    Simulator::start(config, "127.0.0.1:0".parse().unwrap())
        .await
        .expect("simulator starts")
}

fn quick_sim() -> SimConfig {
    SimConfig {
        time_scale: 0.0,
        end_grace: Duration::from_millis(200),
        ..SimConfig::default()
    }
}

/// A client pointed at the simulator, with the sign server on its own origin.
fn config(sim: &SimHandle) -> ClientConfig {
    let mut cfg = ClientConfig::local(&sim.base_url());
    cfg.sign = SignConfig::Euler {
        base_url: sim.sign_url(),
        path_style: SignPathStyle::RoomConnect,
        api_key: None,
        client_name: "ttlive-rust".into(),
    };
    cfg.streak_timeout = Duration::from_millis(300);
    cfg.connect_timeout = Duration::from_secs(5);
    cfg.http_timeout = Duration::from_secs(5);
    cfg
}

/// Fast retries for real-clock tests (the budget is lifted: these tests are not about it).
fn fast(sim: &SimHandle) -> ClientConfig {
    let mut cfg = config(sim);
    cfg.backoff = Backoff {
        initial: Duration::from_millis(40),
        max: Duration::from_millis(400),
        max_attempts: Some(6),
    };
    cfg.sign_budget = SignBudget {
        per_minute: 0,
        per_hour: 0,
    };
    cfg
}

struct Run {
    events: Vec<Event>,
    errors: Vec<Error>,
    states: Vec<ConnectionState>,
    state: ConnectionState,
}

async fn run_client(cfg: ClientConfig, target: &str, limit: Duration) -> Run {
    let client = LiveClient::new(cfg).unwrap();
    let mut stream = client.connect(Target::parse(target).unwrap(), CancellationToken::new());
    let mut watch = stream.state();
    let mut events = Vec::new();
    let mut errors = Vec::new();
    let mut states = Vec::new();
    let mut watching = true;
    let collect = async {
        loop {
            tokio::select! {
                item = stream.next() => match item {
                    Some(Ok(e)) => events.push(e),
                    Some(Err(e)) => errors.push(e),
                    None => break,
                },
                changed = watch.changed(), if watching => match changed {
                    Ok(()) => states.push(watch.borrow_and_update().clone()),
                    Err(_) => watching = false,
                },
            }
        }
    };
    tokio::time::timeout(limit, collect)
        .await
        .expect("the stream ends by itself");
    let state = stream.state().borrow().clone();
    Run {
        events,
        errors,
        states,
        state,
    }
}

fn failed(run: &Run) -> (&str, &str) {
    match &run.state {
        ConnectionState::Failed { code, message } => (code, message),
        other => panic!("expected a failure, got {other:?}"),
    }
}

fn stream_ends(events: &[Event]) -> usize {
    events
        .iter()
        .filter(|e| matches!(e, Event::StreamEnded { .. }))
        .count()
}

// --- 1. room/info is advice, not a verdict -------------------------------------------------

#[tokio::test]
async fn prompts_from_room_info_do_not_stop_a_normal_room() {
    let sim = start_sim(SimConfig {
        room_info_prompts: true,
        sign_separate_origin: true,
        ..quick_sim()
    })
    .await;
    let run = run_client(fast(&sim), "@simstreamer", LIMIT).await;
    assert_eq!(run.state, ConnectionState::Ended, "{:?}", run.errors);
    assert!(run.errors.is_empty() || run.errors.iter().all(|e| !e.is_fatal()));
    let rec = sim.recorded();
    assert!(rec
        .http_requests
        .iter()
        .any(|r| r.path.contains("room/info")));
    assert_eq!(rec.sign_requests.len(), 1);
}

#[tokio::test]
async fn an_age_restricted_room_is_reported_when_signing_fails_for_it() {
    // No session: room info hints, the sign reply has no cursor: age-restricted, once.
    let sim = start_sim(SimConfig {
        room_state: RoomState::AgeRestricted,
        sign_separate_origin: true,
        ..quick_sim()
    })
    .await;
    let run = run_client(fast(&sim), "@simstreamer", LIMIT).await;
    assert_eq!(failed(&run).0, "age_restricted");
    assert_eq!(sim.recorded().sign_requests.len(), 1, "not retried");

    // With a session the sign server may use, the same room connects.
    let sim = start_sim(SimConfig {
        room_state: RoomState::AgeRestricted,
        sign_separate_origin: true,
        ..quick_sim()
    })
    .await;
    let mut cfg = fast(&sim);
    cfg.session_id = Some(Secret::new("sess-123"));
    cfg.trust_sign_host_with_session();
    let run = run_client(cfg, "@simstreamer", LIMIT).await;
    assert_eq!(run.state, ConnectionState::Ended, "{:?}", run.errors);
    let rec = sim.recorded();
    assert_eq!(rec.sign_requests[0].query("session_id"), Some("sess-123"));
    let hs = rec.handshakes.iter().find(|h| h.accepted).unwrap();
    assert_eq!(
        hs.cookie("sessionid"),
        Some("sess-123"),
        "a socket signed with the session carries it"
    );
}

// --- 2. Reconnects respect the sign server -------------------------------------------------

/// On a paused clock, tokio jumps straight to the next timer when every task waits, even if
/// a socket just became readable; the reader then sees the data "late". A fine tick keeps
/// every jump short, so socket traffic is seen within 20 ms of virtual time.
fn fine_clock() -> tokio::task::JoinHandle<()> {
    tokio::spawn(async {
        loop {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
}

fn sign_times(rec: &[HttpRequest]) -> Vec<u64> {
    rec.iter().map(|r| r.at_ms).collect()
}

#[tokio::test(start_paused = true)]
async fn a_server_that_accepts_and_closes_does_not_burn_the_quota() {
    let sim = start_sim(SimConfig {
        conn_faults: vec![ConnFault::accept_then_close(); 100],
        sign_separate_origin: true,
        ..quick_sim()
    })
    .await;
    let mut cfg = config(&sim);
    cfg.backoff.max_attempts = Some(40);
    let client = LiveClient::new(cfg).unwrap();
    let mut stream = client.connect(
        Target::parse("@simstreamer").unwrap(),
        CancellationToken::new(),
    );
    let mut states = stream.state();
    let started = Instant::now();
    let mut texts = Vec::new();
    let mut attempts = Vec::new();
    // Watch an hour of virtual time.
    while started.elapsed() < Duration::from_secs(3600) {
        tokio::select! {
            item = stream.next() => if item.is_none() { break },
            changed = states.changed() => {
                if changed.is_err() { break }
                let s = states.borrow_and_update().clone();
                if let ConnectionState::Reconnecting { attempt, .. } = &s {
                    attempts.push(*attempt);
                    texts.push(s.status_text());
                }
            }
            _ = tokio::time::sleep_until(started + Duration::from_secs(3600)) => break,
        }
    }
    let rec = sim.recorded();
    let times = sign_times(&rec.sign_requests);
    assert!(times.len() >= 8, "it kept trying: {times:?}");
    for (i, t) in times.iter().enumerate() {
        let in_minute = times[i..].iter().filter(|u| **u < t + 60_000).count();
        assert!(
            in_minute <= 5,
            "more than 5 sign requests in a minute: {times:?}"
        );
    }
    assert!(times.len() <= 30, "at most 30 an hour: {}", times.len());
    // Sockets that opened and closed at once never reset the backoff: it only grows.
    let gaps: Vec<u64> = times.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(
        gaps.iter().skip(4).all(|g| *g >= 30_000),
        "long gaps once the backoff has grown: {gaps:?}"
    );
    assert!(
        attempts.windows(2).all(|w| w[1] >= w[0]),
        "the attempt count never starts over: {attempts:?}"
    );
    assert!(
        texts
            .iter()
            .any(|t| t.starts_with("reconnecting in ") && t.contains(" s (attempt ")),
        "{texts:?}"
    );
    assert!(rec.connections >= 8);
    stream.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_429_is_waited_out_before_any_sign_request() {
    let sim = start_sim(SimConfig {
        sign_faults: vec![SignFault::RateLimited {
            retry_after_secs: 120,
        }],
        sign_separate_origin: true,
        ..quick_sim()
    })
    .await;
    let run = run_client(config(&sim), "@simstreamer", VIRTUAL).await;
    assert_eq!(run.state, ConnectionState::Ended);
    let rec = sim.recorded();
    let times = sign_times(&rec.sign_requests);
    assert_eq!(times.len(), 2);
    assert!(
        times[1] - times[0] >= 120_000,
        "waited for Retry-After: {times:?}"
    );
    let waits: Vec<String> = run
        .states
        .iter()
        .filter(|s| matches!(s, ConnectionState::Reconnecting { .. }))
        .map(ConnectionState::status_text)
        .collect();
    assert!(
        waits
            .iter()
            .any(|t| t.starts_with("reconnecting in 120 s (attempt 1)")),
        "{waits:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_429_without_a_wait_blocks_signing_for_a_minute() {
    let sim = start_sim(SimConfig {
        // 429 with a JSON body and no Retry-After / RateLimit-Reset.
        sign_faults: vec![SignFault::Status(429)],
        sign_separate_origin: true,
        ..quick_sim()
    })
    .await;
    let run = run_client(config(&sim), "@simstreamer", VIRTUAL).await;
    assert_eq!(run.state, ConnectionState::Ended);
    let times = sign_times(&sim.recorded().sign_requests);
    assert_eq!(times.len(), 2);
    assert!(
        times[1] - times[0] >= 60_000,
        "a conservative minute, not the 2 s backoff: {times:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn the_sign_budget_queues_attempts_and_shows_when_the_next_one_happens() {
    // Every socket drops after delivering a frame: the backoff starts over each time, so
    // only the budget holds the client back.
    let sim = start_sim(SimConfig {
        scenario: webcast_sim::Scenario::Script(Script {
            history: vec![],
            steps: (0..40)
                .map(|i| Step::Frame {
                    messages: vec![Msg::Chat {
                        user: SimUser::new(1, "u", "U"),
                        content: format!("m{i}"),
                    }],
                })
                .collect(),
        }),
        conn_faults: vec![ConnFault::DropAfter { frames: 1 }; 40],
        sign_separate_origin: true,
        ..quick_sim()
    })
    .await;
    let mut cfg = config(&sim);
    cfg.backoff.initial = Duration::from_millis(100);
    let client = LiveClient::new(cfg).unwrap();
    let mut stream = client.connect(
        Target::parse("@simstreamer").unwrap(),
        CancellationToken::new(),
    );
    let mut states = stream.state();
    let mut budget_waits = Vec::new();
    let started = Instant::now();
    loop {
        tokio::select! {
            item = stream.next() => if item.is_none() { break },
            _ = states.changed() => {
                let s = states.borrow_and_update().clone();
                if let ConnectionState::Reconnecting { reason, retry_in_ms, .. } = &s {
                    if reason.contains("5 connections a minute") {
                        budget_waits.push(*retry_in_ms);
                    }
                }
            }
            _ = tokio::time::sleep_until(started + Duration::from_secs(150)) => break,
        }
    }
    let times = sign_times(&sim.recorded().sign_requests);
    // Five at once, then the sixth a minute after the first.
    assert!(times.len() >= 6, "{times:?}");
    assert!(times[4] < 10_000, "{times:?}");
    assert!(times[5] >= times[0] + 60_000, "{times:?}");
    for (i, t) in times.iter().enumerate() {
        let in_minute = times[i..].iter().filter(|u| **u < t + 60_000).count();
        assert!(in_minute <= 5, "{times:?}");
    }
    assert!(
        budget_waits.iter().any(|ms| *ms > 40_000),
        "the wait is shown: {budget_waits:?}"
    );
    stream.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_new_client_for_the_same_sign_server_shares_its_budget() {
    // The app makes a client per Connect click: six clicks in a row still sign only five
    // times in the first minute.
    let sim = start_sim(SimConfig {
        scenario: webcast_sim::Scenario::Script(webcast_sim::script::idle()),
        sign_separate_origin: true,
        ..quick_sim()
    })
    .await;
    for _ in 0..6 {
        let client = LiveClient::new(config(&sim)).unwrap();
        let mut stream = client.connect(
            Target::parse("@simstreamer").unwrap(),
            CancellationToken::new(),
        );
        let first = stream.next().await.unwrap().unwrap();
        assert!(matches!(first, Event::Connected { .. }), "{first:?}");
        stream.shutdown().await;
    }
    let times = sign_times(&sim.recorded().sign_requests);
    assert_eq!(times.len(), 6);
    assert!(times[4] < 10_000, "{times:?}");
    assert!(times[5] >= times[0] + 60_000, "{times:?}");
}

#[tokio::test]
async fn a_reconnect_checks_the_known_room_instead_of_scraping_again() {
    let sim = start_sim(SimConfig {
        conn_faults: vec![ConnFault::DropAfter { frames: 8 }],
        sign_separate_origin: true,
        ..quick_sim()
    })
    .await;
    let run = run_client(fast(&sim), "@simstreamer", LIMIT).await;
    assert_eq!(run.state, ConnectionState::Ended);
    let rec = sim.recorded();
    assert_eq!(rec.connections, 2);
    let count = |part: &str| {
        rec.http_requests
            .iter()
            .filter(|r| r.path.contains(part))
            .count()
    };
    assert_eq!(count("/live"), 1, "the live page is read once");
    assert_eq!(count("check_alive"), 1, "the reconnect checks the room");
    assert_eq!(count("room/info"), 1);
}

// --- 3. Fatal is fatal ---------------------------------------------------------------------

#[tokio::test]
async fn a_refused_api_key_ends_the_connection_at_once() {
    for sim_cfg in [
        SimConfig {
            sign_faults: vec![SignFault::Unauthorized; 5],
            ..quick_sim()
        },
        SimConfig {
            sign_faults: vec![SignFault::Status(403); 5],
            ..quick_sim()
        },
        // The simulator wants a key and the client has none.
        SimConfig {
            api_key: Some("right-key".into()),
            ..quick_sim()
        },
    ] {
        let sim = start_sim(SimConfig {
            sign_separate_origin: true,
            ..sim_cfg
        })
        .await;
        let run = run_client(fast(&sim), "@simstreamer", LIMIT).await;
        let (code, message) = failed(&run);
        assert_eq!(code, "sign_refused");
        assert_eq!(message, "the sign server refused the API key");
        assert_eq!(sim.recorded().sign_requests.len(), 1, "no retry loop");
    }
}

#[tokio::test]
async fn a_missing_user_and_a_blocked_page_are_fatal() {
    let sim = start_sim(SimConfig {
        room_state: RoomState::NotFound,
        ..quick_sim()
    })
    .await;
    let run = run_client(fast(&sim), "@nobody", LIMIT).await;
    assert_eq!(failed(&run).0, "user_not_found");
    let rec = sim.recorded();
    assert!(rec.sign_requests.is_empty());
    assert_eq!(
        rec.http_requests
            .iter()
            .filter(|r| r.path.ends_with("/live"))
            .count(),
        1
    );

    // A page that refuses us outright (HTTP 403), with api-live down too: fatal.
    let sim = start_sim(SimConfig {
        live_page: webcast_sim::LivePage::Forbidden,
        api_live_down: true,
        ..quick_sim()
    })
    .await;
    let run = run_client(fast(&sim), "@simstreamer", LIMIT).await;
    assert_eq!(failed(&run).0, "blocked");
    let rec = sim.recorded();
    assert_eq!(
        rec.http_requests
            .iter()
            .filter(|r| r.path.ends_with("/live"))
            .count(),
        1,
        "no retry loop"
    );
}

fn live_page_times(rec: &[HttpRequest]) -> Vec<u64> {
    rec.iter()
        .filter(|r| r.path.ends_with("/live"))
        .map(|r| r.at_ms)
        .collect()
}

#[tokio::test(start_paused = true)]
async fn a_bot_check_is_retried_with_a_long_backoff_until_it_clears() {
    for page in [
        webcast_sim::LivePage::BlockedFor(2),
        webcast_sim::LivePage::Captcha,
    ] {
        let sim = start_sim(SimConfig {
            live_page: page,
            api_live_down: true,
            sign_separate_origin: true,
            ..quick_sim()
        })
        .await;
        let mut cfg = config(&sim);
        cfg.backoff = Backoff {
            initial: Duration::from_secs(2),
            max: Duration::from_secs(60),
            max_attempts: Some(4),
        };
        let clock = fine_clock();
        let run = run_client(cfg, "@simstreamer", VIRTUAL).await;
        clock.abort();
        let rec = sim.recorded();
        let times = live_page_times(&rec.http_requests);
        // The default script carries a corrupt message on purpose: only failures count here.
        let failures: Vec<&Error> = run.errors.iter().filter(|e| e.is_fatal()).collect();
        assert!(
            failures.iter().all(|e| e.code() == "bot_check"),
            "{failures:?}"
        );
        // Each retry waits at least the backoff's ceiling two steps on (8 s, then 16 s).
        for (i, pair) in times.windows(2).enumerate() {
            let floor = 8_000u64 << i;
            assert!(pair[1] - pair[0] >= floor, "{page:?}: {times:?}");
        }
        if page == webcast_sim::LivePage::Captcha {
            // Never clears: given up after the attempts, as a bot check, not as "blocked".
            assert_eq!(failed(&run).0, "bot_check");
            assert_eq!(times.len(), 4, "{times:?}");
            assert!(rec.sign_requests.is_empty());
        } else {
            // Cleared on the third look: connected and ran to the end.
            assert_eq!(run.state, ConnectionState::Ended, "{:?}", run.errors);
            assert_eq!(times.len(), 3, "{times:?}");
            assert_eq!(failures.len(), 2);
            assert_eq!(rec.sign_requests.len(), 1);
        }
    }
}

// --- 4. What goes to whom ------------------------------------------------------------------

fn mentions(req_headers: &[(String, String)], query: &[(String, String)], needle: &str) -> bool {
    req_headers
        .iter()
        .chain(query.iter())
        .any(|(k, v)| k.contains(needle) || v.contains(needle))
}

#[tokio::test]
async fn secrets_go_only_where_they_belong() {
    // Untrusted; trusted for another host (here TikTok's, a different origin); trusted.
    for (trust, trusted) in [(None, false), (Some("other"), false), (Some("sign"), true)] {
        let sim = start_sim(SimConfig {
            api_key: Some("key-abc".into()),
            sign_separate_origin: true,
            ..quick_sim()
        })
        .await;
        let mut cfg = fast(&sim);
        cfg.sign = SignConfig::Euler {
            base_url: sim.sign_url(),
            path_style: SignPathStyle::Fetch,
            api_key: Some(Secret::new("key-abc")),
            client_name: "ttlive-rust".into(),
        };
        cfg.session_id = Some(Secret::new("sess-xyz"));
        match trust {
            Some("sign") => cfg.trust_sign_host_with_session(),
            Some(_) => cfg.session_sign_host = Some(sim.base_url()),
            None => {}
        }
        let run = run_client(cfg, "@simstreamer", LIMIT).await;
        assert_eq!(run.state, ConnectionState::Ended, "{:?}", run.errors);
        let rec = sim
            .wait_for(|r| r.open_connections == 0, LIMIT)
            .await
            .unwrap();
        // The sign server: the key, no TikTok cookies, the session only when trusted.
        let sign = &rec.sign_requests[0];
        assert_eq!(sign.header("x-api-key"), Some("key-abc"));
        assert_eq!(sign.header("cookie"), None, "no TikTok cookies");
        assert_eq!(
            sign.query("session_id").is_some(),
            trusted,
            "session only with consent"
        );
        assert!(!mentions(&sign.headers, &[], "sess-xyz"));
        // TikTok: never the key, never the sign server's own cookie.
        for r in &rec.http_requests {
            assert!(!mentions(&r.headers, &r.query, "key-abc"), "{}", r.path);
            assert!(
                !mentions(&r.headers, &r.query, "sign_session"),
                "{}",
                r.path
            );
        }
        let hs = rec.handshakes.iter().find(|h| h.accepted).unwrap();
        assert!(!mentions(&hs.headers, &hs.query, "key-abc"));
        assert!(!mentions(&hs.headers, &hs.query, "sign_session"));
        assert_eq!(hs.cookie("ttwid"), Some("fake-ttwid"));
        // The socket's cookie keeps the session only in authenticated mode.
        assert_eq!(hs.cookie("sessionid").is_some(), trusted);
        assert_eq!(hs.cookie("sid_tt").is_some(), trusted);
        // TikTok's own routes do get the login (it is TikTok's).
        let page = rec
            .http_requests
            .iter()
            .find(|r| r.path.ends_with("/live"))
            .unwrap();
        assert!(page
            .header("cookie")
            .is_some_and(|c| c.contains("sessionid=sess-xyz")));
    }
}

#[tokio::test]
async fn a_sign_server_error_never_shows_the_key() {
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let sim = start_sim(quick_sim()).await;
    let mut cfg = fast(&sim);
    cfg.backoff.max_attempts = Some(1);
    cfg.sign = SignConfig::Euler {
        base_url: format!("http://{dead}"),
        path_style: SignPathStyle::RoomConnect,
        api_key: Some(Secret::new("key-in-the-query")),
        client_name: "ttlive-rust".into(),
    };
    let run = run_client(cfg, "@simstreamer", LIMIT).await;
    let (code, message) = failed(&run);
    assert_eq!(code, "network");
    assert!(!message.contains("key-in-the-query"), "{message}");
    for e in &run.errors {
        assert!(!e.to_string().contains("key-in-the-query"), "{e}");
    }
}

// --- 5. A slow consumer never stops heartbeats or acks -------------------------------------

#[tokio::test(start_paused = true)]
async fn a_consumer_that_sleeps_30_s_stops_neither_heartbeats_nor_acks() {
    // The slow-consumer scenario: a burst far beyond the caller's buffer, a quiet minute.
    let sim = start_sim(SimConfig {
        // A client that misses a heartbeat for 15 s is cut off.
        heartbeat_timeout: Some(Duration::from_secs(15)),
        end_grace: Duration::from_secs(1),
        sign_separate_origin: true,
        ..SimConfig::with_script(webcast_sim::script::burst(40))
    })
    .await;
    let want = sim.expected().cloned().unwrap();
    let ticker = fine_clock();
    let mut cfg = config(&sim);
    cfg.event_buffer = 2;
    cfg.streak_timeout = Duration::from_secs(120);
    let client = LiveClient::new(cfg).unwrap();
    let mut stream = client.connect(
        Target::parse("@simstreamer").unwrap(),
        CancellationToken::new(),
    );
    let first = stream.next().await.unwrap().unwrap();
    assert!(matches!(first, Event::Connected { .. }));
    let slept_from = sim.recorded().heartbeats.len();
    tokio::time::sleep(Duration::from_secs(30)).await;
    let mut events = vec![first];
    while let Some(item) = stream.next().await {
        if let Ok(e) = item {
            events.push(e);
        }
    }
    assert_eq!(stream.state().borrow().clone(), ConnectionState::Ended);
    let rec = sim
        .wait_for(|r| r.open_connections == 0 && !r.closed.is_empty(), VIRTUAL)
        .await
        .unwrap();
    assert_eq!(
        rec.connections, 1,
        "never cut off: {:?} {:?}",
        rec.closed, rec.heartbeats
    );
    let beats: Vec<u64> = rec.heartbeats.iter().map(|h| h.at_ms).collect();
    assert!(
        beats.len() >= slept_from + 3,
        "heartbeats went on while the consumer slept: {beats:?}"
    );
    for w in beats.windows(2) {
        assert!(w[1] - w[0] <= 10_500, "10 s rhythm kept: {beats:?}");
    }
    let need_ack = rec.pushed.iter().filter(|p| p.need_ack).count();
    assert_eq!(rec.acks.len(), need_ack, "every frame acked");
    // Nothing lost: every chat and every paid unit.
    let chats = events
        .iter()
        .filter(|e| matches!(e, Event::Chat(_)))
        .count();
    assert_eq!(chats, want.chat_contents.len());
    let units: u64 = events
        .iter()
        .filter_map(|e| match e {
            Event::Gift(g) => g.settled.as_ref().map(|s| u64::from(s.count)),
            _ => None,
        })
        .sum();
    assert_eq!(units, want.gift_units.values().sum::<u64>());
    assert_eq!(stream_ends(&events), 1);
    ticker.abort();
}

#[tokio::test(start_paused = true)]
async fn a_stop_hands_a_slow_consumer_everything_queued_including_settled_streaks() {
    let users: Vec<SimUser> = (0..6)
        .map(|i| SimUser::new(100 + i, &format!("fan{i}"), &format!("Fan {i}")))
        .collect();
    let mut burst: Vec<Msg> = users
        .iter()
        .enumerate()
        .map(|(i, u)| Msg::Gift {
            user: u.clone(),
            gift_id: 5655,
            name: "Rose".into(),
            diamond_count: 1,
            gift_type: 1,
            repeat_count: 3 + i as u32,
            repeat_end: false,
            group_id: 900 + i as u64,
        })
        .collect();
    for i in 0..30 {
        burst.push(Msg::Chat {
            user: users[0].clone(),
            content: format!("chat {i}"),
        });
    }
    let script = Script {
        history: vec![],
        steps: vec![
            Step::Frame { messages: burst },
            // The stream goes on for an hour; the caller stops long before.
            Step::Wait { ms: 3_600_000 },
            Step::EndStream,
        ],
    };
    let sim = start_sim(SimConfig {
        time_scale: 1.0,
        sign_separate_origin: true,
        ..SimConfig::with_script(script)
    })
    .await;
    let ticker = fine_clock();
    let mut cfg = config(&sim);
    cfg.event_buffer = 1;
    // Open streaks settle only because of the stop.
    cfg.streak_timeout = Duration::from_secs(600);
    let client = LiveClient::new(cfg).unwrap();
    let mut stream = client.connect(
        Target::parse("@simstreamer").unwrap(),
        CancellationToken::new(),
    );
    let mut events = Vec::new();
    // Read until connected, then leave everything queued inside the client for a while.
    while let Some(item) = stream.next().await {
        let connected = matches!(item, Ok(Event::Connected { .. }));
        events.push(item);
        if connected {
            break;
        }
    }
    tokio::time::sleep(Duration::from_secs(5)).await;
    stream.stop();
    // A slow consumer: one item a second, far past any shutdown deadline.
    while let Some(item) = stream.next().await {
        events.push(item);
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    ticker.abort();
    assert_eq!(*stream.state().borrow(), ConnectionState::Stopped);
    let chats = events
        .iter()
        .filter(|e| matches!(e, Ok(Event::Chat(_))))
        .count();
    assert_eq!(chats, 30, "every queued chat handed over");
    let mut settled: Vec<(u64, u32)> = events
        .iter()
        .filter_map(|e| match e {
            Ok(Event::Gift(g)) => g.settled.as_ref().map(|s| (s.key.user_id, s.count)),
            _ => None,
        })
        .collect();
    settled.sort();
    let want: Vec<(u64, u32)> = (0..6).map(|i| (100 + i, 3 + i as u32)).collect();
    assert_eq!(
        settled, want,
        "every open streak settled at the stop and delivered"
    );
}

// --- 6. Stream end and streaks at the edges ------------------------------------------------

fn rose(user: &SimUser, count: u32, end: bool, group: u64) -> Msg {
    Msg::Gift {
        user: user.clone(),
        gift_id: 5655,
        name: "Rose".into(),
        diamond_count: 1,
        gift_type: 1,
        repeat_count: count,
        repeat_end: end,
        group_id: group,
    }
}

#[tokio::test]
async fn an_end_in_the_reconnect_batch_settles_streaks_and_ends_once() {
    let anna = SimUser::new(11, "anna", "Anna");
    let script = Script {
        history: vec![],
        steps: vec![
            Step::Frame {
                messages: vec![rose(&anna, 3, false, 77)],
            },
            Step::Frame {
                messages: vec![Msg::Chat {
                    user: anna.clone(),
                    content: "after".into(),
                }],
            },
            Step::EndStream,
        ],
    };
    let sim = start_sim(SimConfig {
        conn_faults: vec![ConnFault::DropAfter { frames: 1 }],
        // While the client was away the stream ended: the reconnect's sign reply says so.
        sign_faults: vec![
            SignFault::None,
            SignFault::WithMessages(vec![Msg::Control { action: 3 }]),
        ],
        sign_separate_origin: true,
        ..SimConfig::with_script(script)
    })
    .await;
    let mut cfg = fast(&sim);
    cfg.streak_timeout = Duration::from_secs(20);
    let run = run_client(cfg, "@simstreamer", LIMIT).await;
    assert_eq!(run.state, ConnectionState::Ended);
    assert_eq!(stream_ends(&run.events), 1, "{:?}", run.events);
    assert!(matches!(run.events.last(), Some(Event::StreamEnded { .. })));
    let settled: Vec<(u32, SettleReason)> = run
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Gift(g) => g.settled.as_ref().map(|s| (s.count, s.reason)),
            _ => None,
        })
        .collect();
    assert_eq!(
        settled.len(),
        1,
        "the open streak settled once: {settled:?}"
    );
    assert_eq!(settled[0].0, 3);
    let rec = sim.recorded();
    assert_eq!(rec.sign_requests.len(), 2);
}

#[tokio::test(start_paused = true)]
async fn streaks_expire_during_the_reconnect_backoff() {
    let anna = SimUser::new(11, "anna", "Anna");
    let script = Script {
        history: vec![],
        steps: vec![
            Step::Frame {
                messages: vec![rose(&anna, 2, false, 78)],
            },
            Step::EndStream,
        ],
    };
    let sim = start_sim(SimConfig {
        conn_faults: vec![ConnFault::DropAfter { frames: 1 }],
        sign_faults: vec![
            SignFault::None,
            SignFault::RateLimited {
                retry_after_secs: 90,
            },
        ],
        sign_separate_origin: true,
        ..SimConfig::with_script(script)
    })
    .await;
    let mut cfg = config(&sim);
    cfg.streak_timeout = Duration::from_secs(5);
    let client = LiveClient::new(cfg).unwrap();
    let mut stream = client.connect(
        Target::parse("@simstreamer").unwrap(),
        CancellationToken::new(),
    );
    let started = Instant::now();
    let mut settled_at = None;
    let mut reconnected_at = None;
    while let Some(item) = stream.next().await {
        match item {
            Ok(Event::Gift(g)) if g.settled.is_some() => {
                let s = g.settled.as_ref().unwrap();
                assert_eq!((s.count, s.reason), (2, SettleReason::Timeout));
                settled_at = Some(started.elapsed());
            }
            Ok(Event::Connected {
                reconnect: true, ..
            }) => reconnected_at = Some(started.elapsed()),
            _ => {}
        }
    }
    let settled_at = settled_at.expect("the streak settled");
    let reconnected_at = reconnected_at.expect("it reconnected");
    assert!(
        settled_at < Duration::from_secs(20),
        "settled on time, during the backoff: {settled_at:?}"
    );
    assert!(
        reconnected_at >= Duration::from_secs(90),
        "{reconnected_at:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_reused_group_id_starting_with_a_final_counts_in_full() {
    let anna = SimUser::new(11, "anna", "Anna");
    let script = Script {
        history: vec![],
        steps: vec![
            // A streak whose final is lost ...
            Step::Frame {
                messages: vec![rose(&anna, 5, false, 79)],
            },
            Step::Wait { ms: 60_000 },
            // ... and a minute later a one-message streak under the same group id, its
            // create_time a minute after the first: a new streak, not the old one's late final.
            Step::Frame {
                messages: vec![rose(&anna, 5, true, 79)],
            },
            Step::EndStream,
        ],
    };
    let sim = start_sim(SimConfig {
        time_scale: 1.0,
        sign_separate_origin: true,
        ..SimConfig::with_script(script)
    })
    .await;
    let mut cfg = config(&sim);
    cfg.streak_timeout = Duration::from_secs(10);
    let run = run_client(cfg, "@simstreamer", VIRTUAL).await;
    assert_eq!(run.state, ConnectionState::Ended);
    let settled: Vec<(u32, SettleReason)> = run
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Gift(g) => g.settled.as_ref().map(|s| (s.count, s.reason)),
            _ => None,
        })
        .collect();
    assert_eq!(
        settled,
        [(5, SettleReason::Timeout), (5, SettleReason::Final)],
        "10 roses paid, 10 counted"
    );
}

#[tokio::test(start_paused = true)]
async fn a_final_held_back_by_a_long_reconnect_is_not_counted_again() {
    let anna = SimUser::new(11, "anna", "Anna");
    let script = Script {
        history: vec![],
        steps: vec![
            Step::Frame {
                messages: vec![rose(&anna, 50, false, 81)],
            },
            // The socket drops before the final: it comes as the reconnect's first frame.
            Step::Frame {
                messages: vec![rose(&anna, 50, true, 81)],
            },
            Step::EndStream,
        ],
    };
    let sim = start_sim(SimConfig {
        time_scale: 1.0,
        conn_faults: vec![ConnFault::DropAfter { frames: 1 }],
        // A 429 holds the reconnect back far longer than the streak timeout.
        sign_faults: vec![
            SignFault::None,
            SignFault::RateLimited {
                retry_after_secs: 45,
            },
        ],
        sign_separate_origin: true,
        ..SimConfig::with_script(script)
    })
    .await;
    let mut cfg = config(&sim);
    cfg.streak_timeout = Duration::from_secs(10);
    let run = run_client(cfg, "@simstreamer", VIRTUAL).await;
    assert_eq!(run.state, ConnectionState::Ended);
    let settled: Vec<(u32, SettleReason, u32)> = run
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Gift(g) => g
                .settled
                .as_ref()
                .map(|s| (s.count, s.reason, s.key.generation)),
            _ => None,
        })
        .collect();
    assert_eq!(
        settled,
        [(50, SettleReason::Timeout, 0)],
        "50 roses paid, 50 counted"
    );
    let gifts = run
        .events
        .iter()
        .filter(|e| matches!(e, Event::Gift(_)))
        .count();
    assert_eq!(gifts, 3, "the late final was delivered: {:?}", run.events);
    assert!(sim.recorded().sign_requests.len() >= 3, "it reconnected");
}

// --- 7. Smaller fidelity points ------------------------------------------------------------

#[tokio::test]
async fn emote_chats_are_chat_and_unknown_methods_carry_no_payload() {
    let anna = SimUser::new(11, "anna", "Anna");
    let script = Script {
        history: vec![],
        steps: vec![
            Step::Frame {
                messages: vec![
                    Msg::EmoteChat { user: anna.clone() },
                    Msg::Unknown {
                        method: "WebcastMadeUpMessage".into(),
                    },
                ],
            },
            Step::EndStream,
        ],
    };
    let sim = start_sim(SimConfig {
        sign_separate_origin: true,
        ..SimConfig::with_script(script)
    })
    .await;
    let run = run_client(fast(&sim), "@simstreamer", LIMIT).await;
    assert_eq!(run.state, ConnectionState::Ended);
    assert!(run.errors.is_empty(), "{:?}", run.errors);
    let chat = run
        .events
        .iter()
        .find_map(|e| match e {
            Event::Chat(c) => Some(c),
            _ => None,
        })
        .expect("the emote came as chat");
    assert_eq!(chat.user.as_ref().map(|u| u.id), Some(11));
    assert_eq!(chat.content, "");
    let unknown = run
        .events
        .iter()
        .find_map(|e| match e {
            Event::Unknown { method, bytes, .. } => Some((method.clone(), *bytes)),
            _ => None,
        })
        .expect("the unknown method is reported");
    assert_eq!(unknown.0, "WebcastMadeUpMessage");
    assert!(unknown.1 > 0);
}

#[tokio::test]
async fn the_direct_url_says_direct_and_carries_no_empty_cursor() {
    let sim = start_sim(quick_sim()).await;
    let mut cfg = fast(&sim);
    cfg.sign = SignConfig::DirectTtwid {
        push_server: sim.ws_url(),
    };
    let run = run_client(cfg, "@simstreamer", LIMIT).await;
    assert_eq!(run.state, ConnectionState::Ended, "{:?}", run.errors);
    let rec = sim.recorded();
    let hs = rec.handshakes.iter().find(|h| h.accepted).unwrap();
    assert_eq!(hs.query("ws_direct"), Some("1"));
    assert_eq!(hs.query("heartbeat_duration"), Some("10000"));
    assert_eq!(hs.query("cursor"), None);
    assert_eq!(hs.query("internal_ext"), None);
    assert!(rec.handshakes.iter().all(|h| h.refused.is_none()));
}
