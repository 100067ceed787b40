//! Typed events of a live stream, as the client's stream yields them.

use serde::Serialize;

use crate::message::{GiftMessage, User};
use crate::streak::{SettleReason, Settled, StreakKey};

/// What identifies a message: its dedupe key and whether it is replayed history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Meta {
    pub msg_id: u64,
    pub is_history: bool,
    /// Server time in ms (0 when not given).
    pub create_time: i64,
}

/// A gift message with its counting already done (see [`crate::streak`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GiftEvent {
    pub meta: Meta,
    pub gift: GiftMessage,
    /// Whether the gift is counted as a streak (act on `settled`/`delta`), rather than as a
    /// single message (a non-streakable gift, settled at once).
    pub in_streak: bool,
    /// The streak this message was counted in.
    pub streak: StreakKey,
    /// New units since the previous message of this streak: act on this to react live.
    pub delta: u32,
    /// Set on the one event that settles a streak: act on this to count exactly once.
    pub settled: Option<Settled>,
}

impl GiftEvent {
    /// Units to act on when the streak settles (`None` while it is still going on).
    pub fn settled_count(&self) -> Option<u32> {
        self.settled.as_ref().map(|s| s.count)
    }

    /// Diamonds of the settled units.
    pub fn settled_diamonds(&self) -> Option<u64> {
        self.settled_count()
            .map(|n| u64::from(n) * u64::from(self.gift.diamond_count()))
    }

    /// True when the final message never came and the streak was settled by the timeout.
    pub fn settled_by_timeout(&self) -> bool {
        self.settled
            .as_ref()
            .is_some_and(|s| s.reason == SettleReason::Timeout)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserEvent {
    pub meta: Meta,
    pub user: Option<User>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LikeEvent {
    pub meta: Meta,
    pub user: Option<User>,
    pub count: u32,
    pub total: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChatEvent {
    pub meta: Meta,
    pub user: Option<User>,
    /// Untrusted text.
    pub content: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SubscribeEvent {
    pub meta: Meta,
    pub user: Option<User>,
    pub sub_month: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ViewerCountEvent {
    pub meta: Meta,
    pub total: u64,
    pub total_user: u64,
}

/// One thing that happened on the stream (or to the connection).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// The socket is open and the room entered. `reconnect` is set after an automatic
    /// reconnect (a gap in events is possible).
    Connected {
        room_id: u64,
        reconnect: bool,
    },
    Gift(Box<GiftEvent>),
    Like(LikeEvent),
    Follow(UserEvent),
    Share(UserEvent),
    /// A join (member action 1 only).
    Join(UserEvent),
    Chat(ChatEvent),
    Subscribe(SubscribeEvent),
    ViewerCount(ViewerCountEvent),
    StreamPaused,
    StreamUnpaused,
    /// The stream is over: ended by the host, or suspended by TikTok.
    StreamEnded {
        suspended: bool,
    },
    /// The socket closed. `will_reconnect` says whether the client tries again by itself.
    Disconnected {
        reason: String,
        will_reconnect: bool,
    },
    /// A message type we do not read.
    Unknown {
        method: String,
        msg_id: u64,
        /// Payload size; the bytes themselves are not kept.
        bytes: usize,
    },
}

impl Event {
    /// The name used in logs and JSON lines.
    pub fn kind(&self) -> &'static str {
        match self {
            Event::Connected { .. } => "connected",
            Event::Gift(_) => "gift",
            Event::Like(_) => "like",
            Event::Follow(_) => "follow",
            Event::Share(_) => "share",
            Event::Join(_) => "join",
            Event::Chat(_) => "chat",
            Event::Subscribe(_) => "subscribe",
            Event::ViewerCount(_) => "viewer_count",
            Event::StreamPaused => "stream_paused",
            Event::StreamUnpaused => "stream_unpaused",
            Event::StreamEnded { .. } => "stream_ended",
            Event::Disconnected { .. } => "disconnected",
            Event::Unknown { .. } => "unknown",
        }
    }
}
