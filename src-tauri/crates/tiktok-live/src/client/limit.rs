//! The sign server's quota, kept on our side (protocol.md §2.5): a client that asks too often
//! gets locked out for up to 25 minutes, which for a streamer means a dead overlay mid-stream.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

use super::config::SignBudget;

const MINUTE: Duration = Duration::from_secs(60);
const HOUR: Duration = Duration::from_secs(3600);

/// How long a 429 that does not say how long to wait blocks the sign budget: asking again a
/// second later is what gets an IP locked out.
pub const DEFAULT_RATE_LIMIT_WAIT: Duration = Duration::from_secs(60);

/// The limiter of one sign server, shared by every client of this process that uses it: the
/// quota is per IP, so a new client (the app makes one per Connect click) must not start with
/// a fresh budget.
pub fn shared(sign_base_url: &str, budget: SignBudget) -> Arc<Mutex<SignLimiter>> {
    static ALL: OnceLock<Mutex<HashMap<String, Arc<Mutex<SignLimiter>>>>> = OnceLock::new();
    let mut all = ALL
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    let limiter = all
        .entry(sign_base_url.trim_end_matches('/').to_string())
        .or_insert_with(|| Arc::new(Mutex::new(SignLimiter::new(budget))))
        .clone();
    limiter
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .budget = budget;
    limiter
}

/// Remembers when we signed and until when the server told us to wait.
#[derive(Debug)]
pub struct SignLimiter {
    budget: SignBudget,
    sent: VecDeque<Instant>,
    blocked_until: Option<Instant>,
}

/// Why the next sign request has to wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitReason {
    /// Our own per-minute budget.
    Minute,
    /// Our own per-hour budget.
    Hour,
    /// The sign server's `Retry-After`/`RateLimit-Reset`.
    ServerSaid,
}

impl SignLimiter {
    pub fn new(budget: SignBudget) -> Self {
        Self {
            budget,
            sent: VecDeque::new(),
            blocked_until: None,
        }
    }

    /// How long to wait before the next sign request may go out (zero: now), and why.
    pub fn wait(&mut self, now: Instant) -> (Duration, Option<WaitReason>) {
        while self
            .sent
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) >= HOUR)
        {
            self.sent.pop_front();
        }
        let mut until = now;
        let mut why = None;
        let mut later = |at: Instant, reason: WaitReason| {
            if at > until {
                until = at;
                why = Some(reason);
            }
        };
        // The n-th most recent request leaves the window first when n requests fill it.
        let nth_recent = |n: u32| -> Option<Instant> {
            let n = usize::try_from(n).ok().filter(|n| *n > 0)?;
            self.sent.len().checked_sub(n).map(|i| self.sent[i])
        };
        if let Some(t) = nth_recent(self.budget.per_minute) {
            later(t + MINUTE, WaitReason::Minute);
        }
        if let Some(t) = nth_recent(self.budget.per_hour) {
            later(t + HOUR, WaitReason::Hour);
        }
        if let Some(t) = self.blocked_until {
            later(t, WaitReason::ServerSaid);
        }
        (until.saturating_duration_since(now), why)
    }

    /// Counts a sign request going out now.
    pub fn record(&mut self, now: Instant) {
        self.sent.push_back(now);
    }

    /// Takes a turn if one is free now (and counts it), else says how long to wait and why.
    /// One call under one lock: two clients sharing the budget cannot both take its last slot.
    pub fn acquire(&mut self, now: Instant) -> Result<(), (Duration, Option<WaitReason>)> {
        let (wait, why) = self.wait(now);
        if wait.is_zero() {
            self.record(now);
            Ok(())
        } else {
            Err((wait, why))
        }
    }

    /// The server said: nothing before `until`.
    pub fn block_until(&mut self, until: Instant) {
        self.blocked_until = Some(self.blocked_until.map_or(until, |b| b.max(until)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn clients_racing_for_the_last_slot_take_it_once() {
        let budget = SignBudget {
            per_minute: 5,
            per_hour: 30,
        };
        let limiter = shared("http://127.0.0.1:9/race-test", budget);
        let now = Instant::now();
        let barrier = Arc::new(std::sync::Barrier::new(8));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let limiter = limiter.clone();
                let barrier = barrier.clone();
                std::thread::spawn(move || {
                    barrier.wait();
                    (0..200)
                        .filter(|_| {
                            limiter
                                .lock()
                                .unwrap_or_else(PoisonError::into_inner)
                                .acquire(now)
                                .is_ok()
                        })
                        .count()
                })
            })
            .collect();
        let taken: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
        assert_eq!(taken, 5, "five turns a minute, however many clients ask");
        let l = limiter.lock().unwrap_or_else(PoisonError::into_inner);
        assert_eq!(l.sent.len(), 5);
    }

    #[tokio::test(start_paused = true)]
    async fn five_a_minute_thirty_an_hour_and_the_servers_word() {
        let mut l = SignLimiter::new(SignBudget::default());
        let start = Instant::now();
        for i in 0..5 {
            assert_eq!(l.wait(Instant::now()).0, Duration::ZERO, "request {i}");
            l.record(Instant::now());
            tokio::time::advance(Duration::from_secs(1)).await;
        }
        // Sixth one: 60 s after the first.
        let (wait, why) = l.wait(Instant::now());
        assert_eq!(wait, Duration::from_secs(55));
        assert_eq!(why, Some(WaitReason::Minute));
        // Fill the hour at five a minute.
        let mut now = start;
        let mut sent = 5;
        while sent < 30 {
            now += Duration::from_secs(61);
            tokio::time::advance(now.saturating_duration_since(Instant::now())).await;
            while l.wait(Instant::now()).0 == Duration::ZERO && sent < 30 {
                l.record(Instant::now());
                sent += 1;
            }
        }
        let (wait, why) = l.wait(Instant::now());
        assert_eq!(why, Some(WaitReason::Hour));
        assert_eq!(Instant::now() + wait, start + HOUR);

        let mut l = SignLimiter::new(SignBudget::default());
        l.block_until(Instant::now() + Duration::from_secs(90));
        l.block_until(Instant::now() + Duration::from_secs(10));
        assert_eq!(
            l.wait(Instant::now()),
            (Duration::from_secs(90), Some(WaitReason::ServerSaid))
        );
        let mut free = SignLimiter::new(SignBudget {
            per_minute: 0,
            per_hour: 0,
        });
        for _ in 0..100 {
            free.record(Instant::now());
        }
        assert_eq!(free.wait(Instant::now()).0, Duration::ZERO);
    }
}
