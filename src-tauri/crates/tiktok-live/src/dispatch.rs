//! From decoded messages to [`Event`]s: dedupe by msg_id, streak counting, and the per-type
//! rules of protocol.md §4 (joins are member action 1 only; follow vs share by display key).

use std::collections::{HashSet, VecDeque};

use tokio::time::Instant;

use crate::error::Error;
use crate::event::{
    ChatEvent, Event, GiftEvent, LikeEvent, Meta, SubscribeEvent, UserEvent, ViewerCountEvent,
};
use crate::message::{self, Payload, SocialKind, WebcastMessage, MEMBER_ACTION_JOINED};
use crate::proto::BaseMessage;
use crate::streak::StreakTracker;

/// How many recent msg_ids are remembered at least. A reconnect replays at most a few hundred
/// messages, so this is ample while keeping memory fixed.
const DEDUPE_CAPACITY: usize = 100_000;

/// Hashes message ids with one multiply: they are server-assigned (not attacker-chosen per
/// bucket), so SipHash's flooding resistance buys nothing here and costs a visible share of
/// the dispatch time.
#[derive(Debug, Default, Clone, Copy)]
pub struct IdHasher(u64);

impl std::hash::Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(*b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_u64(&mut self, n: u64) {
        // Fold the high bits down so the table's low-bit buckets see all of the id.
        let x = (self.0 ^ n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        self.0 = x ^ (x >> 32);
    }
}

type IdSet = HashSet<u64, std::hash::BuildHasherDefault<IdHasher>>;

/// Ids per generation of [`Dedupe`]: 7/8 of a 32,768-bucket table, the most that table
/// holds without growing.
const GENERATION: usize = 28_672;
/// Generations kept: the one filling plus enough full ones to cover [`DEDUPE_CAPACITY`].
const GENERATIONS: usize = DEDUPE_CAPACITY.div_ceil(GENERATION) + 1;

/// A bounded set of recently seen message ids: it remembers at least the last
/// [`DEDUPE_CAPACITY`] ids (and at most [`GENERATIONS`] × [`GENERATION`]).
///
/// Ids are kept in generations, each a table that fills once and is then only read; the oldest
/// is emptied and reused when the newest is full. Forgetting the oldest id one at a time (a
/// set plus an order queue) costs 3.4 MB for 100,000 ids: the queue, and the removals'
/// tombstones that make the table double. Generations cost 1.5 MB and never allocate after
/// the first few hundred thousand messages.
#[derive(Debug, Default)]
pub struct Dedupe {
    /// Newest first.
    gens: VecDeque<IdSet>,
}

impl Dedupe {
    /// Records `id`; false if it was seen before. Id 0 means "no id" and is never a duplicate.
    pub fn first_time(&mut self, id: u64) -> bool {
        if id == 0 {
            return true;
        }
        if self.gens.iter().any(|g| g.contains(&id)) {
            return false;
        }
        if self.gens.front().is_none_or(|g| g.len() >= GENERATION) {
            let fresh = if self.gens.len() >= GENERATIONS {
                self.gens.pop_back().map(|mut oldest| {
                    oldest.clear();
                    oldest
                })
            } else {
                None
            };
            self.gens.push_front(fresh.unwrap_or_else(|| {
                IdSet::with_capacity_and_hasher(GENERATION, Default::default())
            }));
        }
        if let Some(newest) = self.gens.front_mut() {
            newest.insert(id);
        }
        true
    }

    /// Ids remembered now.
    pub fn len(&self) -> usize {
        self.gens.iter().map(HashSet::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.gens.iter().all(HashSet::is_empty)
    }

    /// Ids the tables have room for, all generations together.
    #[cfg(test)]
    fn room(&self) -> usize {
        self.gens.iter().map(HashSet::capacity).sum()
    }
}

/// Turns messages into events. One per stream: it survives reconnects, so replayed messages
/// are recognised and streaks continue.
#[derive(Debug, Default)]
pub struct Dispatcher {
    dedupe: Dedupe,
    /// Ids of events an earlier run handled (see [`Dispatcher::seed_msg_ids`]).
    seeded: IdSet,
    streaks: StreakTracker,
    /// Messages of methods we do not read, per method.
    unknown: std::collections::HashMap<String, u64>,
}

impl Dispatcher {
    pub fn new(streaks: StreakTracker) -> Self {
        Self {
            dedupe: Dedupe::default(),
            seeded: IdSet::default(),
            streaks,
            unknown: Default::default(),
        }
    }

    /// How many messages of each unread method went by.
    pub fn unknown_counts(&self) -> &std::collections::HashMap<String, u64> {
        &self.unknown
    }

    /// Remembers the ids of events an earlier run handled: messages with these ids are
    /// dropped, except stream control (a stream end or pause is state, never an action, and
    /// must not be lost to an id that collides).
    pub fn seed_msg_ids(&mut self, ids: impl IntoIterator<Item = u64>) {
        self.seeded.extend(ids.into_iter().filter(|&id| id != 0));
    }

    pub fn streaks(&mut self) -> &mut StreakTracker {
        &mut self.streaks
    }

    /// Decodes and dispatches one message. `None`: a duplicate, or a message that is not an
    /// event (e.g. a member action other than joining).
    pub fn dispatch(&mut self, base: BaseMessage, now: Instant) -> Option<Result<Event, Error>> {
        match message::decode(base) {
            Ok(msg) => self.event(msg, now).map(Ok),
            Err(e) => {
                if e.msg_id != 0 && !self.dedupe.first_time(e.msg_id) {
                    return None;
                }
                Some(Err(Error::Decode(e)))
            }
        }
    }

    /// Dispatches an already decoded message.
    pub fn event(&mut self, msg: WebcastMessage, now: Instant) -> Option<Event> {
        if !matches!(msg.payload, Payload::Control(_)) && self.seeded.contains(&msg.msg_id) {
            return None;
        }
        if !self.dedupe.first_time(msg.msg_id) {
            return None;
        }
        let meta = Meta {
            msg_id: msg.msg_id,
            is_history: msg.is_history,
            create_time: msg.create_time,
        };
        let event = match msg.payload {
            Payload::Gift(gift) => {
                let obs =
                    self.streaks
                        .observe_created(&gift, now, meta.is_history, meta.create_time);
                Event::Gift(Box::new(GiftEvent {
                    meta,
                    in_streak: crate::streak::counts_as_streak(&gift),
                    streak: obs.key,
                    gift,
                    delta: obs.delta,
                    settled: obs.settled,
                }))
            }
            Payload::Like(m) => Event::Like(LikeEvent {
                meta,
                user: m.user,
                count: m.count,
                total: m.total,
            }),
            Payload::Social(m) => match m.kind {
                SocialKind::Follow => Event::Follow(UserEvent { meta, user: m.user }),
                SocialKind::Share => Event::Share(UserEvent { meta, user: m.user }),
                SocialKind::Other => return None,
            },
            Payload::Member(m) if m.action == MEMBER_ACTION_JOINED => {
                Event::Join(UserEvent { meta, user: m.user })
            }
            Payload::Member(_) => return None,
            Payload::Chat(m) => Event::Chat(ChatEvent {
                meta,
                user: m.user,
                content: m.content,
            }),
            Payload::Subscribe(m) => Event::Subscribe(SubscribeEvent {
                meta,
                user: m.user,
                sub_month: m.sub_month,
            }),
            Payload::ViewerCount(m) => Event::ViewerCount(ViewerCountEvent {
                meta,
                total: m.total,
                total_user: m.total_user,
            }),
            // A pause or end replayed from before we connected says nothing about now.
            Payload::Control(_) if msg.is_history => return None,
            Payload::Control(c) => match c.action {
                message::CONTROL_PAUSED => Event::StreamPaused,
                message::CONTROL_UNPAUSED => Event::StreamUnpaused,
                message::CONTROL_ENDED => Event::StreamEnded { suspended: false },
                message::CONTROL_SUSPENDED => Event::StreamEnded { suspended: true },
                _ => return None,
            },
            Payload::Unknown(bytes) => {
                let count = self.unknown.entry(msg.method.clone()).or_default();
                *count += 1;
                tracing::debug!(method = %msg.method, count = *count, bytes, "a message type we do not read");
                Event::Unknown {
                    method: msg.method,
                    msg_id: msg.msg_id,
                    bytes,
                }
            }
        };
        Some(event)
    }

    /// Gift events for streaks whose final never came (settled with their last count).
    pub fn expire_streaks(&mut self, now: Instant) -> Vec<Event> {
        Self::settled_events(self.streaks.expire(now))
    }

    /// Settles every open streak (the stream ended or the client stops).
    pub fn flush_streaks(&mut self, now: Instant) -> Vec<Event> {
        Self::settled_events(self.streaks.flush(now))
    }

    fn settled_events(done: Vec<crate::streak::Expired>) -> Vec<Event> {
        done.into_iter()
            .map(|e| {
                Event::Gift(Box::new(GiftEvent {
                    meta: Meta {
                        msg_id: 0,
                        is_history: e.history,
                        create_time: 0,
                    },
                    in_streak: true,
                    streak: e.settled.key,
                    gift: e.gift,
                    delta: 0,
                    settled: Some(e.settled),
                }))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use prost::Message as _;

    use super::*;
    use crate::message::method;
    use crate::proto;

    fn base(method: &str, payload: Vec<u8>, msg_id: u64) -> BaseMessage {
        BaseMessage {
            method: method.into(),
            payload,
            msg_id: msg_id as i64,
            ..Default::default()
        }
    }

    fn member(action: i32, id: u64) -> BaseMessage {
        let m = proto::MemberMessage {
            action,
            user: Some(proto::User {
                id: 5,
                ..Default::default()
            }),
            ..Default::default()
        };
        base(method::MEMBER, m.encode_to_vec(), id)
    }

    #[test]
    fn duplicates_are_dropped() {
        let mut d = Dispatcher::default();
        let now = Instant::now();
        assert!(d.dispatch(member(1, 10), now).is_some());
        assert!(d.dispatch(member(1, 10), now).is_none());
        assert!(d.dispatch(member(1, 11), now).is_some());
    }

    #[test]
    fn only_member_action_one_is_a_join() {
        let mut d = Dispatcher::default();
        let now = Instant::now();
        assert!(matches!(
            d.dispatch(member(1, 1), now),
            Some(Ok(Event::Join(_)))
        ));
        assert!(d.dispatch(member(2, 2), now).is_none());
        assert!(d.dispatch(member(3, 3), now).is_none());
    }

    #[test]
    fn controls_map_to_stream_events() {
        let mut d = Dispatcher::default();
        let now = Instant::now();
        let ctl = |action: i32, id| {
            base(
                method::CONTROL,
                proto::ControlMessage {
                    action,
                    ..Default::default()
                }
                .encode_to_vec(),
                id,
            )
        };
        assert_eq!(
            d.dispatch(ctl(1, 1), now).unwrap().unwrap(),
            Event::StreamPaused
        );
        assert_eq!(
            d.dispatch(ctl(2, 2), now).unwrap().unwrap(),
            Event::StreamUnpaused
        );
        assert_eq!(
            d.dispatch(ctl(3, 3), now).unwrap().unwrap(),
            Event::StreamEnded { suspended: false }
        );
        assert_eq!(
            d.dispatch(ctl(4, 4), now).unwrap().unwrap(),
            Event::StreamEnded { suspended: true }
        );
    }

    #[test]
    fn seeded_ids_drop_events_but_never_a_stream_end() {
        let mut d = Dispatcher::default();
        d.seed_msg_ids([1, 2]);
        let now = Instant::now();
        assert!(d.dispatch(member(1, 1), now).is_none(), "handled before");
        let end = base(
            method::CONTROL,
            proto::ControlMessage {
                action: 3,
                ..Default::default()
            }
            .encode_to_vec(),
            2,
        );
        assert_eq!(
            d.dispatch(end, now).unwrap().unwrap(),
            Event::StreamEnded { suspended: false }
        );
        assert!(matches!(
            d.dispatch(member(1, 3), now),
            Some(Ok(Event::Join(_)))
        ));
    }

    #[test]
    fn decode_errors_are_items_and_deduped_too() {
        let mut d = Dispatcher::default();
        let now = Instant::now();
        let bad = base(method::GIFT, vec![0x0a, 0xff], 44);
        assert!(matches!(
            d.dispatch(bad.clone(), now),
            Some(Err(Error::Decode(_)))
        ));
        assert!(d.dispatch(bad, now).is_none());
    }

    #[test]
    fn dedupe_remembers_at_least_its_capacity_and_forgets_the_oldest_beyond() {
        let mut dd = Dedupe::default();
        let cap = DEDUPE_CAPACITY as u64;
        for id in 1..=cap {
            assert!(dd.first_time(id));
        }
        assert_eq!(dd.len(), DEDUPE_CAPACITY);
        // A million more ids: the last DEDUPE_CAPACITY are always remembered.
        for id in cap + 1..=cap + 1_000_000 {
            assert!(dd.first_time(id));
            if id % 99_991 == 0 {
                for back in [0, 1, cap / 2, cap - 1] {
                    assert!(!dd.first_time(id - back), "{} forgotten at {id}", id - back);
                }
            }
        }
        assert!(dd.first_time(1), "the oldest ids were forgotten");
        assert!(dd.len() <= GENERATIONS * GENERATION);
        // The tables were sized once: no growth past their first size.
        assert_eq!(dd.room(), GENERATIONS * GENERATION);
        assert!(
            dd.first_time(0) && dd.first_time(0),
            "id 0 is never a duplicate"
        );
    }
}
