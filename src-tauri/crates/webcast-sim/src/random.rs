//! Random traffic for floods: deterministic per (seed, frame index), so a stream can be played
//! lazily forever and still be rebuilt as a [`Script`] to compute its expected totals.

use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::gifts::CATALOGUE;
use crate::script::{hostile_users, Msg, Script, SimUser, Step};

/// Frames per second the random stream aims for; above it, messages are batched.
const FRAMES_PER_SEC: f64 = 20.0;

/// How the random stream is paced: `batch` messages every `interval`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pace {
    /// Messages per frame.
    pub batch: usize,
    /// Time between frames.
    pub interval: Duration,
}

/// Pacing for `rate` messages per second (at least one message per frame).
pub fn pace(rate: f64) -> Pace {
    let rate = if rate.is_finite() && rate > 0.0 {
        rate
    } else {
        1.0
    };
    let batch = (rate / FRAMES_PER_SEC).ceil().max(1.0) as usize;
    Pace {
        batch,
        interval: Duration::from_secs_f64(batch as f64 / rate),
    }
}

fn user(rng: &mut StdRng) -> SimUser {
    if rng.random_bool(0.2) {
        let pool = hostile_users();
        let i = rng.random_range(0..pool.len());
        pool[i].clone()
    } else {
        let n: u64 = rng.random_range(1..5000);
        SimUser::new(
            6_900_000_000_000_000_000 + n,
            &format!("viewer_{n}"),
            &format!("Viewer {n}"),
        )
    }
}

const CHATS: &[&str] = &[
    "hello!",
    "!tnt",
    "!creeper",
    "!spawn zombie",
    "lol",
    "🔥🔥🔥",
    "where are you from?",
    "gg",
];

/// The messages of frame `index` of the random stream with this seed.
pub fn frame(seed: u64, index: u64, batch: usize) -> Vec<Msg> {
    let mut rng = StdRng::seed_from_u64(seed ^ index.wrapping_mul(0x9e37_79b9_7f4a_7c15));
    (0..batch)
        .map(|j| {
            let serial = index * batch as u64 + j as u64;
            let roll: u32 = rng.random_range(0..100);
            match roll {
                0..=39 => Msg::Chat {
                    user: user(&mut rng),
                    content: CHATS[rng.random_range(0..CHATS.len())].into(),
                },
                40..=64 => Msg::Like {
                    user: user(&mut rng),
                    count: rng.random_range(1..=15),
                    total: 1000 + serial * 8,
                },
                65..=79 => {
                    let g = CATALOGUE[rng.random_range(0..CATALOGUE.len())];
                    let streak = g.gift_type == 1;
                    Msg::Gift {
                        user: user(&mut rng),
                        gift_id: g.id,
                        name: g.name.into(),
                        diamond_count: g.diamond_count,
                        gift_type: g.gift_type,
                        repeat_count: if streak { rng.random_range(1..=10) } else { 1 },
                        // A streak's final event on its own: each random gift settles at once.
                        repeat_end: streak,
                        group_id: 7_380_000_000_000_000_000 + serial,
                    }
                }
                80..=87 => Msg::Join {
                    user: user(&mut rng),
                },
                88..=91 => Msg::Follow {
                    user: user(&mut rng),
                },
                92..=94 => Msg::Share {
                    user: user(&mut rng),
                },
                _ => Msg::Viewers {
                    total: 100 + serial % 50,
                    total_user: 200 + serial,
                },
            }
        })
        .collect()
}

/// The first `count` messages of the random stream as a script (for expected totals, and to
/// play a bounded random stream).
pub fn script(rate: f64, seed: u64, count: u64) -> Script {
    let p = pace(rate);
    let mut steps = Vec::new();
    let mut left = count;
    let mut index = 0;
    while left > 0 {
        let mut messages = frame(seed, index, p.batch);
        messages.truncate(usize::try_from(left).unwrap_or(usize::MAX));
        left -= messages.len() as u64;
        steps.push(Step::Frame { messages });
        if left > 0 {
            steps.push(Step::Wait {
                ms: u64::try_from(p.interval.as_millis()).unwrap_or(u64::MAX),
            });
        }
        index += 1;
    }
    Script {
        history: Vec::new(),
        steps,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream() {
        assert_eq!(frame(7, 3, 5), frame(7, 3, 5));
        assert_ne!(frame(7, 3, 5), frame(8, 3, 5));
        let s = script(100.0, 1, 23);
        let e = s.expected();
        assert_eq!(e.messages, 23);
        assert_eq!(pace(100.0).batch, 5);
        assert_eq!(pace(2.0).interval, Duration::from_millis(500));
    }
}
