//! Regressions from a review of streak counting: reused group ids, history-only streaks that
//! time out, and gifts without their details.

use std::time::Duration;
use tiktok_live::dispatch::Dispatcher;
use tiktok_live::event::Event;
use tiktok_live::message::{GiftDetails, GiftMessage, Payload, User, WebcastMessage};
use tiktok_live::streak::StreakTracker;
use tokio::time::Instant;

fn gift(id: u64, user: u64, group: u64, count: u32, end: bool, details: bool) -> WebcastMessage {
    WebcastMessage {
        method: "WebcastGiftMessage".into(),
        msg_id: id,
        is_history: false,
        create_time: 0,
        payload: Payload::Gift(GiftMessage {
            gift_id: 5655,
            gift: details.then(|| GiftDetails {
                id: 5655,
                name: "Rose".into(),
                diamond_count: 1,
                gift_type: 1,
                ..Default::default()
            }),
            user: Some(User {
                id: user,
                ..Default::default()
            }),
            to_user: None,
            repeat_count: count,
            repeat_end: i32::from(end),
            group_id: group,
        }),
    }
}

fn settled(ev: &Option<Event>) -> u32 {
    match ev {
        Some(Event::Gift(g)) => g.settled.as_ref().map(|s| s.count).unwrap_or(0),
        _ => 0,
    }
}

/// Two separate streaks of the same viewer and gift that share a group_id (0 when the field
/// is absent) within SETTLED_MEMORY: the second one is swallowed.
#[test]
fn second_streak_with_same_group_id_is_counted() {
    let mut d = Dispatcher::new(StreakTracker::default());
    let now = Instant::now();
    let mut total = 0;
    for (id, c, e) in [(1, 1, false), (2, 3, false), (3, 3, true)] {
        total += settled(&d.event(gift(id, 7, 0, c, e, true), now));
    }
    for (id, c, e) in [(4, 1, false), (5, 2, false), (6, 2, true)] {
        total += settled(&d.event(gift(id, 7, 0, c, e, true), now + Duration::from_secs(5)));
    }
    assert_eq!(total, 5, "3 roses + 2 roses");
}

/// A streak seen only in the connect-time history (never acted on) is later settled by the
/// timeout as a *live* event (is_history=false) and so acted on.
#[tokio::test(start_paused = true)]
async fn timeout_settle_of_a_history_streak_keeps_the_history_flag() {
    let mut d = Dispatcher::new(StreakTracker::new(Duration::from_secs(10)));
    let now = Instant::now();
    let mut m = gift(1, 7, 99, 4, false, true);
    m.is_history = true;
    let _ = d.event(m, now);
    let out = d.expire_streaks(now + Duration::from_secs(11));
    assert_eq!(out.len(), 1);
    let Event::Gift(g) = &out[0] else { panic!() };
    assert!(
        g.meta.is_history,
        "settled {:?} of a history-only streak is not flagged history",
        g.settled
    );
}

/// A streakable gift whose `gift` sub-message is missing is treated as non-streakable: every
/// intermediate message is settled with its running total.
#[test]
fn streak_without_gift_details_is_not_overcounted() {
    let mut d = Dispatcher::new(StreakTracker::default());
    let now = Instant::now();
    let mut total = 0;
    for (id, c, e) in [(1, 1, false), (2, 2, false), (3, 3, false), (4, 3, true)] {
        total += settled(&d.event(gift(id, 7, 42, c, e, false), now));
    }
    assert_eq!(total, 3);
}
