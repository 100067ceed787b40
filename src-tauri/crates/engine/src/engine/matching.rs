//! Rule matching: event + rules + state → matches, with no I/O and no clock of its own.
//!
//! [`evaluate`] is the whole decision of what a viewer's event triggers. It reads the event,
//! the compiled rules and the [`MatchState`] (duplicates seen, streak ledgers, cooldowns,
//! like and viewer counters), updates that state, and returns what to enqueue. Time comes in
//! as an argument, so the table tests below drive it event by event.
//!
//! Counting rules that make a paid gift count exactly once:
//! - an event whose non-zero msg_id was seen before is ignored;
//! - each streak has a ledger: units acted on when settling, and the highest running total
//!   seen live; a settle (final, timeout or late) only acts on units beyond the ledger, so a
//!   replayed final or a timeout followed by the real final never fires twice;
//! - intermediate streak messages only feed `live` rules;
//! - history replayed at connect is never acted on.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use serde::Serialize;
use tiktok_live::dispatch::Dedupe;
use tiktok_live::streak::StreakKey;
use tokio::time::Instant;

use super::input::{EventKind, Input, Payload, Settle, Viewer};
use super::rules::{Action, Filters, Rule, StreakMode, Trigger};
use crate::outputs::template::TemplateEvent;

/// Streak ledgers are dropped after this long without news; the client forgets settled
/// streaks after 2 minutes, so late messages older than this cannot reach us.
const LEDGER_MEMORY: Duration = Duration::from_secs(600);
/// Like milestones counted for one like message at most (a total jumping by millions after a
/// reconnect must not flood the queue).
const MAX_LIKE_RUNS: u64 = 100;

/// A rule ready for matching.
#[derive(Clone, Debug)]
pub struct CompiledRule {
    pub rule: Rule,
    pub mode: StreakMode,
    /// The chat command, lowercased once.
    command: Option<String>,
    /// Gift name, lowercased once.
    gift_name: Option<String>,
}

impl CompiledRule {
    /// `actions` resolves the rule's action ids to decide its default streak mode.
    pub fn new(rule: Rule, actions: &[Action]) -> Self {
        let sends_command = rule.actions.iter().any(|id| {
            actions
                .iter()
                .find(|a| &a.id == id)
                .is_some_and(Action::has_command)
        });
        let mode = if rule.trigger.is_streak_value() {
            // Fires once per streak whatever the configured mode (the profile warns).
            StreakMode::PerStreak
        } else {
            rule.streak_mode.unwrap_or(if sends_command {
                StreakMode::PerUnit
            } else {
                StreakMode::PerStreak
            })
        };
        let command = match &rule.trigger {
            Trigger::ChatCommand { command } => Some(command.trim().to_lowercase()),
            _ => None,
        };
        let gift_name = match &rule.trigger {
            Trigger::Gift { name: Some(n), .. } => Some(n.trim().to_lowercase()),
            _ => None,
        };
        CompiledRule {
            rule,
            mode,
            command,
            gift_name,
        }
    }

    /// The event kind this rule listens to.
    pub fn kind(&self) -> EventKind {
        match self.rule.trigger {
            Trigger::Gift { .. } | Trigger::GiftCoins { .. } => EventKind::Gift,
            Trigger::Follow => EventKind::Follow,
            Trigger::Share => EventKind::Share,
            Trigger::Join => EventKind::Join,
            Trigger::Subscribe => EventKind::Subscribe,
            Trigger::Likes { .. } => EventKind::Like,
            Trigger::ChatCommand { .. } => EventKind::Chat,
            Trigger::ViewerMilestone { .. } => EventKind::ViewerCount,
            Trigger::StreamStart => EventKind::StreamStart,
            Trigger::StreamEnd => EventKind::StreamEnd,
        }
    }
}

/// The rules indexed by the event kind they listen to: the handler registry's table.
#[derive(Clone, Debug, Default)]
pub struct RuleSet {
    rules: Vec<CompiledRule>,
    by_kind: HashMap<EventKind, Vec<usize>>,
    /// Lowercased gift names some rule names: a gift in here never looks at id rules.
    gift_names: HashSet<String>,
    /// Some rule counts likes per viewer: only then are per-viewer counters kept (a million
    /// likers must not cost memory nobody uses).
    per_user_likes: bool,
}

impl RuleSet {
    pub fn new(rules: &[Rule], actions: &[Action]) -> Self {
        let rules: Vec<CompiledRule> = rules
            .iter()
            .filter(|r| r.enabled)
            .map(|r| CompiledRule::new(r.clone(), actions))
            .collect();
        let mut by_kind: HashMap<EventKind, Vec<usize>> = HashMap::new();
        let mut gift_names = HashSet::new();
        for (i, r) in rules.iter().enumerate() {
            by_kind.entry(r.kind()).or_default().push(i);
            if let Some(n) = &r.gift_name {
                gift_names.insert(n.clone());
            }
        }
        let per_user_likes = rules.iter().any(|r| {
            matches!(
                r.rule.trigger,
                Trigger::Likes {
                    per_user: Some(_),
                    ..
                }
            )
        });
        RuleSet {
            rules,
            by_kind,
            gift_names,
            per_user_likes,
        }
    }

    pub fn rules(&self) -> &[CompiledRule] {
        &self.rules
    }

    pub fn for_kind(&self, kind: EventKind) -> &[usize] {
        self.by_kind.get(&kind).map(Vec::as_slice).unwrap_or(&[])
    }

    pub fn get(&self, i: usize) -> Option<&CompiledRule> {
        self.rules.get(i)
    }

    /// True when some enabled rule names this gift (case-insensitive).
    pub fn names_gift(&self, name: &str) -> bool {
        !self.gift_names.is_empty() && self.gift_names.contains(&name.trim().to_lowercase())
    }
}

/// One rule that fired for one event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Match {
    /// Index into the [`RuleSet`].
    pub rule: usize,
    pub rule_id: String,
    /// How many times to run the rule's actions (units for once-per-unit, crossings for
    /// like milestones, otherwise 1).
    pub runs: u32,
    /// The values the templates see for each run.
    pub vars: TemplateEvent,
    /// Paid for with a gift (protected from overflow drops).
    pub paid: bool,
}

/// Why a rule that listens to this kind of event did not fire.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "reason")]
pub enum Skip {
    NotFollower,
    TooFewFollowers,
    NotModeratorOrSubscriber,
    UserCooldown {
        remaining_ms: u64,
    },
    GlobalCooldown {
        remaining_ms: u64,
    },
    AlreadyFiredThisStream,
    /// Units of a streak above the rule's `maxPerStreak` (once-per-unit and live modes): not
    /// run, but recorded so the streamer can see why a huge streak ran fewer times.
    OverStreakCap {
        cap: u32,
        units: u32,
    },
}

impl std::fmt::Display for Skip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let secs = |ms: &u64| format!("{:.1} s", *ms as f64 / 1000.0);
        match self {
            Skip::NotFollower => write!(f, "the rule is for followers only"),
            Skip::TooFewFollowers => write!(f, "the viewer has too few followers for this rule"),
            Skip::NotModeratorOrSubscriber => {
                write!(f, "the rule is for moderators or subscribers only")
            }
            Skip::UserCooldown { remaining_ms } => write!(
                f,
                "the rule's cooldown for this viewer had {} left",
                secs(remaining_ms)
            ),
            Skip::GlobalCooldown { remaining_ms } => {
                write!(f, "the rule's cooldown had {} left", secs(remaining_ms))
            }
            Skip::AlreadyFiredThisStream => {
                write!(f, "the rule already fired for this viewer in this stream")
            }
            Skip::OverStreakCap { cap, units } => write!(
                f,
                "{units} unit(s) of the streak were over the rule's limit of {cap} runs per streak"
            ),
        }
    }
}

impl Skip {
    /// A sentence for the streamer's trace view.
    pub fn describe(&self) -> String {
        match self {
            Skip::NotFollower => "filter: the viewer does not follow you".into(),
            Skip::TooFewFollowers => "filter: the viewer has too few followers".into(),
            Skip::NotModeratorOrSubscriber => {
                "filter: only moderators or subscribers can trigger it".into()
            }
            Skip::UserCooldown { remaining_ms } => {
                format!("cooldown: this viewer can trigger it again in {remaining_ms} ms")
            }
            Skip::GlobalCooldown { remaining_ms } => {
                format!("cooldown: the rule can fire again in {remaining_ms} ms")
            }
            Skip::AlreadyFiredThisStream => "once per stream: it already fired".into(),
            Skip::OverStreakCap { cap, units } => {
                format!("cap: {units} unit(s) above the limit of {cap} per streak were not run")
            }
        }
    }
}

/// Paid units a rule did not run (a filter, a cooldown, the per-streak cap). They become
/// visible `skipped` queue items: a viewer paid, so the streamer must be able to see why
/// nothing happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaidSkip {
    /// Index into the [`RuleSet`].
    pub rule: usize,
    pub rule_id: String,
    pub skip: Skip,
    /// The template values, with `{count}` = the units not run and `{coins}` their value.
    pub vars: TemplateEvent,
}

/// The outcome of one event.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Evaluation {
    /// The event was seen before (same msg_id) and ignored.
    pub duplicate: bool,
    pub matches: Vec<Match>,
    /// Rules whose trigger matched but a filter said no.
    pub skipped: Vec<(String, Skip)>,
    /// The paid units among those: each becomes a `skipped` item with the reason.
    pub paid_skips: Vec<PaidSkip>,
    /// The streak ledger this gift changed, to be stored before its items can run (so a
    /// restart settles only the units not acted on yet).
    pub streak: Option<LedgerState>,
}

#[derive(Debug, Clone, Copy)]
struct Ledger {
    /// Units acted on by settling messages.
    settled: u32,
    /// Highest running total seen.
    live: u32,
    /// Settled by its final message (not only by a timeout): the streak is over.
    ended: bool,
    /// When a message last touched it: whole seconds since [`MatchState::epoch`] (a flood
    /// keeps tens of thousands of ledgers; an `Instant` would make each a third larger).
    touched: u32,
}

/// A streak ledger as the store keeps it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LedgerState {
    pub key: StreakKey,
    pub settled: u32,
    pub live: u32,
    pub ended: bool,
}

/// A streak slot: sender, gift, group id. A restarted client numbers streak generations from
/// 0 again, so restored ledgers are found by slot, not by full key.
type Slot = (u64, u64, u64);

fn slot_of(key: &StreakKey) -> Slot {
    (key.user_id, key.gift_id, key.group_id)
}

/// Everything matching remembers between events. One per engine; per-stream parts reset
/// when a different room starts.
#[derive(Debug, Default)]
pub struct MatchState {
    /// The engine dedupes on its own too (events can come from other sources than the
    /// client): the same bounded set the client uses.
    dedupe: Dedupe,
    room_id: Option<u64>,
    ledgers: HashMap<StreakKey, Ledger>,
    /// Ledgers from before a restart, by slot, taken over by the first message of the slot
    /// that continues their streak.
    restored: HashMap<Slot, LedgerState>,
    /// The last message of each streak an earlier run left open, by slot, until this run's
    /// messages take the streak over or [`MatchState::orphan_settles`] settles it.
    open_streaks: HashMap<Slot, Input>,
    /// (rule id, streak) pairs whose "whole streak worth N coins" rule has fired (or was
    /// stopped by a filter): such a rule acts once per streak. Keyed by rule id, not index,
    /// so a reload mid-streak does not let the late final fire it again.
    streak_value_fired: HashSet<(String, StreakKey)>,
    ledger_sweep: Option<Instant>,
    /// What ledgers' `touched` counts from (the first event's time).
    epoch: Option<Instant>,
    user_until: HashMap<(usize, u64), Instant>,
    global_until: HashMap<usize, Instant>,
    once: HashSet<(usize, u64)>,
    /// The ledger the current event changed (handed out in [`Evaluation::streak`]).
    last_ledger: Option<LedgerState>,
    like_total: Option<u64>,
    like_sum: u64,
    user_likes: HashMap<u64, u64>,
    viewer_multiple: HashMap<usize, u64>,
}

impl MatchState {
    pub fn new() -> Self {
        Self::default()
    }

    /// Remembers message ids handled by an earlier run (oldest first): they are duplicates.
    pub fn seed_msg_ids(&mut self, ids: impl IntoIterator<Item = u64>) {
        for id in ids {
            self.dedupe.first_time(id);
        }
    }

    /// Takes over the streak ledgers an earlier run stored, so a streak that was half settled
    /// before a crash settles only its remaining units.
    pub fn restore_ledgers(&mut self, ledgers: impl IntoIterator<Item = LedgerState>) {
        for l in ledgers {
            self.restored.insert(slot_of(&l.key), l);
        }
    }

    /// Keeps the last message of the streaks an earlier run left open (units seen live, not
    /// all settled): that run's client would have settled them by its timeout, but this
    /// run's client never saw them, so nobody settles them unless the stream goes on.
    pub fn restore_open_streaks(&mut self, last: impl IntoIterator<Item = Input>) {
        for input in last {
            if let Some(key) = input.streak_key() {
                self.open_streaks.insert(slot_of(&key), input);
            }
        }
    }

    /// The settles the earlier run's client would have made: for every open streak that no
    /// message of this run has touched, its last message again, settling the highest running
    /// total seen (msg_id 0, like the client's own timeout settle). Handled like any event,
    /// they act only on the units beyond the ledger. Empties the list: called once, a streak
    /// timeout after the start (or at a drain, if that comes first).
    pub fn orphan_settles(&mut self) -> Vec<Input> {
        let mut out = Vec::new();
        for (slot, mut input) in self.open_streaks.drain() {
            // A message of this run took the slot over (its client counts the streak now).
            let Some(r) = self.restored.get(&slot) else {
                continue;
            };
            if r.ended || r.live <= r.settled {
                continue;
            }
            let Payload::Gift(g) = &mut input.payload else {
                continue;
            };
            g.repeat_count = r.live;
            g.delta = 0;
            g.settled = Some((r.live, Settle::Timeout));
            input.msg_id = 0;
            input.is_history = false;
            out.push(input);
        }
        out
    }

    /// After an orphan settle the streak may still go on in this run (a final that comes
    /// late): its ledger goes back among the restored ones, to be taken over by slot whatever
    /// generation this run's client gives the streak.
    pub fn release_orphan(&mut self, key: &StreakKey) {
        if let Some(l) = self.ledgers.remove(key) {
            self.restored.insert(
                slot_of(key),
                LedgerState {
                    key: *key,
                    settled: l.settled,
                    live: l.live,
                    ended: l.ended,
                },
            );
        }
    }

    /// Forgets what belongs to one stream (once-per-stream, counters, milestones). TikTok does
    /// not always send a stream end, so a new room is the reliable signal.
    fn new_stream(&mut self, room_id: u64) {
        self.room_id = Some(room_id);
        self.once.clear();
        self.like_total = None;
        self.like_sum = 0;
        self.user_likes.clear();
        self.viewer_multiple.clear();
    }

    /// Viewers whose likes are counted one by one (only while a per-viewer like rule exists).
    pub fn tracked_likers(&self) -> usize {
        self.user_likes.len()
    }

    /// Rule indices change on reload; state keyed by them would then point at other rules.
    pub fn rules_changed(&mut self) {
        self.user_until.clear();
        self.global_until.clear();
        self.once.clear();
        self.viewer_multiple.clear();
    }

    /// `now` as whole seconds since the epoch, for ledgers.
    fn stamp(&mut self, now: Instant) -> u32 {
        let epoch = *self.epoch.get_or_insert(now);
        u32::try_from(now.saturating_duration_since(epoch).as_secs()).unwrap_or(u32::MAX)
    }

    fn sweep_ledgers(&mut self, now: Instant) {
        if self
            .ledger_sweep
            .is_some_and(|t| now.saturating_duration_since(t) < Duration::from_secs(30))
        {
            return;
        }
        self.ledger_sweep = Some(now);
        let stamp = self.stamp(now);
        let memory = u32::try_from(LEDGER_MEMORY.as_secs()).unwrap_or(u32::MAX);
        self.ledgers
            .retain(|_, l| stamp.saturating_sub(l.touched) < memory);
        let ledgers = &self.ledgers;
        self.streak_value_fired
            .retain(|(_, key)| ledgers.contains_key(key));
        self.user_until.retain(|_, until| *until > now);
        self.global_until.retain(|_, until| *until > now);
    }
}

/// Units of a gift message, before and after it, in each counting mode.
#[derive(Debug, Default, Clone, Copy)]
struct GiftUnits {
    settled_before: u32,
    settled_after: u32,
    live_before: u32,
    live_after: u32,
}

fn gift_units(input: &Input, state: &mut MatchState, now: Instant) -> GiftUnits {
    let Payload::Gift(g) = &input.payload else {
        return GiftUnits::default();
    };
    if !g.streakable {
        // Sent once; msg_id dedupe is its only duplicate guard (no streak to key on).
        let n = g.settled.map(|(n, _)| n).unwrap_or(g.delta).max(1);
        return GiftUnits {
            settled_before: 0,
            settled_after: n,
            live_before: 0,
            live_after: n,
        };
    }
    let Some(key) = input.streak_key() else {
        return GiftUnits::default();
    };
    let now = state.stamp(now);
    if !state.ledgers.contains_key(&key) {
        if let Some(r) = state.restored.remove(&slot_of(&key)) {
            // The same judgement the client's streak tracker makes: after a timeout a count
            // at or above the last one is the streak going on; after its final only a final
            // again (re-sent) is the same streak; anything else is a new streak.
            let continues = if r.ended {
                matches!(g.settled, Some((_, Settle::Final))) && g.repeat_count >= r.settled
            } else {
                g.repeat_count >= r.live
            };
            if continues {
                state.ledgers.insert(
                    key,
                    Ledger {
                        settled: r.settled,
                        live: r.live,
                        ended: r.ended,
                        touched: now,
                    },
                );
            }
        }
    }
    let ledger = state.ledgers.entry(key).or_insert(Ledger {
        settled: 0,
        live: 0,
        ended: false,
        touched: now,
    });
    ledger.touched = now;
    let live_before = ledger.live;
    ledger.live = ledger.live.max(g.repeat_count);
    let settled_before = ledger.settled;
    if let Some((n, reason)) = g.settled {
        ledger.settled = match reason {
            Settle::Final | Settle::Timeout => ledger.settled.max(n),
            // Only the units not counted before: added on top of what we acted on.
            Settle::Late => ledger.settled.saturating_add(n),
        };
        ledger.live = ledger.live.max(ledger.settled);
        // A settle without a message id is the client's timeout: the streak may go on.
        ledger.ended |= input.msg_id != 0;
    }
    state.last_ledger = Some(LedgerState {
        key,
        settled: ledger.settled,
        live: ledger.live,
        ended: ledger.ended,
    });
    GiftUnits {
        settled_before,
        settled_after: ledger.settled,
        live_before,
        live_after: ledger.live,
    }
}

fn viewer_key(user: Option<&Viewer>) -> u64 {
    user.map(|u| u.id).unwrap_or(0)
}

fn check_filters(
    f: &Filters,
    rule: usize,
    user: Option<&Viewer>,
    state: &MatchState,
    now: Instant,
) -> Result<(), Skip> {
    if f.followers_only && !user.is_some_and(|u| u.is_follower) {
        return Err(Skip::NotFollower);
    }
    if let Some(min) = f.min_followers {
        if user.and_then(|u| u.follower_count).unwrap_or(0) < min {
            return Err(Skip::TooFewFollowers);
        }
    }
    if f.moderators_only || f.subscribers_only {
        let ok = user.is_some_and(|u| {
            (f.moderators_only && u.is_moderator) || (f.subscribers_only && u.is_subscriber)
        });
        if !ok {
            return Err(Skip::NotModeratorOrSubscriber);
        }
    }
    let who = viewer_key(user);
    if f.once_per_user_per_stream && state.once.contains(&(rule, who)) {
        return Err(Skip::AlreadyFiredThisStream);
    }
    if let Some(until) = state.global_until.get(&rule) {
        if *until > now {
            return Err(Skip::GlobalCooldown {
                remaining_ms: ms(*until - now),
            });
        }
    }
    if let Some(until) = state.user_until.get(&(rule, who)) {
        if *until > now {
            return Err(Skip::UserCooldown {
                remaining_ms: ms(*until - now),
            });
        }
    }
    Ok(())
}

fn ms(d: Duration) -> u64 {
    d.as_millis().try_into().unwrap_or(u64::MAX)
}

fn record_fired(
    f: &Filters,
    rule: usize,
    user: Option<&Viewer>,
    state: &mut MatchState,
    now: Instant,
) {
    let who = viewer_key(user);
    if f.once_per_user_per_stream {
        state.once.insert((rule, who));
    }
    if f.global_cooldown_ms > 0 {
        state
            .global_until
            .insert(rule, now + Duration::from_millis(f.global_cooldown_ms));
    }
    if f.user_cooldown_ms > 0 {
        state
            .user_until
            .insert((rule, who), now + Duration::from_millis(f.user_cooldown_ms));
    }
}

/// The base template values of an event.
pub fn template_vars(input: &Input) -> TemplateEvent {
    let mut vars = TemplateEvent::default();
    if let Some(u) = &input.user {
        vars.user = if u.nickname.is_empty() {
            u.unique_id.clone()
        } else {
            u.nickname.clone()
        };
        vars.username = u.unique_id.clone();
    }
    match &input.payload {
        Payload::Gift(g) => {
            vars.gift = Some(g.name.clone());
        }
        Payload::Like { count, total } => {
            vars.likes = Some(*total);
            vars.count = Some(u64::from(*count));
        }
        Payload::Chat { text } => vars.comment = Some(text.clone()),
        Payload::ViewerCount { total } => vars.viewers = Some(*total),
        _ => {}
    }
    vars
}

/// `(runs, {count})` of a gift rule, or `None` when this message fires nothing for it.
fn gift_runs(mode: StreakMode, cap: u32, u: GiftUnits) -> Option<(u32, u64)> {
    let cap = cap.max(1);
    match mode {
        StreakMode::PerUnit => {
            let runs = u.settled_after.min(cap) - u.settled_before.min(cap);
            (runs > 0).then_some((runs, 1))
        }
        StreakMode::PerStreak => {
            let units = u.settled_after.saturating_sub(u.settled_before);
            (units > 0).then_some((1, u64::from(units)))
        }
        StreakMode::Live => {
            let units = u.live_after.min(cap).saturating_sub(u.live_before.min(cap));
            (units > 0).then_some((1, u64::from(units)))
        }
    }
}

/// The units a once-per-unit or live rule leaves out because of its cap, if any.
fn units_over_cap(mode: StreakMode, cap: u32, u: GiftUnits) -> Option<Skip> {
    let cap = cap.max(1);
    let over = match mode {
        StreakMode::PerUnit => {
            let new_units = u.settled_after.saturating_sub(u.settled_before);
            let runs = u.settled_after.min(cap) - u.settled_before.min(cap);
            new_units - runs
        }
        // Live runs stop adding units at the cap: the rest were paid for and must show up.
        StreakMode::Live => u.live_after.saturating_sub(u.live_before.max(cap)),
        StreakMode::PerStreak => 0,
    };
    (over > 0).then_some(Skip::OverStreakCap { cap, units: over })
}

/// Decides what `input` triggers. See the module docs for the counting rules.
pub fn evaluate(
    input: &Input,
    rules: &RuleSet,
    state: &mut MatchState,
    now: Instant,
) -> Evaluation {
    let mut out = Evaluation::default();
    if !state.dedupe.first_time(input.msg_id) {
        out.duplicate = true;
        return out;
    }
    state.sweep_ledgers(now);
    if let Payload::StreamStart { room_id, .. } = input.payload {
        if state.room_id != Some(room_id) {
            state.new_stream(room_id);
        }
    }
    let units = gift_units(input, state, now);
    out.streak = state.last_ledger.take();
    // The room's like counter moves for every like, whether or not a rule listens (a rule
    // added later counts from the right total); per-viewer counters only for rules that
    // use them.
    let (likes_before, likes_after, user_before, user_after) = match &input.payload {
        Payload::Like { count, total } => {
            let count = u64::from(*count);
            state.like_sum += count;
            let reported = if *total > 0 { *total } else { state.like_sum };
            let before = state
                .like_total
                .unwrap_or_else(|| reported.saturating_sub(count));
            let after = before.max(reported);
            state.like_total = Some(after);
            if !rules.per_user_likes && !state.user_likes.is_empty() {
                // The per-viewer rule was removed by a reload.
                state.user_likes = HashMap::new();
            }
            if rules.per_user_likes {
                let who = viewer_key(input.user.as_ref());
                let mine = state.user_likes.entry(who).or_insert(0);
                let ub = *mine;
                *mine += count;
                (before, after, ub, *mine)
            } else {
                (before, after, 0, 0)
            }
        }
        _ => (0, 0, 0, 0),
    };
    if input.is_history {
        return out;
    }
    let base = template_vars(input);
    let user = input.user.as_ref();
    // The seed's order: the rules that name the gift, and only when none does, the rules
    // keyed by its id. Coin-range rules are another trigger kind and apply beside either.
    let (gift_lower, named) = match &input.payload {
        Payload::Gift(g) => {
            let lower = g.name.trim().to_lowercase();
            let named = rules.names_gift(&lower);
            (lower, named)
        }
        _ => (String::new(), false),
    };
    for &i in rules.for_kind(input.kind()) {
        let Some(cr) = rules.get(i) else { continue };
        let rule = &cr.rule;
        let mut vars = base.clone();
        let mut paid = false;
        let mut paid_units = 0u64;
        let mut unit_coins = 0u64;
        let runs: u32 = match (&rule.trigger, &input.payload) {
            (trigger @ (Trigger::Gift { .. } | Trigger::GiftCoins { .. }), Payload::Gift(g)) => {
                let matches = match trigger {
                    Trigger::Gift { id, .. } => {
                        if named {
                            cr.gift_name.as_deref() == Some(gift_lower.as_str())
                        } else {
                            id.is_some_and(|id| id == g.gift_id)
                        }
                    }
                    Trigger::GiftCoins {
                        unit_coins_at_least,
                        unit_coins_at_most,
                        ..
                    } => {
                        !unit_coins_at_least.is_some_and(|m| g.coins < m)
                            && !unit_coins_at_most.is_some_and(|m| g.coins > m)
                    }
                    _ => false,
                };
                if !matches {
                    continue;
                }
                if let Trigger::GiftCoins {
                    streak_coins_at_least: Some(min),
                    ..
                } = &rule.trigger
                {
                    // Once per streak, when its settled value first reaches `min`, with the
                    // whole streak in `{count}`; never again for that streak (a late final
                    // after a timeout, a later settle), whatever the streak mode says.
                    let worth = u64::from(units.settled_after) * u64::from(g.coins);
                    if worth < *min || units.settled_after == units.settled_before {
                        continue;
                    }
                    if let (true, Some(key)) = (g.streakable, input.streak_key()) {
                        if !state.streak_value_fired.insert((rule.id.clone(), key)) {
                            continue;
                        }
                    }
                    let count = u64::from(units.settled_after);
                    vars.count = Some(count);
                    vars.coins = Some(worth);
                    paid = true;
                    unit_coins = u64::from(g.coins);
                    paid_units = count;
                    1
                } else {
                    if let Some(over) = units_over_cap(cr.mode, rule.max_per_streak, units) {
                        if let Skip::OverStreakCap { units: n, .. } = over {
                            let mut v = vars.clone();
                            v.count = Some(u64::from(n));
                            v.coins = Some(u64::from(n) * u64::from(g.coins));
                            out.paid_skips.push(PaidSkip {
                                rule: i,
                                rule_id: rule.id.clone(),
                                skip: over.clone(),
                                vars: v,
                            });
                        }
                        out.skipped.push((rule.id.clone(), over));
                    }
                    let Some((runs, count)) = gift_runs(cr.mode, rule.max_per_streak, units) else {
                        continue;
                    };
                    vars.count = Some(count);
                    vars.coins = Some(count * u64::from(g.coins));
                    paid = true;
                    unit_coins = u64::from(g.coins);
                    paid_units = if cr.mode == StreakMode::PerUnit {
                        u64::from(runs)
                    } else {
                        count
                    };
                    runs
                }
            }
            (Trigger::Follow, Payload::Follow)
            | (Trigger::Share, Payload::Share)
            | (Trigger::Join, Payload::Join)
            | (Trigger::Subscribe, Payload::Subscribe) => 1,
            (Trigger::Likes { every, per_user }, Payload::Like { .. }) => {
                let crossings = |n: Option<u64>, before: u64, after: u64| match n {
                    Some(n) if n > 0 => after / n - before / n,
                    _ => 0,
                };
                let total = crossings(*every, likes_before, likes_after)
                    + crossings(*per_user, user_before, user_after);
                if total == 0 {
                    continue;
                }
                if rule.run_per_threshold {
                    // Schema version 1's meaning, kept for migrated profiles: a run per
                    // threshold, `{count}` = the likes in the message (already in `vars`).
                    u32::try_from(total.min(MAX_LIKE_RUNS)).unwrap_or(1)
                } else {
                    // One run that says how many thresholds were crossed: a like storm is one
                    // thing happening fast, not a queue of identical runs.
                    vars.count = Some(total.min(MAX_LIKE_RUNS));
                    1
                }
            }
            (Trigger::ChatCommand { .. }, Payload::Chat { text }) => {
                let text = text.trim();
                let (first, rest) = match text.split_once(char::is_whitespace) {
                    Some((f, r)) => (f, r.trim()),
                    None => (text, ""),
                };
                if cr.command.as_deref() != Some(first.to_lowercase().as_str()) {
                    continue;
                }
                vars.comment = Some(rest.to_owned());
                1
            }
            (Trigger::ViewerMilestone { every }, Payload::ViewerCount { total }) => {
                if *every == 0 {
                    continue;
                }
                let multiple = total / every;
                let best = state.viewer_multiple.get(&i).copied().unwrap_or(0);
                if multiple <= best {
                    continue;
                }
                state.viewer_multiple.insert(i, multiple);
                1
            }
            (Trigger::StreamStart, Payload::StreamStart { reconnect, .. }) => {
                if *reconnect {
                    continue;
                }
                1
            }
            (Trigger::StreamEnd, Payload::StreamEnd) => 1,
            _ => continue,
        };
        if let Err(skip) = check_filters(&rule.filters, i, user, state, now) {
            if paid {
                let mut v = vars.clone();
                v.count = Some(paid_units);
                v.coins = Some(unit_coins * paid_units);
                out.paid_skips.push(PaidSkip {
                    rule: i,
                    rule_id: rule.id.clone(),
                    skip: skip.clone(),
                    vars: v,
                });
            }
            out.skipped.push((rule.id.clone(), skip));
            continue;
        }
        record_fired(&rule.filters, i, user, state, now);
        out.matches.push(Match {
            rule: i,
            rule_id: rule.id.clone(),
            runs,
            vars,
            paid,
        });
    }
    out
}

#[cfg(test)]
mod tests;
