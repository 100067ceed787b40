//! Scripted streams ("plays"): what the simulator pushes, as data.
//!
//! A [`Script`] is serde-deserializable so that `livetrigger-cli simulate --scenario FILE` can
//! play a hand-written JSON file. [`Script::expected`] computes, from the script alone, what a
//! correct client must end up with (settled gift units, diamonds, counts by type), so tests
//! never hard-code numbers that drift when a scenario is edited.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use prost::Message as _;
use serde::{Deserialize, Serialize};
use tiktok_live::message::method;
use tiktok_live::proto::{self, BaseMessage};

/// `msg_id`s of scripted messages are `MSG_ID_BASE + ordinal + 1`: 19 digits like TikTok's,
/// so a client that squeezes ids through an `f64` or an `i32` gets caught.
pub const MSG_ID_BASE: u64 = 7_400_000_000_000_000_000;

/// `common.display_text.key` of a follow (the reference clients look for `follow` in it).
pub const FOLLOW_KEY: &str = "pm_main_follow_message_viewer_2";
/// `common.display_text.key` of a share (contains `share`, not `follow`).
pub const SHARE_KEY: &str = "pm_mt_guidance_share";

/// A viewer as it appears in a script.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimUser {
    /// Numeric user id.
    pub id: u64,
    /// The @handle (`display_id` on the wire).
    pub unique_id: String,
    /// Display name; scripts use hostile ones on purpose.
    pub nickname: String,
    /// Sets `user_identity.is_moderator_of_anchor` on chat messages.
    #[serde(default)]
    pub moderator: bool,
    /// Sets `user_identity.is_subscriber_of_anchor` on chat messages.
    #[serde(default)]
    pub subscriber: bool,
}

impl SimUser {
    /// A plain viewer.
    pub fn new(id: u64, unique_id: &str, nickname: &str) -> Self {
        Self {
            id,
            unique_id: unique_id.into(),
            nickname: nickname.into(),
            moderator: false,
            subscriber: false,
        }
    }
}

/// One webcast message of a script. Serialized with a `type` tag, e.g.
/// `{"type":"chat","user":{…},"content":"!tnt"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Msg {
    /// `WebcastChatMessage`.
    Chat {
        /// Sender.
        user: SimUser,
        /// Comment text.
        content: String,
    },
    /// `WebcastEmoteChatMessage`: a sticker comment (a chat without text).
    EmoteChat {
        /// Sender.
        user: SimUser,
    },
    /// `WebcastGiftMessage`: one event of a streak (or the single event of a non-streak gift).
    Gift {
        /// Sender.
        user: SimUser,
        /// `gift_id` and `gift.id`.
        gift_id: u64,
        /// `gift.name`.
        name: String,
        /// `gift.diamond_count`: cost of one unit.
        diamond_count: u32,
        /// `gift.type`: 1 = streakable.
        gift_type: i32,
        /// Running total of the streak.
        repeat_count: u32,
        /// Whether this event ends the streak.
        repeat_end: bool,
        /// Streak id.
        group_id: u64,
    },
    /// `WebcastLikeMessage`.
    Like {
        /// Who liked.
        user: SimUser,
        /// Likes in this burst.
        count: u32,
        /// The room's running total.
        total: u64,
    },
    /// `WebcastSocialMessage` with the follow display key and action 1.
    Follow {
        /// The new follower.
        user: SimUser,
    },
    /// `WebcastSocialMessage` with a share display key and action 3.
    Share {
        /// Who shared.
        user: SimUser,
    },
    /// `WebcastMemberMessage` action 1.
    Join {
        /// Who joined.
        user: SimUser,
    },
    /// `WebcastMemberMessage` action 2 (must not count as a join).
    Leave {
        /// Who left.
        user: SimUser,
    },
    /// `WebcastRoomUserSeqMessage`.
    Viewers {
        /// Current viewers.
        total: u64,
        /// Cumulative viewers.
        total_user: u64,
    },
    /// `WebcastSubNotifyMessage`.
    SubNotify {
        /// The subscriber.
        user: SimUser,
        /// Months subscribed.
        sub_month: u32,
    },
    /// `WebcastControlMessage`: 1 paused, 2 unpaused, 3 ended, 4 suspended.
    Control {
        /// The action.
        action: i32,
    },
    /// A method no client knows; its payload is a valid but meaningless protobuf.
    Unknown {
        /// The method name.
        method: String,
    },
    /// A known method whose payload does not decode.
    Corrupt {
        /// The method name the bad payload claims to be.
        method: String,
    },
    /// The very same message (same `msg_id`) as an earlier one, as a history replay would
    /// send it again.
    Duplicate {
        /// Ordinal of the original: 0-based over all messages of the script, history first.
        of: usize,
    },
}

/// One step of a script.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum Step {
    /// One push frame carrying these messages (several = a batch, as TikTok sends them).
    Frame {
        /// The messages, in order.
        messages: Vec<Msg>,
    },
    /// Pause before the next step (scaled by `SimConfig::time_scale`).
    Wait {
        /// Milliseconds.
        ms: u64,
    },
    /// The host ends the stream: a Control action 3 frame, then a close with code 1000 (after
    /// `SimConfig::end_grace`, unless the client closes first).
    EndStream,
}

/// A scripted stream.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Script {
    /// Messages in the sign server's initial fetch result (`is_history = true`).
    #[serde(default)]
    pub history: Vec<Msg>,
    /// What the socket pushes, in order.
    #[serde(default)]
    pub steps: Vec<Step>,
}

/// Why a script cannot be played.
#[derive(Debug, thiserror::Error)]
pub enum ScriptError {
    /// A `duplicate` refers to a message that does not come before it.
    #[error("message {at}: `duplicate` refers to ordinal {of}, which is not an earlier message")]
    BadDuplicate {
        /// Ordinal of the duplicate.
        at: usize,
        /// The ordinal it points at.
        of: usize,
    },
    /// The JSON file is not a script.
    #[error("not a scenario script: {0}")]
    Json(#[from] serde_json::Error),
}

/// What a correct client ends up with after the whole script (every unique `msg_id` once).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Expected {
    /// Unique messages (history included, duplicates not).
    pub messages: usize,
    /// Of those, how many came in the initial fetch result.
    pub history: usize,
    /// Chat messages.
    pub chats: usize,
    /// Chat texts in push order.
    pub chat_contents: Vec<String>,
    /// Gift messages, intermediate streak events included.
    pub gift_messages: usize,
    /// Settled gifts: one per streak (lost finals included) and one per non-streak gift.
    pub settled_gifts: usize,
    /// Settled units per gift name (lost finals included, with their last count).
    pub gift_units: BTreeMap<String, u64>,
    /// Settled diamonds (units × cost, lost finals included).
    pub diamonds: u64,
    /// Streaks whose final event is never sent: `(gift name, last repeat_count)`.
    pub lost_finals: Vec<(String, u64)>,
    /// Like messages.
    pub like_messages: usize,
    /// Sum of like counts.
    pub likes: u64,
    /// The last room like total sent.
    pub last_like_total: Option<u64>,
    /// Follows.
    pub follows: usize,
    /// Shares.
    pub shares: usize,
    /// Joins (member action 1).
    pub joins: usize,
    /// Leaves (member action 2).
    pub leaves: usize,
    /// Viewer-count updates.
    pub viewer_updates: usize,
    /// The last viewer count sent.
    pub last_viewers: Option<u64>,
    /// Subscriptions.
    pub subscriptions: usize,
    /// Control actions, in order (the end of the stream included).
    pub controls: Vec<i32>,
    /// Unknown methods.
    pub unknown: usize,
    /// Payloads that fail to decode.
    pub corrupt: usize,
    /// Deliberate duplicates (to be dropped by msg_id).
    pub duplicates: usize,
    /// Whether the stream ends (Control 3 then close 1000).
    pub ends_stream: bool,
}

/// A script turned into wire messages, ready to push.
#[derive(Debug, Clone, Default)]
pub(crate) struct Compiled {
    pub history: Vec<BaseMessage>,
    pub steps: Vec<CompiledStep>,
}

#[derive(Debug, Clone)]
pub(crate) enum CompiledStep {
    Frame(Vec<BaseMessage>),
    Wait(Duration),
    /// The Control 3 message to send before closing with 1000.
    EndStream(BaseMessage),
}

/// What a compiled message needs from the simulator it runs in.
#[derive(Debug, Clone)]
pub(crate) struct WireContext {
    pub room_id: u64,
    /// `http://127.0.0.1:P`, for gift and avatar image URLs.
    pub base_url: String,
    /// The host, as the `to_user` of gifts.
    pub host: SimUser,
    /// `create_time` of the first message (ms); later ones add the script's waits before
    /// them and their ordinal.
    pub start_ms: i64,
    /// `MSG_ID_BASE` plus the configured offset: message `n` gets `msg_id_base + n + 1`.
    pub msg_id_base: u64,
}

impl Script {
    /// Reads a JSON scenario.
    pub fn from_json(text: &str) -> Result<Self, ScriptError> {
        let script: Script = serde_json::from_str(text)?;
        script.check()?;
        Ok(script)
    }

    /// All messages with their ordinals, history first (the numbering `duplicate` uses).
    fn messages(&self) -> impl Iterator<Item = &Msg> {
        self.history
            .iter()
            .chain(self.steps.iter().flat_map(|s| match s {
                Step::Frame { messages } => messages.as_slice(),
                _ => &[],
            }))
    }

    /// Checks that every duplicate points at an earlier message.
    pub fn check(&self) -> Result<(), ScriptError> {
        for (at, m) in self.messages().enumerate() {
            if let Msg::Duplicate { of } = m {
                if *of >= at {
                    return Err(ScriptError::BadDuplicate { at, of: *of });
                }
            }
        }
        Ok(())
    }

    /// The `msg_id` the message with this ordinal is sent with.
    pub fn msg_id_of(&self, ordinal: usize) -> Option<u64> {
        let all: Vec<&Msg> = self.messages().collect();
        let mut at = ordinal;
        // Follow duplicate chains back to the original.
        for _ in 0..all.len() {
            match all.get(at)? {
                Msg::Duplicate { of } if *of < at => at = *of,
                Msg::Duplicate { .. } => return None,
                _ => return Some(MSG_ID_BASE + at as u64 + 1),
            }
        }
        None
    }

    /// Push frames the script sends (excluding the stream-end frame).
    pub fn frame_count(&self) -> usize {
        self.steps
            .iter()
            .filter(|s| matches!(s, Step::Frame { .. }))
            .count()
    }

    /// What a correct client must end up with after the whole script.
    pub fn expected(&self) -> Expected {
        let mut e = Expected::default();
        let all: Vec<&Msg> = self.messages().collect();
        let history_len = self.history.len();
        // Streaks in first-seen order, keyed like the client's tracker: (user, gift, group).
        struct Streak {
            name: String,
            cost: u64,
            count: u64,
            ended: bool,
        }
        let mut streaks: Vec<Streak> = Vec::new();
        let mut streak_index: HashMap<(u64, u64, u64), usize> = HashMap::new();
        for (ordinal, m) in all.iter().enumerate() {
            if let Msg::Duplicate { .. } = m {
                e.duplicates += 1;
                continue;
            }
            e.messages += 1;
            if ordinal < history_len {
                e.history += 1;
            }
            match m {
                Msg::Chat { content, .. } => {
                    e.chats += 1;
                    e.chat_contents.push(content.clone());
                }
                Msg::EmoteChat { .. } => {
                    e.chats += 1;
                    e.chat_contents.push(String::new());
                }
                Msg::Gift {
                    user,
                    gift_id,
                    name,
                    diamond_count,
                    gift_type,
                    repeat_count,
                    repeat_end,
                    group_id,
                } => {
                    e.gift_messages += 1;
                    if *gift_type == 1 {
                        let key = (user.id, *gift_id, *group_id);
                        let i = *streak_index.entry(key).or_insert_with(|| {
                            streaks.push(Streak {
                                name: name.clone(),
                                cost: *diamond_count as u64,
                                count: 0,
                                ended: false,
                            });
                            streaks.len() - 1
                        });
                        let s = &mut streaks[i];
                        s.count = s.count.max(*repeat_count as u64);
                        s.ended |= *repeat_end;
                    } else {
                        let units = (*repeat_count).max(1) as u64;
                        e.settled_gifts += 1;
                        *e.gift_units.entry(name.clone()).or_default() += units;
                        e.diamonds += units * *diamond_count as u64;
                    }
                }
                Msg::Like { count, total, .. } => {
                    e.like_messages += 1;
                    e.likes += *count as u64;
                    e.last_like_total = Some(*total);
                }
                Msg::Follow { .. } => e.follows += 1,
                Msg::Share { .. } => e.shares += 1,
                Msg::Join { .. } => e.joins += 1,
                Msg::Leave { .. } => e.leaves += 1,
                Msg::Viewers { total, .. } => {
                    e.viewer_updates += 1;
                    e.last_viewers = Some(*total);
                }
                Msg::SubNotify { .. } => e.subscriptions += 1,
                Msg::Control { action } => e.controls.push(*action),
                Msg::Unknown { .. } => e.unknown += 1,
                Msg::Corrupt { .. } => e.corrupt += 1,
                Msg::Duplicate { .. } => {}
            }
        }
        for Streak {
            name,
            cost,
            count,
            ended,
        } in streaks
        {
            e.settled_gifts += 1;
            *e.gift_units.entry(name.clone()).or_default() += count;
            e.diamonds += count * cost;
            if !ended {
                e.lost_finals.push((name, count));
            }
        }
        if self.steps.iter().any(|s| matches!(s, Step::EndStream)) {
            e.ends_stream = true;
            e.messages += 1;
            e.controls.push(3);
        }
        e
    }

    pub(crate) fn compile(&self, ctx: &WireContext, time_scale: f64) -> Compiled {
        let mut built: Vec<BaseMessage> = Vec::new();
        // Scripted time so far (ms, unscaled): a message's create_time moves on with the
        // script's waits, the way TikTok stamps a message when it is sent.
        let mut script_ms: i64 = 0;
        let next = |m: &Msg, built: &mut Vec<BaseMessage>, script_ms: i64| -> BaseMessage {
            let ordinal = built.len();
            let at = WireContext {
                start_ms: ctx.start_ms + script_ms,
                ..ctx.clone()
            };
            let base = match m {
                Msg::Duplicate { of } => built.get(*of).cloned().unwrap_or_default(),
                other => to_wire(other, ctx.msg_id_base + ordinal as u64 + 1, &at),
            };
            built.push(base.clone());
            base
        };
        let mut out = Compiled::default();
        for m in &self.history {
            let mut base = next(m, &mut built, 0);
            base.is_history = true;
            out.history.push(base);
        }
        let end_id = ctx.msg_id_base + self.messages().count() as u64 + 1;
        for step in &self.steps {
            out.steps.push(match step {
                Step::Frame { messages } => CompiledStep::Frame(
                    messages
                        .iter()
                        .map(|m| next(m, &mut built, script_ms))
                        .collect(),
                ),
                Step::Wait { ms } => {
                    script_ms = script_ms.saturating_add(i64::try_from(*ms).unwrap_or(i64::MAX));
                    CompiledStep::Wait(Duration::from_secs_f64(*ms as f64 / 1000.0 * time_scale))
                }
                Step::EndStream => {
                    CompiledStep::EndStream(to_wire(&Msg::Control { action: 3 }, end_id, ctx))
                }
            });
        }
        out
    }
}

fn image(url: String) -> proto::Image {
    proto::Image {
        url_list: vec![url],
        uri: String::new(),
        height: 16,
        width: 16,
        avg_color: "#FE2C55".into(),
    }
}

fn wire_user(u: &SimUser, ctx: &WireContext) -> proto::User {
    proto::User {
        id: u.id,
        nickname: u.nickname.clone(),
        avatar_thumb: Some(image(format!("{}/avatar/{}.png", ctx.base_url, u.id))),
        display_id: u.unique_id.clone(),
        id_str: u.id.to_string(),
        sec_uid: format!("MS4wLjABAAAA{}", u.id),
        follow_info: Some(proto::FollowInfo {
            following_count: 12,
            follower_count: 34,
            follow_status: 0,
            push_status: 0,
        }),
        ..Default::default()
    }
}

fn identity(u: &SimUser) -> proto::UserIdentity {
    proto::UserIdentity {
        is_moderator_of_anchor: u.moderator,
        is_subscriber_of_anchor: u.subscriber,
        ..Default::default()
    }
}

fn common(method: &str, msg_id: u64, ctx: &WireContext, key: &str, pattern: &str) -> proto::Common {
    proto::Common {
        method: method.into(),
        msg_id,
        room_id: ctx.room_id,
        create_time: ctx.start_ms + (msg_id % 1_000_000) as i64,
        is_show_msg: true,
        describe: pattern.into(),
        display_text: (!key.is_empty()).then(|| proto::Text {
            key: key.into(),
            default_pattern: pattern.into(),
            pieces: Vec::new(),
        }),
        log_id: String::new(),
    }
}

/// A payload that claims a length-delimited field 1 longer than the buffer: prost rejects it
/// for every message type.
pub(crate) const CORRUPT_PAYLOAD: &[u8] = &[0x0a, 0x7f, 0x08, 0x01];

/// Encodes one script message as the `BaseMessage` TikTok would push.
pub(crate) fn to_wire(m: &Msg, msg_id: u64, ctx: &WireContext) -> BaseMessage {
    let (method, payload): (&str, Vec<u8>) = match m {
        Msg::Chat { user, content } => (
            method::CHAT,
            proto::ChatMessage {
                common: Some(common(method::CHAT, msg_id, ctx, "", "")),
                user: Some(wire_user(user, ctx)),
                content: content.clone(),
                content_language: "en".into(),
                user_identity: Some(identity(user)),
            }
            .encode_to_vec(),
        ),
        Msg::Gift {
            user,
            gift_id,
            name,
            diamond_count,
            gift_type,
            repeat_count,
            repeat_end,
            group_id,
        } => {
            let describe = format!("sent {name}");
            let gift = proto::Gift {
                image: Some(image(format!("{}/gift-images/{gift_id}.png", ctx.base_url))),
                describe: describe.clone(),
                duration: 1000,
                id: *gift_id,
                combo: *gift_type == 1,
                r#type: *gift_type,
                diamond_count: (*diamond_count).try_into().unwrap_or(i32::MAX),
                is_displayed_on_panel: true,
                name: name.clone(),
                ..Default::default()
            };
            let count = (*repeat_count).try_into().unwrap_or(i32::MAX);
            (
                method::GIFT,
                proto::GiftMessage {
                    common: Some(common(
                        method::GIFT,
                        msg_id,
                        ctx,
                        "pm_mt_live_gift_send",
                        &describe,
                    )),
                    gift_id: *gift_id,
                    fan_ticket_count: (*diamond_count as i64) * (*repeat_count as i64),
                    group_count: 1,
                    repeat_count: count,
                    combo_count: count,
                    user: Some(wire_user(user, ctx)),
                    to_user: Some(wire_user(&ctx.host, ctx)),
                    repeat_end: i32::from(*repeat_end),
                    group_id: *group_id,
                    gift: Some(gift),
                    log_id: format!("{msg_id:x}"),
                    send_type: if *repeat_end { 0 } else { 1 },
                    order_id: String::new(),
                    user_identity: Some(identity(user)),
                }
                .encode_to_vec(),
            )
        }
        Msg::Like { user, count, total } => (
            method::LIKE,
            proto::LikeMessage {
                common: Some(common(
                    method::LIKE,
                    msg_id,
                    ctx,
                    "pm_mt_msg_viewer",
                    "{0:user} liked the LIVE",
                )),
                count: (*count).try_into().unwrap_or(i32::MAX),
                total: (*total).try_into().unwrap_or(i64::MAX),
                user: Some(wire_user(user, ctx)),
            }
            .encode_to_vec(),
        ),
        Msg::Follow { user } | Msg::Share { user } => {
            let follow = matches!(m, Msg::Follow { .. });
            let (key, pattern, action) = if follow {
                (FOLLOW_KEY, "{0:user} followed the LIVE creator", 1)
            } else {
                (SHARE_KEY, "{0:user} shared the LIVE", 3)
            };
            (
                method::SOCIAL,
                proto::SocialMessage {
                    common: Some(common(method::SOCIAL, msg_id, ctx, key, pattern)),
                    user: Some(wire_user(user, ctx)),
                    share_type: if follow { 0 } else { 1 },
                    action,
                    share_target: String::new(),
                    follow_count: if follow { 1235 } else { 0 },
                    share_count: if follow { 0 } else { 1 },
                }
                .encode_to_vec(),
            )
        }
        Msg::Join { user } | Msg::Leave { user } => {
            let join = matches!(m, Msg::Join { .. });
            (
                method::MEMBER,
                proto::MemberMessage {
                    common: Some(common(
                        method::MEMBER,
                        msg_id,
                        ctx,
                        if join { "live_room_enter_toast" } else { "" },
                        if join { "{0:user} joined" } else { "" },
                    )),
                    user: Some(wire_user(user, ctx)),
                    member_count: 120,
                    action: if join { 1 } else { 2 },
                    action_description: String::new(),
                }
                .encode_to_vec(),
            )
        }
        Msg::Viewers { total, total_user } => (
            method::ROOM_USER_SEQ,
            proto::RoomUserSeqMessage {
                common: Some(common(method::ROOM_USER_SEQ, msg_id, ctx, "", "")),
                ranks: Vec::new(),
                total: (*total).try_into().unwrap_or(i64::MAX),
                pop_str: total.to_string(),
                popularity: (*total).try_into().unwrap_or(i64::MAX),
                total_user: (*total_user).try_into().unwrap_or(i64::MAX),
            }
            .encode_to_vec(),
        ),
        Msg::SubNotify { user, sub_month } => (
            method::SUB_NOTIFY,
            proto::SubNotifyMessage {
                common: Some(common(method::SUB_NOTIFY, msg_id, ctx, "", "")),
                user: Some(wire_user(user, ctx)),
                sub_month: *sub_month as i64,
                ..Default::default()
            }
            .encode_to_vec(),
        ),
        Msg::Control { action } => (
            method::CONTROL,
            proto::ControlMessage {
                common: Some(common(method::CONTROL, msg_id, ctx, "", "")),
                action: *action,
                tips: match action {
                    1 => "The LIVE is paused".into(),
                    2 => "The LIVE is back".into(),
                    3 => "The LIVE has ended".into(),
                    _ => String::new(),
                },
            }
            .encode_to_vec(),
        ),
        Msg::EmoteChat { user } => {
            let mut payload = proto::EmoteChatMessage {
                common: Some(common(method::EMOTE_CHAT, msg_id, ctx, "", "")),
                user: Some(wire_user(user, ctx)),
            }
            .encode_to_vec();
            // Field 3, the emote list: a submessage a client must skip, not choke on.
            payload.extend_from_slice(&[0x1a, 0x04, 0x0a, 0x02, b'e', b'1']);
            (method::EMOTE_CHAT, payload)
        }
        Msg::Unknown { method } => {
            // A real-looking body: common with the method name, then an unknown field.
            let mut payload = proto::ChatMessage {
                common: Some(common(method, msg_id, ctx, "", "")),
                ..Default::default()
            }
            .encode_to_vec();
            payload.extend_from_slice(&[0xa0, 0x06, 0x2a]);
            return BaseMessage {
                method: method.clone(),
                payload,
                msg_id: msg_id as i64,
                ..Default::default()
            };
        }
        Msg::Corrupt { method } => {
            return BaseMessage {
                method: method.clone(),
                payload: CORRUPT_PAYLOAD.to_vec(),
                msg_id: msg_id as i64,
                ..Default::default()
            };
        }
        // Compile resolves duplicates before getting here.
        Msg::Duplicate { .. } => return BaseMessage::default(),
    };
    BaseMessage {
        method: method.into(),
        payload,
        msg_id: msg_id as i64,
        ..Default::default()
    }
}

fn gift(
    user: &SimUser,
    (gift_id, name, diamonds, gift_type): (u64, &str, u32, i32),
    repeat_count: u32,
    repeat_end: bool,
    group_id: u64,
) -> Msg {
    Msg::Gift {
        user: user.clone(),
        gift_id,
        name: name.into(),
        diamond_count: diamonds,
        gift_type,
        repeat_count,
        repeat_end,
        group_id,
    }
}

fn one(m: Msg) -> Step {
    Step::Frame { messages: vec![m] }
}

fn wait(ms: u64) -> Step {
    Step::Wait { ms }
}

/// Viewers with realistic and hostile nicknames: quotes, newlines, Minecraft `§` codes,
/// selectors, JSON, NUL, a right-to-left override and a 1,600-character name.
pub fn hostile_users() -> Vec<SimUser> {
    vec![
        SimUser::new(6_800_000_000_000_000_001, "anna.plays", "Anna 🌹"),
        SimUser::new(
            6_800_000_000_000_000_002,
            "quote_man",
            "Bob \"the\" 'builder'",
        ),
        SimUser::new(
            6_800_000_000_000_000_003,
            "multi_line",
            "line1\nline2\r\nline3",
        ),
        SimUser::new(
            6_800_000_000_000_000_004,
            "colour_codes",
            "§4§lRED§r §kmagic",
        ),
        SimUser::new(
            6_800_000_000_000_000_005,
            "selector",
            "@a @e[type=player] /op me",
        ),
        SimUser::new(
            6_800_000_000_000_000_006,
            "json_inject",
            "{\"text\":\"x\",\"clickEvent\":{\"action\":\"run_command\",\"value\":\"/stop\"}}",
        ),
        SimUser::new(6_800_000_000_000_000_007, "nul_byte", "nul\0byte"),
        SimUser::new(
            6_800_000_000_000_000_008,
            "rtl_override",
            "\u{202E}evil\u{202C} ok",
        ),
        SimUser::new(6_800_000_000_000_000_009, "very_long", &"Ω".repeat(1600)),
        SimUser {
            moderator: true,
            subscriber: true,
            ..SimUser::new(6_800_000_000_000_000_010, "mod_mia", "Mia (mod)")
        },
    ]
}

const ROSE: (u64, &str, u32, i32) = (5655, "Rose", 1, 1);
const FINGER_HEART: (u64, &str, u32, i32) = (5487, "Finger Heart", 5, 1);
const DOUGHNUT: (u64, &str, u32, i32) = (5879, "Doughnut", 30, 1);
const GG: (u64, &str, u32, i32) = (6064, "GG", 1, 1);
const GALAXY: (u64, &str, u32, i32) = (11046, "Galaxy", 1000, 2);
const LION: (u64, &str, u32, i32) = (6369, "Lion", 29999, 2);

/// The full demo stream of issue 3: history with a later duplicate, joins and a leave,
/// viewers, chat commands, streaks (plain, interleaved, a lone Rose, a lost final), non-streak
/// gifts, likes, follows, shares, a subscription, pause/unpause, an unknown method, a corrupt
/// payload, a batched frame, and the end of the stream.
pub fn demo() -> Script {
    let u = hostile_users();
    let (anna, bob, lines, colour, sel, json, nul, rtl, long, mia) = (
        &u[0], &u[1], &u[2], &u[3], &u[4], &u[5], &u[6], &u[7], &u[8], &u[9],
    );
    let g1 = 7_390_000_000_000_000_101;
    let g2 = 7_390_000_000_000_000_102;
    let g3 = 7_390_000_000_000_000_103;
    let g4 = 7_390_000_000_000_000_104;
    let g5 = 7_390_000_000_000_000_105;
    let g6 = 7_390_000_000_000_000_106;
    let chat = |user: &SimUser, content: &str| Msg::Chat {
        user: user.clone(),
        content: content.into(),
    };
    Script {
        history: vec![
            chat(anna, "hi everyone!"),
            chat(mia, "welcome to the stream"),
        ],
        steps: vec![
            one(Msg::Join { user: anna.clone() }),
            one(Msg::Join { user: bob.clone() }),
            one(Msg::Viewers {
                total: 42,
                total_user: 57,
            }),
            // A history message seen again on the socket: must be dropped by msg_id.
            one(Msg::Duplicate { of: 0 }),
            one(chat(bob, "!tnt")),
            one(chat(colour, "§4!creeper §kboom")),
            wait(20),
            // A plain streak: 1, 3, 5, then the final 5.
            one(gift(anna, ROSE, 1, false, g1)),
            one(gift(anna, ROSE, 3, false, g1)),
            one(gift(anna, ROSE, 5, false, g1)),
            one(gift(anna, ROSE, 5, true, g1)),
            // A lone Rose: 1 then its final 1.
            one(gift(lines, ROSE, 1, false, g2)),
            one(gift(lines, ROSE, 1, true, g2)),
            // Two streaks interleaved.
            one(gift(sel, FINGER_HEART, 1, false, g3)),
            one(gift(json, DOUGHNUT, 2, false, g4)),
            one(gift(sel, FINGER_HEART, 4, false, g3)),
            one(gift(json, DOUGHNUT, 3, true, g4)),
            one(gift(sel, FINGER_HEART, 7, true, g3)),
            // Non-streak gifts: sent once, repeat_end 0.
            one(gift(mia, GALAXY, 1, false, g5)),
            one(gift(rtl, LION, 1, false, 0)),
            wait(20),
            one(Msg::Like {
                user: nul.clone(),
                count: 15,
                total: 1015,
            }),
            one(Msg::Like {
                user: anna.clone(),
                count: 7,
                total: 1022,
            }),
            one(Msg::Follow { user: long.clone() }),
            one(Msg::Share { user: bob.clone() }),
            one(Msg::SubNotify {
                user: mia.clone(),
                sub_month: 3,
            }),
            one(Msg::Leave { user: bob.clone() }),
            one(Msg::Control { action: 1 }),
            one(Msg::Control { action: 2 }),
            one(Msg::Unknown {
                method: "WebcastFutureShinyMessage".into(),
            }),
            one(Msg::Corrupt {
                method: method::GIFT.into(),
            }),
            // One frame carrying a batch, as TikTok does under load.
            Step::Frame {
                messages: vec![
                    chat(rtl, "!spawn zombie"),
                    Msg::Viewers {
                        total: 45,
                        total_user: 61,
                    },
                    Msg::Join {
                        user: colour.clone(),
                    },
                    Msg::Like {
                        user: sel.clone(),
                        count: 3,
                        total: 1025,
                    },
                    chat(long, "!tnt"),
                ],
            },
            // A streak whose final never comes (the client must settle it by timeout).
            one(gift(colour, GG, 2, false, g6)),
            one(gift(colour, GG, 6, false, g6)),
            wait(20),
            one(chat(anna, "gg, bye!")),
            Step::EndStream,
        ],
    }
}

/// No messages at all: the socket stays open and quiet except for heartbeat answers.
pub fn idle() -> Script {
    Script::default()
}

/// The slow-consumer scenario: a burst of `frames` frames (a chat and a growing Rose streak in
/// each, far more than a small event buffer holds), a quiet minute, the streak's final, the
/// end. A client whose socket work waits on its caller stops heartbeating during the burst;
/// run it with `SimConfig::heartbeat_timeout` to see that fail.
pub fn burst(frames: u32) -> Script {
    let fan = SimUser::new(6_700_000_000_000_000_777, "burst_fan", "Burst Fan");
    let rose = |count: u32, end: bool| Msg::Gift {
        user: fan.clone(),
        gift_id: 5655,
        name: "Rose".into(),
        diamond_count: 1,
        gift_type: 1,
        repeat_count: count,
        repeat_end: end,
        group_id: 7_390_000_000_000_000_900,
    };
    let mut steps: Vec<Step> = (1..=frames)
        .map(|i| Step::Frame {
            messages: vec![
                Msg::Chat {
                    user: fan.clone(),
                    content: format!("burst {i}"),
                },
                rose(i, false),
            ],
        })
        .collect();
    steps.push(Step::Wait { ms: 60_000 });
    steps.push(Step::Frame {
        messages: vec![rose(frames, true)],
    });
    steps.push(Step::EndStream);
    Script {
        history: Vec::new(),
        steps,
    }
}

/// A built-in scenario by name (`demo`, `idle`, `burst`).
pub fn builtin(name: &str) -> Option<Script> {
    match name {
        "demo" => Some(demo()),
        "idle" => Some(idle()),
        "burst" => Some(burst(200)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_totals_follow_the_streak_rule() {
        let e = demo().expected();
        // Rose: the 5-streak plus the lone 1.
        assert_eq!(e.gift_units.get("Rose"), Some(&6));
        assert_eq!(e.gift_units.get("Finger Heart"), Some(&7));
        assert_eq!(e.gift_units.get("Doughnut"), Some(&3));
        assert_eq!(e.gift_units.get("GG"), Some(&6));
        assert_eq!(e.lost_finals, vec![("GG".to_string(), 6)]);
        assert_eq!(e.diamonds, 6 + 35 + 90 + 6 + 1000 + 29999);
        assert_eq!(e.joins, 3);
        assert_eq!(e.leaves, 1);
        assert_eq!(e.duplicates, 1);
        assert_eq!(e.controls, vec![1, 2, 3]);
        assert!(e.ends_stream);
        assert_eq!(e.history, 2);
    }

    #[test]
    fn scripts_round_trip_through_json() {
        let text = serde_json::to_string(&demo()).unwrap();
        assert_eq!(Script::from_json(&text).unwrap(), demo());
    }

    #[test]
    fn duplicates_must_point_backwards() {
        let bad = r#"{"steps":[{"step":"frame","messages":[{"type":"duplicate","of":0}]}]}"#;
        assert!(matches!(
            Script::from_json(bad),
            Err(ScriptError::BadDuplicate { at: 0, of: 0 })
        ));
        let s = demo();
        assert_eq!(s.msg_id_of(5), s.msg_id_of(0));
        assert_eq!(s.msg_id_of(0), Some(MSG_ID_BASE + 1));
    }
}
