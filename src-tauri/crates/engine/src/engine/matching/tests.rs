//! The matching table: each case is rules + a timed sequence of events + every match expected,
//! in order, as `(rule id, runs, {count})`.

use std::time::Duration;

use tokio::time::Instant;

use super::*;
use crate::engine::input::GiftIn;
use crate::engine::rules::{Step, DEFAULT_MAX_PER_STREAK};

fn viewer(id: u64) -> Viewer {
    Viewer {
        id,
        unique_id: format!("user{id}"),
        nickname: format!("User {id}"),
        follower_count: Some(id * 10),
        is_follower: id.is_multiple_of(2),
        is_moderator: id == 7,
        is_subscriber: id == 9,
    }
}

fn ev(msg_id: u64, user: u64, payload: Payload) -> Input {
    Input {
        msg_id,
        is_history: false,
        user: (user != 0).then(|| viewer(user)),
        payload,
    }
}

/// A Rose (1 coin, streakable) message of a streak.
fn rose(msg_id: u64, user: u64, group: u64, repeat: u32, settled: Option<(u32, Settle)>) -> Input {
    gift(msg_id, user, "Rose", 5655, 1, true, group, repeat, settled)
}

#[allow(clippy::too_many_arguments)]
fn gift(
    msg_id: u64,
    user: u64,
    name: &str,
    id: u64,
    coins: u32,
    streakable: bool,
    group: u64,
    repeat: u32,
    settled: Option<(u32, Settle)>,
) -> Input {
    ev(
        msg_id,
        user,
        Payload::Gift(GiftIn {
            gift_id: id,
            name: name.into(),
            coins,
            streakable,
            group_id: group,
            streak_generation: 0,
            repeat_count: repeat,
            delta: 0,
            settled,
        }),
    )
}

fn chat(msg_id: u64, user: u64, text: &str) -> Input {
    ev(msg_id, user, Payload::Chat { text: text.into() })
}

fn like(msg_id: u64, user: u64, count: u32, total: u64) -> Input {
    ev(msg_id, user, Payload::Like { count, total })
}

fn rule(id: &str, trigger: Trigger) -> Rule {
    Rule {
        id: id.into(),
        name: String::new(),
        enabled: true,
        trigger,
        filters: Filters::default(),
        actions: vec!["cmd".into()],
        streak_mode: None,
        max_per_streak: DEFAULT_MAX_PER_STREAK,
        run_per_threshold: false,
    }
}

fn with_mode(mut r: Rule, mode: StreakMode) -> Rule {
    r.streak_mode = Some(mode);
    r
}

fn with_filters(mut r: Rule, f: Filters) -> Rule {
    r.filters = f;
    r
}

fn gift_rule(id: &str, name: &str) -> Rule {
    rule(
        id,
        Trigger::Gift {
            name: Some(name.into()),
            id: None,
        },
    )
}

fn actions() -> Vec<Action> {
    vec![
        Action {
            id: "cmd".into(),
            name: String::new(),
            lane: None,
            steps: vec![Step::Command {
                template: "say hi".into(),
            }],
        },
        Action {
            id: "snd".into(),
            name: String::new(),
            lane: None,
            steps: vec![Step::Sound {
                file: "a.wav".into(),
                volume: 1.0,
            }],
        },
    ]
}

struct Case {
    name: &'static str,
    rules: Vec<Rule>,
    /// `(ms since start, event)`.
    events: Vec<(u64, Input)>,
    expect: Vec<(&'static str, u32, Option<u64>)>,
}

fn run(case: &Case) -> Vec<(String, u32, Option<u64>)> {
    let rules = RuleSet::new(&case.rules, &actions());
    let mut state = MatchState::new();
    let start = Instant::now();
    let mut got = Vec::new();
    for (at, input) in &case.events {
        let now = start + Duration::from_millis(*at);
        for m in evaluate(input, &rules, &mut state, now).matches {
            got.push((m.rule_id, m.runs, m.vars.count));
        }
    }
    got
}

fn cases() -> Vec<Case> {
    let final_ = Settle::Final;
    vec![
        Case {
            name: "once per unit fires at the final only, 5 roses = 5 runs",
            rules: vec![gift_rule("rose", "Rose")],
            events: vec![
                (0, rose(1, 2, 10, 1, None)),
                (10, rose(2, 2, 10, 3, None)),
                (20, rose(3, 2, 10, 5, Some((5, final_)))),
            ],
            expect: vec![("rose", 5, Some(1))],
        },
        Case {
            name: "a rule naming the gift wins; its id rules stay quiet (the seed's elif)",
            rules: vec![
                gift_rule("by-name", "rOSE"),
                rule(
                    "by-id",
                    Trigger::Gift {
                        name: None,
                        id: Some(5655),
                    },
                ),
                rule(
                    "renamed-or-id",
                    Trigger::Gift {
                        name: Some("Renamed".into()),
                        id: Some(5655),
                    },
                ),
                gift_rule("other", "Lion"),
                rule(
                    "coins",
                    Trigger::GiftCoins {
                        unit_coins_at_least: Some(1),
                        unit_coins_at_most: None,
                        streak_coins_at_least: None,
                    },
                ),
            ],
            events: vec![(0, rose(1, 2, 10, 1, Some((1, final_))))],
            expect: vec![("by-name", 1, Some(1)), ("coins", 1, Some(1))],
        },
        Case {
            name: "id rules fire when no rule names the gift",
            rules: vec![
                rule(
                    "by-id",
                    Trigger::Gift {
                        name: None,
                        id: Some(5655),
                    },
                ),
                rule(
                    "renamed-or-id",
                    Trigger::Gift {
                        name: Some("Renamed".into()),
                        id: Some(5655),
                    },
                ),
                gift_rule("other", "Lion"),
            ],
            events: vec![(0, rose(1, 2, 10, 1, Some((1, final_))))],
            expect: vec![("by-id", 1, Some(1)), ("renamed-or-id", 1, Some(1))],
        },
        Case {
            name: "a disabled name rule does not silence the id rule",
            rules: vec![
                {
                    let mut r = gift_rule("off", "Rose");
                    r.enabled = false;
                    r
                },
                rule(
                    "by-id",
                    Trigger::Gift {
                        name: None,
                        id: Some(5655),
                    },
                ),
            ],
            events: vec![(0, rose(1, 2, 10, 1, Some((1, final_))))],
            expect: vec![("by-id", 1, Some(1))],
        },
        Case {
            name: "once per streak with the count (default for sounds)",
            rules: vec![{
                let mut r = gift_rule("snd", "Rose");
                r.actions = vec!["snd".into()];
                r
            }],
            events: vec![
                (0, rose(1, 2, 10, 40, None)),
                (10, rose(2, 2, 10, 99, Some((99, final_)))),
            ],
            expect: vec![("snd", 1, Some(99))],
        },
        Case {
            name: "live mode fires per increment with the delta",
            rules: vec![with_mode(gift_rule("live", "Rose"), StreakMode::Live)],
            events: vec![
                (0, rose(1, 2, 10, 2, None)),
                (10, rose(2, 2, 10, 2, None)),
                (20, rose(3, 2, 10, 5, None)),
                (30, rose(4, 2, 10, 6, Some((6, final_)))),
            ],
            expect: vec![
                ("live", 1, Some(2)),
                ("live", 1, Some(3)),
                ("live", 1, Some(1)),
            ],
        },
        Case {
            name: "per-unit cap per streak",
            rules: vec![{
                let mut r = gift_rule("rose", "Rose");
                r.max_per_streak = 3;
                r
            }],
            events: vec![(0, rose(1, 2, 10, 50, Some((50, final_))))],
            expect: vec![("rose", 3, Some(1))],
        },
        Case {
            name: "interleaved streaks of two viewers count separately",
            rules: vec![gift_rule("rose", "Rose")],
            events: vec![
                (0, rose(1, 2, 10, 1, None)),
                (1, rose(2, 4, 10, 1, None)),
                (2, rose(3, 2, 10, 4, None)),
                (3, rose(4, 4, 10, 2, Some((2, final_)))),
                (4, rose(5, 2, 10, 4, Some((4, final_)))),
            ],
            expect: vec![("rose", 2, Some(1)), ("rose", 4, Some(1))],
        },
        Case {
            name: "a duplicate msg_id never fires twice",
            rules: vec![gift_rule("rose", "Rose")],
            events: vec![
                (0, rose(1, 2, 10, 3, Some((3, final_)))),
                (5, rose(1, 2, 10, 3, Some((3, final_)))),
            ],
            expect: vec![("rose", 3, Some(1))],
        },
        Case {
            name: "a replayed final with a new msg_id is absorbed by the streak ledger",
            rules: vec![gift_rule("rose", "Rose")],
            events: vec![
                (0, rose(1, 2, 10, 3, Some((3, final_)))),
                (5, rose(99, 2, 10, 3, Some((3, final_)))),
            ],
            expect: vec![("rose", 3, Some(1))],
        },
        Case {
            name: "lost final settled by timeout, then a late final adds only the rest",
            rules: vec![gift_rule("rose", "Rose")],
            events: vec![
                (0, rose(1, 2, 10, 4, None)),
                (10_000, rose(0, 2, 10, 4, Some((4, Settle::Timeout)))),
                (11_000, rose(2, 2, 10, 6, Some((2, Settle::Late)))),
                (12_000, rose(0, 2, 10, 4, Some((4, Settle::Timeout)))),
            ],
            expect: vec![("rose", 4, Some(1)), ("rose", 2, Some(1))],
        },
        Case {
            name: "non-streak gift is final at once, with its repeat count",
            rules: vec![gift_rule("lion", "Lion")],
            events: vec![(
                0,
                gift(1, 2, "Lion", 1, 29_999, false, 0, 1, Some((1, final_))),
            )],
            expect: vec![("lion", 1, Some(1))],
        },
        Case {
            name: "unit coin range matches the per-unit value",
            rules: vec![with_mode(
                rule(
                    "big",
                    Trigger::GiftCoins {
                        unit_coins_at_least: Some(100),
                        unit_coins_at_most: Some(200),
                        streak_coins_at_least: None,
                    },
                ),
                StreakMode::PerStreak,
            )],
            events: vec![
                (0, rose(1, 2, 10, 500, Some((500, final_)))),
                (1, gift(2, 2, "Hat", 2, 99, false, 0, 1, Some((1, final_)))),
                (2, gift(3, 2, "Cap", 3, 100, false, 0, 1, Some((1, final_)))),
                (3, gift(4, 2, "Car", 4, 201, false, 0, 1, Some((1, final_)))),
            ],
            expect: vec![("big", 1, Some(1))],
        },
        Case {
            name: "whole-streak value: once when the streak is worth 100 coins, whatever the gift",
            rules: vec![with_mode(
                rule(
                    "fanfare",
                    Trigger::GiftCoins {
                        unit_coins_at_least: None,
                        unit_coins_at_most: None,
                        streak_coins_at_least: Some(100),
                    },
                ),
                StreakMode::PerStreak,
            )],
            events: vec![
                // 99 Roses: 99 coins, nothing.
                (0, rose(1, 2, 10, 99, Some((99, final_)))),
                // 150 Roses in one streak: once, with the whole streak.
                (1, rose(2, 3, 11, 60, None)),
                (2, rose(3, 3, 11, 150, Some((150, final_)))),
                // A replayed final adds nothing.
                (3, rose(4, 3, 11, 150, Some((150, final_)))),
                // One 100-coin gift.
                (4, gift(5, 2, "Cap", 3, 100, false, 0, 1, Some((1, final_)))),
                // 20 x 5 coins = 100.
                (
                    5,
                    gift(6, 4, "Heart", 5, 5, true, 12, 20, Some((20, final_))),
                ),
            ],
            expect: vec![
                ("fanfare", 1, Some(150)),
                ("fanfare", 1, Some(1)),
                ("fanfare", 1, Some(20)),
            ],
        },
        Case {
            name: "whole-streak value with a lost final: the timeout crosses, late units add",
            rules: vec![with_mode(
                rule(
                    "fanfare",
                    Trigger::GiftCoins {
                        unit_coins_at_least: None,
                        unit_coins_at_most: None,
                        streak_coins_at_least: Some(100),
                    },
                ),
                StreakMode::PerStreak,
            )],
            events: vec![
                (0, rose(1, 3, 11, 80, Some((80, Settle::Timeout)))),
                (1, rose(2, 3, 11, 30, Some((30, Settle::Late)))),
            ],
            expect: vec![("fanfare", 1, Some(110))],
        },
        Case {
            name: "chat command: case-insensitive first word, not a prefix of a longer word",
            rules: vec![rule(
                "tnt",
                Trigger::ChatCommand {
                    command: "!tnt".into(),
                },
            )],
            events: vec![
                (0, chat(1, 2, "!TNT big one")),
                (1, chat(2, 3, "!tntx")),
                (2, chat(3, 4, "say !tnt")),
                (3, chat(4, 5, "  !tnt")),
            ],
            expect: vec![("tnt", 1, None), ("tnt", 1, None)],
        },
        Case {
            name: "per-user cooldown: same viewer waits, others do not",
            rules: vec![with_filters(
                rule(
                    "tnt",
                    Trigger::ChatCommand {
                        command: "!tnt".into(),
                    },
                ),
                Filters {
                    user_cooldown_ms: 10_000,
                    ..Filters::default()
                },
            )],
            events: vec![
                (0, chat(1, 2, "!tnt")),
                (5_000, chat(2, 2, "!tnt")),
                (5_001, chat(3, 3, "!tnt")),
                (10_000, chat(4, 2, "!tnt")),
            ],
            expect: vec![("tnt", 1, None), ("tnt", 1, None), ("tnt", 1, None)],
        },
        Case {
            name: "global cooldown",
            rules: vec![with_filters(
                rule("j", Trigger::Join),
                Filters {
                    global_cooldown_ms: 1_000,
                    ..Filters::default()
                },
            )],
            events: vec![
                (0, ev(1, 2, Payload::Join)),
                (500, ev(2, 3, Payload::Join)),
                (1_000, ev(3, 4, Payload::Join)),
            ],
            expect: vec![("j", 1, None), ("j", 1, None)],
        },
        Case {
            name: "once per user per stream stops follow farming; a new room resets it",
            rules: vec![with_filters(
                rule("f", Trigger::Follow),
                Filters {
                    once_per_user_per_stream: true,
                    ..Filters::default()
                },
            )],
            events: vec![
                (
                    0,
                    ev(
                        0,
                        0,
                        Payload::StreamStart {
                            room_id: 1,
                            reconnect: false,
                        },
                    ),
                ),
                (1, ev(1, 2, Payload::Follow)),
                (2, ev(2, 2, Payload::Follow)),
                (
                    3,
                    ev(
                        0,
                        0,
                        Payload::StreamStart {
                            room_id: 1,
                            reconnect: true,
                        },
                    ),
                ),
                (4, ev(3, 2, Payload::Follow)),
                (
                    5,
                    ev(
                        0,
                        0,
                        Payload::StreamStart {
                            room_id: 2,
                            reconnect: false,
                        },
                    ),
                ),
                (6, ev(4, 2, Payload::Follow)),
            ],
            expect: vec![("f", 1, None), ("f", 1, None)],
        },
        Case {
            name: "followers only, min followers, moderators or subscribers",
            rules: vec![
                with_filters(
                    rule("fol", Trigger::Share),
                    Filters {
                        followers_only: true,
                        ..Filters::default()
                    },
                ),
                with_filters(
                    rule("min", Trigger::Share),
                    Filters {
                        min_followers: Some(50),
                        ..Filters::default()
                    },
                ),
                with_filters(
                    rule("role", Trigger::Share),
                    Filters {
                        moderators_only: true,
                        subscribers_only: true,
                        ..Filters::default()
                    },
                ),
            ],
            events: vec![
                (0, ev(1, 2, Payload::Share)),
                (1, ev(2, 7, Payload::Share)),
                (2, ev(3, 9, Payload::Share)),
                (3, ev(4, 0, Payload::Share)),
            ],
            expect: vec![
                ("fol", 1, None),
                ("min", 1, None),
                ("role", 1, None),
                ("min", 1, None),
                ("role", 1, None),
            ],
        },
        Case {
            name: "every 100 likes of the room total, counting each crossing",
            rules: vec![rule(
                "likes",
                Trigger::Likes {
                    every: Some(100),
                    per_user: None,
                },
            )],
            events: vec![
                (0, like(1, 2, 15, 95)),
                (1, like(2, 3, 10, 105)),
                (2, like(3, 3, 10, 104)),
                (3, like(4, 3, 200, 310)),
            ],
            // One run per message, `{count}` = thresholds crossed.
            expect: vec![("likes", 1, Some(1)), ("likes", 1, Some(2))],
        },
        Case {
            name: "likes per user",
            rules: vec![rule(
                "mine",
                Trigger::Likes {
                    every: None,
                    per_user: Some(10),
                },
            )],
            events: vec![
                (0, like(1, 2, 6, 6)),
                (1, like(2, 3, 6, 12)),
                (2, like(3, 2, 6, 18)),
            ],
            expect: vec![("mine", 1, Some(1))],
        },
        Case {
            name: "viewer milestone once per multiple",
            rules: vec![rule("v", Trigger::ViewerMilestone { every: 100 })],
            events: vec![
                (0, ev(1, 0, Payload::ViewerCount { total: 50 })),
                (1, ev(2, 0, Payload::ViewerCount { total: 120 })),
                (2, ev(3, 0, Payload::ViewerCount { total: 90 })),
                (3, ev(4, 0, Payload::ViewerCount { total: 150 })),
                (4, ev(5, 0, Payload::ViewerCount { total: 430 })),
            ],
            expect: vec![("v", 1, None), ("v", 1, None)],
        },
        Case {
            name: "stream start fires on a fresh connect only; stream end fires",
            rules: vec![
                rule("start", Trigger::StreamStart),
                rule("end", Trigger::StreamEnd),
            ],
            events: vec![
                (
                    0,
                    ev(
                        0,
                        0,
                        Payload::StreamStart {
                            room_id: 1,
                            reconnect: false,
                        },
                    ),
                ),
                (
                    1,
                    ev(
                        0,
                        0,
                        Payload::StreamStart {
                            room_id: 1,
                            reconnect: true,
                        },
                    ),
                ),
                (2, ev(0, 0, Payload::StreamEnd)),
            ],
            expect: vec![("start", 1, None), ("end", 1, None)],
        },
        Case {
            name: "disabled rules never fire",
            rules: vec![{
                let mut r = rule("off", Trigger::Follow);
                r.enabled = false;
                r
            }],
            events: vec![(0, ev(1, 2, Payload::Follow))],
            expect: vec![],
        },
    ]
}

#[test]
fn matching_table() {
    let mut failures = Vec::new();
    for case in cases() {
        let got = run(&case);
        let want: Vec<(String, u32, Option<u64>)> = case
            .expect
            .iter()
            .map(|(r, n, c)| (r.to_string(), *n, *c))
            .collect();
        if got != want {
            failures.push(format!("{}:\n  want {want:?}\n  got  {got:?}", case.name));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn history_is_never_acted_on() {
    let rules = RuleSet::new(&[gift_rule("rose", "Rose")], &actions());
    let mut state = MatchState::new();
    let mut old = rose(1, 2, 10, 3, Some((3, Settle::Final)));
    old.is_history = true;
    let e = evaluate(&old, &rules, &mut state, Instant::now());
    assert!(e.matches.is_empty());
}

#[test]
fn chat_args_and_gift_values_reach_the_template() {
    let tnt = rule(
        "tnt",
        Trigger::ChatCommand {
            command: "!tnt".into(),
        },
    );
    let rules = RuleSet::new(
        &[
            tnt,
            with_mode(gift_rule("r", "Rose"), StreakMode::PerStreak),
        ],
        &actions(),
    );
    let mut state = MatchState::new();
    let now = Instant::now();
    let m = evaluate(&chat(1, 2, "!tnt  a  b "), &rules, &mut state, now).matches;
    assert_eq!(m[0].vars.comment.as_deref(), Some("a  b"));
    assert_eq!(m[0].vars.user, "User 2");
    assert_eq!(m[0].vars.username, "user2");
    assert!(!m[0].paid);
    let m = evaluate(
        &gift(2, 2, "Rose", 5655, 3, true, 1, 4, Some((4, Settle::Final))),
        &rules,
        &mut state,
        now,
    )
    .matches;
    assert_eq!(m[0].vars.count, Some(4));
    assert_eq!(m[0].vars.coins, Some(12));
    assert!(m[0].paid);
}

#[test]
fn skips_say_why() {
    let r = with_filters(
        rule("f", Trigger::Follow),
        Filters {
            user_cooldown_ms: 1_000,
            ..Filters::default()
        },
    );
    let rules = RuleSet::new(&[r], &actions());
    let mut state = MatchState::new();
    let now = Instant::now();
    evaluate(&ev(1, 2, Payload::Follow), &rules, &mut state, now);
    let e = evaluate(
        &ev(2, 2, Payload::Follow),
        &rules,
        &mut state,
        now + Duration::from_millis(400),
    );
    assert_eq!(
        e.skipped,
        vec![("f".to_string(), Skip::UserCooldown { remaining_ms: 600 })]
    );
}

#[test]
fn units_over_the_streak_cap_are_reported() {
    let mut capped = gift_rule("rose", "Rose");
    capped.max_per_streak = 3;
    let rules = RuleSet::new(&[capped], &actions());
    let mut state = MatchState::new();
    let e = evaluate(
        &rose(1, 2, 10, 50, Some((50, Settle::Final))),
        &rules,
        &mut state,
        Instant::now(),
    );
    assert_eq!(e.matches.len(), 1);
    assert_eq!(e.matches[0].runs, 3);
    assert_eq!(
        e.skipped,
        vec![(
            "rose".to_string(),
            Skip::OverStreakCap { cap: 3, units: 47 }
        )]
    );
}

#[test]
fn per_viewer_like_counters_exist_only_for_a_per_viewer_rule() {
    let room = rule(
        "room",
        Trigger::Likes {
            every: Some(100),
            per_user: None,
        },
    );
    let mine = rule(
        "mine",
        Trigger::Likes {
            every: None,
            per_user: Some(10),
        },
    );
    let now = Instant::now();
    let mut state = MatchState::new();
    let rules = RuleSet::new(std::slice::from_ref(&room), &actions());
    for i in 1..=1_000u64 {
        evaluate(&like(i, i, 1, i), &rules, &mut state, now);
    }
    assert_eq!(state.tracked_likers(), 0);
    let rules = RuleSet::new(&[room, mine], &actions());
    for i in 1_001..=1_100u64 {
        evaluate(&like(i, i, 1, i), &rules, &mut state, now);
    }
    assert_eq!(state.tracked_likers(), 100);
    // The per-viewer rule is gone after a reload: so are its counters.
    let rules = RuleSet::new(&[], &actions());
    evaluate(&like(5_000, 1, 1, 5_000), &rules, &mut state, now);
    assert_eq!(state.tracked_likers(), 0);
}

#[test]
fn paid_units_stopped_by_a_filter_or_the_cap_are_reported_with_their_count() {
    let capped = {
        let mut r = with_filters(
            gift_rule("rose", "Rose"),
            Filters {
                user_cooldown_ms: 10_000,
                ..Filters::default()
            },
        );
        r.max_per_streak = 2;
        r
    };
    let rules = RuleSet::new(&[capped], &actions());
    let mut state = MatchState::new();
    let now = Instant::now();
    let e = evaluate(
        &gift(1, 2, "Rose", 5655, 3, true, 1, 5, Some((5, Settle::Final))),
        &rules,
        &mut state,
        now,
    );
    assert_eq!(e.matches[0].runs, 2);
    assert_eq!(e.paid_skips.len(), 1);
    assert_eq!(
        e.paid_skips[0].skip,
        Skip::OverStreakCap { cap: 2, units: 3 }
    );
    assert_eq!(
        (e.paid_skips[0].vars.count, e.paid_skips[0].vars.coins),
        (Some(3), Some(9))
    );
    let e = evaluate(
        &gift(2, 2, "Rose", 5655, 3, true, 2, 1, Some((1, Settle::Final))),
        &rules,
        &mut state,
        now,
    );
    assert!(e.matches.is_empty());
    assert!(matches!(e.paid_skips[0].skip, Skip::UserCooldown { .. }));
    assert_eq!(
        (e.paid_skips[0].vars.count, e.paid_skips[0].vars.coins),
        (Some(1), Some(3))
    );
    assert!(e.paid_skips[0].skip.to_string().contains("cooldown"));
    // Unpaid events never produce paid skips.
    let follow = with_filters(
        rule("f", Trigger::Follow),
        Filters {
            followers_only: true,
            ..Filters::default()
        },
    );
    let rules = RuleSet::new(&[follow], &actions());
    let e = evaluate(&ev(3, 1, Payload::Follow), &rules, &mut state, now);
    assert_eq!(e.skipped.len(), 1);
    assert!(e.paid_skips.is_empty());
}

/// Runs `events` and returns `(rule, runs)` per match, plus the last ledger handed out.
fn run_all(
    rules: &RuleSet,
    state: &mut MatchState,
    events: &[Input],
) -> (Vec<(String, u32)>, Option<LedgerState>) {
    let now = Instant::now();
    let mut out = Vec::new();
    let mut last = None;
    for e in events {
        let ev = evaluate(e, rules, state, now);
        out.extend(ev.matches.iter().map(|m| (m.rule_id.clone(), m.runs)));
        if ev.streak.is_some() {
            last = ev.streak;
        }
    }
    (out, last)
}

#[test]
fn a_restart_settles_only_what_the_stored_ledger_left_and_drops_seen_ids() {
    let rules = RuleSet::new(&[gift_rule("rose", "Rose")], &actions());
    // Before the crash: 5 Roses settled by timeout (the final was late), the streak went on.
    let mut before = MatchState::new();
    let (fired, ledger) = run_all(
        &rules,
        &mut before,
        &[
            rose(1, 3, 77, 5, None),
            rose(0, 3, 77, 5, Some((5, Settle::Timeout))),
            rose(2, 3, 77, 7, None),
        ],
    );
    assert_eq!(fired, vec![("rose".into(), 5)]);
    let ledger = ledger.expect("a ledger to store");
    assert_eq!((ledger.settled, ledger.live, ledger.ended), (5, 7, false));

    // After the restart: a fresh client sees the overlap again (ids 1 and 2: dropped as
    // seen), then the final with 10: only 5 more run.
    let mut after = MatchState::new();
    after.seed_msg_ids([1, 2]);
    after.restore_ledgers([ledger]);
    let (fired, ledger) = run_all(
        &rules,
        &mut after,
        &[
            rose(1, 3, 77, 5, None),
            rose(2, 3, 77, 7, None),
            rose(3, 3, 77, 10, Some((10, Settle::Final))),
        ],
    );
    assert_eq!(fired, vec![("rose".into(), 5)], "only the remaining units");
    assert!(ledger.expect("stored again").ended);

    // An ended streak's slot used again by a new streak (count starts low): all of it runs.
    let mut third = MatchState::new();
    third.restore_ledgers([LedgerState {
        key: StreakKey {
            user_id: 3,
            gift_id: 5655,
            group_id: 77,
            generation: 0,
        },
        settled: 10,
        live: 10,
        ended: true,
    }]);
    let (fired, _) = run_all(
        &rules,
        &mut third,
        &[
            rose(20, 3, 77, 2, None),
            rose(21, 3, 77, 3, Some((3, Settle::Final))),
        ],
    );
    assert_eq!(
        fired,
        vec![("rose".into(), 3)],
        "a new streak is not cut short"
    );

    // A timed-out streak restored, then a lower count: a new streak, counted whole.
    let mut fourth = MatchState::new();
    fourth.restore_ledgers([LedgerState {
        key: StreakKey {
            user_id: 3,
            gift_id: 5655,
            group_id: 77,
            generation: 0,
        },
        settled: 8,
        live: 8,
        ended: false,
    }]);
    let (fired, _) = run_all(
        &rules,
        &mut fourth,
        &[rose(30, 3, 77, 4, Some((4, Settle::Final)))],
    );
    assert_eq!(fired, vec![("rose".into(), 4)]);
}

fn streak_value_rule(mode: Option<StreakMode>) -> Rule {
    let mut r = rule(
        "fanfare",
        Trigger::GiftCoins {
            unit_coins_at_least: None,
            unit_coins_at_most: None,
            streak_coins_at_least: Some(100),
        },
    );
    r.streak_mode = mode;
    r
}

#[test]
fn a_whole_streak_value_rule_fires_once_per_streak_in_every_mode() {
    for mode in [
        None,
        Some(StreakMode::PerUnit),
        Some(StreakMode::PerStreak),
        Some(StreakMode::Live),
    ] {
        let rules = RuleSet::new(&[streak_value_rule(mode)], &actions());
        let mut state = MatchState::new();
        let now = Instant::now();
        let mut fired = Vec::new();
        let mut skips = Vec::new();
        let events = [
            rose(1, 3, 11, 60, None),
            rose(2, 3, 11, 120, None),
            rose(3, 3, 11, 150, None),
            rose(4, 3, 11, 150, Some((150, Settle::Final))),
            // A settle of more units of the same streak (a replay with another id).
            rose(5, 3, 11, 160, Some((160, Settle::Final))),
        ];
        for e in &events {
            let out = evaluate(e, &rules, &mut state, now);
            fired.extend(out.matches.iter().map(|m| (m.runs, m.vars.count)));
            skips.extend(out.paid_skips);
        }
        assert_eq!(fired, vec![(1, Some(150))], "mode {mode:?}");
        assert!(skips.is_empty(), "mode {mode:?}: {skips:?}");
    }
}

#[test]
fn a_whole_streak_value_rule_does_not_fire_again_for_the_late_final_after_a_timeout() {
    for mode in [None, Some(StreakMode::PerStreak), Some(StreakMode::Live)] {
        let rules = RuleSet::new(&[streak_value_rule(mode)], &actions());
        let mut state = MatchState::new();
        let now = Instant::now();
        let mut fired = Vec::new();
        for e in [
            rose(1, 3, 11, 120, Some((120, Settle::Timeout))),
            // The real final arrives late: 10 more units than the timeout counted.
            rose(2, 3, 11, 130, Some((10, Settle::Late))),
        ] {
            let out = evaluate(&e, &rules, &mut state, now);
            fired.extend(out.matches.iter().map(|m| (m.runs, m.vars.count)));
        }
        assert_eq!(fired, vec![(1, Some(120))], "mode {mode:?}");
    }
}

#[test]
fn live_units_over_the_streak_cap_are_reported_as_paid_skips() {
    let mut capped = with_mode(gift_rule("rose", "Rose"), StreakMode::Live);
    capped.max_per_streak = 3;
    let rules = RuleSet::new(&[capped], &actions());
    let mut state = MatchState::new();
    let now = Instant::now();
    let mut fired = Vec::new();
    let mut skipped = Vec::new();
    for e in [
        rose(1, 2, 10, 2, None),
        rose(2, 2, 10, 5, None),
        rose(3, 2, 10, 8, None),
        rose(4, 2, 10, 8, Some((8, Settle::Final))),
    ] {
        let out = evaluate(&e, &rules, &mut state, now);
        fired.extend(out.matches.iter().map(|m| m.vars.count));
        skipped.extend(
            out.paid_skips
                .iter()
                .map(|p| (p.skip.clone(), p.vars.count)),
        );
    }
    assert_eq!(fired, vec![Some(2), Some(1)]);
    // Every paid unit is accounted for: 3 run, 2 + 3 skipped with the reason.
    assert_eq!(
        skipped,
        vec![
            (Skip::OverStreakCap { cap: 3, units: 2 }, Some(2)),
            (Skip::OverStreakCap { cap: 3, units: 3 }, Some(3)),
        ]
    );
}

#[test]
fn a_run_per_threshold_likes_rule_runs_once_per_threshold_with_the_message_likes() {
    let mut old = rule(
        "old",
        Trigger::Likes {
            every: Some(100),
            per_user: None,
        },
    );
    old.run_per_threshold = true;
    let new = rule(
        "new",
        Trigger::Likes {
            every: Some(100),
            per_user: None,
        },
    );
    let rules = RuleSet::new(&[old, new], &actions());
    let mut state = MatchState::new();
    let got: Vec<_> = evaluate(&like(1, 2, 250, 250), &rules, &mut state, Instant::now())
        .matches
        .into_iter()
        .map(|m| (m.rule_id, m.runs, m.vars.count))
        .collect();
    assert_eq!(
        got,
        vec![("old".into(), 2, Some(250)), ("new".into(), 1, Some(2))]
    );
}

#[test]
fn streak_ledgers_are_kept_ten_minutes_after_their_last_message_then_forgotten() {
    let rules = RuleSet::new(&[gift_rule("rose", "Rose")], &actions());
    let mut state = MatchState::new();
    let start = Instant::now();
    let at = |s: u64| start + Duration::from_secs(s);
    // Two streaks: one touched again later, one not.
    evaluate(&rose(1, 1, 10, 1, None), &rules, &mut state, at(0));
    evaluate(&rose(2, 2, 20, 1, None), &rules, &mut state, at(0));
    evaluate(&rose(3, 1, 10, 2, None), &rules, &mut state, at(300));
    // Just under ten minutes after the second's only message: both kept.
    evaluate(&chat(4, 9, "hi"), &rules, &mut state, at(599));
    assert_eq!(state.ledgers.len(), 2);
    // Past it (and past the 30-s sweep gap): the quiet one goes, the other stays.
    evaluate(&chat(5, 9, "hi"), &rules, &mut state, at(631));
    assert_eq!(state.ledgers.len(), 1);
    // Its late final still counts only what was not counted: 3 units settled, 0 before.
    let e = evaluate(
        &rose(6, 1, 10, 3, Some((3, Settle::Final))),
        &rules,
        &mut state,
        at(700),
    );
    assert_eq!(e.streak.map(|l| (l.settled, l.live)), Some((3, 3)));
    evaluate(&chat(7, 9, "hi"), &rules, &mut state, at(700 + 661));
    assert!(state.ledgers.is_empty());
}
