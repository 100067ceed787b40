//! The TikTok web routes, their failure modes, and replay of a recorded folder.

mod common;

use std::time::Duration;

use common::*;
use prost::Message as _;
use tiktok_live::frame;
use tiktok_live::proto::{BaseMessage, FetchResult};
use webcast_sim::{GiftList, LivePage, RoomState, Scenario, SimConfig};

/// The JSON inside `<script id="SIGI_STATE" …>`, as TL7/TLC extract it.
fn sigi(html: &str) -> Option<&str> {
    let open = "<script id=\"SIGI_STATE\" type=\"application/json\">";
    let start = html.find(open)? + open.len();
    let end = html[start..].find("</script>")?;
    Some(&html[start..start + end])
}

async fn live_page(config: SimConfig, user: &str) -> String {
    let sim = start(config).await;
    let r = get(&format!("{}/@{user}/live", sim.base_url()), &[]).await;
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").unwrap().starts_with("text/html"));
    let rec = sim.recorded();
    assert_eq!(rec.http_requests[0].path, format!("/@{user}/live"));
    r.text()
}

#[tokio::test]
async fn live_page_carries_the_room_id_and_status() {
    let html = live_page(SimConfig::default(), "simstreamer").await;
    let state: serde_json::Value = serde_json::from_str(sigi(&html).unwrap()).unwrap();
    let info = &state["LiveRoom"]["liveRoomUserInfo"];
    assert_eq!(info["user"]["roomId"], "7140000000000000001");
    assert_eq!(info["user"]["uniqueId"], "simstreamer");
    assert_eq!(info["user"]["status"], 2);
    assert_eq!(info["liveRoom"]["status"], 2);
    assert_eq!(info["liveRoom"]["roomId"], "7140000000000000001");
}

#[tokio::test]
async fn live_page_failure_modes() {
    let offline = live_page(
        SimConfig {
            room_state: RoomState::Offline,
            ..SimConfig::default()
        },
        "simstreamer",
    )
    .await;
    let state: serde_json::Value = serde_json::from_str(sigi(&offline).unwrap()).unwrap();
    assert_eq!(state["LiveRoom"]["liveRoomUserInfo"]["user"]["status"], 4);
    assert_eq!(
        state["LiveRoom"]["liveRoomUserInfo"]["liveRoom"]["status"],
        4
    );

    let other = live_page(SimConfig::default(), "nobody_here").await;
    let state: serde_json::Value = serde_json::from_str(sigi(&other).unwrap()).unwrap();
    assert!(state.get("LiveRoom").is_none());

    let blocked = live_page(
        SimConfig {
            live_page: LivePage::Blocked,
            ..SimConfig::default()
        },
        "simstreamer",
    )
    .await;
    assert!(sigi(&blocked).is_none());
    assert!(blocked.contains("Please wait"));

    let captcha = live_page(
        SimConfig {
            live_page: LivePage::Captcha,
            ..SimConfig::default()
        },
        "simstreamer",
    )
    .await;
    let text = sigi(&captcha).unwrap();
    assert!(serde_json::from_str::<serde_json::Value>(text).is_err());
}

async fn api_live(config: SimConfig, query: &str) -> serde_json::Value {
    let sim = start(config).await;
    let r = get(
        &format!("{}/api-live/user/room/?aid=1988&{query}", sim.base_url()),
        &[],
    )
    .await;
    assert_eq!(r.status, 200);
    r.json()
}

#[tokio::test]
async fn api_live_answers_and_failure_modes() {
    let ok = api_live(SimConfig::default(), "uniqueId=simstreamer&sourceType=54").await;
    assert_eq!(ok["statusCode"], 0);
    assert_eq!(ok["data"]["user"]["roomId"], "7140000000000000001");
    assert_eq!(ok["data"]["user"]["status"], 2);
    assert_eq!(ok["data"]["liveRoom"]["status"], 2);
    assert!(ok["data"]["liveRoom"]["liveRoomStats"]["userCount"].is_number());

    let missing = api_live(SimConfig::default(), "uniqueId=someone_else&sourceType=54").await;
    assert_eq!(missing["statusCode"], 19881007);
    assert_eq!(missing["message"], "user_not_found");
    assert!(missing["data"].is_null());

    let bad = api_live(SimConfig::default(), "sourceType=54").await;
    assert_eq!(bad["message"], "params_error");

    let offline = api_live(
        SimConfig {
            room_state: RoomState::Offline,
            ..SimConfig::default()
        },
        "uniqueId=simstreamer&sourceType=54",
    )
    .await;
    assert_eq!(offline["data"]["liveRoom"]["status"], 4);
    assert_eq!(offline["data"]["user"]["status"], 4);

    let paused = api_live(
        SimConfig {
            room_state: RoomState::Paused,
            ..SimConfig::default()
        },
        "uniqueId=simstreamer&sourceType=54",
    )
    .await;
    assert_eq!(paused["data"]["liveRoom"]["status"], 3);

    // Without the trailing slash too.
    let sim = start(SimConfig::default()).await;
    let r = get(
        &format!(
            "{}/api-live/user/room?uniqueId=simstreamer&sourceType=54",
            sim.base_url()
        ),
        &[],
    )
    .await;
    assert_eq!(r.json()["statusCode"], 0);
}

#[tokio::test]
async fn check_alive_and_room_info() {
    let sim = start(SimConfig::default()).await;
    let webcast = sim.webcast_url();
    let r = get(
        &format!("{webcast}/room/check_alive/?aid=1988&room_ids=7140000000000000001,42"),
        &[],
    )
    .await
    .json();
    assert_eq!(r["data"][0]["alive"], true);
    assert_eq!(r["data"][1]["alive"], false);
    let empty = get(&format!("{webcast}/room/check_alive/?aid=1988"), &[])
        .await
        .json();
    assert_eq!(empty["data"].as_array().unwrap().len(), 0);

    let info = get(
        &format!("{webcast}/room/info/?room_id=7140000000000000001"),
        &[],
    )
    .await
    .json();
    assert_eq!(info["status_code"], 0);
    assert_eq!(info["data"]["status"], 2);
    assert_eq!(info["data"]["owner"]["display_id"], "simstreamer");
    assert!(info["data"]["stats"]["like_count"].is_number());

    let sim = start(SimConfig {
        room_state: RoomState::AgeRestricted,
        ..SimConfig::default()
    })
    .await;
    let info = get(
        &format!(
            "{}/room/info/?room_id=7140000000000000001",
            sim.webcast_url()
        ),
        &[],
    )
    .await
    .json();
    assert_eq!(info["status_code"], 4003110);
    assert_eq!(info["data"]["prompts"], "");

    let sim = start(SimConfig {
        room_state: RoomState::Offline,
        ..SimConfig::default()
    })
    .await;
    let webcast = sim.webcast_url();
    let info = get(
        &format!("{webcast}/room/info/?room_id=7140000000000000001"),
        &[],
    )
    .await
    .json();
    assert_eq!(info["data"]["status"], 4);
    let alive = get(
        &format!("{webcast}/room/check_alive/?room_ids=7140000000000000001"),
        &[],
    )
    .await
    .json();
    assert_eq!(alive["data"][0]["alive"], false);
}

#[tokio::test]
async fn gift_list_points_at_our_own_png_images() {
    let sim = start(SimConfig::default()).await;
    let list = get(&format!("{}/gift/list/?room_id=1", sim.webcast_url()), &[])
        .await
        .json();
    let gifts = list["data"]["gifts"].as_array().unwrap();
    assert!(gifts.len() >= 25);
    let rose = gifts.iter().find(|g| g["id"] == 5655).unwrap();
    assert_eq!(rose["name"], "Rose");
    assert_eq!(rose["diamond_count"], 1);
    assert_eq!(rose["type"], 1);
    let universe = gifts.iter().find(|g| g["name"] == "Universe").unwrap();
    assert_eq!(universe["diamond_count"], 34999);
    let url = rose["image"]["url_list"][0].as_str().unwrap();
    assert_eq!(url, format!("{}/gift-images/5655.png", sim.base_url()));
    let png = get(url, &[]).await;
    assert_eq!(png.status, 200);
    assert_eq!(png.header("content-type").as_deref(), Some("image/png"));
    assert!(png.body.starts_with(b"\x89PNG\r\n\x1a\n"));
    assert_eq!(
        get(&format!("{}/gift-images/x.png", sim.base_url()), &[])
            .await
            .status,
        404
    );

    for (mode, status, count) in [
        (GiftList::ServerError, 500, None),
        (GiftList::Empty, 200, Some(0)),
    ] {
        let sim = start(SimConfig {
            gift_list: mode,
            ..SimConfig::default()
        })
        .await;
        let r = get(&format!("{}/gift/list/", sim.webcast_url()), &[]).await;
        assert_eq!(r.status, status);
        if let Some(n) = count {
            assert_eq!(r.json()["data"]["gifts"].as_array().unwrap().len(), n);
        }
    }
}

#[tokio::test]
async fn web_delay_holds_web_routes_but_not_sign() {
    let sim = start(SimConfig {
        web_delay: Some(Duration::from_secs(30)),
        ..SimConfig::default()
    })
    .await;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let url = format!("{}/webcast/room/info/?room_id=1", sim.base_url());
    assert!(client.get(&url).send().await.unwrap_err().is_timeout());
    assert_eq!(get(&sign_url(&sim), &[]).await.status, 200);
}

#[tokio::test]
async fn replay_sends_files_byte_for_byte_and_rewrites_push_server() {
    let dir = tempfile::tempdir().unwrap();
    let initial = FetchResult {
        messages: vec![BaseMessage {
            method: "WebcastChatMessage".into(),
            payload: vec![0x1a, 0x02, b'h', b'i'],
            msg_id: 11,
            is_history: true,
            ..Default::default()
        }],
        cursor: "recorded-cursor".into(),
        internal_ext: "recorded-ext".into(),
        push_server: "wss://webcast-ws.tiktok.com/webcast/im/ws_proxy/ws_reuse_supplement/".into(),
        is_first: true,
        ..Default::default()
    };
    std::fs::write(
        dir.path().join("initial_fetch.bin"),
        initial.encode_to_vec(),
    )
    .unwrap();
    let frames_dir = dir.path().join("frames");
    std::fs::create_dir(&frames_dir).unwrap();
    let result = |ext: &str| FetchResult {
        internal_ext: ext.into(),
        need_ack: true,
        ..Default::default()
    };
    // Written out of order; name order is what counts. One is gzip'd, one raw.
    let files: Vec<(&str, Vec<u8>)> = vec![
        ("000010.bin", frame::msg_frame(3, 30, &result("e3"), false)),
        ("000002.bin", frame::msg_frame(2, 20, &result("e2"), true)),
        ("000001.bin", frame::msg_frame(1, 10, &result("e1"), true)),
    ];
    for (name, bytes) in &files {
        std::fs::write(frames_dir.join(name), bytes).unwrap();
    }
    let sim = start(SimConfig {
        scenario: Scenario::Replay {
            path: dir.path().to_path_buf(),
            interval: Duration::ZERO,
            speed: 1.0,
            max_gap: webcast_sim::DEFAULT_MAX_GAP,
        },
        ..SimConfig::default()
    })
    .await;
    let (fetch, _) = sign(&sim).await;
    assert_eq!(fetch.push_server, sim.ws_url());
    assert_eq!(fetch.cursor, "recorded-cursor");
    assert_eq!(fetch.messages, initial.messages);
    let want: Vec<&Vec<u8>> = vec![&files[2].1, &files[1].1, &files[0].1];
    // Every client that connects gets the whole recording.
    for _ in 0..2 {
        let mut ws = connect(&ws_url(&fetch, sim.config().room_id, true))
            .await
            .unwrap();
        send(&mut ws, frame::enter_room_frame(sim.config().room_id, 0)).await;
        let mut got = Vec::new();
        while got.len() < 3 {
            match next(&mut ws).await {
                Got::Frame(f, bytes) if f.payload_type == "msg" => got.push(bytes),
                Got::Frame(..) => {}
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(got.iter().collect::<Vec<_>>(), want);
    }
    let rec = sim.recorded();
    let logs: Vec<u64> = rec.pushed.iter().map(|p| p.log_id).collect();
    assert_eq!(logs, vec![10, 20, 30, 10, 20, 30]);
    assert_eq!(rec.pushed[0].internal_ext, "e1");
}

#[tokio::test]
async fn replay_without_initial_fetch_generates_one() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("frames")).unwrap();
    let sim = start(SimConfig {
        scenario: Scenario::Replay {
            path: dir.path().to_path_buf(),
            interval: Duration::ZERO,
            speed: 1.0,
            max_gap: webcast_sim::DEFAULT_MAX_GAP,
        },
        ..SimConfig::default()
    })
    .await;
    let (fetch, _) = sign(&sim).await;
    assert_eq!(fetch.push_server, sim.ws_url());
    assert!(fetch.is_first);
    assert!(!fetch.cursor.is_empty());
}

#[tokio::test]
async fn replay_of_a_missing_folder_is_an_error() {
    let err = webcast_sim::Simulator::start(
        SimConfig {
            scenario: Scenario::Replay {
                path: "/nonexistent/recording".into(),
                interval: Duration::ZERO,
                speed: 1.0,
                max_gap: webcast_sim::DEFAULT_MAX_GAP,
            },
            ..SimConfig::default()
        },
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, webcast_sim::SimError::Replay(_)), "{err}");
}

#[tokio::test]
async fn unknown_paths_are_404_and_recorded() {
    let sim = start(SimConfig::default()).await;
    let r = get(
        &format!("{}/nothing/here", sim.base_url()),
        &[("x-probe", "1")],
    )
    .await;
    assert_eq!(r.status, 404);
    let rec = sim
        .wait_for(
            |r| r.http_requests.len() == 1 && r.http_requests[0].status == 404,
            LIMIT,
        )
        .await
        .unwrap();
    assert_eq!(rec.http_requests[0].header("X-Probe"), Some("1"));
}
