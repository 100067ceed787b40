//! Errors of the TikTok client, each one something the streamer can read and act on.

use std::time::Duration;

use crate::message::DecodeError;

/// Everything that can go wrong talking to TikTok or the sign server.
///
/// Some variants are fatal for a connection attempt (the stream ends or waits), others are
/// reported as error *items* of the event stream while it goes on ([`Error::is_fatal`]).
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("{0}")]
    InvalidTarget(#[from] crate::target::TargetError),
    #[error("TikTok user @{0} was not found (or has never gone live)")]
    UserNotFound(String),
    #[error("{0} is not live right now")]
    Offline(String),
    /// TikTok refused this client outright (HTTP 403 on the live page). Fatal.
    #[error("TikTok blocked the request ({0}); try again later or sign in with a session cookie")]
    Blocked(String),
    /// A temporary hurdle: a bot check ("Please wait…"), a captcha, a page without its data,
    /// no `ttwid` cookie. It clears after a while, so it is retried with a long backoff.
    #[error("TikTok answered with a bot check ({0}); trying again later")]
    BotCheck(String),
    #[error("this LIVE is age-restricted or private; a signed-in session is needed to watch it")]
    AgeRestricted,
    #[error("the sign server is rate-limiting us{}: {message}", retry_after.map(|d| format!(" (retry in {}s)", d.as_secs())).unwrap_or_default())]
    RateLimited {
        retry_after: Option<Duration>,
        message: String,
    },
    #[error("the sign server says this needs a paid plan (HTTP {status}): {message}")]
    Premium { status: u16, message: String },
    /// 401/403 from the sign server: the key is wrong, expired or missing. Fatal.
    #[error("the sign server refused the API key")]
    SignRefused { status: u16 },
    #[error("sign server error (HTTP {status}): {message}")]
    SignServer { status: u16, message: String },
    #[error("TikTok rejected the live connection ({status}): {message}")]
    HandshakeRejected { status: String, message: String },
    #[error("network error: {0}")]
    Network(String),
    #[error("unexpected reply from {what}: {detail}")]
    Protocol { what: String, detail: String },
    /// A message whose payload did not decode; the stream goes on.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// A websocket frame that was not a push frame (or whose payload was corrupt); the stream
    /// goes on. The raw bytes are kept for bug reports.
    #[error("unreadable frame: {reason}")]
    Frame { reason: String, bytes: Vec<u8> },
}

impl Error {
    /// Whether the connection attempt cannot go on (as opposed to one bad message).
    pub fn is_fatal(&self) -> bool {
        !matches!(self, Error::Decode(_) | Error::Frame { .. })
    }

    /// Whether trying again later can help (automatic reconnects do so). A refused API key,
    /// a user that does not exist and a blocked page do not get better by asking again;
    /// retrying them would only burn the sign server's quota. A bot check does.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Error::RateLimited { .. }
                | Error::BotCheck(_)
                | Error::Network(_)
                | Error::SignServer { .. }
                | Error::HandshakeRejected { .. }
                | Error::Protocol { .. }
        )
    }

    /// A stable short code for the UI and logs.
    pub fn code(&self) -> &'static str {
        match self {
            Error::InvalidTarget(_) => "invalid_target",
            Error::UserNotFound(_) => "user_not_found",
            Error::Offline(_) => "offline",
            Error::Blocked(_) => "blocked",
            Error::BotCheck(_) => "bot_check",
            Error::AgeRestricted => "age_restricted",
            Error::RateLimited { .. } => "rate_limited",
            Error::Premium { .. } => "premium",
            Error::SignRefused { .. } => "sign_refused",
            Error::SignServer { .. } => "sign_server",
            Error::HandshakeRejected { .. } => "handshake_rejected",
            Error::Network(_) => "network",
            Error::Protocol { .. } => "protocol",
            Error::Decode(_) => "decode",
            Error::Frame { .. } => "frame",
        }
    }

    pub(crate) fn network(e: impl std::fmt::Display) -> Self {
        Error::Network(e.to_string())
    }

    pub(crate) fn protocol(what: impl Into<String>, detail: impl Into<String>) -> Self {
        Error::Protocol {
            what: what.into(),
            detail: detail.into(),
        }
    }
}
