//! The simulator can say no: handshakes that a real TikTok push server would refuse are
//! refused here too, so a client test that passes means something. Also the sign server on
//! its own origin and the "prompts for every room" mode.

mod common;

use std::time::Duration;

use common::*;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use webcast_sim::SimConfig;

/// Opens a socket with these headers; `Ok(())` when upgraded, else the `Handshake-Msg`.
async fn try_open(url: &str, ua: Option<&str>, cookie: Option<&str>) -> Result<(), String> {
    let mut req = url.into_client_request().unwrap();
    if let Some(ua) = ua {
        req.headers_mut().insert("user-agent", ua.parse().unwrap());
    }
    if let Some(cookie) = cookie {
        req.headers_mut().insert("cookie", cookie.parse().unwrap());
    }
    match tokio_tungstenite::connect_async(req).await {
        Ok(_) => Ok(()),
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
            // TikTok's way: 200 instead of 101, the reason in headers.
            assert_eq!(resp.status().as_u16(), 200);
            assert_eq!(resp.headers()["handshake-status"], "403");
            Err(resp.headers()["handshake-msg"]
                .to_str()
                .unwrap()
                .to_string())
        }
        Err(e) => panic!("unexpected handshake error: {e}"),
    }
}

const COOKIE: &str = "tt-target-idc=useast1a; ttwid=fake-ttwid";

#[tokio::test]
async fn wrong_handshakes_are_refused_and_a_right_one_is_accepted() {
    let sim = start(fast(SimConfig::default())).await;
    let (fetch, _) = sign(&sim).await;
    let room = sim.config().room_id;
    let base = &fetch.push_server;
    let (c, e) = (&fetch.cursor, &fetch.internal_ext);
    let cases: Vec<(String, Option<&str>, Option<&str>, &str)> = vec![
        (
            format!("{base}?cursor={c}&internal_ext={e}"),
            Some(UA),
            Some(COOKIE),
            "missing room_id",
        ),
        (
            format!("{base}?room_id=1&cursor={c}&internal_ext={e}"),
            Some(UA),
            Some(COOKIE),
            "wrong room_id",
        ),
        (
            format!("{base}?room_id={room}&internal_ext={e}"),
            Some(UA),
            Some(COOKIE),
            "missing cursor",
        ),
        (
            format!("{base}?room_id={room}&cursor=&internal_ext="),
            Some(UA),
            Some(COOKIE),
            "empty cursor",
        ),
        (
            format!("{base}?room_id={room}&cursor={c}&internal_ext=ext-999"),
            Some(UA),
            Some(COOKIE),
            "match no sign reply",
        ),
        (
            format!("{base}?room_id={room}&cursor={c}&internal_ext={e}"),
            Some(UA),
            Some("tt-target-idc=useast1a"),
            "missing ttwid",
        ),
        (
            format!("{base}?room_id={room}&cursor={c}&internal_ext={e}"),
            None,
            Some(COOKIE),
            "missing User-Agent",
        ),
        (
            format!("{base}?room_id={room}&cursor={c}&internal_ext={e}"),
            Some("curl/8"),
            Some(COOKIE),
            "User-Agent differs",
        ),
    ];
    for (url, ua, cookie, why) in &cases {
        let refused = try_open(url, *ua, *cookie).await.expect_err(why);
        assert!(refused.contains(why), "{why}: got {refused}");
    }
    try_open(&ws_url(&fetch, room, true), Some(UA), Some(COOKIE))
        .await
        .expect("the right handshake is accepted");
    let rec = sim.recorded();
    assert_eq!(rec.handshakes.len(), cases.len() + 1);
    assert!(rec.handshakes[..cases.len()]
        .iter()
        .all(|h| !h.accepted && h.refused.is_some()));
    assert_eq!(rec.connections, 1);
}

#[tokio::test(start_paused = true)]
async fn a_signed_url_older_than_30_s_is_refused() {
    let sim = start(fast(SimConfig::default())).await;
    let (fetch, _) = sign(&sim).await;
    let url = ws_url(&fetch, sim.config().room_id, true);
    tokio::time::sleep(Duration::from_secs(31)).await;
    let refused = try_open(&url, Some(UA), Some(COOKIE)).await.unwrap_err();
    assert!(refused.contains("expired"), "{refused}");
    // A fresh sign works.
    let (fetch, _) = sign(&sim).await;
    try_open(
        &ws_url(&fetch, sim.config().room_id, true),
        Some(UA),
        Some(COOKIE),
    )
    .await
    .expect("fresh signature accepted");
}

#[tokio::test]
async fn a_direct_socket_must_say_so_and_a_lax_simulator_takes_anything() {
    let sim = start(fast(SimConfig::default())).await;
    let room = sim.config().room_id;
    let base = sim.ws_url();
    let refused = try_open(&format!("{base}?room_id={room}"), Some(UA), Some(COOKIE))
        .await
        .unwrap_err();
    assert!(refused.contains("missing cursor"), "{refused}");
    try_open(
        &format!("{base}?room_id={room}&ws_direct=1"),
        Some(UA),
        Some(COOKIE),
    )
    .await
    .expect("sign-free socket with ws_direct=1");

    let lax = start(fast(SimConfig {
        strict_handshake: false,
        ..SimConfig::default()
    }))
    .await;
    try_open(&format!("{}?x=1", lax.ws_url()), None, None)
        .await
        .expect("no checks when strict_handshake is off");
}

#[tokio::test]
async fn the_sign_server_can_live_on_its_own_origin() {
    let sim = start(fast(SimConfig {
        sign_separate_origin: true,
        ..SimConfig::default()
    }))
    .await;
    assert_ne!(sim.sign_url(), sim.base_url());
    let main = get(&format!("{}/webcast/fetch?room_id=1", sim.base_url()), &[]).await;
    assert_eq!(main.status, 404, "no sign route on TikTok's origin");
    let (fetch, reply) = sign_at(&sim.sign_url(), &sim).await;
    assert_eq!(fetch.push_server, sim.ws_url(), "the socket is TikTok's");
    assert!(reply.header("x-set-tt-cookie").is_some());
    assert!(
        reply
            .header("set-cookie")
            .is_some_and(|c| c.starts_with("sign_session=")),
        "the sign server sets a cookie of its own"
    );
    try_open(
        &ws_url(&fetch, sim.config().room_id, true),
        Some(UA),
        Some(COOKIE),
    )
    .await
    .expect("accepted");
    assert_eq!(sim.recorded().sign_requests.len(), 2);
}

#[tokio::test]
async fn prompts_for_every_room_while_the_room_is_live() {
    let sim = start(fast(SimConfig {
        room_info_prompts: true,
        ..SimConfig::default()
    }))
    .await;
    let info = get(
        &format!(
            "{}/room/info/?room_id={}",
            sim.webcast_url(),
            sim.config().room_id
        ),
        &[],
    )
    .await
    .json();
    assert_eq!(info["status_code"], 4003110);
    assert!(info["data"]["prompts"].is_string());
    let alive = get(
        &format!(
            "{}/room/check_alive/?room_ids={}",
            sim.webcast_url(),
            sim.config().room_id
        ),
        &[],
    )
    .await
    .json();
    assert_eq!(alive["data"][0]["alive"], true);
    let (fetch, _) = sign(&sim).await;
    assert!(!fetch.cursor.is_empty(), "the room signs normally");
}
