//! HTTP to TikTok's web endpoints: room lookup, live check, room info and the gift list
//! (protocol.md §1 and §5), with the shared headers, base parameters and a small cookie jar.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::Rng;
use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::Value;

use super::config::ClientConfig;
use crate::error::Error;

/// What a room lookup found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomInfo {
    pub room_id: u64,
    pub unique_id: Option<String>,
    pub status: RoomStatus,
}

/// Live status codes shared by the live page, api-live and room info: 2 live, 3 paused,
/// 4 offline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoomStatus {
    Live,
    Paused,
    Offline,
    Unknown,
}

impl RoomStatus {
    fn from_code(code: Option<i64>) -> Self {
        match code {
            Some(2) => RoomStatus::Live,
            Some(3) => RoomStatus::Paused,
            Some(4) => RoomStatus::Offline,
            _ => RoomStatus::Unknown,
        }
    }
}

/// A plain HTTP reply.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn json(&self, what: &str) -> Result<Value, Error> {
        serde_json::from_slice(&self.body)
            .map_err(|e| Error::protocol(what, format!("not JSON (HTTP {}): {e}", self.status)))
    }
}

/// What room info said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoomInfoAnswer {
    Status(RoomStatus),
    /// `status_code 4003110` with `data.prompts`: age-restricted or private, but TikTok gives
    /// the same answer under rate limits and captchas (TLC#312). Only a hint.
    Prompts,
}

/// Shared HTTP state of one client: the reqwest client for TikTok with its cookie jar and
/// device id, and a separate client for the sign server (another party: it gets none of
/// TikTok's cookies, and its own cookies never reach TikTok).
#[derive(Debug)]
pub struct Http {
    client: reqwest::Client,
    sign_client: reqwest::Client,
    cfg: Arc<ClientConfig>,
    cookies: Mutex<BTreeMap<String, String>>,
    device_id: String,
    /// The room's title from the last room info answer (the window shows it).
    room_title: Mutex<Option<String>>,
}

fn is_loopback(url: &str) -> bool {
    let rest = url.split("://").nth(1).unwrap_or(url);
    rest.starts_with("127.") || rest.starts_with("localhost") || rest.starts_with("[::1]")
}

impl Http {
    pub fn new(cfg: Arc<ClientConfig>) -> Result<Self, Error> {
        let mut headers = HeaderMap::new();
        let static_headers = [
            ("Accept", "text/html,application/json,application/protobuf"),
            ("Accept-Language", "en-US,en;q=0.9"),
            ("Cache-Control", "max-age=0"),
            ("Referer", "https://www.tiktok.com/"),
            ("Origin", "https://www.tiktok.com"),
            ("Sec-Fetch-Site", "same-site"),
            ("Sec-Fetch-Mode", "cors"),
            ("Sec-Fetch-Dest", "empty"),
            ("Sec-Fetch-Ua-Mobile", "?0"),
        ];
        for (k, v) in static_headers {
            headers.insert(k, HeaderValue::from_static(v));
        }
        let mut builder = reqwest::Client::builder()
            .user_agent(cfg.user_agent.clone())
            .default_headers(headers)
            .timeout(cfg.http_timeout)
            .connect_timeout(cfg.http_timeout.min(Duration::from_secs(10)))
            .redirect(reqwest::redirect::Policy::limited(3));
        if is_loopback(&cfg.web_base) {
            // Local tests and the simulator must never go through a system proxy.
            builder = builder.no_proxy();
        }
        let client = builder.build().map_err(Error::network)?;
        let mut sign_builder = reqwest::Client::builder()
            .user_agent(cfg.user_agent.clone())
            .timeout(cfg.http_timeout)
            .connect_timeout(cfg.http_timeout.min(Duration::from_secs(10)))
            .redirect(reqwest::redirect::Policy::none());
        if let super::config::SignConfig::Euler { base_url, .. } = &cfg.sign {
            if is_loopback(base_url) {
                sign_builder = sign_builder.no_proxy();
            }
        }
        let sign_client = sign_builder.build().map_err(Error::network)?;
        let mut cookies = BTreeMap::new();
        cookies.insert("tt-target-idc".to_string(), "useast1a".to_string());
        if let Some(session) = cfg.session_id.as_ref().filter(|s| !s.is_empty()) {
            for name in ["sessionid", "sessionid_ss", "sid_tt"] {
                cookies.insert(name.to_string(), session.expose().trim().to_string());
            }
        }
        let mut rng = rand::rng();
        let device_id: String = (0..19)
            .map(|i| {
                let d = if i == 0 {
                    rng.random_range(1..10)
                } else {
                    rng.random_range(0..10)
                };
                char::from(b'0' + d as u8)
            })
            .collect();
        Ok(Self {
            client,
            sign_client,
            cfg,
            cookies: Mutex::new(cookies),
            device_id,
            room_title: Mutex::new(None),
        })
    }

    pub fn config(&self) -> &ClientConfig {
        &self.cfg
    }

    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// The `Cookie` header value for requests and the socket.
    pub fn cookie_header(&self) -> String {
        let jar = self.cookies.lock().unwrap_or_else(|p| p.into_inner());
        jar.iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// The `Cookie` header for the push socket. The session cookies (`sessionid*`, `sid_*`)
    /// stay off an anonymous socket (TikTok-Live-Connector's rule); `authenticated` keeps
    /// them, for a socket the sign server signed with the session.
    pub fn socket_cookie_header(&self, authenticated: bool) -> String {
        let jar = self.cookies.lock().unwrap_or_else(|p| p.into_inner());
        jar.iter()
            .filter(|(k, _)| authenticated || !is_session_cookie(k))
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// Adds cookies from a cookie-header-style string (`a=1; b=2`), as the sign server's
    /// `X-Set-TT-Cookie` carries them. Attributes such as `Path` or `Domain` are skipped.
    pub fn add_cookies(&self, header: &str) {
        let mut jar = self.cookies.lock().unwrap_or_else(|p| p.into_inner());
        for part in header.split(';') {
            let Some((k, v)) = part.split_once('=') else {
                continue;
            };
            let (k, v) = (k.trim(), v.trim());
            let attribute = matches!(
                k.to_ascii_lowercase().as_str(),
                "path" | "domain" | "expires" | "max-age" | "samesite" | "secure" | "httponly"
            );
            if !k.is_empty() && !attribute {
                jar.insert(k.to_string(), v.to_string());
            }
        }
    }

    pub fn cookie(&self, name: &str) -> Option<String> {
        let jar = self.cookies.lock().unwrap_or_else(|p| p.into_inner());
        jar.get(name).cloned()
    }

    fn absorb_set_cookie(&self, headers: &HeaderMap) {
        for v in headers.get_all("set-cookie") {
            if let Ok(s) = v.to_str() {
                // Only the first `name=value` of a Set-Cookie is the cookie; the rest are attributes.
                if let Some(first) = s.split(';').next() {
                    self.add_cookies(first);
                }
            }
        }
    }

    /// Query parameters sent with every web/webcast request (protocol.md §1.2).
    pub fn base_params(
        &self,
        room_id: Option<u64>,
        referer_user: Option<&str>,
    ) -> Vec<(String, String)> {
        let cfg = &self.cfg;
        let (browser_name, browser_version) = cfg
            .user_agent
            .split_once('/')
            .unwrap_or((cfg.user_agent.as_str(), ""));
        let lang = &cfg.language;
        let region = &cfg.region;
        let referer = match referer_user {
            Some(u) => format!("https://www.tiktok.com/@{u}/live"),
            None => "https://www.tiktok.com/".to_string(),
        };
        let mut p: Vec<(String, String)> = [
            ("aid", "1988".to_string()),
            ("app_language", lang.clone()),
            ("app_name", "tiktok_web".into()),
            ("browser_language", format!("{lang}-{region}")),
            ("browser_name", browser_name.to_string()),
            ("browser_online", "true".into()),
            ("browser_platform", "Win32".into()),
            ("browser_version", browser_version.to_string()),
            ("channel", "tiktok_web".into()),
            ("cookie_enabled", "true".into()),
            ("data_collection_enabled", "true".into()),
            ("device_id", self.device_id.clone()),
            ("device_platform", "web_pc".into()),
            ("focus_state", "true".into()),
            ("from_page", "user".into()),
            ("history_len", "10".into()),
            ("is_fullscreen", "false".into()),
            ("is_page_visible", "true".into()),
            ("os", "windows".into()),
            ("priority_region", region.clone()),
            ("referer", referer.clone()),
            ("region", region.clone()),
            ("root_referer", referer),
            ("screen_height", "1080".into()),
            ("screen_width", "1920".into()),
            ("tz_name", cfg.timezone.clone()),
            ("user_is_login", cfg.session_id.is_some().to_string()),
            ("webcast_language", lang.clone()),
            ("msToken", String::new()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        if let Some(id) = room_id {
            p.push(("room_id".into(), id.to_string()));
        }
        p
    }

    /// GETs `url` with `query` and the jar's cookies, collecting `Set-Cookie`s.
    pub async fn get(
        &self,
        url: &str,
        query: &[(String, String)],
        extra_headers: &[(&str, String)],
    ) -> Result<Reply, Error> {
        let mut req = self
            .client
            .get(url)
            .query(query)
            .header("Cookie", self.cookie_header());
        for (k, v) in extra_headers {
            req = req.header(*k, v);
        }
        let resp = req.send().await.map_err(|e| Error::Network(describe(e)))?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        self.absorb_set_cookie(&headers);
        let body = resp
            .bytes()
            .await
            .map_err(|e| Error::Network(describe(e)))?
            .to_vec();
        Ok(Reply {
            status,
            headers,
            body,
        })
    }

    /// GETs from the sign server with its own client: no TikTok cookies go out, and its
    /// `Set-Cookie`s are not kept. Errors never carry the URL (its query can hold the API key
    /// or the session id).
    pub async fn get_sign(
        &self,
        url: &str,
        query: &[(String, String)],
        extra_headers: &[(&str, String)],
    ) -> Result<Reply, Error> {
        let mut req = self.sign_client.get(url).query(query);
        for (k, v) in extra_headers {
            req = req.header(*k, v);
        }
        let resp = req
            .send()
            .await
            .map_err(|e| Error::Network(format!("sign server: {}", describe(e))))?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp
            .bytes()
            .await
            .map_err(|e| Error::Network(format!("sign server: {}", describe(e))))?
            .to_vec();
        Ok(Reply {
            status,
            headers,
            body,
        })
    }

    /// Finds the room of `@unique_id`: the live page's SIGI_STATE first, then api-live.
    pub async fn resolve_user(&self, unique_id: &str) -> Result<RoomInfo, Error> {
        match self.room_from_live_page(unique_id).await {
            Ok(info) => Ok(info),
            Err(page_err) => {
                tracing::debug!(error = %page_err, "live page lookup failed; trying api-live");
                match self.room_from_api_live(unique_id).await {
                    Ok(info) => Ok(info),
                    // A definite answer from api-live wins; otherwise report the first error.
                    Err(
                        e @ (Error::UserNotFound(_) | Error::Offline(_) | Error::AgeRestricted),
                    ) => Err(e),
                    Err(api_err) => {
                        tracing::debug!(error = %api_err, "api-live lookup failed too");
                        Err(page_err)
                    }
                }
            }
        }
    }

    /// Method A (protocol.md §1.3): the `/@user/live` page's SIGI_STATE JSON.
    pub async fn room_from_live_page(&self, unique_id: &str) -> Result<RoomInfo, Error> {
        let url = format!("{}/@{}/live", self.cfg.web_base, unique_id);
        let reply = self.get(&url, &[], &[]).await?;
        if reply.status == 429 {
            return Err(tiktok_rate_limited());
        }
        if reply.status == 403 {
            return Err(Error::Blocked(
                "tiktok.com refused the live page (HTTP 403)".into(),
            ));
        }
        let html = String::from_utf8_lossy(&reply.body);
        parse_sigi_state(&html, unique_id)
    }

    /// Method B (protocol.md §1.4): `api-live/user/room`.
    pub async fn room_from_api_live(&self, unique_id: &str) -> Result<RoomInfo, Error> {
        let url = format!("{}/api-live/user/room/", self.cfg.web_base);
        let mut q = self.base_params(None, Some(unique_id));
        q.push(("uniqueId".into(), unique_id.to_string()));
        q.push(("sourceType".into(), "54".into()));
        let reply = self.get(&url, &q, &[]).await?;
        if reply.status == 429 {
            return Err(tiktok_rate_limited());
        }
        parse_api_live(&reply.json("api-live")?, unique_id)
    }

    /// Live check by room id (protocol.md §1.5). `Ok(None)` when the answer is unclear.
    pub async fn check_alive(&self, room_id: u64) -> Result<Option<bool>, Error> {
        let url = format!("{}/room/check_alive/", self.cfg.webcast_base);
        let mut q = self.base_params(None, None);
        q.push(("room_ids".into(), room_id.to_string()));
        let reply = self.get(&url, &q, &[]).await?;
        let v = reply.json("check_alive")?;
        Ok(v["data"]
            .as_array()
            .and_then(|a| a.first())
            .and_then(|e| e["alive"].as_bool()))
    }

    /// Room info (protocol.md §1.6): the room's status, or the "prompts" answer that may mean
    /// age-restricted (or just a rate limit).
    pub async fn room_info(&self, room_id: u64) -> Result<RoomInfoAnswer, Error> {
        let url = format!("{}/room/info/", self.cfg.webcast_base);
        let q = self.base_params(Some(room_id), None);
        let reply = self.get(&url, &q, &[]).await?;
        let v = reply.json("room info")?;
        if v["status_code"].as_i64() == Some(4_003_110) || v["data"].get("prompts").is_some() {
            return Ok(RoomInfoAnswer::Prompts);
        }
        // Untrusted text; kept as is (the window escapes it) and only for showing.
        let title = v["data"]["title"]
            .as_str()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_string);
        *self.room_title.lock().unwrap_or_else(|p| p.into_inner()) = title;
        Ok(RoomInfoAnswer::Status(RoomStatus::from_code(
            v["data"]["status"].as_i64(),
        )))
    }

    /// The title room info last gave (protocol.md §1.6 `data.title`), if any.
    pub fn room_title(&self) -> Option<String> {
        self.room_title
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The room's gift catalogue (protocol.md §5).
    pub async fn gift_list(&self, room_id: u64) -> Result<Vec<crate::gifts::CatalogGift>, Error> {
        let url = format!("{}/gift/list/", self.cfg.webcast_base);
        let q = self.base_params(Some(room_id), None);
        let reply = self.get(&url, &q, &[]).await?;
        if reply.status != 200 {
            return Err(Error::protocol(
                "gift list",
                format!("HTTP {}", reply.status),
            ));
        }
        crate::gifts::parse_gift_list(&reply.json("gift list")?)
    }
}

/// `sessionid`, `sessionid_ss`, `sid_tt`, `sid_guard`: what logs a browser in.
fn is_session_cookie(name: &str) -> bool {
    name.starts_with("sessionid") || name.starts_with("sid_")
}

fn tiktok_rate_limited() -> Error {
    Error::Network("tiktok.com is rate-limiting us (HTTP 429)".into())
}

/// The error without its URL: query strings can carry secrets.
fn describe(e: reqwest::Error) -> String {
    use std::error::Error as _;
    let e = e.without_url();
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    s
}

fn id_from(v: &Value) -> Option<u64> {
    match v {
        Value::String(s) => s.trim().parse().ok(),
        Value::Number(n) => n.as_u64(),
        _ => None,
    }
    .filter(|id| *id != 0)
}

/// Reads the room from a live page (protocol.md §1.3).
pub fn parse_sigi_state(html: &str, unique_id: &str) -> Result<RoomInfo, Error> {
    const MARK: &str = "id=\"SIGI_STATE\"";
    let Some(start) = html.find(MARK) else {
        let detail = if html.contains("Please wait") || html.contains("_wafchallengeid") {
            "TikTok served a bot check (\"Please wait…\") instead of the live page"
        } else {
            "the live page has no SIGI_STATE (blocked by TikTok?)"
        };
        return Err(Error::BotCheck(detail.into()));
    };
    let after = &html[start..];
    let json_start = after.find('>').map(|i| i + 1).unwrap_or(after.len());
    let json_end = after.find("</script>").unwrap_or(after.len());
    if json_end <= json_start {
        return Err(Error::BotCheck(
            "the live page's SIGI_STATE is cut off".into(),
        ));
    }
    let state: Value = serde_json::from_str(&after[json_start..json_end])
        .map_err(|_| Error::BotCheck("the live page's SIGI_STATE is not JSON (captcha?)".into()))?;
    let Some(live_room) = state.get("LiveRoom") else {
        return Err(Error::UserNotFound(unique_id.into()));
    };
    let info = &live_room["liveRoomUserInfo"];
    let user_status = info["user"]["status"].as_i64();
    let room_status = info["liveRoom"]["status"].as_i64();
    let status = if user_status == Some(4) || room_status == Some(4) {
        RoomStatus::Offline
    } else {
        RoomStatus::from_code(room_status.or(user_status))
    };
    let room_id = id_from(&info["user"]["roomId"]).or_else(|| id_from(&info["liveRoom"]["roomId"]));
    match (room_id, status) {
        (_, RoomStatus::Offline) => Err(Error::Offline(format!("@{unique_id}"))),
        (Some(room_id), status) => Ok(RoomInfo {
            room_id,
            unique_id: Some(unique_id.into()),
            status,
        }),
        (None, _) => Err(Error::Offline(format!("@{unique_id}"))),
    }
}

/// Reads the room from an api-live reply (protocol.md §1.4).
pub fn parse_api_live(v: &Value, unique_id: &str) -> Result<RoomInfo, Error> {
    let code = v["statusCode"].as_i64().unwrap_or(0);
    let message = v["message"].as_str().unwrap_or("");
    if message == "user_not_found" || code == 19_881_007 {
        return Err(Error::UserNotFound(unique_id.into()));
    }
    if code == 4_003_110 {
        return Err(Error::AgeRestricted);
    }
    if message == "params_error" {
        return Err(Error::protocol("api-live", "params_error"));
    }
    let data = &v["data"];
    if data.is_null() {
        return Err(Error::UserNotFound(unique_id.into()));
    }
    let status = RoomStatus::from_code(
        data["liveRoom"]["status"]
            .as_i64()
            .or_else(|| data["user"]["status"].as_i64()),
    );
    let room_id = id_from(&data["user"]["roomId"]);
    match (room_id, status) {
        (_, RoomStatus::Offline) | (None, _) => Err(Error::Offline(format!("@{unique_id}"))),
        (Some(room_id), status) => Ok(RoomInfo {
            room_id,
            unique_id: Some(unique_id.into()),
            status,
        }),
    }
}

/// A 19-digit random number for `enter_unique_id` and similar ids.
pub fn random_id() -> u64 {
    rand::rng().random_range(1_000_000_000_000_000_000..=i64::MAX as u64)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn page(state: &str) -> String {
        format!("<html><head></head><body><script id=\"SIGI_STATE\" type=\"application/json\">{state}</script></body></html>")
    }

    #[test]
    fn sigi_state_live_offline_missing_blocked() {
        let live = page(
            r#"{"LiveRoom":{"liveRoomUserInfo":{"user":{"roomId":"7140000000000000001","uniqueId":"x","status":2},"liveRoom":{"status":2}}}}"#,
        );
        let info = parse_sigi_state(&live, "x").unwrap();
        assert_eq!(info.room_id, 7_140_000_000_000_000_001);
        assert_eq!(info.status, RoomStatus::Live);

        let off = page(
            r#"{"LiveRoom":{"liveRoomUserInfo":{"user":{"roomId":"1","status":4},"liveRoom":{"status":4}}}}"#,
        );
        assert!(matches!(
            parse_sigi_state(&off, "x"),
            Err(Error::Offline(_))
        ));
        // TLC reads liveRoom.status; TL7 reads user.status: either 4 means offline.
        let off2 = page(
            r#"{"LiveRoom":{"liveRoomUserInfo":{"user":{"roomId":"1","status":2},"liveRoom":{"status":4}}}}"#,
        );
        assert!(matches!(
            parse_sigi_state(&off2, "x"),
            Err(Error::Offline(_))
        ));

        let missing = page(r#"{"AppContext":{}}"#);
        assert!(matches!(
            parse_sigi_state(&missing, "x"),
            Err(Error::UserNotFound(_))
        ));

        let waf = "<html><title>Please wait...</title><script>_wafchallengeid</script></html>";
        assert!(
            matches!(parse_sigi_state(waf, "x"), Err(Error::BotCheck(m)) if m.contains("bot check"))
        );

        let broken = page("{not json");
        assert!(
            matches!(parse_sigi_state(&broken, "x"), Err(Error::BotCheck(m)) if m.contains("captcha"))
        );
    }

    #[test]
    fn api_live_answers() {
        let ok = json!({"statusCode":0,"message":"","data":{"user":{"roomId":"7140000000000000002","status":2},"liveRoom":{"status":2}}});
        assert_eq!(
            parse_api_live(&ok, "x").unwrap().room_id,
            7_140_000_000_000_000_002
        );
        let nf = json!({"statusCode":19881007,"message":"user_not_found","data":null});
        assert!(matches!(
            parse_api_live(&nf, "x"),
            Err(Error::UserNotFound(_))
        ));
        let off = json!({"statusCode":0,"data":{"user":{"roomId":"5","status":4},"liveRoom":{"status":4}}});
        assert!(matches!(parse_api_live(&off, "x"), Err(Error::Offline(_))));
        let age = json!({"statusCode":4003110,"data":{}});
        assert!(matches!(
            parse_api_live(&age, "x"),
            Err(Error::AgeRestricted)
        ));
        let bad = json!({"statusCode":0,"message":"params_error"});
        assert!(matches!(
            parse_api_live(&bad, "x"),
            Err(Error::Protocol { .. })
        ));
    }

    #[test]
    fn cookies_from_sign_header_and_attributes() {
        let http = Http::new(Arc::new(ClientConfig::local("http://127.0.0.1:1"))).unwrap();
        http.add_cookies("ttwid=abc; tt_chain_token=x; Path=/; Domain=.tiktok.com");
        assert_eq!(http.cookie("ttwid").as_deref(), Some("abc"));
        assert_eq!(http.cookie("tt_chain_token").as_deref(), Some("x"));
        assert_eq!(http.cookie("Path"), None);
        let header = http.cookie_header();
        assert!(header.contains("tt-target-idc=useast1a"), "{header}");
        assert!(header.contains("ttwid=abc"), "{header}");
    }

    #[test]
    fn base_params_carry_the_ua_split_and_room() {
        let http = Http::new(Arc::new(ClientConfig::local("http://127.0.0.1:1"))).unwrap();
        let p: BTreeMap<_, _> = http
            .base_params(Some(42), Some("bob"))
            .into_iter()
            .collect();
        assert_eq!(p["aid"], "1988");
        assert_eq!(p["browser_name"], "Mozilla");
        assert!(p["browser_version"].starts_with("5.0 (Windows"));
        assert_eq!(p["room_id"], "42");
        assert_eq!(p["referer"], "https://www.tiktok.com/@bob/live");
        assert_eq!(p["device_id"].len(), 19);
    }
}
