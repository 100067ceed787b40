//! What the simulator saw and did, for tests to assert on.
//!
//! Every change bumps a `watch` counter, so [`crate::SimHandle::wait_for`] wakes exactly when
//! something new was recorded instead of polling with sleeps.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

use serde::Serialize;
use tokio::sync::watch;

/// One HTTP request (sign or web route).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct HttpRequest {
    /// Request path, e.g. `/webcast/fetch`.
    pub path: String,
    /// Decoded query pairs, in order.
    pub query: Vec<(String, String)>,
    /// Header pairs; names are lowercase.
    pub headers: Vec<(String, String)>,
    /// The status the simulator answered with.
    pub status: u16,
    /// When it arrived: milliseconds since the simulator started, on tokio's clock (so tests
    /// with paused time see virtual time).
    pub at_ms: u64,
}

impl HttpRequest {
    /// First value of a query parameter.
    pub fn query(&self, key: &str) -> Option<&str> {
        lookup(&self.query, key)
    }

    /// First value of a header (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&str> {
        lookup_ci(&self.headers, name)
    }
}

/// One websocket handshake attempt.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Handshake {
    /// Decoded query pairs, in order (duplicates such as `version_code` kept).
    pub query: Vec<(String, String)>,
    /// The raw query string as sent.
    pub raw_query: String,
    /// Header pairs; names are lowercase.
    pub headers: Vec<(String, String)>,
    /// Whether the socket was upgraded (false for a scripted rejection).
    pub accepted: bool,
    /// Connection number (1-based) when accepted.
    pub conn: Option<usize>,
    /// Why a strict simulator refused it (`SimConfig::strict_handshake`).
    pub refused: Option<String>,
    /// When it arrived (milliseconds since start, tokio's clock).
    pub at_ms: u64,
}

impl Handshake {
    /// First value of a query parameter.
    pub fn query(&self, key: &str) -> Option<&str> {
        lookup(&self.query, key)
    }

    /// First value of a header (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&str> {
        lookup_ci(&self.headers, name)
    }

    /// The value of one cookie from the `Cookie` header.
    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.header("cookie")?.split(';').find_map(|pair| {
            let (k, v) = pair.split_once('=')?;
            (k.trim() == name).then(|| v.trim())
        })
    }
}

/// A decoded `im_enter_room`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct EnterRoom {
    /// Connection number.
    pub conn: usize,
    /// `room_id`.
    pub room_id: u64,
    /// `live_id` (12 from every reference client).
    pub live_id: i64,
    /// `identity` (`audience`).
    pub identity: String,
    /// `cursor`.
    pub cursor: String,
    /// `enter_unique_id`.
    pub enter_unique_id: u64,
}

/// A heartbeat received.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Heartbeat {
    /// Connection number.
    pub conn: usize,
    /// `room_id`, `None` for the payload-less heartbeat.
    pub room_id: Option<u64>,
    /// `send_packet_seq_id`, `None` for the payload-less heartbeat.
    pub seq: Option<u64>,
    /// Milliseconds since the simulator started (tokio's clock).
    pub at_ms: u64,
}

/// An ack received.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Ack {
    /// Connection number.
    pub conn: usize,
    /// `log_id` of the ack frame.
    pub log_id: u64,
    /// The payload, as text (lossy UTF-8).
    pub payload: String,
}

/// A `msg` frame the simulator pushed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Pushed {
    /// Connection number.
    pub conn: usize,
    /// `seq_id`.
    pub seq_id: i64,
    /// `log_id` (what the ack must echo).
    pub log_id: u64,
    /// `internal_ext` (what the ack payload must be); empty for replayed frames.
    pub internal_ext: String,
    /// Whether the result asked for an ack.
    pub need_ack: bool,
    /// `msg_id`s of the messages carried.
    pub msg_ids: Vec<i64>,
    /// Methods of the messages carried.
    pub methods: Vec<String>,
    /// Whether the payload was gzip'd.
    pub gzip: bool,
    /// Whether this frame re-sent earlier messages after a reconnect (a duplicate on purpose).
    pub resent: bool,
    /// When the socket accepted the frame (tokio's clock): latency benches time the rest of
    /// the pipeline from here. `None` for replayed frames.
    #[serde(skip)]
    pub written_at: Option<Instant>,
}

/// How a websocket connection ended.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Closed {
    /// Connection number.
    pub conn: usize,
    /// Why, from the simulator's side (e.g. `client closed 1000`, `fault: drop`).
    pub reason: String,
}

/// Everything the simulator has seen so far (a snapshot).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Recorded {
    /// Sign requests (both path styles), in order.
    pub sign_requests: Vec<HttpRequest>,
    /// Other HTTP requests (web routes, images, unknown paths), in order.
    pub http_requests: Vec<HttpRequest>,
    /// Websocket handshakes, accepted or not.
    pub handshakes: Vec<Handshake>,
    /// Upgraded websocket connections so far.
    pub connections: usize,
    /// Connections still open.
    pub open_connections: usize,
    /// `im_enter_room` frames.
    pub enter_rooms: Vec<EnterRoom>,
    /// Heartbeats.
    pub heartbeats: Vec<Heartbeat>,
    /// Acks.
    pub acks: Vec<Ack>,
    /// `msg` frames pushed (recording stops at `SimConfig::record_limit`; `frames_pushed`
    /// keeps counting).
    pub pushed: Vec<Pushed>,
    /// Total `msg` frames pushed.
    pub frames_pushed: u64,
    /// Total messages pushed inside those frames.
    pub messages_pushed: u64,
    /// Ended connections.
    pub closed: Vec<Closed>,
    /// Binary frames from clients that were not push frames, or of an unknown type.
    pub bad_client_frames: usize,
    /// Whether the script has been played to its end.
    pub script_finished: bool,
}

impl Recorded {
    /// All `msg_id`s pushed, in order (duplicates included).
    pub fn pushed_msg_ids(&self) -> Vec<i64> {
        self.pushed
            .iter()
            .flat_map(|p| p.msg_ids.iter().copied())
            .collect()
    }
}

fn lookup<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

fn lookup_ci<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v.as_str())
}

/// Why waiting on the recording ended without the condition holding.
#[derive(Debug, thiserror::Error)]
#[error("condition not met within {timeout:?}; last snapshot: {last:?}")]
pub struct WaitTimeout {
    /// How long was waited.
    pub timeout: Duration,
    /// What had been recorded by then.
    pub last: Box<Recorded>,
}

pub(crate) struct Recorder {
    data: Mutex<Recorded>,
    version: watch::Sender<u64>,
    started: Instant,
    limit: usize,
}

impl Recorder {
    pub fn new(limit: usize) -> Self {
        Self {
            data: Mutex::new(Recorded::default()),
            version: watch::channel(0).0,
            started: Instant::now(),
            limit,
        }
    }

    pub fn elapsed_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Changes the recording and wakes waiters. A panicking test thread must not wedge the
    /// server, so a poisoned lock is used as is.
    pub fn update<T>(&self, f: impl FnOnce(&mut Recorded) -> T) -> T {
        let out = {
            let mut data = self.data.lock().unwrap_or_else(PoisonError::into_inner);
            f(&mut data)
        };
        self.version.send_modify(|v| *v = v.wrapping_add(1));
        out
    }

    pub fn snapshot(&self) -> Recorded {
        self.data
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub async fn wait_for(
        &self,
        mut cond: impl FnMut(&Recorded) -> bool,
        timeout: Duration,
    ) -> Result<Recorded, WaitTimeout> {
        let mut rx = self.version.subscribe();
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            // Subscribed before the check: a change between the two still wakes us.
            let snap = self.snapshot();
            if cond(&snap) {
                return Ok(snap);
            }
            match tokio::time::timeout_at(deadline, rx.changed()).await {
                Ok(Ok(())) => {}
                _ => {
                    let last = self.snapshot();
                    if cond(&last) {
                        return Ok(last);
                    }
                    return Err(WaitTimeout {
                        timeout,
                        last: Box::new(last),
                    });
                }
            }
        }
    }
}

/// Pushes onto a recorded list unless it is already at the limit (floods must not eat memory).
pub(crate) fn push_capped<T>(list: &mut Vec<T>, item: T, limit: usize) {
    if list.len() < limit {
        list.push(item);
    }
}
