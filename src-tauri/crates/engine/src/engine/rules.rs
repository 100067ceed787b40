//! The rule model: what the streamer configures, as data.
//!
//! A [`Rule`] is a trigger, filters, the ids of the actions it runs and a few options. Actions
//! ([`Action`]) are reusable and live next to the rules in the profile; each runs in a named
//! lane ([`LaneConfig`]). Everything here is serde-tagged, camelCase, with defaults, so the
//! GUI and the CLI read and write the same JSON (see `docs/engine.md`).

use serde::{Deserialize, Serialize};

/// Per-streak cap of once-per-unit runs when a rule does not set one: a 10,000-Rose streak
/// should not summon 10,000 creepers unless the streamer asked for it.
pub const DEFAULT_MAX_PER_STREAK: u32 = 100;

/// What starts a rule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase",
    deny_unknown_fields
)]
pub enum Trigger {
    /// A specific gift. The name is compared first (case-insensitive), then the id, as
    /// TikTok2Mc does: names survive catalogue changes, ids survive renames.
    Gift {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<u64>,
    },
    /// Any gift by its value in coins. Two different questions, both supported and both
    /// named for what they mean (a rule may ask either or both):
    /// - `unitCoinsAtLeast` / `unitCoinsAtMost`: *each unit* is worth this much (a Rose is 1
    ///   coin however many are sent);
    /// - `streakCoinsAtLeast`: *the whole streak* is worth at least this much (100 Roses in one
    ///   streak = 100 coins). The rule fires once per streak, when the streak's settled value
    ///   first reaches it, whatever its streak mode; later units of that streak (a late
    ///   final after a timeout) never fire it again.
    ///
    /// Schema version 1 called the unit range `min`/`max`; such profiles are migrated.
    GiftCoins {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        unit_coins_at_least: Option<u32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        unit_coins_at_most: Option<u32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        streak_coins_at_least: Option<u64>,
    },
    Follow,
    Share,
    Join,
    Subscribe,
    /// Every `every` likes of the room total, and/or every `perUser` likes from one viewer.
    Likes {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        every: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        per_user: Option<u64>,
    },
    /// A chat message whose first word is `command` (case-insensitive); the rest is `{args}`.
    ChatCommand {
        command: String,
    },
    /// The viewer count reached a new multiple of `every` (once per multiple per stream).
    ViewerMilestone {
        every: u64,
    },
    StreamStart,
    StreamEnd,
}

impl Trigger {
    /// A "whole streak worth at least N coins" rule: it fires once per streak, so its
    /// streak mode does not apply.
    pub fn is_streak_value(&self) -> bool {
        matches!(
            self,
            Trigger::GiftCoins {
                streak_coins_at_least: Some(_),
                ..
            }
        )
    }
}

/// When and how often a gift rule fires for a streak (protocol.md §4.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum StreakMode {
    /// When the streak settles, once per unit (5 Roses = 5 runs), up to `maxPerStreak`.
    PerUnit,
    /// When the streak settles, once, with `{count}` = units.
    PerStreak,
    /// As the streak grows: one run per message that adds units, with `{count}` = the units
    /// it added.
    Live,
}

/// Who may trigger a rule, and how often.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct Filters {
    pub followers_only: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_followers: Option<u64>,
    /// With `subscribersOnly` also set, either role passes.
    pub moderators_only: bool,
    pub subscribers_only: bool,
    /// Quiet time per viewer after the rule fired for them.
    pub user_cooldown_ms: u64,
    /// Quiet time for everyone after the rule fired.
    pub global_cooldown_ms: u64,
    /// Fires at most once per viewer per stream (stops follow farming by re-following).
    pub once_per_user_per_stream: bool,
}

impl Filters {
    pub fn is_default(&self) -> bool {
        *self == Filters::default()
    }
}

/// One configured rule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Rule {
    pub id: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(default = "yes")]
    pub enabled: bool,
    pub trigger: Trigger,
    #[serde(default, skip_serializing_if = "Filters::is_default")]
    pub filters: Filters,
    /// Ids of the actions to run, in order.
    pub actions: Vec<String>,
    /// Gift rules only. Unset: once per unit when any of the actions sends a command, once
    /// per streak otherwise (so a 99-Rose streak is not 99 sounds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub streak_mode: Option<StreakMode>,
    /// Cap of runs per streak in [`StreakMode::PerUnit`] and [`StreakMode::Live`].
    #[serde(default = "default_max_per_streak")]
    pub max_per_streak: u32,
    /// Likes rules only: one run per threshold crossed, each with `{count}` = the likes in
    /// the message, never merged with other runs in the lane. This is what schema version 1
    /// did (migrated likes rules get it); unset, a like message that crosses thresholds is
    /// one run with `{count}` = thresholds crossed.
    #[serde(default, skip_serializing_if = "is_false")]
    pub run_per_threshold: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn yes() -> bool {
    true
}

fn default_max_per_streak() -> u32 {
    DEFAULT_MAX_PER_STREAK
}

/// One step of an action.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase", deny_unknown_fields)]
pub enum Step {
    /// An RCON command template (see `outputs::template` for placeholders and escaping).
    Command { template: String },
    /// A sound file (relative paths are under the profile's sound folder).
    Sound {
        file: String,
        #[serde(default = "full_volume")]
        volume: f32,
    },
    /// A pause before the next step.
    Delay { ms: u64 },
}

fn full_volume() -> f32 {
    1.0
}

/// A reusable action: steps run in order in one lane.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Action {
    pub id: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// Unset: `minecraft` when a step sends a command, `sound` otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lane: Option<String>,
    pub steps: Vec<Step>,
}

impl Action {
    pub fn has_command(&self) -> bool {
        self.steps.iter().any(|s| matches!(s, Step::Command { .. }))
    }

    pub fn lane(&self) -> &str {
        match &self.lane {
            Some(l) => l,
            None if self.has_command() => MINECRAFT_LANE,
            None => SOUND_LANE,
        }
    }
}

pub const MINECRAFT_LANE: &str = "minecraft";
pub const SOUND_LANE: &str = "sound";

/// How a lane runs its items.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum LaneMode {
    /// Strictly one at a time, `minGapMs` apart.
    #[default]
    Serial,
    /// Up to `maxConcurrent` at once.
    Overlap,
}

/// What a full lane does with one more item.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Overflow {
    /// The new item is dropped.
    #[default]
    DropNewest,
    /// The oldest waiting item is dropped to make room.
    DropOldest,
    /// A new item for the same action as a waiting one is merged into it: one run with the
    /// summed `{count}`. Items that merge with nothing fall back to dropping the newest.
    Coalesce,
}

/// One lane of the trigger queue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct LaneConfig {
    pub name: String,
    pub mode: LaneMode,
    /// Quiet time between the end of one item and the start of the next (serial lanes).
    pub min_gap_ms: u64,
    /// Items running at once in an overlap lane.
    pub max_concurrent: usize,
    /// Unpaid items waiting; beyond it the overflow policy applies. Paid items have a queue
    /// of their own: up to this many are held in memory, the rest wait in the store (or, with
    /// no store, are refused with a reason) — never an unbounded list in RAM.
    pub max_depth: usize,
    pub overflow: Overflow,
    /// Items paid for with a gift are never dropped by the overflow policy (only by clear,
    /// skip, the panic button or their age).
    pub protect_paid: bool,
    /// A waiting item older than this expires instead of running (e.g. a backlog after an
    /// RCON outage, or items left while the app was down, must not all fire minutes later).
    /// Expired items are listed with a reason.
    pub max_age_ms: u64,
    /// Unpaid items expire sooner: a chat command from 20 s ago is no longer what the room
    /// is doing.
    pub unpaid_max_age_ms: u64,
}

/// Default [`LaneConfig::max_age_ms`]: 5 minutes.
pub const DEFAULT_MAX_AGE_MS: u64 = 300_000;
/// Default [`LaneConfig::unpaid_max_age_ms`]: 20 seconds.
pub const DEFAULT_UNPAID_MAX_AGE_MS: u64 = 20_000;
/// Default [`LaneConfig::max_depth`]: a few hundred unpaid items.
pub const DEFAULT_MAX_DEPTH: usize = 300;

impl Default for LaneConfig {
    fn default() -> Self {
        LaneConfig {
            name: String::new(),
            mode: LaneMode::Serial,
            min_gap_ms: 0,
            max_concurrent: 8,
            max_depth: DEFAULT_MAX_DEPTH,
            overflow: Overflow::DropNewest,
            protect_paid: true,
            max_age_ms: DEFAULT_MAX_AGE_MS,
            unpaid_max_age_ms: DEFAULT_UNPAID_MAX_AGE_MS,
        }
    }
}

impl LaneConfig {
    /// The `minecraft` lane: one command at a time, 50 ms apart, which vanilla servers take
    /// without dropping the connection (TikTok2Mc throttles between 10 and 500 ms).
    pub fn minecraft() -> Self {
        LaneConfig {
            name: MINECRAFT_LANE.into(),
            min_gap_ms: 50,
            ..LaneConfig::default()
        }
    }

    /// The `sound` lane: sounds overlap; repeats beyond the depth are merged.
    pub fn sound() -> Self {
        LaneConfig {
            name: SOUND_LANE.into(),
            mode: LaneMode::Overlap,
            max_depth: 64,
            overflow: Overflow::Coalesce,
            ..LaneConfig::default()
        }
    }
}
