//! The push socket: its URL (protocol.md §3.1) and the handshake (§3.2–3.3).

use std::time::Duration;

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use rand::Rng;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::config::ClientConfig;
use crate::error::Error;
use crate::proto::FetchResult;

pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Characters left as they are in a query value (RFC 3986 unreserved).
const VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// An ordered query where setting a key again replaces its value in place.
#[derive(Debug, Default)]
struct Query(Vec<(String, String)>);

impl Query {
    fn set(&mut self, key: &str, value: impl Into<String>) {
        let value = value.into();
        match self.0.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => slot.1 = value,
            None => self.0.push((key.to_string(), value)),
        }
    }

    fn encode(&self) -> String {
        self.0
            .iter()
            .map(|(k, v)| {
                format!(
                    "{}={}",
                    utf8_percent_encode(k, VALUE),
                    utf8_percent_encode(v, VALUE)
                )
            })
            .collect::<Vec<_>>()
            .join("&")
    }
}

/// The socket URL: `push_server` + the client's parameters, then `room_id`, `cursor`,
/// `internal_ext`, then the server's route params (which win), then `compress=gzip`, then the
/// duplicate `version_code` production URLs carry.
///
/// Without a cursor (the sign-free direct method) the URL is the one protocol.md §2.6 lists:
/// `ws_direct=1`, `heartbeat_duration=10000` and no empty `cursor`/`internal_ext`.
pub fn build_url(cfg: &ClientConfig, result: &FetchResult, room_id: u64) -> String {
    let direct = result.cursor.is_empty() && result.internal_ext.is_empty();
    let (browser_name, browser_version) = cfg
        .user_agent
        .split_once('/')
        .unwrap_or((cfg.user_agent.as_str(), ""));
    let lang = &cfg.language;
    let last_rtt = rand::rng().random_range(100.0..200.0_f64);
    let mut q = Query::default();
    for (k, v) in [
        ("aid", "1988".to_string()),
        ("app_language", lang.clone()),
        ("app_name", "tiktok_web".into()),
        ("browser_platform", "Win32".into()),
        ("browser_language", format!("{lang}-{}", cfg.region)),
        ("browser_name", browser_name.to_string()),
        ("browser_version", browser_version.to_string()),
        ("browser_online", "true".into()),
        ("cookie_enabled", "true".into()),
        ("tz_name", cfg.timezone.clone()),
        ("device_platform", "web".into()),
        ("identity", "audience".into()),
        ("live_id", "12".into()),
        ("sup_ws_ds_opt", "1".into()),
        ("update_version_code", "2.0.0".into()),
        ("version_code", "180800".into()),
        ("client_enter", "1".into()),
        ("ws_direct", if direct { "1" } else { "0" }.into()),
        ("did_rule", "3".into()),
        ("webcast_language", lang.clone()),
        ("screen_height", "1080".into()),
        ("screen_width", "1920".into()),
        (
            "heartbeat_duration",
            if direct { "10000" } else { "0" }.into(),
        ),
        ("resp_content_type", "protobuf".into()),
        ("history_comment_count", "6".into()),
        ("last_rtt", format!("{last_rtt:.3}")),
    ] {
        q.set(k, v);
    }
    q.set("room_id", room_id.to_string());
    if !result.cursor.is_empty() {
        q.set("cursor", result.cursor.clone());
    }
    if !result.internal_ext.is_empty() {
        q.set("internal_ext", result.internal_ext.clone());
    }
    let mut route: Vec<(&String, &String)> = result
        .route_params
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .collect();
    route.sort();
    for (k, v) in route {
        q.set(k, v.clone());
    }
    q.set("compress", "gzip");
    let base = &result.push_server;
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}{}&version_code=270000", q.encode())
}

/// What the server said when the socket opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Opened {
    /// `Handshake-Options: ping-interval=N` (seconds), when present.
    pub ping_interval: Option<Duration>,
}

/// Reads `ping-interval` from a `Handshake-Options` value (`key=value; key2=value2`).
pub fn ping_interval(options: &str) -> Option<Duration> {
    options.split(';').find_map(|part| {
        let (k, v) = part.split_once('=')?;
        if k.trim() != "ping-interval" {
            return None;
        }
        let secs: f64 = v.trim().parse().ok()?;
        (secs > 0.0 && secs < 3600.0).then(|| Duration::from_secs_f64(secs))
    })
}

/// Opens the socket with the signing User-Agent and the cookie jar. Any answer other than
/// 101 is TikTok refusing us, reported with its `Handshake-Status`/`Handshake-Msg`.
pub async fn open(url: &str, user_agent: &str, cookies: &str) -> Result<(Socket, Opened), Error> {
    let mut req = url
        .into_client_request()
        .map_err(|e| Error::protocol("push server", format!("bad socket URL: {e}")))?;
    let headers = req.headers_mut();
    let put =
        |h: &mut tokio_tungstenite::tungstenite::http::HeaderMap, k: &'static str, v: &str| {
            if let Ok(v) = HeaderValue::from_str(v) {
                h.insert(k, v);
            }
        };
    put(headers, "User-Agent", user_agent);
    put(headers, "Cookie", cookies);
    put(headers, "Origin", "https://www.tiktok.com");
    put(headers, "Referer", "https://www.tiktok.com/");
    put(headers, "Accept-Language", "en-US,en;q=0.9");
    put(headers, "Cache-Control", "no-cache");
    // No Nagle: acks and heartbeats are tiny and must not sit in the kernel waiting for more.
    match tokio_tungstenite::connect_async_with_config(req, None, true).await {
        Ok((socket, resp)) => {
            let ping = resp
                .headers()
                .get("handshake-options")
                .and_then(|v| v.to_str().ok())
                .and_then(ping_interval);
            Ok((
                socket,
                Opened {
                    ping_interval: ping,
                },
            ))
        }
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
            let h = resp.headers();
            let get = |k: &str| h.get(k).and_then(|v| v.to_str().ok()).map(str::to_string);
            let status =
                get("handshake-status").unwrap_or_else(|| resp.status().as_u16().to_string());
            let message = get("handshake-msg").unwrap_or_else(|| {
                format!(
                    "the server answered HTTP {} instead of opening the socket",
                    resp.status()
                )
            });
            Err(Error::HandshakeRejected { status, message })
        }
        Err(e) => Err(Error::network(format!("socket: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    #[test]
    fn url_order_encoding_and_overrides() {
        let cfg = ClientConfig::default();
        let result = FetchResult {
            cursor: "c-1".into(),
            internal_ext: "internal_src:dim|wss_push_room_id:1".into(),
            push_server: "wss://push.example/webcast/im/ws_proxy/ws_reuse_supplement/".into(),
            route_params: HashMap::from([
                ("cursor".to_string(), "c-route".to_string()),
                ("empty".to_string(), String::new()),
                ("extra".to_string(), "a b(c)".to_string()),
            ]),
            ..Default::default()
        };
        let url = build_url(&cfg, &result, 7_140_000_000_000_000_001);
        let (base, query) = url.split_once('?').unwrap();
        assert_eq!(base, result.push_server);
        let pairs: Vec<(&str, &str)> = query
            .split('&')
            .map(|p| p.split_once('=').unwrap())
            .collect();
        let get = |k: &str| {
            pairs
                .iter()
                .filter(|(kk, _)| *kk == k)
                .map(|(_, v)| *v)
                .collect::<Vec<_>>()
        };
        assert_eq!(pairs.first(), Some(&("aid", "1988")));
        assert_eq!(get("room_id"), ["7140000000000000001"]);
        assert_eq!(get("cursor"), ["c-route"], "route params win");
        assert_eq!(
            get("internal_ext"),
            ["internal_src%3Adim%7Cwss_push_room_id%3A1"]
        );
        assert_eq!(get("extra"), ["a%20b%28c%29"], "values are percent-encoded");
        assert!(get("empty").is_empty(), "empty route params are skipped");
        assert_eq!(get("compress"), ["gzip"]);
        assert_eq!(
            get("version_code"),
            ["180800", "270000"],
            "duplicate kept, last one appended"
        );
        assert!(url.ends_with("&version_code=270000"));
        assert!(get("browser_version")[0].starts_with("5.0%20%28Windows"));
    }

    #[test]
    fn direct_url_has_no_empty_cursor_and_says_direct() {
        let cfg = ClientConfig::default();
        let result = FetchResult {
            push_server: "wss://push.example/ws/".into(),
            ..Default::default()
        };
        let url = build_url(&cfg, &result, 42);
        assert!(url.contains("ws_direct=1"), "{url}");
        assert!(url.contains("heartbeat_duration=10000"), "{url}");
        assert!(!url.contains("cursor="), "{url}");
        assert!(!url.contains("internal_ext="), "{url}");
        assert!(url.contains("room_id=42"), "{url}");
        let signed = FetchResult {
            cursor: "c".into(),
            internal_ext: "e".into(),
            ..result
        };
        let url = build_url(&cfg, &signed, 42);
        assert!(url.contains("ws_direct=0") && url.contains("heartbeat_duration=0"));
    }

    #[test]
    fn handshake_options_ping_interval() {
        assert_eq!(
            ping_interval("ping-interval=10"),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            ping_interval("a=1; ping-interval=2.5; b"),
            Some(Duration::from_millis(2500))
        );
        assert_eq!(ping_interval("reconnect-interval=3"), None);
        assert_eq!(ping_interval("ping-interval=-1"), None);
    }
}
