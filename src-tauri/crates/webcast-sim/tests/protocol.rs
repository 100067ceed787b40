//! The sign routes and the push websocket, driven by a raw client.

mod common;

use std::collections::HashSet;
use std::time::Duration;

use common::*;
use prost::Message as _;
use tiktok_live::frame::{self, payload_type};
use tiktok_live::message::{self, Payload};
use tiktok_live::proto::HeartBeat;
use webcast_sim::{script, ConnFault, HandshakeFault, Msg, Script, SignFault, SimConfig, Step};

#[tokio::test]
async fn sign_reply_is_a_first_fetch_result_with_cookies() {
    let sim = start(SimConfig::default()).await;
    let (fetch, reply) = sign(&sim).await;
    assert!(!fetch.cursor.is_empty());
    assert!(fetch.is_first);
    assert!(!fetch.need_ack);
    assert_eq!(fetch.push_server, sim.ws_url());
    assert!(fetch.push_server.starts_with("ws://127.0.0.1:"));
    assert_eq!(fetch.route_params.get("cursor"), Some(&fetch.cursor));
    assert_eq!(
        fetch.route_params.get("internal_ext"),
        Some(&fetch.internal_ext)
    );
    assert_eq!(fetch.heartbeat_duration, 10_000);
    // The demo's history: flagged, with the script's msg_ids.
    let expected = sim.expected().unwrap();
    assert_eq!(fetch.messages.len(), expected.history);
    assert!(fetch.messages.iter().all(|m| m.is_history));
    let cookie = reply.header("x-set-tt-cookie").unwrap();
    assert!(cookie.starts_with("ttwid=fake-ttwid;"), "{cookie}");
    assert_eq!(reply.header("x-room-id").unwrap(), "7140000000000000001");
    assert!(reply.header("x-request-id").is_some());
    let rec = sim.recorded();
    assert_eq!(rec.sign_requests.len(), 1);
    assert_eq!(rec.sign_requests[0].query("user_agent"), Some(UA));
    assert_eq!(rec.sign_requests[0].query("client"), Some("ttlive-python"));
    assert_eq!(rec.sign_requests[0].status, 200);
}

#[tokio::test]
async fn both_sign_path_styles_answer_with_fresh_cursors() {
    let sim = start(SimConfig::default()).await;
    let (first, _) = sign(&sim).await;
    let url = format!(
        "{}/webcast/rooms/{}/connect?client=ttlive-node&cursor=&user_agent=x&client_enter=true&platform=web",
        sim.base_url(),
        sim.config().room_id
    );
    let reply = get(&url, &[("accept", "application/protobuf,application/json")]).await;
    assert_eq!(reply.status, 200);
    let second = frame::FrameDecoder::new()
        .fetch_initial(&reply.body)
        .unwrap();
    assert!(second.is_first);
    assert_eq!(second.push_server, sim.ws_url());
    assert_ne!(first.cursor, second.cursor);
    assert_ne!(first.internal_ext, second.internal_ext);
    let rec = sim.recorded();
    assert_eq!(rec.sign_requests.len(), 2);
    assert!(rec.sign_requests[1].path.ends_with("/connect"));
    assert!(rec.http_requests.is_empty());
}

#[tokio::test]
async fn rate_limit_for_the_first_calls_then_ok() {
    let sim = start(SimConfig {
        sign_faults: vec![
            SignFault::RateLimited {
                retry_after_secs: 42
            };
            2
        ],
        ..SimConfig::default()
    })
    .await;
    for _ in 0..2 {
        let r = get(&sign_url(&sim), &[]).await;
        assert_eq!(r.status, 429);
        assert_eq!(r.header("retry-after").as_deref(), Some("42"));
        let reset: i64 = r.header("ratelimit-reset").unwrap().parse().unwrap();
        assert_eq!(r.header("x-ratelimit-reset"), Some(reset.to_string()));
        assert!(reset > 1_700_000_000);
        let body = r.json();
        assert_eq!(body["limit_label"], "minute");
        assert!(body["message"].as_str().unwrap().contains("42"));
        assert!(r.header("x-set-tt-cookie").is_none());
    }
    let (fetch, _) = sign(&sim).await;
    assert!(!fetch.cursor.is_empty());
    let statuses: Vec<u16> = sim
        .recorded()
        .sign_requests
        .iter()
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, vec![429, 429, 200]);
}

#[tokio::test]
async fn other_sign_failures() {
    let sim = start(SimConfig {
        sign_faults: vec![
            SignFault::Status(402),
            SignFault::Status(500),
            SignFault::EmptyBody,
            SignFault::NoCookie,
            SignFault::EmptyCursor,
        ],
        ..SimConfig::default()
    })
    .await;
    let url = sign_url(&sim);
    let r = get(&url, &[]).await;
    assert_eq!(r.status, 402);
    assert!(r.json()["message"].is_string());
    assert_eq!(get(&url, &[]).await.status, 500);
    let r = get(&url, &[]).await;
    assert_eq!((r.status, r.body.len()), (200, 0));
    assert!(r.header("x-set-tt-cookie").is_some());
    let r = get(&url, &[]).await;
    assert_eq!(r.status, 200);
    assert!(r.header("x-set-tt-cookie").is_none());
    assert!(!r.body.is_empty());
    let r = get(&url, &[]).await;
    let fetch = frame::FrameDecoder::new().fetch_initial(&r.body).unwrap();
    assert_eq!(fetch.cursor, "");
    assert_eq!(fetch.push_server, sim.ws_url());
    // Back to normal.
    assert!(!sign(&sim).await.0.cursor.is_empty());
}

#[tokio::test]
async fn api_key_is_checked_by_header_or_query() {
    let sim = start(SimConfig {
        api_key: Some("k-123".into()),
        ..SimConfig::default()
    })
    .await;
    let url = sign_url(&sim);
    assert_eq!(get(&url, &[]).await.status, 401);
    assert_eq!(get(&url, &[("x-api-key", "wrong")]).await.status, 401);
    assert_eq!(get(&url, &[("x-api-key", "k-123")]).await.status, 200);
    assert_eq!(get(&format!("{url}&apiKey=k-123"), &[]).await.status, 200);
}

#[tokio::test]
async fn slow_sign_is_recorded_before_it_answers() {
    let sim = start(SimConfig {
        sign_faults: vec![SignFault::Slow(Duration::from_secs(30))],
        ..SimConfig::default()
    })
    .await;
    let url = sign_url(&sim);
    let client = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let err = client.get(&url).send().await.unwrap_err();
    assert!(err.is_timeout());
    let rec = sim
        .wait_for(|r| !r.sign_requests.is_empty(), LIMIT)
        .await
        .unwrap();
    assert_eq!(rec.sign_requests[0].status, 0, "no answer was given");
}

#[tokio::test]
async fn handshake_rejections_answer_200_or_400_with_handshake_msg() {
    let sim = start(SimConfig {
        handshake_faults: vec![
            HandshakeFault::device_blocked(),
            HandshakeFault::BadRequest {
                msg: "invalid params".into(),
            },
        ],
        ..SimConfig::default()
    })
    .await;
    let (fetch, _) = sign(&sim).await;
    let url = ws_url(&fetch, sim.config().room_id, true);
    for (status, hs, msg) in [
        (200, "415", "DEVICE_BLOCKED"),
        (400, "400", "invalid params"),
    ] {
        match connect(&url).await {
            Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
                assert_eq!(resp.status().as_u16(), status);
                assert_eq!(resp.headers()["handshake-status"], hs);
                assert_eq!(resp.headers()["handshake-msg"], msg);
            }
            other => panic!("expected a rejection, got {other:?}"),
        }
    }
    // The third attempt is accepted.
    let ws = connect(&url).await.expect("accepted");
    drop(ws);
    let rec = sim.recorded();
    let accepted: Vec<bool> = rec.handshakes.iter().map(|h| h.accepted).collect();
    assert_eq!(accepted, vec![false, false, true]);
    assert_eq!(rec.connections, 1);
}

#[tokio::test]
async fn handshake_is_recorded_and_ping_interval_offered() {
    let sim = start(SimConfig {
        ping_interval_secs: Some(7),
        ..SimConfig::default()
    })
    .await;
    let (fetch, _) = sign(&sim).await;
    let url = ws_url(&fetch, sim.config().room_id, true);
    let mut req = tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(
        url.as_str(),
    )
    .unwrap();
    req.headers_mut().insert("user-agent", UA.parse().unwrap());
    req.headers_mut().insert(
        "cookie",
        "ttwid=fake-ttwid; tt_chain_token=x".parse().unwrap(),
    );
    req.headers_mut()
        .insert("sec-websocket-protocol", "echo-protocol".parse().unwrap());
    let (_ws, resp) = tokio_tungstenite::connect_async(req).await.unwrap();
    assert_eq!(resp.headers()["handshake-options"], "ping-interval=7");
    assert_eq!(resp.headers()["sec-websocket-protocol"], "echo-protocol");
    let rec = sim.recorded();
    let hs = &rec.handshakes[0];
    assert_eq!(hs.query("room_id"), Some("7140000000000000001"));
    assert_eq!(hs.query("cursor"), Some(fetch.cursor.as_str()));
    assert_eq!(hs.query("internal_ext"), Some(fetch.internal_ext.as_str()));
    assert_eq!(hs.query("compress"), Some("gzip"));
    assert_eq!(hs.cookie("ttwid"), Some("fake-ttwid"));
    assert_eq!(hs.header("User-Agent"), Some(UA));
    let versions: Vec<&str> = hs
        .query
        .iter()
        .filter(|(k, _)| k == "version_code")
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(versions, vec!["180800", "270000"]);
}

#[tokio::test]
async fn enter_room_heartbeats_and_acks_are_answered_and_recorded() {
    let sim = start(fast(SimConfig::default())).await;
    let room = sim.config().room_id;
    let (_, mut ws) = sign_and_connect(&sim, true, false).await;
    send(&mut ws, frame::enter_room_frame(room, 99)).await;
    // The reply to enter-room comes before any push.
    match next(&mut ws).await {
        Got::Frame(f, _) => assert_eq!(f.payload_type, payload_type::ENTER_ROOM_RESP),
        other => panic!("{other:?}"),
    }
    send(&mut ws, frame::heartbeat_frame(room, 1)).await;
    send(&mut ws, frame::heartbeat_frame(room, 2)).await;
    // JAVA's minimal heartbeat has no payload.
    send(
        &mut ws,
        vec![0x32, 0x02, 0x70, 0x62, 0x3a, 0x02, 0x68, 0x62],
    )
    .await;
    let mut echoes = Vec::new();
    let mut acked = Vec::new();
    while echoes.len() < 3 || acked.len() < 3 {
        match next(&mut ws).await {
            Got::Frame(f, _) if f.payload_type == payload_type::HEARTBEAT => {
                echoes.push(HeartBeat::decode(f.payload.as_slice()).unwrap())
            }
            Got::Frame(f, _) if f.payload_type == payload_type::MSG => {
                // Gzip'd, with the header, because the URL asked for it.
                assert!(f
                    .headers
                    .iter()
                    .any(|h| h.key == "compress_type" && h.value == "gzip"));
                assert_eq!(&f.payload[..2], &[0x1f, 0x8b]);
                assert_eq!(f.payload_encoding, "pb");
                let r = frame::FrameDecoder::new().fetch_result(&f).unwrap();
                assert!(r.need_ack);
                send(&mut ws, frame::ack_frame(f.log_id, &r.internal_ext)).await;
                acked.push((f.log_id, r.internal_ext));
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(echoes[0].send_packet_seq_id, 1);
    assert_eq!(echoes[1].send_packet_seq_id, 2);
    assert_eq!(echoes[2], HeartBeat::default());
    let rec = sim
        .wait_for(|r| r.acks.len() >= 3 && r.heartbeats.len() >= 3, LIMIT)
        .await
        .unwrap();
    assert_eq!(rec.enter_rooms.len(), 1);
    let enter = &rec.enter_rooms[0];
    assert_eq!(
        (enter.room_id, enter.live_id, enter.identity.as_str()),
        (room, 12, "audience")
    );
    assert_eq!(enter.enter_unique_id, 99);
    let hb: Vec<(Option<u64>, Option<u64>)> =
        rec.heartbeats.iter().map(|h| (h.room_id, h.seq)).collect();
    assert_eq!(
        hb,
        vec![(Some(room), Some(1)), (Some(room), Some(2)), (None, None)]
    );
    let got: Vec<(u64, String)> = rec
        .acks
        .iter()
        .take(3)
        .map(|a| (a.log_id, a.payload.clone()))
        .collect();
    assert_eq!(got, acked);
    // Each ack matches the frame pushed with that log_id.
    for ack in &rec.acks {
        let pushed = rec.pushed.iter().find(|p| p.log_id == ack.log_id).unwrap();
        assert_eq!(pushed.internal_ext, ack.payload);
        assert!(pushed.need_ack && pushed.gzip);
    }
    // log_ids and seq_ids count up.
    let logs: Vec<u64> = rec.pushed.iter().map(|p| p.log_id).collect();
    assert!(logs.windows(2).all(|w| w[1] == w[0] + 1));
    assert_eq!(rec.bad_client_frames, 0);
}

#[tokio::test]
async fn uncompressed_when_not_asked_and_acks_can_be_off() {
    let sim = start(fast(SimConfig {
        need_ack: false,
        ..SimConfig::default()
    }))
    .await;
    let (_, mut ws) = sign_and_connect(&sim, false, true).await;
    let (f, r) = next_msg(&mut ws).await.unwrap();
    assert!(f.headers.is_empty());
    assert!(!f.payload.starts_with(&[0x1f, 0x8b]));
    assert!(!r.need_ack);
    assert!(!r.internal_ext.is_empty());
}

/// Counts what a deduping client would see.
fn tally(results: &[tiktok_live::proto::FetchResult]) -> (Vec<i64>, webcast_sim::Expected) {
    let mut seen = HashSet::new();
    let mut ids = Vec::new();
    let mut e = webcast_sim::Expected::default();
    for r in results {
        for m in &r.messages {
            ids.push(m.msg_id);
            if !seen.insert(m.msg_id) {
                e.duplicates += 1;
                continue;
            }
            e.messages += 1;
            match message::decode(m.clone()) {
                Ok(msg) => match msg.payload {
                    Payload::Chat(c) => {
                        e.chats += 1;
                        e.chat_contents.push(c.content);
                    }
                    Payload::Gift(_) => e.gift_messages += 1,
                    Payload::Like(l) => {
                        e.like_messages += 1;
                        e.likes += l.count as u64;
                    }
                    Payload::Member(m) if m.action == 1 => e.joins += 1,
                    Payload::Member(_) => e.leaves += 1,
                    Payload::Control(c) => e.controls.push(c.action),
                    Payload::Unknown(_) => e.unknown += 1,
                    _ => {}
                },
                Err(_) => e.corrupt += 1,
            }
        }
    }
    (ids, e)
}

#[tokio::test]
async fn demo_arrives_complete_in_order_and_ends_with_1000() {
    let sim = start(fast(SimConfig::default())).await;
    let expected = sim.expected().unwrap().clone();
    let (fetch, mut ws) = sign_and_connect(&sim, true, true).await;
    let (frames, end) = read_all(&mut ws).await;
    assert!(matches!(end, Got::Close(Some(1000))), "{end:?}");
    let mut results = vec![fetch];
    results.extend(frames.into_iter().map(|(_, r)| r));
    let (ids, got) = tally(&results);
    // The script's own order: history, then every step's messages, then the end.
    let script = script::demo();
    let total = expected.messages + expected.duplicates;
    let want: Vec<i64> = (0..total - 1)
        .map(|i| script.msg_id_of(i).unwrap() as i64)
        .collect();
    assert_eq!(&ids[..total - 1], want.as_slice());
    assert_eq!(ids.len(), total);
    assert_eq!(got.messages, expected.messages);
    assert_eq!(got.duplicates, expected.duplicates);
    assert_eq!(got.chats, expected.chats);
    assert_eq!(got.chat_contents, expected.chat_contents);
    assert_eq!(got.gift_messages, expected.gift_messages);
    assert_eq!(got.likes, expected.likes);
    assert_eq!(got.joins, expected.joins);
    assert_eq!(got.leaves, expected.leaves);
    assert_eq!(got.controls, expected.controls);
    assert_eq!(got.unknown, expected.unknown);
    assert_eq!(got.corrupt, expected.corrupt);
    let rec = sim
        .wait_for(|r| r.script_finished && r.open_connections == 0, LIMIT)
        .await
        .unwrap();
    assert_eq!(rec.closed[0].reason, "stream ended");
    assert_eq!(rec.frames_pushed as usize, script.frame_count() + 1);
}

#[tokio::test]
async fn hostile_nicknames_survive_the_wire() {
    let sim = start(fast(SimConfig::default())).await;
    let (_, mut ws) = sign_and_connect(&sim, true, true).await;
    let (frames, _) = read_all(&mut ws).await;
    let mut names = HashSet::new();
    for (_, r) in frames {
        for m in r.messages {
            let user = match message::decode(m).map(|m| m.payload) {
                Ok(Payload::Chat(c)) => c.user,
                Ok(Payload::Gift(g)) => g.user,
                Ok(Payload::Like(l)) => l.user,
                Ok(Payload::Social(s)) => s.user,
                Ok(Payload::Member(m)) => m.user,
                _ => None,
            };
            if let Some(u) = user {
                names.insert(u.nickname);
            }
        }
    }
    for u in script::hostile_users() {
        if u.unique_id != "mod_mia" {
            assert!(names.contains(&u.nickname), "missing {:?}", u.unique_id);
        }
    }
}

fn numbered(n: usize) -> Script {
    let user = webcast_sim::SimUser::new(1, "u", "U");
    Script {
        history: Vec::new(),
        steps: (0..n)
            .map(|i| Step::Frame {
                messages: vec![Msg::Chat {
                    user: user.clone(),
                    content: format!("m{i}"),
                }],
            })
            .chain([Step::EndStream])
            .collect(),
    }
}

#[tokio::test]
async fn after_stream_end_the_client_may_close_first() {
    let sim = start(fast(SimConfig {
        end_grace: Duration::from_secs(60),
        ..SimConfig::with_script(numbered(1))
    }))
    .await;
    let (_, mut ws) = sign_and_connect(&sim, true, true).await;
    loop {
        let (_, r) = next_msg(&mut ws).await.unwrap();
        let end = r.messages.iter().any(|m| {
            matches!(message::decode(m.clone()).map(|m| m.payload), Ok(Payload::Control(c)) if c.action == 3)
        });
        if end {
            break;
        }
    }
    ws.close(Some(tokio_tungstenite::tungstenite::protocol::CloseFrame {
        code: close_code(1000),
        reason: "bye".into(),
    }))
    .await
    .unwrap();
    let rec = sim.wait_for(|r| !r.closed.is_empty(), LIMIT).await.unwrap();
    assert_eq!(rec.closed[0].reason, "stream ended; client closed 1000");
}

#[tokio::test]
async fn dropped_socket_then_reconnect_continues_the_script() {
    let sim = start(fast(SimConfig {
        conn_faults: vec![ConnFault::DropAfter { frames: 4 }],
        ..SimConfig::with_script(numbered(10))
    }))
    .await;
    let (_, mut ws) = sign_and_connect(&sim, true, true).await;
    let (first, end) = read_all(&mut ws).await;
    assert!(
        matches!(end, Got::Abnormal(_)),
        "no close frame expected: {end:?}"
    );
    assert_eq!(first.len(), 4);
    let (_, mut ws) = sign_and_connect(&sim, true, true).await;
    let (second, end) = read_all(&mut ws).await;
    assert!(matches!(end, Got::Close(Some(1000))));
    let contents: Vec<String> = first
        .iter()
        .chain(second.iter())
        .flat_map(|(_, r)| r.messages.iter().cloned())
        .filter_map(|m| match message::decode(m).ok()?.payload {
            Payload::Chat(c) => Some(c.content),
            _ => None,
        })
        .collect();
    let want: Vec<String> = (0..10).map(|i| format!("m{i}")).collect();
    assert_eq!(
        contents, want,
        "no gap and no duplicate across the reconnect"
    );
    let rec = sim.wait_for(|r| r.closed.len() == 2, LIMIT).await.unwrap();
    assert_eq!(rec.closed[0].reason, "fault: drop");
    assert_eq!(rec.connections, 2);
    assert_eq!(rec.sign_requests.len(), 2);
}

#[tokio::test]
async fn resend_on_reconnect_repeats_the_last_frames() {
    let sim = start(fast(SimConfig {
        conn_faults: vec![ConnFault::DropAfter { frames: 5 }],
        resend_on_reconnect: 2,
        ..SimConfig::with_script(numbered(8))
    }))
    .await;
    let (_, mut ws) = sign_and_connect(&sim, true, true).await;
    let (first, _) = read_all(&mut ws).await;
    let (_, mut ws) = sign_and_connect(&sim, true, true).await;
    let (second, _) = read_all(&mut ws).await;
    let ids = |frames: &[(
        tiktok_live::proto::PushFrame,
        tiktok_live::proto::FetchResult,
    )]| {
        frames
            .iter()
            .flat_map(|(_, r)| r.messages.iter().map(|m| m.msg_id))
            .collect::<Vec<_>>()
    };
    let (a, b) = (ids(&first), ids(&second));
    assert_eq!(&b[..2], &a[3..5], "the last two frames come again");
    // New frames (new log_ids), same messages.
    assert!(second[0].0.log_id > first[4].0.log_id);
    let unique: HashSet<i64> = a.iter().chain(b.iter()).copied().collect();
    assert_eq!(
        unique.len(),
        9,
        "8 chats and the end, each once after dedupe"
    );
    let rec = sim.recorded();
    assert_eq!(rec.pushed.iter().filter(|p| p.resent).count(), 2);
}

#[tokio::test]
async fn close_codes_text_and_oversized_frames() {
    let sim = start(fast(SimConfig {
        conn_faults: vec![
            ConnFault::CloseAfter {
                frames: 1,
                code: 4005,
                reason: "kicked".into(),
            },
            ConnFault::TextAfter { frames: 0 },
            ConnFault::OversizedAfter {
                frames: 0,
                bytes: 2 << 20,
            },
        ],
        ..SimConfig::with_script(numbered(10))
    }))
    .await;
    let (_, mut ws) = sign_and_connect(&sim, true, true).await;
    let (frames, end) = read_all(&mut ws).await;
    assert_eq!(frames.len(), 1);
    assert!(matches!(end, Got::Close(Some(4005))), "{end:?}");
    let (_, mut ws) = sign_and_connect(&sim, true, true).await;
    loop {
        match next(&mut ws).await {
            Got::Text(t) => {
                assert!(!t.is_empty());
                break;
            }
            Got::Frame(f, _) => assert_ne!(f.payload_type, payload_type::MSG, "text comes first"),
            other => panic!("{other:?}"),
        }
    }
    assert!(
        next_msg(&mut ws).await.is_ok(),
        "pushing goes on after the text"
    );
    drop(ws);
    let (_, mut ws) = sign_and_connect(&sim, true, true).await;
    loop {
        match next(&mut ws).await {
            Got::Frame(f, _) if f.payload.len() == 2 << 20 => {
                assert_eq!(f.payload_type, payload_type::MSG);
                break;
            }
            Got::Frame(f, _) => assert_ne!(f.payload_type, payload_type::MSG),
            other => panic!("{other:?}"),
        }
    }
}

#[tokio::test]
async fn silent_connection_sends_nothing_more() {
    let sim = start(fast(SimConfig {
        conn_faults: vec![ConnFault::SilentAfter { frames: 2 }],
        ..SimConfig::with_script(numbered(10))
    }))
    .await;
    let room = sim.config().room_id;
    let (_, mut ws) = sign_and_connect(&sim, true, true).await;
    let mut msgs = 0;
    while msgs < 2 {
        if let Got::Frame(f, _) = next(&mut ws).await {
            msgs += usize::from(f.payload_type == payload_type::MSG);
        }
    }
    send(&mut ws, frame::heartbeat_frame(room, 1)).await;
    // The heartbeat is recorded but not answered, and nothing else comes.
    sim.wait_for(|r| r.heartbeats.len() == 1, LIMIT)
        .await
        .unwrap();
    let quiet = tokio::time::timeout(
        Duration::from_millis(300),
        futures_util::StreamExt::next(&mut ws),
    )
    .await;
    assert!(quiet.is_err(), "silence expected, got {quiet:?}");
    assert_eq!(sim.recorded().frames_pushed, 2);
}

#[tokio::test]
async fn socket_closes_without_heartbeats() {
    let sim = start(fast(SimConfig {
        heartbeat_timeout: Some(Duration::from_millis(200)),
        ..SimConfig::with_script(webcast_sim::script::idle())
    }))
    .await;
    let (_, mut ws) = sign_and_connect(&sim, true, true).await;
    let (_, end) = read_all(&mut ws).await;
    assert!(matches!(end, Got::Close(Some(4000))), "{end:?}");
    let rec = sim.wait_for(|r| !r.closed.is_empty(), LIMIT).await.unwrap();
    assert_eq!(rec.closed[0].reason, "fault: no heartbeat");
}

#[tokio::test]
async fn random_stream_is_bounded_and_counted() {
    let sim = start(SimConfig {
        scenario: webcast_sim::Scenario::Random {
            rate: 2000.0,
            seed: 7,
            limit: Some(500),
        },
        ..SimConfig::default()
    })
    .await;
    let expected = sim.expected().unwrap().clone();
    assert_eq!(expected.messages, 500);
    let (_, mut ws) = sign_and_connect(&sim, true, true).await;
    let mut results = Vec::new();
    while results
        .iter()
        .map(|r: &tiktok_live::proto::FetchResult| r.messages.len())
        .sum::<usize>()
        < 500
    {
        results.push(next_msg(&mut ws).await.unwrap().1);
    }
    let (_, got) = tally(&results);
    assert_eq!(got.messages, 500);
    assert_eq!(got.chats, expected.chats);
    assert_eq!(got.likes, expected.likes);
    assert!(results.iter().all(|r| r.messages.len() == 100));
    sim.wait_for(|r| r.script_finished, LIMIT).await.unwrap();
}

#[tokio::test]
async fn shutdown_closes_open_sockets_with_1001() {
    let sim = start(SimConfig::with_script(webcast_sim::script::idle())).await;
    let (_, mut ws) = sign_and_connect(&sim, true, true).await;
    sim.wait_for(|r| r.open_connections == 1, LIMIT)
        .await
        .unwrap();
    sim.shutdown().await;
    let (_, end) = read_all(&mut ws).await;
    assert!(matches!(end, Got::Close(Some(1001))), "{end:?}");
}
