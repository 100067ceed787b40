//! What a simulator plays and which faults it injects.

use std::path::PathBuf;
use std::time::Duration;

use crate::script::{self, Script, SimUser};

/// The room id of the default simulated stream.
pub const DEFAULT_ROOM_ID: u64 = 7_140_000_000_000_000_001;
/// The @handle of the default simulated host.
pub const DEFAULT_USER: &str = "simstreamer";
/// The `ttwid` cookie value the sign route hands out.
pub const TTWID: &str = "fake-ttwid";

/// What the socket pushes.
#[derive(Debug, Clone)]
pub enum Scenario {
    /// A scripted stream; its position is shared by all connections of one simulator.
    Script(Script),
    /// Random traffic at `rate` messages per second, deterministic for a given seed.
    Random {
        /// Messages per second.
        rate: f64,
        /// RNG seed: the same seed gives the same stream.
        seed: u64,
        /// Stop after this many messages (`None` = forever).
        limit: Option<u64>,
    },
    /// A recording (`tiktok_live::record`): a recording file, or an old-format folder
    /// (`initial_fetch.bin` (optional) and `frames/` in name order). Its first sign reply is
    /// the sign reply; its frames go byte for byte to every client that connects.
    Replay {
        /// The recording file or folder.
        path: PathBuf,
        /// Pause between frames when the recording has no arrival times (old folders) or
        /// `speed` is 0.
        interval: Duration,
        /// Replay speed for recordings with arrival times: 1 keeps the recorded gaps, 2 halves
        /// them, 0 ignores them (frames `interval` apart).
        speed: f64,
        /// Each recorded gap is capped at this before `speed` applies, so a paused recording
        /// does not stall the replay.
        max_gap: Duration,
    },
}

impl Scenario {
    /// Replays `path` with its recorded timing (gaps capped at [`DEFAULT_MAX_GAP`]).
    pub fn replay(path: impl Into<PathBuf>) -> Self {
        Scenario::Replay {
            path: path.into(),
            interval: Duration::ZERO,
            speed: 1.0,
            max_gap: DEFAULT_MAX_GAP,
        }
    }
}

/// Default cap of one recorded gap during a replay.
pub const DEFAULT_MAX_GAP: Duration = Duration::from_secs(5);

impl Default for Scenario {
    fn default() -> Self {
        Scenario::Script(script::demo())
    }
}

/// What the host's room looks like to the web routes (SIGI_STATE, api-live, room info,
/// check_alive).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum RoomState {
    /// Status 2.
    #[default]
    Live,
    /// Status 3.
    Paused,
    /// Status 4.
    Offline,
    /// The user does not exist (no `LiveRoom`, `user_not_found`).
    NotFound,
    /// Room info answers `status_code 4003110` with `data.prompts`, and the sign server
    /// cannot fetch the room without a signed-in session (its reply has no cursor unless the
    /// request carries `session_id`).
    AgeRestricted,
}

/// How `GET /@{user}/live` answers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LivePage {
    /// A page with a proper SIGI_STATE script.
    #[default]
    Normal,
    /// A WAF "Please wait…" interstitial with no SIGI_STATE tag.
    Blocked,
    /// The SIGI_STATE tag holds broken JSON (what a captcha page looks like to a parser).
    Captcha,
    /// The first N requests get the WAF "Please wait…" page, later ones the proper page: a
    /// bot check that clears, as TikTok's do after a while.
    BlockedFor(u32),
    /// HTTP 403 with an "Access Denied" page: this client is refused outright.
    Forbidden,
}

/// How `GET /webcast/gift/list/` answers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum GiftList {
    /// The catalogue.
    #[default]
    Normal,
    /// HTTP 500.
    ServerError,
    /// `200` with `data.gifts = []`.
    Empty,
}

/// A scripted answer to one sign request. Each entry of [`SimConfig::sign_faults`] is used by
/// one sign call, in order; calls after the list get a normal reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignFault {
    /// A normal reply.
    None,
    /// A normal reply whose initial batch also carries these messages (not flagged as
    /// history): what happened while a client was away, e.g. the stream's end.
    WithMessages(Vec<crate::script::Msg>),
    /// 401 with a JSON body (a wrong or missing API key).
    Unauthorized,
    /// 429 with `{message, limit_label}` and `Retry-After`, `RateLimit-Reset`,
    /// `X-RateLimit-Reset`, `RateLimit-Remaining`.
    RateLimited {
        /// Seconds to wait.
        retry_after_secs: u64,
    },
    /// This HTTP status with a JSON error body (402/403 = premium, 500 = server error).
    Status(u16),
    /// 200 with an empty body.
    EmptyBody,
    /// 200 without the `X-Set-TT-Cookie` header.
    NoCookie,
    /// 200 whose fetch result has an empty cursor.
    EmptyCursor,
    /// A normal reply after this delay.
    Slow(Duration),
}

/// A scripted answer to one websocket handshake (used in order, like [`SignFault`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HandshakeFault {
    /// HTTP 200 instead of 101, with `Handshake-Status` and `Handshake-Msg`.
    Blocked {
        /// `Handshake-Status`, e.g. 415.
        status: u16,
        /// `Handshake-Msg`, e.g. `DEVICE_BLOCKED`.
        msg: String,
    },
    /// HTTP 400 with `Handshake-Msg`.
    BadRequest {
        /// `Handshake-Msg`.
        msg: String,
    },
    /// Upgrade normally, but only after this delay (longer than a client's connect timeout).
    Slow(Duration),
}

impl HandshakeFault {
    /// TikTok's most common rejection: 200 + `Handshake-Status: 415` + `DEVICE_BLOCKED`.
    pub fn device_blocked() -> Self {
        HandshakeFault::Blocked {
            status: 415,
            msg: "DEVICE_BLOCKED".into(),
        }
    }
}

/// A transport fault for one accepted connection (used in order, like [`SignFault`]). `frames`
/// counts `msg` frames pushed on that connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnFault {
    /// No fault on this connection.
    None,
    /// Drop the TCP connection without a close frame (the client sees 1006).
    DropAfter {
        /// Frames first.
        frames: usize,
    },
    /// Close with this code (1000, 4xxx, …).
    CloseAfter {
        /// Frames first.
        frames: usize,
        /// Close code.
        code: u16,
        /// Close reason.
        reason: String,
    },
    /// Stop sending anything (no frames, no heartbeat answers) but keep the socket open.
    SilentAfter {
        /// Frames first.
        frames: usize,
    },
    /// Send one text frame, then go on.
    TextAfter {
        /// Frames first.
        frames: usize,
    },
    /// Send one `msg` push frame whose payload is `bytes` zero bytes, then go on.
    OversizedAfter {
        /// Frames first.
        frames: usize,
        /// Size of the frame.
        bytes: usize,
    },
}

impl ConnFault {
    /// Upgrade, then close (1000) before pushing anything: a server that accepts and drops
    /// every socket.
    pub fn accept_then_close() -> Self {
        ConnFault::CloseAfter {
            frames: 0,
            code: 1000,
            reason: "bye".into(),
        }
    }

    pub(crate) fn frames(&self) -> Option<usize> {
        match self {
            ConnFault::None => None,
            ConnFault::DropAfter { frames }
            | ConnFault::CloseAfter { frames, .. }
            | ConnFault::SilentAfter { frames }
            | ConnFault::TextAfter { frames }
            | ConnFault::OversizedAfter { frames, .. } => Some(*frames),
        }
    }
}

/// Configuration of one simulator.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// The room id.
    pub room_id: u64,
    /// The host's @handle (other handles are "not found").
    pub unique_id: String,
    /// The host's display name.
    pub nickname: String,
    /// What the socket pushes.
    pub scenario: Scenario,
    /// Multiplies every scripted wait (0 = no waits).
    pub time_scale: f64,
    /// The room as seen by the web routes.
    pub room_state: RoomState,
    /// How the live page answers.
    pub live_page: LivePage,
    /// How the gift list answers.
    pub gift_list: GiftList,
    /// Delay before every web-route answer.
    pub web_delay: Option<Duration>,
    /// `api-live/user/room` answers 503 with an HTML error page (so a blocked live page
    /// leaves a client no way to find the room).
    pub api_live_down: bool,
    /// When set, sign requests must carry it as `X-Api-Key` (or the `apiKey` query); others
    /// get 401.
    pub api_key: Option<String>,
    /// One entry per sign call, in order; later calls are normal.
    pub sign_faults: Vec<SignFault>,
    /// Adds `X-Room-Id` to sign replies.
    pub sign_room_id_header: bool,
    /// One entry per handshake, in order; later handshakes are accepted.
    pub handshake_faults: Vec<HandshakeFault>,
    /// Adds `Handshake-Options: ping-interval=N` (seconds) to accepted handshakes.
    pub ping_interval_secs: Option<u64>,
    /// One entry per accepted connection, in order; later connections have none.
    pub conn_faults: Vec<ConnFault>,
    /// Close the socket (code 4000) when no heartbeat arrived for this long.
    pub heartbeat_timeout: Option<Duration>,
    /// On every connection after the first, re-send the last K frames' messages first (same
    /// `msg_id`s, new `log_id`s): duplicates the client must drop.
    pub resend_on_reconnect: usize,
    /// Whether pushed results set `need_ack`.
    pub need_ack: bool,
    /// Start pushing when `im_enter_room` (or a heartbeat) arrives, or after this grace period
    /// for clients that never send one.
    pub enter_room_grace: Duration,
    /// After the stream-end Control message, how long the client may take to close the socket
    /// itself before the server closes it with 1000.
    pub end_grace: Duration,
    /// Maximum entries kept per recorded list.
    pub record_limit: usize,
    /// Room info answers `status_code 4003110` with `data.prompts` for every room, live or
    /// not, as TikTok does under rate limits and captchas (TLC#312). A client must not take
    /// that for "age-restricted".
    pub room_info_prompts: bool,
    /// Serve the sign routes on a port of their own ([`crate::SimHandle::sign_url`]), as a
    /// real sign server is another origin; the main port then answers them 404.
    pub sign_separate_origin: bool,
    /// Refuse handshakes as TikTok does (HTTP 200 with `Handshake-Status`/`Handshake-Msg`)
    /// when `room_id`, `cursor`, `internal_ext`, the `ttwid` cookie or the User-Agent is
    /// missing or does not match a sign reply, or that reply is older than
    /// `signed_url_ttl`. A socket opened without a cursor must say `ws_direct=1`.
    pub strict_handshake: bool,
    /// How long a signed socket URL stays usable.
    pub signed_url_ttl: Duration,
    /// Added to every message's `msg_id`. Playing the same script again to a client that
    /// remembers ids (the app's demo stream, started twice) needs fresh ids, or all of it is
    /// rightly dropped as duplicates.
    pub msg_id_offset: u64,
    /// The `push_server` URL sign replies hand out, when it is not this simulator's own socket
    /// URL: a test puts a TCP proxy it controls in front of the socket (to cut connections
    /// without the simulator knowing) and points clients at it here.
    pub push_server: Option<String>,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            room_id: DEFAULT_ROOM_ID,
            unique_id: DEFAULT_USER.into(),
            nickname: "Sim Streamer".into(),
            scenario: Scenario::default(),
            time_scale: 1.0,
            room_state: RoomState::Live,
            live_page: LivePage::Normal,
            gift_list: GiftList::Normal,
            web_delay: None,
            api_live_down: false,
            api_key: None,
            sign_faults: Vec::new(),
            sign_room_id_header: true,
            handshake_faults: Vec::new(),
            ping_interval_secs: None,
            conn_faults: Vec::new(),
            heartbeat_timeout: None,
            resend_on_reconnect: 0,
            need_ack: true,
            enter_room_grace: Duration::from_secs(1),
            end_grace: Duration::from_secs(2),
            record_limit: 100_000,
            room_info_prompts: false,
            sign_separate_origin: false,
            strict_handshake: true,
            signed_url_ttl: Duration::from_secs(30),
            msg_id_offset: 0,
            push_server: None,
        }
    }
}

impl SimConfig {
    /// The default configuration playing this script.
    pub fn with_script(script: Script) -> Self {
        Self {
            scenario: Scenario::Script(script),
            ..Self::default()
        }
    }

    /// The host as it appears in messages.
    pub fn host(&self) -> SimUser {
        SimUser::new(6_700_000_000_000_000_001, &self.unique_id, &self.nickname)
    }
}
