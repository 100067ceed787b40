//! Client configuration. Every base URL is configurable: the tests and the simulator point the
//! client at 127.0.0.1, self-hosters at their own sign server.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// A desktop browser User-Agent. The same one is used for every request and the socket
/// (TikTok blocks sockets whose UA differs from the signing call's).
pub const DEFAULT_USER_AGENT: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

/// A secret (API key, TikTok session id, RCON password): usable by the code that needs it,
/// but never shown by `Debug` or `Display` (which is what logs print) and never serialised.
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value itself, for the one request that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.trim().is_empty()
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self(value.to_string())
    }
}

impl std::str::FromStr for Secret {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self(s.to_string()))
    }
}

/// Euler Stream, the sign server TikTokLive and TikTok-Live-Connector use by default.
pub const DEFAULT_SIGN_URL: &str = "https://api.eulerstream.com";

/// Which Euler-compatible path the sign server answers on (protocol.md §2.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum SignPathStyle {
    /// `GET {base}/webcast/fetch?room_id=…` (TikTokLive 7, TikTokLiveJava).
    Fetch,
    /// `GET {base}/webcast/rooms/{room_id}/connect?…` (TikTok-Live-Connector 2, newer SDKs).
    #[default]
    RoomConnect,
}

/// How the first fetch result and the socket address are obtained.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SignConfig {
    /// An Euler-compatible sign server: Euler Stream itself or a self-hosted one with the
    /// same API (just another `base_url`).
    Euler {
        base_url: String,
        #[serde(default)]
        path_style: SignPathStyle,
        /// Sent to this sign server only (`X-Api-Key`), never to a TikTok host.
        #[serde(default, skip_serializing)]
        api_key: Option<Secret>,
        /// The `client` query parameter.
        #[serde(default = "default_sign_client")]
        client_name: String,
    },
    /// **Experimental.** Connects without a sign server: takes a `ttwid` cookie from the
    /// TikTok home page and opens TikTok's push socket directly (a third-party method that
    /// TikTok may shut off at any time).
    DirectTtwid {
        /// The push socket base, e.g. `wss://webcast-ws.tiktok.com/webcast/im/ws_proxy/ws_reuse_supplement/`.
        push_server: String,
    },
}

fn default_sign_client() -> String {
    "ttlive-rust".into()
}

impl Default for SignConfig {
    fn default() -> Self {
        SignConfig::Euler {
            base_url: DEFAULT_SIGN_URL.into(),
            path_style: SignPathStyle::default(),
            api_key: None,
            client_name: default_sign_client(),
        }
    }
}

/// Reconnect backoff: exponential with full jitter, never faster than a server's retry-after.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Backoff {
    #[serde(with = "millis")]
    pub initial: Duration,
    #[serde(with = "millis")]
    pub max: Duration,
    /// Give up after this many failed attempts in a row (`None`: never).
    pub max_attempts: Option<u32>,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            initial: Duration::from_secs(2),
            max: Duration::from_secs(60),
            max_attempts: None,
        }
    }
}

impl Backoff {
    /// The ceiling for attempt `n` (0-based): initial × 2ⁿ, capped.
    pub fn ceiling(&self, attempt: u32) -> Duration {
        let factor = 1u32.checked_shl(attempt.min(20)).unwrap_or(u32::MAX);
        self.initial.saturating_mul(factor).min(self.max)
    }

    /// The delay before attempt `n`: half the ceiling plus up to half again at random, so a
    /// crowd of clients does not reconnect in lock step while the delay still grows.
    pub fn delay(&self, attempt: u32, random_unit: f64) -> Duration {
        let ceiling = self.ceiling(attempt);
        let half = ceiling / 2;
        half + half.mul_f64(random_unit.clamp(0.0, 1.0))
    }
}

/// How many sign requests the client allows itself (protocol.md §2.5: Euler allowed 5
/// connections a minute and 30 an hour per IP, and locks out for up to 25 minutes beyond).
/// Attempts over the budget wait for their turn. 0 means no limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignBudget {
    pub per_minute: u32,
    pub per_hour: u32,
}

impl Default for SignBudget {
    fn default() -> Self {
        Self {
            per_minute: 5,
            per_hour: 30,
        }
    }
}

/// Everything the client needs to know.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ClientConfig {
    /// `https://www.tiktok.com`: live page and api-live.
    pub web_base: String,
    /// `https://webcast.tiktok.com/webcast`: check_alive, room info, gift list.
    pub webcast_base: String,
    pub sign: SignConfig,
    pub user_agent: String,
    /// UI language, e.g. `en`.
    pub language: String,
    /// Region, e.g. `US`.
    pub region: String,
    pub timezone: String,
    /// A signed-in `sessionid` cookie (optional; gives a fuller feed, needed for age-restricted
    /// rooms). Never logged.
    #[serde(skip_serializing)]
    pub session_id: Option<Secret>,
    /// The sign host (`host` or `host:port`, or a URL) the user trusts with their TikTok
    /// login (TikTokLive's whitelist rule). Only a sign server on that host gets the session
    /// id (it needs it for age-restricted rooms), and only then does the socket it signs for
    /// keep the session cookies. A sign URL changed later does not inherit the trust.
    pub session_sign_host: Option<String>,
    /// Sign requests allowed per minute and per hour.
    pub sign_budget: SignBudget,
    /// A socket that stayed open this long, or delivered messages, was a real connection:
    /// only then does the reconnect backoff start again from the beginning.
    #[serde(with = "millis")]
    pub stable_after: Duration,
    /// Events waiting for a slow caller before they queue inside the client (heartbeats and
    /// acks never wait on the caller).
    pub event_buffer: usize,
    /// Heartbeat interval unless the server's `Handshake-Options` says otherwise.
    #[serde(with = "millis")]
    pub heartbeat_interval: Duration,
    /// No inbound data for this long means the socket is dead.
    #[serde(with = "millis")]
    pub stale_timeout: Duration,
    #[serde(with = "millis")]
    pub connect_timeout: Duration,
    /// Timeout of each HTTP request (room lookup, sign, gift list).
    #[serde(with = "millis")]
    pub http_timeout: Duration,
    /// A streak with no message for this long is settled with its last count.
    #[serde(with = "millis")]
    pub streak_timeout: Duration,
    pub backoff: Backoff,
    /// Append every raw inbound frame (and the first sign reply) to this recording file
    /// ([`crate::record`]).
    pub record_file: Option<PathBuf>,
    /// Emit the messages of the initial fetch result (recent history).
    pub emit_history: bool,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            web_base: "https://www.tiktok.com".into(),
            webcast_base: "https://webcast.tiktok.com/webcast".into(),
            sign: SignConfig::default(),
            user_agent: DEFAULT_USER_AGENT.into(),
            language: "en".into(),
            region: "US".into(),
            timezone: "America/New_York".into(),
            session_id: None,
            session_sign_host: None,
            sign_budget: SignBudget::default(),
            stable_after: Duration::from_secs(60),
            event_buffer: 8192,
            heartbeat_interval: Duration::from_secs(10),
            stale_timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(20),
            http_timeout: Duration::from_secs(15),
            streak_timeout: crate::streak::DEFAULT_STREAK_TIMEOUT,
            backoff: Backoff::default(),
            record_file: None,
            emit_history: true,
        }
    }
}

impl ClientConfig {
    /// A configuration whose every URL points at one local server (the simulator): www at
    /// `base`, webcast at `base/webcast`, an Euler-style sign server at `base`.
    pub fn local(base: &str) -> Self {
        let base = base.trim_end_matches('/');
        Self {
            web_base: base.into(),
            webcast_base: format!("{base}/webcast"),
            sign: SignConfig::Euler {
                base_url: base.into(),
                path_style: SignPathStyle::default(),
                api_key: None,
                client_name: default_sign_client(),
            },
            ..Self::default()
        }
    }
}

mod millis {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_millis().try_into().unwrap_or(u64::MAX))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        Ok(Duration::from_millis(u64::deserialize(d)?))
    }
}

/// `host:port` of a URL or bare host, lower case, with the scheme's default port filled in,
/// so that `https://Sign.example/` and `sign.example:443` name the same host.
fn host_key(s: &str) -> Option<String> {
    let s = s.trim();
    let with_scheme = if s.contains("://") {
        s.to_string()
    } else {
        format!("https://{s}")
    };
    let url = reqwest::Url::parse(&with_scheme).ok()?;
    let host = url.host_str()?.to_ascii_lowercase();
    Some(match url.port_or_known_default() {
        Some(port) => format!("{host}:{port}"),
        None => host,
    })
}

impl ClientConfig {
    /// Trusts the host of the configured sign server with the session (the CLI's
    /// `--trust-sign-server-with-session`). Nothing to trust without a sign server.
    pub fn trust_sign_host_with_session(&mut self) {
        self.session_sign_host = match &self.sign {
            SignConfig::Euler { base_url, .. } => host_key(base_url),
            SignConfig::DirectTtwid { .. } => None,
        };
    }

    /// Whether the session may go to a sign server at `base_url`.
    pub fn trusts_sign_host(&self, base_url: &str) -> bool {
        let has_session = self.session_id.as_ref().is_some_and(|s| !s.is_empty());
        let trusted = self.session_sign_host.as_deref().and_then(host_key);
        has_session && trusted.is_some() && trusted == host_key(base_url)
    }

    /// Whether the configured sign server gets the session (authenticated mode: the socket
    /// then keeps the session cookies too).
    pub fn session_goes_to_sign_server(&self) -> bool {
        match &self.sign {
            SignConfig::Euler { base_url, .. } => self.trusts_sign_host(base_url),
            SignConfig::DirectTtwid { .. } => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_goes_only_to_the_trusted_sign_host() {
        let mut cfg = ClientConfig {
            session_id: Some(Secret::new("sess")),
            ..ClientConfig::default()
        };
        cfg.sign = SignConfig::Euler {
            base_url: "https://Sign.Example/".into(),
            path_style: SignPathStyle::RoomConnect,
            api_key: None,
            client_name: "t".into(),
        };
        assert!(!cfg.session_goes_to_sign_server(), "not without consent");
        cfg.trust_sign_host_with_session();
        assert_eq!(cfg.session_sign_host.as_deref(), Some("sign.example:443"));
        assert!(cfg.session_goes_to_sign_server());
        assert!(cfg.trusts_sign_host("https://sign.example:443/api"));
        // The trust stays with the host: another sign URL does not inherit it.
        assert!(!cfg.trusts_sign_host("https://evil.example"));
        assert!(!cfg.trusts_sign_host("http://sign.example"), "another port");
        cfg.sign = SignConfig::Euler {
            base_url: "https://other.example".into(),
            path_style: SignPathStyle::RoomConnect,
            api_key: None,
            client_name: "t".into(),
        };
        assert!(!cfg.session_goes_to_sign_server());
        // A bare host name as the user writes it.
        cfg.session_sign_host = Some("other.example".into());
        assert!(cfg.session_goes_to_sign_server());
        cfg.session_id = None;
        assert!(
            !cfg.session_goes_to_sign_server(),
            "no session, nothing to send"
        );
    }

    #[test]
    fn backoff_grows_caps_and_jitters_within_bounds() {
        let b = Backoff {
            initial: Duration::from_secs(2),
            max: Duration::from_secs(30),
            max_attempts: None,
        };
        assert_eq!(b.ceiling(0), Duration::from_secs(2));
        assert_eq!(b.ceiling(1), Duration::from_secs(4));
        assert_eq!(b.ceiling(4), Duration::from_secs(30));
        assert_eq!(b.ceiling(400), Duration::from_secs(30));
        assert_eq!(b.delay(1, 0.0), Duration::from_secs(2));
        assert_eq!(b.delay(1, 1.0), Duration::from_secs(4));
        let mid = b.delay(1, 0.5);
        assert!(mid > Duration::from_secs(2) && mid < Duration::from_secs(4));
    }

    #[test]
    fn secrets_are_neither_printed_nor_serialised() {
        let mut c = ClientConfig::local("http://127.0.0.1:9");
        c.session_id = Some(Secret::new("session-value-123"));
        c.sign = SignConfig::Euler {
            base_url: "http://127.0.0.1:9".into(),
            path_style: SignPathStyle::Fetch,
            api_key: Some("key-value-456".into()),
            client_name: "x".into(),
        };
        let debug = format!("{c:?}");
        let json = serde_json::to_string(&c).unwrap();
        for text in [&debug, &json] {
            assert!(!text.contains("session-value-123"), "{text}");
            assert!(!text.contains("key-value-456"), "{text}");
        }
        assert!(debug.contains("<redacted>"));
    }

    #[test]
    fn config_round_trips_as_json() {
        let c = ClientConfig::local("http://127.0.0.1:9");
        let text = serde_json::to_string(&c).unwrap();
        let back: ClientConfig = serde_json::from_str(&text).unwrap();
        assert_eq!(back, c);
        assert_eq!(back.webcast_base, "http://127.0.0.1:9/webcast");
    }
}
