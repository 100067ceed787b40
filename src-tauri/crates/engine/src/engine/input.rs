//! What the engine reads from a [`tiktok_live::event::Event`]: the few facts rules look at,
//! owned and flat, so matching, the store and the lifecycle stream share one shape.

use serde::{Deserialize, Serialize};
use tiktok_live::event::Event;
use tiktok_live::message::User;
use tiktok_live::streak::{SettleReason, StreakKey};

/// The kind of an event, as rules and stats name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "camelCase")]
pub enum EventKind {
    Gift,
    Follow,
    Share,
    Join,
    Subscribe,
    Like,
    Chat,
    ViewerCount,
    StreamStart,
    StreamEnd,
}

impl EventKind {
    pub const ALL: [EventKind; 10] = [
        EventKind::Gift,
        EventKind::Follow,
        EventKind::Share,
        EventKind::Join,
        EventKind::Subscribe,
        EventKind::Like,
        EventKind::Chat,
        EventKind::ViewerCount,
        EventKind::StreamStart,
        EventKind::StreamEnd,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Gift => "gift",
            EventKind::Follow => "follow",
            EventKind::Share => "share",
            EventKind::Join => "join",
            EventKind::Subscribe => "subscribe",
            EventKind::Like => "like",
            EventKind::Chat => "chat",
            EventKind::ViewerCount => "viewerCount",
            EventKind::StreamStart => "streamStart",
            EventKind::StreamEnd => "streamEnd",
        }
    }
}

/// The viewer behind an event. Names are untrusted text.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Viewer {
    pub id: u64,
    pub unique_id: String,
    pub nickname: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub follower_count: Option<u64>,
    #[serde(default)]
    pub is_follower: bool,
    #[serde(default)]
    pub is_moderator: bool,
    #[serde(default)]
    pub is_subscriber: bool,
}

impl From<&User> for Viewer {
    fn from(u: &User) -> Self {
        Viewer {
            id: u.id,
            unique_id: u.unique_id.clone(),
            nickname: u.nickname.clone(),
            follower_count: u.follower_count,
            is_follower: u.is_follower,
            is_moderator: u.is_moderator,
            is_subscriber: u.is_subscriber,
        }
    }
}

/// How a gift message settles its streak.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Settle {
    Final,
    Timeout,
    Late,
}

impl From<SettleReason> for Settle {
    fn from(r: SettleReason) -> Self {
        match r {
            SettleReason::Final => Settle::Final,
            SettleReason::Timeout => Settle::Timeout,
            SettleReason::Late => Settle::Late,
        }
    }
}

/// A gift message, after the client's streak counting.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GiftIn {
    pub gift_id: u64,
    pub name: String,
    /// Coins per unit.
    pub coins: u32,
    /// Counted as a streak by the client (act on `settled`/`delta`), not as a single message.
    pub streakable: bool,
    pub group_id: u64,
    /// Which streak under this sender, gift and group id (the client's count).
    #[serde(default)]
    pub streak_generation: u32,
    /// Running total of the streak carried by this message.
    pub repeat_count: u32,
    /// New units since the previous message of the streak (the client's count).
    pub delta: u32,
    /// Set when this message settles the streak: the units to act on and why.
    pub settled: Option<(u32, Settle)>,
}

/// What happened, with the facts rules need.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Payload {
    Gift(GiftIn),
    Follow,
    Share,
    Join,
    Subscribe,
    Like { count: u32, total: u64 },
    Chat { text: String },
    ViewerCount { total: u64 },
    StreamStart { room_id: u64, reconnect: bool },
    StreamEnd,
}

/// One event as the engine sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Input {
    /// TikTok's message id (0 when the event has none, e.g. a streak settled by timeout).
    pub msg_id: u64,
    /// Replayed history from the initial fetch: recorded, never acted on (it happened
    /// before we connected, possibly in an earlier run that already acted on it).
    #[serde(default)]
    pub is_history: bool,
    pub user: Option<Viewer>,
    pub payload: Payload,
}

impl Input {
    pub fn kind(&self) -> EventKind {
        match self.payload {
            Payload::Gift(_) => EventKind::Gift,
            Payload::Follow => EventKind::Follow,
            Payload::Share => EventKind::Share,
            Payload::Join => EventKind::Join,
            Payload::Subscribe => EventKind::Subscribe,
            Payload::Like { .. } => EventKind::Like,
            Payload::Chat { .. } => EventKind::Chat,
            Payload::ViewerCount { .. } => EventKind::ViewerCount,
            Payload::StreamStart { .. } => EventKind::StreamStart,
            Payload::StreamEnd => EventKind::StreamEnd,
        }
    }

    /// The streak this gift belongs to.
    pub fn streak_key(&self) -> Option<StreakKey> {
        match &self.payload {
            Payload::Gift(g) => Some(StreakKey {
                user_id: self.user.as_ref().map(|u| u.id).unwrap_or(0),
                gift_id: g.gift_id,
                group_id: g.group_id,
                generation: g.streak_generation,
            }),
            _ => None,
        }
    }

    /// Reads a client event. `None` for events no rule can match (pauses, disconnects,
    /// unknown messages, reconnects are kept as `StreamStart { reconnect: true }`).
    pub fn from_event(event: &Event) -> Option<Input> {
        let viewer = |u: &Option<User>| u.as_ref().map(Viewer::from);
        let (msg_id, is_history, user, payload) = match event {
            Event::Gift(g) => {
                let gift = GiftIn {
                    gift_id: g.gift.gift_id,
                    name: g.gift.gift_name().to_owned(),
                    coins: g.gift.diamond_count(),
                    streakable: g.in_streak,
                    group_id: g.gift.group_id,
                    streak_generation: g.streak.generation,
                    repeat_count: g.gift.repeat_count,
                    delta: g.delta,
                    settled: g.settled.as_ref().map(|s| (s.count, s.reason.into())),
                };
                (
                    g.meta.msg_id,
                    g.meta.is_history,
                    viewer(&g.gift.user),
                    Payload::Gift(gift),
                )
            }
            Event::Follow(e) => (
                e.meta.msg_id,
                e.meta.is_history,
                viewer(&e.user),
                Payload::Follow,
            ),
            Event::Share(e) => (
                e.meta.msg_id,
                e.meta.is_history,
                viewer(&e.user),
                Payload::Share,
            ),
            Event::Join(e) => (
                e.meta.msg_id,
                e.meta.is_history,
                viewer(&e.user),
                Payload::Join,
            ),
            Event::Subscribe(e) => (
                e.meta.msg_id,
                e.meta.is_history,
                viewer(&e.user),
                Payload::Subscribe,
            ),
            Event::Like(e) => (
                e.meta.msg_id,
                e.meta.is_history,
                viewer(&e.user),
                Payload::Like {
                    count: e.count,
                    total: e.total,
                },
            ),
            Event::Chat(e) => (
                e.meta.msg_id,
                e.meta.is_history,
                viewer(&e.user),
                Payload::Chat {
                    text: e.content.clone(),
                },
            ),
            Event::ViewerCount(e) => (
                e.meta.msg_id,
                e.meta.is_history,
                None,
                Payload::ViewerCount { total: e.total },
            ),
            Event::Connected { room_id, reconnect } => (
                0,
                false,
                None,
                Payload::StreamStart {
                    room_id: *room_id,
                    reconnect: *reconnect,
                },
            ),
            Event::StreamEnded { .. } => (0, false, None, Payload::StreamEnd),
            Event::StreamPaused
            | Event::StreamUnpaused
            | Event::Disconnected { .. }
            | Event::Unknown { .. } => return None,
        };
        Some(Input {
            msg_id,
            is_history,
            user,
            payload,
        })
    }

    /// A one-line description for logs and the queue view. Viewer text is cut short here;
    /// it is escaped where it is displayed or sent.
    pub fn summary(&self) -> String {
        let who = self
            .user
            .as_ref()
            .map(|u| short(&u.unique_id, 32))
            .unwrap_or_default();
        match &self.payload {
            Payload::Gift(g) => match g.settled {
                Some((n, Settle::Final)) => format!("{who} sent {} x{n}", short(&g.name, 32)),
                Some((n, Settle::Timeout)) => {
                    format!("{who} sent {} x{n} (final lost)", short(&g.name, 32))
                }
                Some((n, Settle::Late)) => {
                    format!("{who} sent {} +{n} (late)", short(&g.name, 32))
                }
                None => format!(
                    "{who} sending {} x{} (streak)",
                    short(&g.name, 32),
                    g.repeat_count
                ),
            },
            Payload::Follow => format!("{who} followed"),
            Payload::Share => format!("{who} shared"),
            Payload::Join => format!("{who} joined"),
            Payload::Subscribe => format!("{who} subscribed"),
            Payload::Like { count, total } => format!("{who} liked x{count} (total {total})"),
            Payload::Chat { text } => format!("{who}: {}", short(text, 80)),
            Payload::ViewerCount { total } => format!("{total} viewers"),
            Payload::StreamStart { room_id, reconnect } => {
                if *reconnect {
                    format!("reconnected to room {room_id}")
                } else {
                    format!("connected to room {room_id}")
                }
            }
            Payload::StreamEnd => "stream ended".into(),
        }
    }
}

/// The first `max` chars of `s`, with control characters removed so a log line stays one line.
pub fn short(s: &str, max: usize) -> String {
    s.chars().filter(|c| !c.is_control()).take(max).collect()
}
