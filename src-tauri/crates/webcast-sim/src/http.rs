//! The HTTP side: TikTok's web routes and the Euler-style sign routes.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prost::Message as _;
use serde_json::{json, Value};
use tiktok_live::proto::FetchResult;

use crate::config::{GiftList, LivePage, RoomState, SignFault, TTWID};
use crate::gifts;
use crate::record::{push_capped, HttpRequest};
use crate::script::to_wire;
use crate::server::{Issued, Play, Shared, WS_PATH};

pub(crate) fn unix_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Percent-decodes one query component (`+` is a space). Invalid escapes are kept as text:
/// a hostile client must not be able to make recording fail.
pub(crate) fn decode_component(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex_val(bytes[i + 1]), hex_val(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Splits a raw query into decoded pairs, keeping order and duplicates.
pub(crate) fn parse_query(raw: &str) -> Vec<(String, String)> {
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode_component(k), decode_component(v))
        })
        .collect()
}

pub(crate) fn header_pairs(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_ascii_lowercase(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect()
}

fn query_value<'a>(q: &'a [(String, String)], key: &str) -> Option<&'a str> {
    q.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

fn is_sign_path(path: &str) -> bool {
    let p = path.trim_end_matches('/');
    p == "/webcast/fetch"
        || (p.starts_with("/webcast/rooms/") && p.ends_with("/connect"))
        || (p.starts_with("/webcast/anchors/") && p.ends_with("/connect"))
}

/// Records every HTTP request before it is handled (so a client that gives up on a slow
/// answer is still seen), then fills in the status. Web routes get `web_delay` here too.
pub(crate) async fn record_layer(
    State(s): State<Arc<Shared>>,
    req: Request,
    next: Next,
) -> Response {
    let path = req.uri().path().to_string();
    if path.trim_end_matches('/') == WS_PATH.trim_end_matches('/') {
        // Handshakes are recorded by the websocket handler, with the outcome.
        return next.run(req).await;
    }
    let entry = HttpRequest {
        path: path.clone(),
        query: parse_query(req.uri().query().unwrap_or("")),
        headers: header_pairs(req.headers()),
        status: 0,
        at_ms: s.rec.elapsed_ms(),
    };
    let sign = is_sign_path(&path);
    let limit = s.rec.limit();
    let index = s.rec.update(|r| {
        let list = if sign {
            &mut r.sign_requests
        } else {
            &mut r.http_requests
        };
        push_capped(list, entry, limit);
        list.len() - 1
    });
    if !sign {
        if let Some(delay) = s.cfg.web_delay {
            if !s.sleep(delay).await {
                return StatusCode::SERVICE_UNAVAILABLE.into_response();
            }
        }
    }
    let resp = next.run(req).await;
    let status = resp.status().as_u16();
    s.rec.update(|r| {
        let list = if sign {
            &mut r.sign_requests
        } else {
            &mut r.http_requests
        };
        if let Some(e) = list.get_mut(index) {
            e.status = status;
        }
    });
    resp
}

fn json_response(status: StatusCode, body: Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        body.to_string(),
    )
        .into_response()
}

fn status_of(state: RoomState) -> i64 {
    match state {
        RoomState::Live | RoomState::AgeRestricted => 2,
        RoomState::Paused => 3,
        RoomState::Offline | RoomState::NotFound => 4,
    }
}

/// `GET /@{user}/live` (and anything else not routed: 404).
pub(crate) async fn fallback(State(s): State<Arc<Shared>>, uri: Uri) -> Response {
    let path = uri.path();
    let user = path
        .strip_prefix("/@")
        .and_then(|rest| rest.trim_end_matches('/').strip_suffix("/live"));
    match user {
        Some(user) if !user.is_empty() && !user.contains('/') => {
            live_page(&s, &decode_component(user))
        }
        // The home page hands out a `ttwid` cookie, as tiktok.com does; the experimental
        // sign-free connection method starts here.
        _ if path == "/" => {
            let mut resp = html(
                "<!DOCTYPE html><html><head><title>TikTok</title></head><body></body></html>"
                    .into(),
            );
            let cookie = format!("ttwid={TTWID}; Path=/; Domain=.tiktok.com; HttpOnly");
            if let Ok(v) = header::HeaderValue::from_str(&cookie) {
                resp.headers_mut().insert(header::SET_COOKIE, v);
            }
            resp
        }
        _ => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}

fn html(body: String) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body,
    )
        .into_response()
}

fn live_page(s: &Shared, user: &str) -> Response {
    let cfg = &s.cfg;
    let call = s
        .live_page_calls
        .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let page = match cfg.live_page {
        LivePage::BlockedFor(n) if call < n as usize => LivePage::Blocked,
        LivePage::BlockedFor(_) => LivePage::Normal,
        other => other,
    };
    match page {
        LivePage::Forbidden => {
            return (
                StatusCode::FORBIDDEN,
                [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                "<!DOCTYPE html><html><head><title>Access Denied</title></head>\
                 <body><h1>Access Denied</h1></body></html>",
            )
                .into_response()
        }
        LivePage::Blocked => {
            return html(
                "<!DOCTYPE html><html><head><title>Please wait...</title>\
                 <script src=\"/slardar/fe/sdk-web/plugins/waf.js\"></script></head>\
                 <body><div id=\"_wafchallengeid\">Please wait...</div></body></html>"
                    .into(),
            )
        }
        LivePage::Captcha => {
            return html(
                "<!DOCTYPE html><html><head><script id=\"SIGI_STATE\" type=\"application/json\">\
                 {\"LiveRoom\":{\"liveRoomUserInfo\":{\"user\":{\"roomId\":</script></head>\
                 <body><div class=\"captcha_verify_container\"></div></body></html>"
                    .into(),
            )
        }
        LivePage::Normal | LivePage::BlockedFor(_) => {}
    }
    let found = user == cfg.unique_id && cfg.room_state != RoomState::NotFound;
    let state = if found {
        let room = cfg.room_id.to_string();
        let status = status_of(cfg.room_state);
        json!({
            "AppContext": { "appContext": { "language": "en", "region": "US" } },
            "LiveRoom": {
                "loadingState": { "getRoomInfo": 1 },
                "liveRoomUserInfo": {
                    "user": {
                        "id": s.host.id.to_string(),
                        "uniqueId": cfg.unique_id,
                        "nickname": cfg.nickname,
                        "roomId": room,
                        "status": status,
                        "secUid": format!("MS4wLjABAAAA{}", s.host.id),
                        "avatarThumb": format!("{}/avatar/{}.png", s.base_url, s.host.id),
                    },
                    "liveRoom": {
                        "roomId": room,
                        "status": status,
                        "title": "Simulated stream",
                        "startTime": unix_ms() / 1000 - 600,
                        "liveRoomStats": { "userCount": 42, "enterCount": 57 },
                    },
                    "stats": { "followerCount": 1234, "followingCount": 12 },
                },
            },
        })
    } else {
        json!({
            "AppContext": { "appContext": { "language": "en", "region": "US" } },
            "CurrentRoom": { "loading": false },
        })
    };
    // `</` inside the JSON would end the script tag early; TikTok escapes it the same way.
    let text = state.to_string().replace("</", "<\\/");
    html(format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>{user} is LIVE | TikTok</title></head><body><div id=\"app\"></div>\
         <script id=\"SIGI_STATE\" type=\"application/json\">{text}</script></body></html>"
    ))
}

/// `GET /api-live/user/room/`.
pub(crate) async fn api_live(State(s): State<Arc<Shared>>, uri: Uri) -> Response {
    let q = parse_query(uri.query().unwrap_or(""));
    let cfg = &s.cfg;
    if cfg.api_live_down {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::CONTENT_TYPE, "text/html")],
            "<html><body>Service Unavailable</body></html>",
        )
            .into_response();
    }
    let Some(user) = query_value(&q, "uniqueId").filter(|u| !u.is_empty()) else {
        return json_response(
            StatusCode::OK,
            json!({ "statusCode": 10011, "message": "params_error", "data": null }),
        );
    };
    if user != cfg.unique_id || cfg.room_state == RoomState::NotFound {
        return json_response(
            StatusCode::OK,
            json!({ "statusCode": 19881007, "message": "user_not_found", "data": null }),
        );
    }
    let status = status_of(cfg.room_state);
    let room = if status == 4 {
        String::new()
    } else {
        cfg.room_id.to_string()
    };
    json_response(
        StatusCode::OK,
        json!({
            "statusCode": 0,
            "message": "",
            "data": {
                "user": {
                    "id": s.host.id.to_string(),
                    "uniqueId": cfg.unique_id,
                    "nickname": cfg.nickname,
                    "signature": "Simulated streamer",
                    "avatarLarger": format!("{}/avatar/{}.png", s.base_url, s.host.id),
                    "roomId": room,
                    "status": status,
                    "secUid": format!("MS4wLjABAAAA{}", s.host.id),
                },
                "stats": { "followingCount": 12, "followerCount": 1234 },
                "liveRoom": {
                    "title": "Simulated stream",
                    "startTime": unix_ms() / 1000 - 600,
                    "status": status,
                    "liveRoomStats": { "userCount": 42, "enterCount": 57 },
                },
            },
        }),
    )
}

/// `GET /webcast/room/check_alive/`.
pub(crate) async fn check_alive(State(s): State<Arc<Shared>>, uri: Uri) -> Response {
    let q = parse_query(uri.query().unwrap_or(""));
    let ids = query_value(&q, "room_ids").unwrap_or("");
    let live = matches!(
        s.cfg.room_state,
        RoomState::Live | RoomState::Paused | RoomState::AgeRestricted
    );
    let data: Vec<Value> = ids
        .split(',')
        .filter(|id| !id.trim().is_empty())
        .map(|id| {
            let id = id.trim();
            let alive = live && id == s.cfg.room_id.to_string();
            json!({ "alive": alive, "room_id": id.parse::<u64>().unwrap_or(0), "room_id_str": id })
        })
        .collect();
    json_response(
        StatusCode::OK,
        json!({ "status_code": 0, "data": data, "extra": { "now": unix_ms() } }),
    )
}

/// `GET /webcast/room/info/`.
pub(crate) async fn room_info(State(s): State<Arc<Shared>>, uri: Uri) -> Response {
    let q = parse_query(uri.query().unwrap_or(""));
    let cfg = &s.cfg;
    let extra = json!({ "now": unix_ms() });
    if cfg.room_state == RoomState::AgeRestricted || cfg.room_info_prompts {
        return json_response(
            StatusCode::OK,
            json!({ "status_code": 4003110, "data": { "prompts": "" }, "extra": extra }),
        );
    }
    let asked = query_value(&q, "room_id").unwrap_or("");
    let ours = asked == cfg.room_id.to_string() && cfg.room_state != RoomState::NotFound;
    let status = if ours { status_of(cfg.room_state) } else { 4 };
    json_response(
        StatusCode::OK,
        json!({
            "status_code": 0,
            "data": {
                "id": cfg.room_id,
                "id_str": cfg.room_id.to_string(),
                "status": status,
                "title": "Simulated stream",
                "user_count": 42,
                "stats": { "like_count": 1000, "total_user": 57 },
                "owner": {
                    "id": s.host.id,
                    "id_str": s.host.id.to_string(),
                    "display_id": cfg.unique_id,
                    "nickname": cfg.nickname,
                    "avatar_large": { "url_list": [format!("{}/avatar/{}.png", s.base_url, s.host.id)] },
                    "follow_info": { "follower_count": 1234, "following_count": 12 },
                },
                "age_restricted": { "restricted": false },
                "link_mic": { "multi_live_enum": 0, "rival_anchor_id": 0, "battle_scores": [] },
            },
            "extra": extra,
        }),
    )
}

/// `GET /webcast/gift/list/`.
pub(crate) async fn gift_list(State(s): State<Arc<Shared>>) -> Response {
    match s.cfg.gift_list {
        GiftList::ServerError => json_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({ "status_code": 500, "message": "internal error" }),
        ),
        GiftList::Empty => json_response(
            StatusCode::OK,
            json!({ "status_code": 0, "data": { "gifts": [] } }),
        ),
        GiftList::Normal => json_response(
            StatusCode::OK,
            json!({ "status_code": 0, "data": gifts::list_json(&s.base_url), "extra": { "now": unix_ms() } }),
        ),
    }
}

fn png_response(file: &str) -> Response {
    match file
        .strip_suffix(".png")
        .and_then(|id| id.parse::<u64>().ok())
    {
        Some(id) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "image/png")],
            gifts::png(id),
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}

/// `GET /gift-images/{id}.png`.
pub(crate) async fn gift_image(Path(file): Path<String>) -> Response {
    png_response(&file)
}

/// `GET /avatar/{id}.png`.
pub(crate) async fn avatar(Path(file): Path<String>) -> Response {
    png_response(&file)
}

/// The sign routes on the main port: 404 when the sign server has its own origin.
pub(crate) async fn sign_main(
    State(s): State<Arc<Shared>>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    if s.cfg.sign_separate_origin {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    }
    sign(State(s), uri, headers).await
}

/// Both sign path styles: `/webcast/fetch` and `/webcast/rooms/{room_id}/connect`.
pub(crate) async fn sign(State(s): State<Arc<Shared>>, uri: Uri, headers: HeaderMap) -> Response {
    let q = parse_query(uri.query().unwrap_or(""));
    let call = s.sign_calls.fetch_add(1, Ordering::SeqCst);
    let session = query_value(&q, "session_id").filter(|v| !v.is_empty());
    if let Some(key) = &s.cfg.api_key {
        let given = headers
            .get("x-api-key")
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .or_else(|| query_value(&q, "apiKey").map(str::to_string));
        if given.as_deref() != Some(key.as_str()) {
            return json_response(
                StatusCode::UNAUTHORIZED,
                json!({ "code": 401, "message": "Invalid or missing API key" }),
            );
        }
    }
    let fault = s.cfg.sign_faults.get(call).cloned();
    match &fault {
        Some(SignFault::RateLimited { retry_after_secs }) => {
            let reset = unix_ms() / 1000 + *retry_after_secs as i64;
            let mut resp = json_response(
                StatusCode::TOO_MANY_REQUESTS,
                json!({
                    "message": format!(
                        "Too many connections started, try again in {retry_after_secs} seconds."
                    ),
                    "limit_label": "minute",
                }),
            );
            let h = resp.headers_mut();
            for (name, value) in [
                ("retry-after", retry_after_secs.to_string()),
                ("ratelimit-reset", reset.to_string()),
                ("x-ratelimit-reset", reset.to_string()),
                ("ratelimit-limit", "5".into()),
                ("ratelimit-remaining", "0".into()),
            ] {
                if let Ok(v) = HeaderValue::from_str(&value) {
                    h.insert(name, v);
                }
            }
            return resp;
        }
        Some(SignFault::Unauthorized) => {
            return json_response(
                StatusCode::UNAUTHORIZED,
                json!({ "code": 401, "message": "Invalid API key" }),
            );
        }
        Some(SignFault::Status(code)) => {
            let status = StatusCode::from_u16(*code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let message = match code {
                402 | 403 => "This endpoint requires a paid plan",
                _ => "Sign server error",
            };
            return json_response(status, json!({ "code": code, "message": message }));
        }
        _ => {}
    }
    let delay = match &fault {
        Some(SignFault::Slow(delay)) => Some(*delay),
        _ => None,
    };
    if let Some(delay) = delay {
        if !s.sleep(delay).await {
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    }
    // An age-restricted room cannot be fetched anonymously: the reply comes back without a
    // cursor, the way a blocked sign does.
    let no_cursor = matches!(fault, Some(SignFault::EmptyCursor))
        || (s.cfg.room_state == RoomState::AgeRestricted && session.is_none());
    let body = match &fault {
        Some(SignFault::EmptyBody) => Vec::new(),
        Some(SignFault::WithMessages(extra)) => {
            let mut result =
                FetchResult::decode(initial_fetch(&s, no_cursor).as_slice()).unwrap_or_default();
            for (i, m) in extra.iter().enumerate() {
                let id = crate::script::MSG_ID_BASE + 900_000_000 + (call * 1000 + i) as u64;
                result.messages.push(to_wire(m, id, &s.ctx));
            }
            result.encode_to_vec()
        }
        _ => initial_fetch(&s, no_cursor),
    };
    if let Ok(result) = FetchResult::decode(body.as_slice()) {
        if !result.cursor.is_empty() {
            s.issue(Issued {
                cursor: result.cursor,
                internal_ext: result.internal_ext,
                user_agent: query_value(&q, "user_agent").map(str::to_string),
                with_session: session.is_some(),
                at: tokio::time::Instant::now(),
            });
        }
    }
    let mut resp = Response::new(Body::from(body));
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-protobuf"),
    );
    let n = call + 1;
    if !matches!(fault, Some(SignFault::NoCookie)) {
        // ttwid first: TLC keeps only the first pair of this header.
        let cookie = format!("ttwid={TTWID}; tt_chain_token=chain-{n}; tt_csrf_token=csrf-{n}");
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            h.insert("x-set-tt-cookie", v);
        }
    }
    // The sign server's own cookie: it belongs to the sign server's origin, never to TikTok
    // (only `X-Set-TT-Cookie` is meant for TikTok).
    h.insert(
        header::SET_COOKIE,
        HeaderValue::from_static("sign_session=sign-server-only; Path=/; HttpOnly"),
    );
    if s.cfg.sign_room_id_header {
        if let Ok(v) = HeaderValue::from_str(&s.cfg.room_id.to_string()) {
            h.insert("x-room-id", v);
        }
    }
    for (name, value) in [
        ("x-request-id", format!("sim-req-{n}")),
        ("x-agent-id", "webcast-sim".into()),
        ("x-log-code", "0".into()),
    ] {
        if let Ok(v) = HeaderValue::from_str(&value) {
            h.insert(name, v);
        }
    }
    resp
}

/// The body of a successful sign reply: a fresh cursor/ext pair on every call.
fn initial_fetch(s: &Shared, empty_cursor: bool) -> Vec<u8> {
    if let Play::Replay { rec, .. } = &s.play {
        if let Some(initial) = &rec.initial {
            return initial.clone();
        }
    }
    let n = s.next_ext();
    let cursor = if empty_cursor {
        String::new()
    } else {
        format!("c-{n}")
    };
    let internal_ext = format!("ext-{n}");
    let messages = match &s.play {
        Play::Script(compiled) => compiled.history.clone(),
        _ => Vec::new(),
    };
    FetchResult {
        messages,
        cursor: cursor.clone(),
        fetch_interval: 1000,
        now: unix_ms(),
        internal_ext: internal_ext.clone(),
        fetch_type: 1,
        route_params: [
            ("cursor".to_string(), cursor),
            ("internal_ext".to_string(), internal_ext),
        ]
        .into_iter()
        .collect(),
        heartbeat_duration: 10_000,
        need_ack: false,
        push_server: s.ws_url.clone(),
        is_first: true,
        history_comment_cursor: String::new(),
        history_no_more: true,
    }
    .encode_to_vec()
}
