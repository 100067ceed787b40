//! The sign step (protocol.md §2): getting the first fetch result, the socket address and the
//! cookies the socket needs. Pluggable, because the way to do it changes with TikTok.

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use prost::Message as _;

use super::config::{Secret, SignConfig, SignPathStyle};
use super::http::Http;
use crate::error::Error;
use crate::proto::FetchResult;

/// What a successful sign gives the client.
#[derive(Debug, Clone, PartialEq)]
pub struct Signed {
    /// The first fetch result: cursor, internal_ext, route params, push server, history.
    pub result: FetchResult,
    /// The raw reply body, kept for recording.
    pub raw: Vec<u8>,
    /// A room id the sign server corrected (`X-Room-Id`).
    pub room_id: Option<u64>,
}

/// A way to sign. Implementations put the cookies they obtain into `http`'s jar.
pub trait Signer: Send + Sync + std::fmt::Debug {
    /// Whether signing asks a sign server (and so counts against its quota).
    fn uses_sign_server(&self) -> bool {
        true
    }

    fn sign<'a>(
        &'a self,
        http: &'a Http,
        room_id: u64,
    ) -> Pin<Box<dyn Future<Output = Result<Signed, Error>> + Send + 'a>>;
}

/// Builds the signer a configuration asks for.
pub fn from_config(cfg: &SignConfig) -> Box<dyn Signer> {
    match cfg {
        SignConfig::Euler {
            base_url,
            path_style,
            api_key,
            client_name,
        } => Box::new(EulerSigner {
            base_url: base_url.trim_end_matches('/').to_string(),
            path_style: *path_style,
            api_key: api_key.clone().filter(|k| !k.is_empty()),
            client_name: client_name.clone(),
        }),
        SignConfig::DirectTtwid { push_server } => Box::new(DirectTtwid {
            push_server: push_server.clone(),
        }),
    }
}

/// An Euler-compatible sign server (Euler Stream or a self-hosted one with the same API).
#[derive(Debug, Clone)]
pub struct EulerSigner {
    pub base_url: String,
    pub path_style: SignPathStyle,
    pub api_key: Option<Secret>,
    pub client_name: String,
}

impl EulerSigner {
    fn request(&self, http: &Http, room_id: u64) -> (String, Vec<(String, String)>) {
        let ua = http.config().user_agent.clone();
        let mut q: Vec<(String, String)> = vec![("client".into(), self.client_name.clone())];
        let url = match self.path_style {
            SignPathStyle::Fetch => {
                q.push(("room_id".into(), room_id.to_string()));
                format!("{}/webcast/fetch", self.base_url)
            }
            SignPathStyle::RoomConnect => {
                q.push(("cursor".into(), String::new()));
                format!("{}/webcast/rooms/{room_id}/connect", self.base_url)
            }
        };
        q.push(("user_agent".into(), ua));
        q.push(("platform".into(), "web".into()));
        q.push(("client_enter".into(), "true".into()));
        if let Some(key) = &self.api_key {
            if self.path_style == SignPathStyle::RoomConnect {
                q.push(("apiKey".into(), key.expose().to_string()));
            }
        }
        // The TikTok login goes to the sign server only when the user trusts that host with
        // it (TikTokLive's whitelist rule): whoever holds it can act as the user.
        let cfg = http.config();
        if cfg.trusts_sign_host(&self.base_url) {
            if let Some(session) = cfg.session_id.as_ref().filter(|s| !s.is_empty()) {
                q.push(("session_id".into(), session.expose().trim().to_string()));
                q.push(("tt_target_idc".into(), "useast1a".into()));
            }
        }
        (url, q)
    }
}

/// How long to wait from a 429's headers: `Retry-After` (seconds or an HTTP date), else a
/// reset timestamp. `None` when the server did not say.
pub fn retry_after(reply: &super::http::Reply, now_unix: u64) -> Option<Duration> {
    if let Some(value) = reply.header("retry-after").map(str::trim) {
        if let Ok(secs) = value.parse::<u64>() {
            return Some(Duration::from_secs(secs));
        }
        if let Ok(at) = httpdate::parse_http_date(value) {
            let at_unix = at
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0);
            return Some(Duration::from_secs(at_unix.saturating_sub(now_unix)));
        }
    }
    for name in ["x-ratelimit-reset", "ratelimit-reset"] {
        if let Some(reset) = reply
            .header(name)
            .and_then(|v| v.trim().parse::<u64>().ok())
        {
            // Some servers send a delta, others a unix time: a small number is a delta.
            let secs = if reset > 1_000_000_000 {
                reset.saturating_sub(now_unix)
            } else {
                reset
            };
            return Some(Duration::from_secs(secs));
        }
    }
    None
}

fn server_message(body: &[u8]) -> String {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v["message"].as_str().map(str::to_string))
        .unwrap_or_else(|| {
            let text = String::from_utf8_lossy(body);
            text.chars().take(200).collect()
        })
}

impl Signer for EulerSigner {
    fn sign<'a>(
        &'a self,
        http: &'a Http,
        room_id: u64,
    ) -> Pin<Box<dyn Future<Output = Result<Signed, Error>> + Send + 'a>> {
        Box::pin(async move {
            let (url, query) = self.request(http, room_id);
            let mut headers = vec![(
                "Accept",
                "application/protobuf,application/json".to_string(),
            )];
            if let Some(key) = &self.api_key {
                headers.push(("X-Api-Key", key.expose().to_string()));
            }
            let reply = http.get_sign(&url, &query, &headers).await?;
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0);
            match reply.status {
                200 => {}
                429 => {
                    return Err(Error::RateLimited {
                        retry_after: retry_after(&reply, now),
                        message: server_message(&reply.body),
                    })
                }
                401 | 403 => {
                    return Err(Error::SignRefused {
                        status: reply.status,
                    })
                }
                402 => {
                    return Err(Error::Premium {
                        status: reply.status,
                        message: server_message(&reply.body),
                    })
                }
                status => {
                    return Err(Error::SignServer {
                        status,
                        message: server_message(&reply.body),
                    })
                }
            }
            if reply.body.is_empty() {
                return Err(Error::SignServer {
                    status: 200,
                    message: "empty reply (the sign was detected by TikTok?)".into(),
                });
            }
            let Some(cookies) = reply
                .header("x-set-tt-cookie")
                .filter(|c| !c.trim().is_empty())
            else {
                let hint = reply
                    .header("handshake-msg")
                    .map(|m| format!(" ({m})"))
                    .unwrap_or_default();
                return Err(Error::SignServer {
                    status: 200,
                    message: format!("the reply has no X-Set-TT-Cookie{hint}"),
                });
            };
            http.add_cookies(cookies);
            let result = FetchResult::decode(reply.body.as_slice())
                .map_err(|e| Error::protocol("sign server", format!("not a fetch result: {e}")))?;
            if result.cursor.is_empty() {
                return Err(Error::protocol(
                    "sign server",
                    "missing cursor in the initial fetch result (sign blocked?)",
                ));
            }
            if result.push_server.is_empty() {
                return Err(Error::protocol(
                    "sign server",
                    "missing push_server in the initial fetch result",
                ));
            }
            let room_override = reply
                .header("x-room-id")
                .and_then(|v| v.trim().parse::<u64>().ok())
                .filter(|id| *id != 0);
            Ok(Signed {
                result,
                raw: reply.body,
                room_id: room_override,
            })
        })
    }
}

/// **Experimental**: no sign server. Gets a `ttwid` cookie from the home page and connects to
/// TikTok's push socket without a cursor (a third-party method; TikTok may stop it any day).
#[derive(Debug, Clone)]
pub struct DirectTtwid {
    pub push_server: String,
}

impl Signer for DirectTtwid {
    fn uses_sign_server(&self) -> bool {
        false
    }

    fn sign<'a>(
        &'a self,
        http: &'a Http,
        _room_id: u64,
    ) -> Pin<Box<dyn Future<Output = Result<Signed, Error>> + Send + 'a>> {
        Box::pin(async move {
            let url = format!("{}/", http.config().web_base);
            let reply = http.get(&url, &[], &[]).await?;
            if http.cookie("ttwid").is_none() {
                return Err(Error::BotCheck(format!(
                    "no ttwid cookie from the home page (HTTP {})",
                    reply.status
                )));
            }
            Ok(Signed {
                result: FetchResult {
                    push_server: self.push_server.clone(),
                    ..Default::default()
                },
                raw: Vec::new(),
                room_id: None,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use reqwest::header::{HeaderMap, HeaderValue};

    use super::super::http::Reply;
    use super::*;

    fn reply(headers: &[(&'static str, &'static str)]) -> Reply {
        let mut h = HeaderMap::new();
        for (k, v) in headers {
            h.insert(*k, HeaderValue::from_static(v));
        }
        Reply {
            status: 429,
            headers: h,
            body: Vec::new(),
        }
    }

    #[test]
    fn retry_after_reads_each_header_style() {
        assert_eq!(
            retry_after(&reply(&[("retry-after", "30")]), 0),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            retry_after(
                &reply(&[("x-ratelimit-reset", "1700000090")]),
                1_700_000_000
            ),
            Some(Duration::from_secs(90))
        );
        assert_eq!(
            retry_after(&reply(&[("ratelimit-reset", "12")]), 5),
            Some(Duration::from_secs(12))
        );
        assert_eq!(
            retry_after(
                &reply(&[("retry-after", "Tue, 14 Nov 2023 22:14:50 GMT")]),
                1_700_000_000
            ),
            Some(Duration::from_secs(90)),
            "an HTTP date"
        );
        assert_eq!(
            retry_after(
                &reply(&[("retry-after", "Tue, 14 Nov 2023 22:00:00 GMT")]),
                1_700_000_000
            ),
            Some(Duration::ZERO),
            "a date in the past"
        );
        assert_eq!(retry_after(&reply(&[]), 0), None);
    }

    #[test]
    fn server_message_prefers_json_message() {
        assert_eq!(
            server_message(br#"{"message":"Too many","limit_label":"minute"}"#),
            "Too many"
        );
        assert_eq!(server_message(b"plain"), "plain");
    }
}
