//! One decoded webcast message per [`BaseMessage`]: the typed, owned view of the protobuf
//! payloads a streamer app reads (protocol.md §4). No streak logic here: that is
//! [`crate::streak`]'s job; this layer only says what one message contains.

use prost::Message as _;
use serde::Serialize;

use crate::proto::{self, BaseMessage};

/// Webcast method names (`BaseMessage.method`).
pub mod method {
    pub const CHAT: &str = "WebcastChatMessage";
    pub const EMOTE_CHAT: &str = "WebcastEmoteChatMessage";
    pub const GIFT: &str = "WebcastGiftMessage";
    pub const LIKE: &str = "WebcastLikeMessage";
    pub const SOCIAL: &str = "WebcastSocialMessage";
    pub const MEMBER: &str = "WebcastMemberMessage";
    pub const ROOM_USER_SEQ: &str = "WebcastRoomUserSeqMessage";
    pub const SUB_NOTIFY: &str = "WebcastSubNotifyMessage";
    pub const CONTROL: &str = "WebcastControlMessage";
}

/// `Gift.type` of a streakable (combo) gift.
pub const STREAKABLE_GIFT_TYPE: i32 = 1;
/// `MemberMessage.action` meaning "joined the room".
pub const MEMBER_ACTION_JOINED: i32 = 1;

/// A viewer, as carried by most messages.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct User {
    /// Numeric user id (19 digits; never a float).
    pub id: u64,
    /// The @handle, without `@`.
    pub unique_id: String,
    /// Display name. Untrusted: anything a viewer typed.
    pub nickname: String,
    pub avatar_url: Option<String>,
    pub follower_count: Option<u64>,
    /// `follow_status` of the viewer towards the host (0 none, 1 follows, 2 friends).
    pub follow_status: i64,
    pub is_moderator: bool,
    pub is_subscriber: bool,
    pub is_follower: bool,
}

impl User {
    fn from_proto(u: proto::User) -> Self {
        let avatar_url = u.avatar_thumb.and_then(|i| i.url_list.into_iter().next());
        let follower_count = u
            .follow_info
            .as_ref()
            .map(|f| u64::try_from(f.follower_count).unwrap_or(0));
        let follow_status = u
            .follow_info
            .as_ref()
            .map(|f| f.follow_status)
            .unwrap_or(u.follow_status);
        Self {
            id: u.id,
            unique_id: u.display_id,
            nickname: u.nickname,
            avatar_url,
            follower_count,
            follow_status,
            is_moderator: false,
            is_subscriber: false,
            is_follower: u.is_follower || follow_status >= 1,
        }
    }

    fn with_identity(mut self, identity: Option<&proto::UserIdentity>) -> Self {
        if let Some(i) = identity {
            self.is_moderator |= i.is_moderator_of_anchor;
            self.is_subscriber |= i.is_subscriber_of_anchor;
            self.is_follower |= i.is_follower_of_anchor;
        }
        self
    }
}

fn user(u: Option<proto::User>) -> Option<User> {
    u.map(User::from_proto)
}

/// The gift itself (what was sent), from `GiftMessage.gift`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct GiftDetails {
    pub id: u64,
    pub name: String,
    /// Cost of one unit, in diamonds (coins).
    pub diamond_count: u32,
    /// 1 = streakable.
    pub gift_type: i32,
    pub combo: bool,
    pub image_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GiftMessage {
    pub gift_id: u64,
    pub gift: Option<GiftDetails>,
    pub user: Option<User>,
    pub to_user: Option<User>,
    /// Running total of the streak so far.
    pub repeat_count: u32,
    /// 1 = the streak finished.
    pub repeat_end: i32,
    /// Streak id.
    pub group_id: u64,
}

impl GiftMessage {
    /// Only `type == 1` gifts come as a streak of several messages (protocol.md §4.2 rule 1).
    pub fn streakable(&self) -> bool {
        self.gift
            .as_ref()
            .is_some_and(|g| g.gift_type == STREAKABLE_GIFT_TYPE)
    }

    /// An intermediate message of a streak still going on. Without gift details the type is
    /// unknown, so `repeat_end` decides: counting each such message as final would settle a
    /// streak once per message.
    pub fn streaking(&self) -> bool {
        (self.streakable() || self.gift.is_none()) && self.repeat_end == 0
    }

    /// The message that carries the final count: a streak's end, or any non-streak gift.
    pub fn is_final(&self) -> bool {
        !self.streaking()
    }

    /// The name to match rules on (falls back to nothing when the gift details are missing).
    pub fn gift_name(&self) -> &str {
        self.gift.as_ref().map(|g| g.name.as_str()).unwrap_or("")
    }

    pub fn diamond_count(&self) -> u32 {
        self.gift.as_ref().map(|g| g.diamond_count).unwrap_or(0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LikeMessage {
    pub user: Option<User>,
    /// Likes in this burst.
    pub count: u32,
    /// The room's running total.
    pub total: u64,
}

/// What a social message is (protocol.md §4.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SocialKind {
    Follow,
    Share,
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SocialMessage {
    pub user: Option<User>,
    pub action: i64,
    /// `common.display_text.key`, the template key that tells follow from share.
    pub display_type: String,
    pub kind: SocialKind,
}

impl SocialMessage {
    /// The display-text key first (what the reference clients read), then the action.
    pub fn classify(display_type: &str, action: i64) -> SocialKind {
        if display_type.contains("follow") {
            SocialKind::Follow
        } else if display_type.contains("share") {
            SocialKind::Share
        } else {
            match action {
                1 => SocialKind::Follow,
                2..=5 => SocialKind::Share,
                _ => SocialKind::Other,
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MemberMessage {
    pub user: Option<User>,
    /// 1 = joined; other values are not joins (and differ between schema versions).
    pub action: i32,
    pub member_count: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChatMessage {
    pub user: Option<User>,
    /// The comment. Untrusted.
    pub content: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ViewerCountMessage {
    /// Current viewers.
    pub total: u64,
    /// Cumulative viewers.
    pub total_user: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SubscribeMessage {
    pub user: Option<User>,
    pub sub_month: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ControlMessage {
    /// 1 paused, 2 unpaused, 3 ended by the host, 4 suspended by TikTok.
    pub action: i32,
}

pub const CONTROL_PAUSED: i32 = 1;
pub const CONTROL_UNPAUSED: i32 = 2;
pub const CONTROL_ENDED: i32 = 3;
pub const CONTROL_SUSPENDED: i32 = 4;

/// The payload of one message, by method.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payload {
    Gift(GiftMessage),
    Like(LikeMessage),
    Social(SocialMessage),
    Member(MemberMessage),
    Chat(ChatMessage),
    ViewerCount(ViewerCountMessage),
    Subscribe(SubscribeMessage),
    Control(ControlMessage),
    /// A method we do not read (there are dozens): only its payload's size is kept.
    Unknown(usize),
}

/// One decoded message with what identifies it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebcastMessage {
    pub method: String,
    /// The dedupe key: `common.msg_id`, or the envelope's when `common` lacks one.
    pub msg_id: u64,
    /// Replayed history (the initial batch).
    pub is_history: bool,
    /// Server time of the message in ms, when given.
    pub create_time: i64,
    pub payload: Payload,
}

/// A message whose payload did not decode. The raw bytes are kept for the log and for bug
/// reports; the stream goes on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot decode {method} (msg_id {msg_id}): {reason}")]
pub struct DecodeError {
    pub method: String,
    pub msg_id: u64,
    pub reason: String,
    pub payload: Vec<u8>,
}

fn common_ids(common: Option<&proto::Common>) -> (u64, i64) {
    common.map(|c| (c.msg_id, c.create_time)).unwrap_or((0, 0))
}

/// Decodes one message of a fetch result.
pub fn decode(base: BaseMessage) -> Result<WebcastMessage, DecodeError> {
    let BaseMessage {
        method,
        payload,
        msg_id: envelope_id,
        is_history,
        ..
    } = base;
    let envelope_id = envelope_id as u64;
    macro_rules! parse {
        ($ty:ty) => {
            match <$ty>::decode(payload.as_slice()) {
                Ok(m) => m,
                Err(e) => {
                    return Err(DecodeError {
                        method,
                        msg_id: envelope_id,
                        reason: e.to_string(),
                        payload,
                    })
                }
            }
        };
    }
    let (common_id, create_time, decoded) = match method.as_str() {
        method::GIFT => {
            let m = parse!(proto::GiftMessage);
            let (id, t) = common_ids(m.common.as_ref());
            let gift = m.gift.map(|g| GiftDetails {
                id: g.id,
                name: g.name,
                diamond_count: u32::try_from(g.diamond_count).unwrap_or(0),
                gift_type: g.r#type,
                combo: g.combo,
                image_url: g.image.and_then(|i| i.url_list.into_iter().next()),
            });
            let identity = m.user_identity;
            let msg = GiftMessage {
                gift_id: m.gift_id,
                gift,
                user: user(m.user).map(|u| u.with_identity(identity.as_ref())),
                to_user: user(m.to_user),
                repeat_count: u32::try_from(m.repeat_count).unwrap_or(0),
                repeat_end: m.repeat_end,
                group_id: m.group_id,
            };
            (id, t, Payload::Gift(msg))
        }
        method::LIKE => {
            let m = parse!(proto::LikeMessage);
            let (id, t) = common_ids(m.common.as_ref());
            let msg = LikeMessage {
                user: user(m.user),
                count: u32::try_from(m.count).unwrap_or(0),
                total: u64::try_from(m.total).unwrap_or(0),
            };
            (id, t, Payload::Like(msg))
        }
        method::SOCIAL => {
            let m = parse!(proto::SocialMessage);
            let (id, t) = common_ids(m.common.as_ref());
            let display_type = m
                .common
                .and_then(|c| c.display_text)
                .map(|t| t.key)
                .unwrap_or_default();
            let kind = SocialMessage::classify(&display_type, m.action);
            let msg = SocialMessage {
                user: user(m.user),
                action: m.action,
                display_type,
                kind,
            };
            (id, t, Payload::Social(msg))
        }
        method::MEMBER => {
            let m = parse!(proto::MemberMessage);
            let (id, t) = common_ids(m.common.as_ref());
            let msg = MemberMessage {
                user: user(m.user),
                action: m.action,
                member_count: u32::try_from(m.member_count).unwrap_or(0),
            };
            (id, t, Payload::Member(msg))
        }
        method::CHAT => {
            let m = parse!(proto::ChatMessage);
            let (id, t) = common_ids(m.common.as_ref());
            let identity = m.user_identity;
            let msg = ChatMessage {
                user: user(m.user).map(|u| u.with_identity(identity.as_ref())),
                content: m.content,
            };
            (id, t, Payload::Chat(msg))
        }
        method::ROOM_USER_SEQ => {
            let m = parse!(proto::RoomUserSeqMessage);
            let (id, t) = common_ids(m.common.as_ref());
            let msg = ViewerCountMessage {
                total: u64::try_from(m.total).unwrap_or(0),
                total_user: u64::try_from(m.total_user).unwrap_or(0),
            };
            (id, t, Payload::ViewerCount(msg))
        }
        method::SUB_NOTIFY => {
            let m = parse!(proto::SubNotifyMessage);
            let (id, t) = common_ids(m.common.as_ref());
            let msg = SubscribeMessage {
                user: user(m.user),
                sub_month: u64::try_from(m.sub_month).unwrap_or(0),
            };
            (id, t, Payload::Subscribe(msg))
        }
        method::CONTROL => {
            let m = parse!(proto::ControlMessage);
            let (id, t) = common_ids(m.common.as_ref());
            (id, t, Payload::Control(ControlMessage { action: m.action }))
        }
        method::EMOTE_CHAT => {
            // A sticker comment is a comment without text: it still counts as chat.
            let m = parse!(proto::EmoteChatMessage);
            let (id, t) = common_ids(m.common.as_ref());
            let msg = ChatMessage {
                user: user(m.user),
                content: String::new(),
            };
            (id, t, Payload::Chat(msg))
        }
        _ => (0, 0, Payload::Unknown(payload.len())),
    };
    Ok(WebcastMessage {
        method,
        msg_id: if common_id != 0 {
            common_id
        } else {
            envelope_id
        },
        is_history,
        create_time,
        payload: decoded,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        s.split_whitespace()
            .map(|b| u8::from_str_radix(b, 16).unwrap())
            .collect()
    }

    /// protocol.md §4.2 wire check: giftId 5655, repeatCount 3, repeatEnd 1, groupId 777,
    /// user {42, "Nick", "nick_1"}, gift {5655, type 1, diamond 1, "Rose"}.
    fn reference_gift_bytes() -> Vec<u8> {
        let user = {
            let mut u = hex("08 2a 1a 04");
            u.extend_from_slice(b"Nick");
            u.extend_from_slice(&hex("b2 02 06"));
            u.extend_from_slice(b"nick_1");
            u
        };
        let gift = {
            let mut g = hex("28 97 2c 58 01 60 01 82 01 04");
            g.extend_from_slice(b"Rose");
            g
        };
        let mut out = hex("10 97 2c 28 03 3a");
        out.push(user.len() as u8);
        out.extend_from_slice(&user);
        out.extend_from_slice(&hex("48 01 58 89 06 7a"));
        out.push(gift.len() as u8);
        out.extend_from_slice(&gift);
        out
    }

    #[test]
    fn decodes_the_reference_gift_bytes() {
        let msg = decode(BaseMessage {
            method: method::GIFT.into(),
            payload: reference_gift_bytes(),
            msg_id: 99,
            ..Default::default()
        })
        .unwrap();
        assert_eq!(msg.msg_id, 99, "envelope id when common is absent");
        let Payload::Gift(g) = msg.payload else {
            panic!("not a gift: {msg:?}")
        };
        assert_eq!(g.gift_id, 5655);
        assert_eq!(g.repeat_count, 3);
        assert_eq!(g.repeat_end, 1);
        assert_eq!(g.group_id, 777);
        let u = g.user.clone().unwrap();
        assert_eq!(
            (u.id, u.nickname.as_str(), u.unique_id.as_str()),
            (42, "Nick", "nick_1")
        );
        let d = g.gift.clone().unwrap();
        assert_eq!(
            (d.id, d.gift_type, d.diamond_count, d.name.as_str()),
            (5655, 1, 1, "Rose")
        );
        assert!(g.streakable() && !g.streaking() && g.is_final());
    }

    #[test]
    fn prost_encodes_the_reference_gift_identically() {
        let m = proto::GiftMessage {
            gift_id: 5655,
            repeat_count: 3,
            repeat_end: 1,
            group_id: 777,
            user: Some(proto::User {
                id: 42,
                nickname: "Nick".into(),
                display_id: "nick_1".into(),
                ..Default::default()
            }),
            gift: Some(proto::Gift {
                id: 5655,
                r#type: 1,
                diamond_count: 1,
                name: "Rose".into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert_eq!(m.encode_to_vec(), reference_gift_bytes());
    }

    #[test]
    fn non_streak_gifts_are_final_at_once() {
        let g = GiftMessage {
            gift_id: 1,
            gift: Some(GiftDetails {
                gift_type: 2,
                ..Default::default()
            }),
            user: None,
            to_user: None,
            repeat_count: 1,
            repeat_end: 0,
            group_id: 0,
        };
        assert!(!g.streakable() && !g.streaking() && g.is_final());
    }

    #[test]
    fn social_kind_reads_the_key_then_the_action() {
        use SocialKind::*;
        let cases = [
            ("pm_main_follow_message_viewer_2", 0, Follow),
            ("pm_mt_guidance_viewer_5_share", 1, Share),
            ("pm_mt_guidance_share", 0, Share),
            ("", 1, Follow),
            ("", 3, Share),
            ("", 0, Other),
            ("something_else", 9, Other),
        ];
        for (key, action, want) in cases {
            assert_eq!(SocialMessage::classify(key, action), want, "{key} {action}");
        }
    }

    #[test]
    fn common_msg_id_wins_over_the_envelope() {
        let payload = proto::ChatMessage {
            common: Some(proto::Common {
                msg_id: 7_000_000_000_000_000_123,
                ..Default::default()
            }),
            content: "hi".into(),
            ..Default::default()
        }
        .encode_to_vec();
        let msg = decode(BaseMessage {
            method: method::CHAT.into(),
            payload,
            msg_id: 5,
            ..Default::default()
        })
        .unwrap();
        assert_eq!(msg.msg_id, 7_000_000_000_000_000_123);
    }

    #[test]
    fn a_corrupt_payload_is_an_error_carrying_the_bytes() {
        let junk = vec![0x0a, 0xff, 0x01];
        let err = decode(BaseMessage {
            method: method::GIFT.into(),
            payload: junk.clone(),
            msg_id: 3,
            ..Default::default()
        })
        .unwrap_err();
        assert_eq!(err.method, method::GIFT);
        assert_eq!(err.payload, junk);
        assert_eq!(err.msg_id, 3);
    }

    #[test]
    fn unknown_methods_are_kept_raw() {
        let msg = decode(BaseMessage {
            method: "WebcastSomethingNew".into(),
            payload: vec![1, 2, 3],
            msg_id: 8,
            ..Default::default()
        })
        .unwrap();
        assert_eq!(msg.payload, Payload::Unknown(3));
        assert_eq!(msg.msg_id, 8);
    }
}
