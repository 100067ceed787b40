//! Gift streaks (protocol.md §4.2): turning the several messages of one combo into exact unit
//! counts, with no double counting and no lost streaks.
//!
//! - A streakable gift (`type == 1`) arrives as intermediate messages with a rising running
//!   total, then a final one (`repeat_end == 1`). Each observation yields the *delta* (new units
//!   since the last message of that streak) and, at the end, the settled total.
//! - A non-streakable gift is settled at once.
//! - A streak whose final never arrives is settled by [`StreakTracker::expire`] after a quiet
//!   period, with its last count.
//! - A message for a streak that was already settled (a late final after the timeout, or a
//!   replay) adds only what was not counted yet, so totals never exceed the real count.
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

/// Identifies one streak. The group id alone is what TikTok sends; the sender and gift are
/// added so that two viewers can never share a streak even if a server reuses group ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub struct StreakKey {
    pub user_id: u64,
    pub gift_id: u64,
    pub group_id: u64,
}

impl StreakKey {
    pub fn of(msg: &GiftMessage) -> Self {
        Self {
            user_id: msg.user.as_ref().map(|u| u.id).unwrap_or(0),
            gift_id: msg.gift_id,
            group_id: msg.group_id,
        }
    }
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
    /// New units since the previous message of this streak (0 for a repeat).
    pub delta: u32,
    /// Set when this message settles the streak.
    pub settled: Option<Settled>,
}

#[derive(Debug, Clone)]
struct Open {
    count: u32,
    last_seen: Instant,
    /// Kept so a timed-out streak can be reported with what it was.
    template: GiftMessage,
}

#[derive(Debug, Clone, Copy)]
struct Closed {
    count: u32,
    at: Instant,
}

/// Tracks open streaks. One per connection (or per engine when fed from several).
#[derive(Debug)]
pub struct StreakTracker {
    timeout: Duration,
    open: HashMap<StreakKey, Open>,
    closed: HashMap<StreakKey, Closed>,
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

    /// Counts one gift message. Call it once per distinct message (dedupe by msg_id first).
    pub fn observe(&mut self, msg: &GiftMessage, now: Instant) -> Observation {
        let key = StreakKey::of(msg);
        if !msg.streakable() {
            // Sent once; a repeat_count above 1 still means that many units.
            let count = msg.repeat_count.max(1);
            return Observation {
                delta: count,
                settled: Some(Settled {
                    key,
                    count,
                    reason: SettleReason::Final,
                }),
            };
        }
        let count = msg.repeat_count;
        if let Some(closed) = self.closed.get_mut(&key) {
            // Already settled: only count what was not counted yet.
            let extra = count.saturating_sub(closed.count);
            if extra == 0 {
                return Observation {
                    delta: 0,
                    settled: None,
                };
            }
            closed.count = count;
            closed.at = now;
            return Observation {
                delta: extra,
                settled: Some(Settled {
                    key,
                    count: extra,
                    reason: SettleReason::Late,
                }),
            };
        }
        let previous = self.open.get(&key).map(|o| o.count).unwrap_or(0);
        let delta = count.saturating_sub(previous);
        let best = previous.max(count);
        if msg.is_final() {
            self.open.remove(&key);
            self.closed.insert(
                key,
                Closed {
                    count: best,
                    at: now,
                },
            );
            return Observation {
                delta,
                settled: Some(Settled {
                    key,
                    count: best,
                    reason: SettleReason::Final,
                }),
            };
        }
        match self.open.get_mut(&key) {
            Some(open) => {
                open.count = best;
                open.last_seen = now;
            }
            // Only the first message of a streak is kept whole (to report a lost final).
            None => {
                self.open.insert(
                    key,
                    Open {
                        count: best,
                        last_seen: now,
                        template: msg.clone(),
                    },
                );
            }
        }
        Observation {
            delta,
            settled: None,
        }
    }

    /// Settles streaks quiet for longer than the timeout, returning each with the message it
    /// was last seen with (its repeat_count set to the settled count).
    pub fn expire(&mut self, now: Instant) -> Vec<(GiftMessage, Settled)> {
        let timeout = self.timeout;
        let due: Vec<StreakKey> = self
            .open
            .iter()
            .filter(|(_, o)| now.saturating_duration_since(o.last_seen) >= timeout)
            .map(|(k, _)| *k)
            .collect();
        let mut out = Vec::with_capacity(due.len());
        for key in due {
            if let Some(open) = self.open.remove(&key) {
                self.closed.insert(
                    key,
                    Closed {
                        count: open.count,
                        at: now,
                    },
                );
                let mut msg = open.template;
                msg.repeat_count = open.count;
                msg.repeat_end = 1;
                out.push((
                    msg,
                    Settled {
                        key,
                        count: open.count,
                        reason: SettleReason::Timeout,
                    },
                ));
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
    pub fn flush(&mut self, now: Instant) -> Vec<(GiftMessage, Settled)> {
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
        assert_eq!(done[0].1.count, 4);
        assert_eq!(done[0].1.reason, SettleReason::Timeout);
        assert_eq!(done[0].0.repeat_count, 4);
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
        let mut counts: Vec<u32> = t.flush(now).iter().map(|(_, s)| s.count).collect();
        counts.sort();
        assert_eq!(counts, [3, 9]);
        assert_eq!(t.open_streaks(), 0);
    }
}
