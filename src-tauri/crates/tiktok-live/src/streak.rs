//! Gift streaks (protocol.md §4.2): turning the several messages of one combo into exact unit
//! counts, with no double counting and no lost streaks.
//!
//! - A streakable gift (`type == 1`) arrives as intermediate messages with a rising running
//!   total, then a final one (`repeat_end == 1`). Each observation yields the *delta* (new units
//!   since the last message of that streak) and, at the end, the settled total.
//! - A non-streakable gift is settled at once. A gift whose details are missing is counted as a
//!   streak (by `repeat_end`), never settled per message with its running total.
//! - A streak whose final never arrives is settled by [`StreakTracker::expire`] after a quiet
//!   period, with its last count.
//! - A message for a streak that was already settled either adds only what was not counted yet
//!   (a late final after the timeout), changes nothing (a repeated final), or starts a new
//!   streak under the same group id (its count starts again): each streak has a
//!   [`StreakKey::generation`] so that the engine never mixes two of them up. A streak settled
//!   by its timeout is remembered for two minutes, since its final can be held back by a long
//!   reconnect; the server's `create_time` tells that final from a new streak of the same
//!   size under a reused group id.
//!
//! The tracker is pure: time is passed in, so tests control it.

use std::collections::HashMap;
use std::time::Duration;

use tokio::time::Instant;

use crate::message::GiftMessage;

/// How long a streak may stay quiet before it is settled with its last count.
pub const DEFAULT_STREAK_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a settled streak is remembered to absorb late or replayed messages.
const SETTLED_MEMORY: Duration = Duration::from_secs(120);

/// Where TikTok's streak id lives: sender, gift and group id. The sender and gift are included
/// so that two viewers can never share a streak even if a server reuses group ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Slot {
    user_id: u64,
    gift_id: u64,
    group_id: u64,
}

impl Slot {
    fn of(msg: &GiftMessage) -> Self {
        Self {
            user_id: msg.user.as_ref().map(|u| u.id).unwrap_or(0),
            gift_id: msg.gift_id,
            group_id: msg.group_id,
        }
    }

    fn key(self, generation: u32) -> StreakKey {
        StreakKey {
            user_id: self.user_id,
            gift_id: self.gift_id,
            group_id: self.group_id,
            generation,
        }
    }
}

/// Identifies one streak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub struct StreakKey {
    pub user_id: u64,
    pub gift_id: u64,
    pub group_id: u64,
    /// Counts the streaks seen under the same sender, gift and group id (0 for the first):
    /// a server that reuses a group id (or sends none) still gets separate streaks.
    pub generation: u32,
}

impl StreakKey {
    /// The key of the first streak a message could belong to (generation 0).
    pub fn of(msg: &GiftMessage) -> Self {
        Slot::of(msg).key(0)
    }
}

/// Whether a gift message is counted as part of a streak. Missing details count as a streak:
/// settling each intermediate message with its running total would multiply the units.
pub fn counts_as_streak(msg: &GiftMessage) -> bool {
    msg.gift.is_none() || msg.streakable()
}

/// Why a streak was settled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SettleReason {
    /// The final message arrived (or the gift is not streakable).
    Final,
    /// No message for the streak within the timeout; settled with the last count.
    Timeout,
    /// A message for an already settled streak carried a higher count; this settles the rest.
    Late,
}

/// A finished streak: what to act on once.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Settled {
    pub key: StreakKey,
    /// Units to act on now (for `Late`, only the ones not counted before).
    pub count: u32,
    pub reason: SettleReason,
}

/// What one gift message means for counting.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Observation {
    /// The streak the message was counted in.
    pub key: StreakKey,
    /// New units since the previous message of this streak (0 for a repeat).
    pub delta: u32,
    /// Set when this message settles the streak.
    pub settled: Option<Settled>,
}

/// A streak settled without a message of its own (timeout, flush).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expired {
    /// The streak's last message, its `repeat_count` set to the settled count.
    pub gift: GiftMessage,
    pub settled: Settled,
    /// Every message of the streak was replayed history: nothing to act on.
    pub history: bool,
}

#[derive(Debug, Clone)]
struct Open {
    generation: u32,
    count: u32,
    /// Units already settled for this streak (it timed out, then went on): only the rest is
    /// settled again, once, when it ends.
    settled_before: u32,
    last_seen: Instant,
    /// The newest server `create_time` (ms) among its messages; 0 when none carried one.
    created: i64,
    /// All messages so far were history.
    history: bool,
    /// Kept so a timed-out streak can be reported with what it was.
    template: GiftMessage,
}

#[derive(Debug, Clone, Copy)]
struct Closed {
    generation: u32,
    count: u32,
    at: Instant,
    /// The newest server `create_time` (ms) of its messages; 0 when unknown.
    created: i64,
    /// Its real final arrived (on time or late). Without it the final may still be on its
    /// way: a reconnect backoff can hold it back for minutes.
    final_seen: bool,
}

impl Closed {
    /// Whether a message (with no open streak in its slot) belongs to this settled streak
    /// rather than starting a new one under the same group id.
    fn takes(
        &self,
        msg: &GiftMessage,
        count: u32,
        now: Instant,
        created_ms: i64,
        timeout: Duration,
    ) -> bool {
        // A streak's count never goes down: a lower one is a new streak.
        if count < self.count {
            return false;
        }
        // How far apart on the server's clock, when both sides carry a time: it does not
        // stretch with a long reconnect, so it tells a late final from a reused group id.
        let server_gap = (created_ms > 0 && self.created > 0)
            .then(|| Duration::from_millis(created_ms.saturating_sub(self.created).max(0) as u64));
        let local_gap = now.saturating_duration_since(self.at);
        if self.final_seen {
            // After its final a streak only repeats that final; anything else, or the same
            // count more than one quiet period later, is a new streak.
            return msg.is_final() && server_gap.unwrap_or(local_gap) <= timeout;
        }
        // No final yet: it may still come, however long the reconnect took.
        if count == self.count {
            // Nothing new to count. Only the server's clock can tell a new streak of the same
            // size (created a quiet period after this one) from this streak's lost final.
            return match server_gap {
                Some(gap) => gap <= timeout,
                None => local_gap <= SETTLED_MEMORY,
            };
        }
        // More units: the streak went on (its messages in between may have been missed while
        // reconnecting, so a server gap proves nothing). Counting the rest never counts a
        // unit twice.
        local_gap <= SETTLED_MEMORY
    }
}

/// Tracks open streaks. One per connection (or per engine when fed from several).
#[derive(Debug)]
pub struct StreakTracker {
    timeout: Duration,
    open: HashMap<Slot, Open>,
    closed: HashMap<Slot, Closed>,
}

impl Default for StreakTracker {
    fn default() -> Self {
        Self::new(DEFAULT_STREAK_TIMEOUT)
    }
}

impl StreakTracker {
    pub fn new(timeout: Duration) -> Self {
        Self {
            timeout,
            open: HashMap::new(),
            closed: HashMap::new(),
        }
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Number of streaks still going on.
    pub fn open_streaks(&self) -> usize {
        self.open.len()
    }

    /// Counts one live gift message. Call it once per distinct message (dedupe by msg_id).
    pub fn observe(&mut self, msg: &GiftMessage, now: Instant) -> Observation {
        self.observe_message(msg, now, false)
    }

    /// Counts one gift message; `history` marks a message replayed from before the connection.
    pub fn observe_message(
        &mut self,
        msg: &GiftMessage,
        now: Instant,
        history: bool,
    ) -> Observation {
        self.observe_created(msg, now, history, 0)
    }

    /// Like [`Self::observe_message`], with the message's server `create_time` in ms (0 when
    /// unknown). The server's clock tells a settled streak's late final from a new streak
    /// under a reused group id, however long the message took to arrive.
    pub fn observe_created(
        &mut self,
        msg: &GiftMessage,
        now: Instant,
        history: bool,
        created_ms: i64,
    ) -> Observation {
        let slot = Slot::of(msg);
        if !counts_as_streak(msg) {
            // Sent once; a repeat_count above 1 still means that many units.
            let count = msg.repeat_count.max(1);
            let key = slot.key(0);
            return Observation {
                key,
                delta: count,
                settled: Some(Settled {
                    key,
                    count,
                    reason: SettleReason::Final,
                }),
            };
        }
        let count = msg.repeat_count;
        let mut generation = 0;
        if !self.open.contains_key(&slot) {
            if let Some(closed) = self.closed.get_mut(&slot) {
                let key = slot.key(closed.generation);
                let same_streak = closed.takes(msg, count, now, created_ms, self.timeout);
                if same_streak {
                    let extra = count.saturating_sub(closed.count);
                    if extra == 0 {
                        return Observation {
                            key,
                            delta: 0,
                            settled: None,
                        };
                    }
                    if msg.is_final() {
                        closed.count = count;
                        closed.at = now;
                        closed.created = closed.created.max(created_ms);
                        closed.final_seen = true;
                        return Observation {
                            key,
                            delta: extra,
                            settled: Some(Settled {
                                key,
                                count: extra,
                                reason: SettleReason::Late,
                            }),
                        };
                    }
                    // It went on after its timeout: open it again, so what follows settles
                    // once (not once per message) when it ends.
                    let closed = *closed;
                    self.closed.remove(&slot);
                    self.open.insert(
                        slot,
                        Open {
                            generation: closed.generation,
                            count,
                            settled_before: closed.count,
                            last_seen: now,
                            created: closed.created.max(created_ms),
                            history,
                            template: msg.clone(),
                        },
                    );
                    return Observation {
                        key,
                        delta: extra,
                        settled: None,
                    };
                }
                generation = closed.generation.saturating_add(1);
                tracing::debug!(
                    ?slot,
                    generation,
                    "a new streak under a settled streak's group id"
                );
                self.closed.remove(&slot);
            }
        }
        let (previous, generation, settled_before, created_before) = match self.open.get(&slot) {
            Some(o) => (o.count, o.generation, o.settled_before, o.created),
            None => (0, generation, 0, 0),
        };
        let created = created_before.max(created_ms);
        let key = slot.key(generation);
        let delta = count.saturating_sub(previous);
        let best = previous.max(count);
        if msg.is_final() {
            self.open.remove(&slot);
            let reason = if settled_before > 0 {
                SettleReason::Late
            } else {
                SettleReason::Final
            };
            self.closed.insert(
                slot,
                Closed {
                    generation,
                    count: best,
                    at: now,
                    created,
                    final_seen: true,
                },
            );
            let units = best.saturating_sub(settled_before);
            return Observation {
                key,
                delta,
                settled: (units > 0).then_some(Settled {
                    key,
                    count: units,
                    reason,
                }),
            };
        }
        match self.open.get_mut(&slot) {
            Some(open) => {
                open.count = best;
                open.last_seen = now;
                open.created = created;
                open.history &= history;
            }
            // Only the first message of a streak is kept whole (to report a lost final).
            None => {
                self.open.insert(
                    slot,
                    Open {
                        generation,
                        count: best,
                        settled_before: 0,
                        last_seen: now,
                        created,
                        history,
                        template: msg.clone(),
                    },
                );
            }
        }
        Observation {
            key,
            delta,
            settled: None,
        }
    }

    /// Settles streaks quiet for longer than the timeout.
    pub fn expire(&mut self, now: Instant) -> Vec<Expired> {
        let timeout = self.timeout;
        let due: Vec<Slot> = self
            .open
            .iter()
            .filter(|(_, o)| now.saturating_duration_since(o.last_seen) >= timeout)
            .map(|(k, _)| *k)
            .collect();
        let mut out = Vec::with_capacity(due.len());
        for slot in due {
            if let Some(open) = self.open.remove(&slot) {
                let (units, reason) = if open.settled_before > 0 {
                    (
                        open.count.saturating_sub(open.settled_before),
                        SettleReason::Late,
                    )
                } else {
                    (open.count, SettleReason::Timeout)
                };
                self.closed.insert(
                    slot,
                    Closed {
                        generation: open.generation,
                        count: open.count,
                        at: now,
                        created: open.created,
                        final_seen: false,
                    },
                );
                if units == 0 {
                    continue;
                }
                let mut gift = open.template;
                gift.repeat_count = open.count;
                gift.repeat_end = 1;
                out.push(Expired {
                    gift,
                    settled: Settled {
                        key: slot.key(open.generation),
                        count: units,
                        reason,
                    },
                    history: open.history,
                });
            }
        }
        self.closed
            .retain(|_, c| now.saturating_duration_since(c.at) < SETTLED_MEMORY);
        out
    }

    /// When the next open streak would time out, if any.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.open.values().map(|o| o.last_seen + self.timeout).min()
    }

    /// Settles every open streak now (stream end, shutdown): nothing paid for is dropped.
    pub fn flush(&mut self, now: Instant) -> Vec<Expired> {
        for open in self.open.values_mut() {
            open.last_seen = now - self.timeout;
        }
        self.expire(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::{GiftDetails, User};

    fn gift(user: u64, group: u64, count: u32, end: i32, gift_type: i32) -> GiftMessage {
        GiftMessage {
            gift_id: 5655,
            gift: Some(GiftDetails {
                id: 5655,
                name: "Rose".into(),
                diamond_count: 1,
                gift_type,
                ..Default::default()
            }),
            user: Some(User {
                id: user,
                ..Default::default()
            }),
            to_user: None,
            repeat_count: count,
            repeat_end: end,
            group_id: group,
        }
    }

    fn settled_total(obs: &[Observation]) -> u32 {
        obs.iter()
            .filter_map(|o| o.settled.as_ref())
            .map(|s| s.count)
            .sum()
    }

    #[test]
    fn a_streak_counts_once_at_its_final() {
        let mut t = StreakTracker::default();
        let now = Instant::now();
        let obs: Vec<_> = [(1, 0), (3, 0), (5, 0), (5, 1)]
            .iter()
            .map(|&(c, e)| t.observe(&gift(1, 10, c, e, 1), now))
            .collect();
        assert_eq!(
            obs.iter().map(|o| o.delta).collect::<Vec<_>>(),
            [1, 2, 2, 0]
        );
        assert_eq!(settled_total(&obs), 5);
        assert_eq!(obs[3].settled.as_ref().unwrap().reason, SettleReason::Final);
        assert_eq!(t.open_streaks(), 0);
    }

    #[test]
    fn a_lone_rose_is_one_unit() {
        let mut t = StreakTracker::default();
        let now = Instant::now();
        let a = t.observe(&gift(1, 10, 1, 0, 1), now);
        let b = t.observe(&gift(1, 10, 1, 1, 1), now);
        assert_eq!((a.delta, b.delta), (1, 0));
        assert_eq!(settled_total(&[a, b]), 1);
    }

    #[test]
    fn non_streak_gifts_settle_at_once() {
        let mut t = StreakTracker::default();
        let o = t.observe(&gift(1, 0, 1, 0, 2), Instant::now());
        assert_eq!(o.delta, 1);
        assert_eq!(o.settled.unwrap().count, 1);
        assert_eq!(t.open_streaks(), 0);
    }

    #[test]
    fn interleaved_streaks_stay_apart() {
        let mut t = StreakTracker::default();
        let now = Instant::now();
        let seq = [
            gift(1, 10, 1, 0, 1),
            gift(2, 20, 2, 0, 1),
            gift(1, 10, 4, 0, 1),
            gift(2, 20, 3, 1, 1),
            gift(1, 10, 7, 1, 1),
        ];
        let obs: Vec<_> = seq.iter().map(|g| t.observe(g, now)).collect();
        let user1: u32 = obs
            .iter()
            .filter_map(|o| o.settled.as_ref())
            .filter(|s| s.key.user_id == 1)
            .map(|s| s.count)
            .sum();
        assert_eq!(user1, 7);
        assert_eq!(settled_total(&obs), 10);
        assert_eq!(obs.iter().map(|o| o.delta).sum::<u32>(), 10);
    }

    #[tokio::test(start_paused = true)]
    async fn a_lost_final_settles_after_the_timeout_and_a_late_final_adds_only_the_rest() {
        let mut t = StreakTracker::new(Duration::from_secs(5));
        let start = Instant::now();
        t.observe(&gift(1, 10, 2, 0, 1), start);
        t.observe(&gift(1, 10, 4, 0, 1), start + Duration::from_secs(1));
        assert!(t.expire(start + Duration::from_secs(5)).is_empty());
        assert_eq!(t.next_deadline(), Some(start + Duration::from_secs(6)));
        let done = t.expire(start + Duration::from_secs(6));
        assert_eq!(done.len(), 1);
        assert_eq!(done[0].settled.count, 4);
        assert_eq!(done[0].settled.reason, SettleReason::Timeout);
        assert_eq!(done[0].gift.repeat_count, 4);
        assert!(!done[0].history);
        // The final shows up late with 6: only 2 more units.
        let late = t.observe(&gift(1, 10, 6, 1, 1), start + Duration::from_secs(7));
        let s = late.settled.unwrap();
        assert_eq!((s.count, s.reason), (2, SettleReason::Late));
        // A replay of it adds nothing.
        let again = t.observe(&gift(1, 10, 6, 1, 1), start + Duration::from_secs(8));
        assert_eq!((again.delta, again.settled), (0, None));
    }

    #[test]
    fn counts_never_go_backwards() {
        let mut t = StreakTracker::default();
        let now = Instant::now();
        t.observe(&gift(1, 10, 5, 0, 1), now);
        // An out-of-order older message must not lower the count or add units.
        let o = t.observe(&gift(1, 10, 3, 0, 1), now);
        assert_eq!(o.delta, 0);
        let f = t.observe(&gift(1, 10, 5, 1, 1), now);
        assert_eq!(f.settled.unwrap().count, 5);
    }

    #[test]
    fn flush_settles_everything_open() {
        let mut t = StreakTracker::default();
        let now = Instant::now();
        t.observe(&gift(1, 10, 3, 0, 1), now);
        t.observe(&gift(2, 11, 9, 0, 1), now);
        let mut counts: Vec<u32> = t.flush(now).iter().map(|e| e.settled.count).collect();
        counts.sort();
        assert_eq!(counts, [3, 9]);
        assert_eq!(t.open_streaks(), 0);
    }

    #[test]
    fn a_new_streak_under_a_reused_group_id_counts_in_full() {
        let mut t = StreakTracker::default();
        let now = Instant::now();
        let first: Vec<_> = [(1, 0), (3, 0), (3, 1)]
            .iter()
            .map(|&(c, e)| t.observe(&gift(1, 0, c, e, 1), now))
            .collect();
        let second: Vec<_> = [(1, 0), (2, 0), (2, 1)]
            .iter()
            .map(|&(c, e)| t.observe(&gift(1, 0, c, e, 1), now))
            .collect();
        assert_eq!(settled_total(&first), 3);
        assert_eq!(settled_total(&second), 2);
        assert_eq!(first[2].key.generation, 0);
        assert_eq!(second[2].key.generation, 1, "a separate streak identity");
        // A repeated final of the second streak adds nothing.
        let again = t.observe(&gift(1, 0, 2, 1, 1), now);
        assert_eq!((again.delta, again.settled), (0, None));
    }

    #[test]
    fn a_gift_without_details_is_counted_as_a_streak() {
        let mut t = StreakTracker::default();
        let now = Instant::now();
        let bare = |count, end| GiftMessage {
            gift: None,
            ..gift(1, 10, count, end, 1)
        };
        let obs: Vec<_> = [(1, 0), (2, 0), (3, 0), (3, 1)]
            .iter()
            .map(|&(c, e)| t.observe(&bare(c, e), now))
            .collect();
        assert_eq!(settled_total(&obs), 3, "not 1+2+3+3");
    }

    #[test]
    fn a_gift_without_details_settles_once_per_streak_at_its_final() {
        let mut t = StreakTracker::default();
        let now = Instant::now();
        let bare = |group, count, end| GiftMessage {
            gift: None,
            ..gift(1, group, count, end, 1)
        };
        // A streak of one message that is its own final, then its repeated final.
        let lone = t.observe(&bare(20, 1, 1), now);
        let repeat = t.observe(&bare(20, 1, 1), now);
        assert_eq!(settled_total(&[lone, repeat]), 1);
        // Intermediates, the final, a second final: one settlement.
        let obs: Vec<_> = [(2, 0), (4, 0), (4, 1), (4, 1)]
            .iter()
            .map(|&(c, e)| t.observe(&bare(21, c, e), now))
            .collect();
        assert_eq!(obs.iter().filter(|o| o.settled.is_some()).count(), 1);
        assert_eq!(settled_total(&obs), 4);
    }

    #[tokio::test(start_paused = true)]
    async fn a_reused_group_id_is_told_from_a_late_final_by_the_server_clock() {
        let mut t = StreakTracker::new(Duration::from_secs(5));
        let start = Instant::now();
        let t0 = 1_700_000_000_000_i64;
        // A streak that lost its final (settled 5 by the timeout) ...
        t.observe_created(&gift(1, 10, 5, 0, 1), start, false, t0);
        let done = t.expire(start + Duration::from_secs(5));
        assert_eq!(done[0].settled.count, 5);
        // ... and a minute later a one-message streak under the same group id, created a
        // minute later too: 5 new units, not a late final that adds nothing.
        let later = start + Duration::from_secs(60);
        let o = t.observe_created(&gift(1, 10, 5, 1, 1), later, false, t0 + 60_000);
        let s = o.settled.expect("settled in full");
        assert_eq!((s.count, s.reason), (5, SettleReason::Final));
        assert_eq!(s.key.generation, 1);
        // After a real final the same holds with or without a server time.
        let o = t.observe(&gift(1, 10, 5, 1, 1), later + Duration::from_secs(60));
        assert_eq!(o.settled.map(|s| (s.count, s.key.generation)), Some((5, 2)));
    }

    #[tokio::test(start_paused = true)]
    async fn a_final_held_back_by_a_long_reconnect_is_the_same_streak() {
        let mut t = StreakTracker::new(Duration::from_secs(10));
        let start = Instant::now();
        let t0 = 1_700_000_000_000_i64;
        t.observe_created(&gift(1, 10, 50, 0, 1), start, false, t0);
        let done = t.expire(start + Duration::from_secs(10));
        assert_eq!(done[0].settled.count, 50);
        // Its final (created a moment after) arrives 90 s later, after a reconnect.
        let late = start + Duration::from_secs(90);
        let o = t.observe_created(&gift(1, 10, 50, 1, 1), late, false, t0 + 300);
        assert_eq!((o.delta, o.settled), (0, None), "not 50 more roses");
        // Without a server time the long memory decides the same way.
        t.observe(&gift(2, 20, 7, 0, 1), start);
        t.expire(start + Duration::from_secs(10));
        let o = t.observe(&gift(2, 20, 7, 1, 1), late);
        assert_eq!((o.delta, o.settled), (0, None));
        // A final with more units than were settled adds only those.
        t.observe(&gift(3, 30, 4, 0, 1), start);
        t.expire(start + Duration::from_secs(10));
        let o = t.observe_created(&gift(3, 30, 9, 1, 1), late, false, t0 + 40_000);
        let s = o.settled.expect("the rest");
        assert_eq!(
            (s.count, s.reason, s.key.generation),
            (5, SettleReason::Late, 0)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_history_only_streak_settles_as_history() {
        let mut t = StreakTracker::new(Duration::from_secs(5));
        let start = Instant::now();
        t.observe_message(&gift(1, 10, 4, 0, 1), start, true);
        let done = t.expire(start + Duration::from_secs(6));
        assert!(done[0].history, "never acted on as a live gift");
        // One live message makes the streak live.
        t.observe_message(&gift(2, 11, 1, 0, 1), start, true);
        t.observe_message(&gift(2, 11, 2, 0, 1), start, false);
        let done = t.expire(start + Duration::from_secs(20));
        assert!(!done[0].history);
    }

    #[tokio::test(start_paused = true)]
    async fn a_streak_that_goes_on_after_its_timeout_settles_the_rest_once() {
        let mut t = StreakTracker::new(Duration::from_secs(5));
        let start = Instant::now();
        t.observe(&gift(1, 10, 3, 0, 1), start);
        let done = t.expire(start + Duration::from_secs(5));
        assert_eq!(done[0].settled.count, 3);
        // It goes on: 5, 8, 9 (intermediate), then its final 9.
        let later = start + Duration::from_secs(6);
        let obs: Vec<_> = [(5, 0), (8, 0), (9, 0), (9, 1)]
            .iter()
            .map(|&(c, e)| t.observe(&gift(1, 10, c, e, 1), later))
            .collect();
        assert_eq!(obs.iter().map(|o| o.delta).sum::<u32>(), 6);
        let settles: Vec<_> = obs.iter().filter_map(|o| o.settled.clone()).collect();
        assert_eq!(
            settles.len(),
            1,
            "one settlement for the rest, not one per message"
        );
        assert_eq!(
            (settles[0].count, settles[0].reason),
            (6, SettleReason::Late)
        );
        // Or it goes on and times out again: the rest settles once by the timeout.
        t.observe(&gift(2, 20, 2, 0, 1), start);
        t.expire(start + Duration::from_secs(5));
        t.observe(&gift(2, 20, 4, 0, 1), later);
        let again = t.expire(later + Duration::from_secs(5));
        assert_eq!(again.len(), 1);
        assert_eq!(
            (again[0].settled.count, again[0].settled.reason),
            (2, SettleReason::Late)
        );
    }
}
