//! Lanes: named queues, each owned by one task that paces and runs its items.
//!
//! A lane takes items from the handler over a channel it drains at once into its own queues,
//! where the depth limits and overflow policy apply, so the handler never waits on a busy
//! output. A serial lane runs one item at a time with `minGapMs` between them; an overlap lane
//! runs up to `maxConcurrent` at once. Every start is recorded durably *before* the item's
//! first step runs (see [`Reporter::running`]).
//!
//! Order: paid items first (FIFO among them), then unpaid ones (FIFO): no unpaid item starts
//! while a paid one waits. Age: a waiting item older than `maxAgeMs` (unpaid: `unpaidMaxAgeMs`)
//! expires instead of running. Memory: at most `maxDepth` unpaid and `maxDepth` paid items are
//! held; further paid items wait in the store (their ids only in memory) and are read back as
//! the lane drains. Room-total like items of the same rule merge into one run with `{count}`.

use std::collections::{HashMap, VecDeque};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::{Id, JoinSet};
use tokio::time::{sleep_until, Instant};
use tokio_util::sync::CancellationToken;

use super::exec::Executor;
use super::input::EventKind;
use super::item::{wall_ms, ActionBook, ItemStatus, PlannedStep, QueueItem};
use super::report::{EngineUpdate, Reporter};
use super::rules::{LaneConfig, LaneMode, Overflow};
use super::store::StoreError;

/// Paid items read back from the store at once.
const REFILL_BATCH: usize = 1_024;
/// After a failed read-back, the pause before the next try.
const REFILL_RETRY: Duration = Duration::from_secs(1);

/// What the queue view shows for a lane.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LaneSnapshot {
    pub name: String,
    pub mode: LaneMode,
    pub paused: bool,
    /// Everything waiting: paid (in memory and in the store) and unpaid.
    pub waiting: usize,
    /// Of `waiting`, the paid items.
    pub waiting_paid: usize,
    /// Of `waiting_paid`, the items kept in the store rather than in memory.
    pub spilled: usize,
    pub running: Vec<u64>,
    pub max_depth: usize,
    pub done: u64,
    pub failed: u64,
    pub skipped: u64,
    /// Dropped by the overflow policy, clear or panic.
    pub dropped: u64,
    /// Merged into a waiting item (coalesce policy, like items of one rule).
    pub coalesced: u64,
    /// Waited longer than the lane's age limit and were not run.
    pub expired: u64,
}

impl LaneSnapshot {
    pub fn is_idle(&self) -> bool {
        self.running.is_empty() && (self.waiting == 0 || self.paused)
    }
}

pub(crate) enum LaneMsg {
    /// `resume`: an item from before a restart (or a re-run); it was already accepted once,
    /// so the overflow policy does not apply again, and it is already in the store.
    Enqueue {
        item: Box<QueueItem>,
        resume: bool,
    },
    Pause,
    Resume,
    Skip,
    Clear {
        reason: String,
    },
    Configure(LaneConfig),
    Book(Arc<ActionBook>),
    /// Answered once nothing runs and nothing can start (empty, or paused).
    WhenIdle(oneshot::Sender<()>),
    /// Start nothing more, let running items finish, then end the task.
    Stop(oneshot::Sender<()>),
}

/// The control side of a lane.
#[derive(Clone)]
pub struct LaneHandle {
    pub(crate) tx: mpsc::UnboundedSender<LaneMsg>,
    snapshot: watch::Receiver<LaneSnapshot>,
}

impl LaneHandle {
    pub(crate) fn send(&self, msg: LaneMsg) -> bool {
        self.tx.send(msg).is_ok()
    }

    pub fn snapshot(&self) -> LaneSnapshot {
        self.snapshot.borrow().clone()
    }

    pub fn watch(&self) -> watch::Receiver<LaneSnapshot> {
        self.snapshot.clone()
    }
}

struct Running {
    item: Arc<QueueItem>,
    skip: CancellationToken,
}

/// A waiting item and when it started waiting (tokio's clock, for the age limits).
struct Waiting {
    item: Arc<QueueItem>,
    since: Instant,
}

/// A paid item kept in the store while the lane has `maxDepth` paid items in memory.
#[derive(Clone, Copy)]
struct Spilled {
    id: u64,
    since: Instant,
}

type Refill = Result<Vec<Result<QueueItem, (u64, String)>>, StoreError>;

struct Lane<E> {
    cfg: LaneConfig,
    book: Arc<ActionBook>,
    exec: Arc<E>,
    reporter: Arc<Reporter>,
    paid: VecDeque<Waiting>,
    unpaid: VecDeque<Waiting>,
    spilled: VecDeque<Spilled>,
    /// Paid items being read back from the store, and the answer.
    refilling: Vec<Spilled>,
    refill: Option<oneshot::Receiver<Refill>>,
    refill_retry: Option<Instant>,
    tasks: JoinSet<ItemStatus>,
    running: HashMap<Id, Running>,
    paused: bool,
    /// When the streamer paused the lane. Paid items do not age while it is paused (a
    /// 6-minute break must not expire every gift); unpaid ones do, and so does time spent
    /// waiting on a stuck output.
    paused_at: Option<Instant>,
    stopping: Option<oneshot::Sender<()>>,
    next_start: Instant,
    idle_waiters: Vec<oneshot::Sender<()>>,
    stats: LaneSnapshot,
    snapshot: watch::Sender<LaneSnapshot>,
    rng: fastrand::Rng,
}

/// Starts a lane task on the current runtime.
pub(crate) fn spawn<E: Executor>(
    cfg: LaneConfig,
    book: Arc<ActionBook>,
    exec: Arc<E>,
    reporter: Arc<Reporter>,
    cancel: CancellationToken,
) -> LaneHandle {
    let (tx, rx) = mpsc::unbounded_channel();
    let stats = LaneSnapshot {
        name: cfg.name.clone(),
        mode: cfg.mode,
        max_depth: cfg.max_depth,
        ..LaneSnapshot::default()
    };
    let (snapshot_tx, snapshot) = watch::channel(stats.clone());
    let lane = Lane {
        cfg,
        book,
        exec,
        reporter,
        paid: VecDeque::new(),
        unpaid: VecDeque::new(),
        spilled: VecDeque::new(),
        refilling: Vec::new(),
        refill: None,
        refill_retry: None,
        tasks: JoinSet::new(),
        running: HashMap::new(),
        paused: false,
        paused_at: None,
        stopping: None,
        next_start: Instant::now(),
        idle_waiters: Vec::new(),
        stats,
        snapshot: snapshot_tx,
        rng: fastrand::Rng::new(),
    };
    tokio::spawn(lane.run(rx, cancel));
    LaneHandle { tx, snapshot }
}

/// The tokio instant `queued_ms` (wall clock) corresponds to, for items from the store.
fn since_wall(queued_ms: i64) -> Instant {
    let now = Instant::now();
    let age = u64::try_from(wall_ms().saturating_sub(queued_ms)).unwrap_or(0);
    now.checked_sub(Duration::from_millis(age)).unwrap_or(now)
}

fn secs(ms: u64) -> String {
    if ms.is_multiple_of(1000) {
        format!("{} s", ms / 1000)
    } else {
        format!("{:.1} s", ms as f64 / 1000.0)
    }
}

impl<E: Executor> Lane<E> {
    /// Paid items exist that are not in memory yet: unpaid items must wait for them.
    fn paid_elsewhere(&self) -> bool {
        !self.spilled.is_empty() || !self.refilling.is_empty()
    }

    fn has_startable(&self) -> bool {
        !self.paid.is_empty() || (!self.paid_elsewhere() && !self.unpaid.is_empty())
    }

    fn can_start(&self) -> bool {
        !self.paused
            && self.stopping.is_none()
            && self.has_startable()
            && self.running.len() < self.limit()
    }

    fn limit(&self) -> usize {
        match self.cfg.mode {
            LaneMode::Serial => 1,
            LaneMode::Overlap => self.cfg.max_concurrent.max(1),
        }
    }

    fn waiting(&self) -> usize {
        self.paid.len() + self.unpaid.len() + self.spilled.len() + self.refilling.len()
    }

    fn max_age(&self, paid: bool) -> Duration {
        Duration::from_millis(if paid {
            self.cfg.max_age_ms
        } else {
            self.cfg.unpaid_max_age_ms.min(self.cfg.max_age_ms)
        })
    }

    /// When the oldest waiting item in memory expires.
    fn next_expiry(&self) -> Option<Instant> {
        let paid = self
            .paid
            .front()
            .filter(|_| self.paused_at.is_none())
            .map(|w| w.since + self.max_age(true));
        let unpaid = self.unpaid.front().map(|w| w.since + self.max_age(false));
        match (paid, unpaid) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Runs one step of the lane's work; a panic in it is contained: reported as a fault,
    /// the item it held (if any) failed with the reason, and the lane goes on with its queue.
    /// Returns whether the step completed.
    fn guarded(&mut self, held: Option<Arc<QueueItem>>, step: impl FnOnce(&mut Self)) -> bool {
        let Err(panic) = catch_unwind(AssertUnwindSafe(|| step(self))) else {
            return true;
        };
        let fault = crate::supervise::report(&format!("lane {}", self.cfg.name), &*panic);
        let message = format!(
            "lane {}: internal error ({}); the lane goes on",
            self.cfg.name, fault.message
        );
        self.reporter.fault(&fault, message);
        if let Some(item) = held {
            self.stats.failed += 1;
            self.reporter.finished(
                &item,
                ItemStatus::Failed {
                    reason: format!(
                        "internal error in lane {}: {}",
                        self.cfg.name, fault.message
                    ),
                    may_have_run: false,
                },
            );
        }
        false
    }

    async fn run(mut self, mut rx: mpsc::UnboundedReceiver<LaneMsg>, cancel: CancellationToken) {
        loop {
            self.guarded(None, |l| {
                l.expire_old(Instant::now());
                l.maybe_refill();
            });
            // Start what may start now without a timer: even an expired sleep costs a timer
            // tick, which is most of the latency budget with pacing off. After a fault the
            // select below runs first, so a step that keeps failing cannot spin here.
            while self.can_start() && self.next_start <= Instant::now() {
                if !self.start_next() {
                    break;
                }
            }
            let wake = [
                self.can_start().then_some(self.next_start),
                self.next_expiry(),
                self.refill_retry,
            ]
            .into_iter()
            .flatten()
            .min();
            let refilling = self.refill.is_some();
            tokio::select! {
                biased;
                _ = cancel.cancelled() => break,
                joined = self.tasks.join_next_with_id(), if !self.tasks.is_empty() => {
                    if let Some(joined) = joined {
                        self.guarded(None, |l| l.on_finished(joined));
                    }
                }
                msg = rx.recv() => match msg {
                    Some(LaneMsg::Enqueue { item, resume }) => {
                        let item = Arc::new(*item);
                        let held = item.clone();
                        self.guarded(Some(held), |l| l.enqueue(item, resume));
                    }
                    Some(msg) => {
                        self.guarded(None, |l| l.on_msg(msg));
                    }
                    None => break,
                },
                loaded = async {
                    match self.refill.as_mut() {
                        Some(rx) => rx.await.unwrap_or(Err(StoreError::Stopped)),
                        None => std::future::pending().await,
                    }
                }, if refilling => {
                    self.guarded(None, |l| l.on_refill(loaded));
                }
                _ = sleep_until(wake.unwrap_or_else(Instant::now)), if wake.is_some() => {
                    if self.refill_retry.is_some_and(|t| t <= Instant::now()) {
                        self.refill_retry = None;
                    }
                    // Expired items leave the snapshot now, not at the next event.
                    self.guarded(None, |l| l.expire_old(Instant::now()));
                }
            }
            if self.stopping.is_some() && self.running.is_empty() {
                break;
            }
            self.notify_idle();
            self.publish();
        }
        // Items still running when the lane is cancelled outright are abandoned mid-step;
        // their start is recorded, so after a restart they show as interrupted.
        self.tasks.abort_all();
        if let Some(done) = self.stopping.take() {
            let _ = done.send(());
        }
        for w in self.idle_waiters.drain(..) {
            let _ = w.send(());
        }
        self.publish();
    }

    fn on_msg(&mut self, msg: LaneMsg) {
        match msg {
            LaneMsg::Enqueue { item, resume } => self.enqueue(Arc::new(*item), resume),
            LaneMsg::Pause => {
                self.paused = true;
                self.paused_at.get_or_insert_with(Instant::now);
                self.lane_changed();
            }
            LaneMsg::Resume => {
                self.paused = false;
                if let Some(at) = self.paused_at.take() {
                    self.discount_pause(at, Instant::now());
                }
                self.lane_changed();
            }
            LaneMsg::Skip => {
                for r in self.running.values() {
                    r.skip.cancel();
                }
            }
            LaneMsg::Clear { reason } => {
                let waiting: Vec<Waiting> =
                    self.paid.drain(..).chain(self.unpaid.drain(..)).collect();
                for w in waiting {
                    self.stats.dropped += 1;
                    self.reporter.finished(
                        &w.item,
                        ItemStatus::Dropped {
                            reason: reason.clone(),
                        },
                    );
                }
                self.drop_spilled(&reason);
                self.lane_changed();
            }
            LaneMsg::Configure(cfg) => {
                self.stats.mode = cfg.mode;
                self.stats.max_depth = cfg.max_depth;
                self.cfg = cfg;
                self.lane_changed();
            }
            LaneMsg::Book(book) => self.book = book,
            LaneMsg::WhenIdle(tx) => self.idle_waiters.push(tx),
            LaneMsg::Stop(tx) => self.stopping = Some(tx),
        }
    }

    /// Drops the paid items kept in the store (clear, panic). They are not in memory, so
    /// their status goes to the store directly and one warning says how many.
    fn drop_spilled(&mut self, reason: &str) {
        let ids: Vec<Spilled> = self
            .spilled
            .drain(..)
            .chain(self.refilling.drain(..))
            .collect();
        self.refill = None;
        if ids.is_empty() {
            return;
        }
        if let Some(store) = self.reporter.store() {
            let status = ItemStatus::Dropped {
                reason: reason.to_owned(),
            };
            for s in &ids {
                store.item_status(s.id, &status);
            }
        }
        self.stats.dropped += ids.len() as u64;
        self.reporter.warning(format!(
            "lane {}: {} paid item(s) waiting in the store dropped ({reason})",
            self.cfg.name,
            ids.len()
        ));
    }

    fn enqueue(&mut self, item: Arc<QueueItem>, resume: bool) {
        let since = if resume {
            since_wall(item.queued_ms)
        } else {
            Instant::now()
        };
        if item.paid {
            self.enqueue_paid(item, since, resume);
            return;
        }
        // Like milestones of one rule are one thing happening often: merged, not queued
        // one by one (a storm of likes must not bury everything else).
        if item.kind == EventKind::Like && !item.keep_separate {
            if let Some(pos) = self.unpaid.iter().rposition(|w| {
                w.item.kind == EventKind::Like
                    && !w.item.keep_separate
                    && w.item.rule_id == item.rule_id
                    && w.item.action_id == item.action_id
            }) {
                self.coalesce(false, pos, &item);
                return;
            }
        }
        if resume || self.unpaid.len() < self.cfg.max_depth {
            self.admit(false, item, since);
            return;
        }
        self.overflow(false, item, since);
    }

    fn enqueue_paid(&mut self, item: Arc<QueueItem>, since: Instant, resume: bool) {
        let in_order = !self.paid_elsewhere();
        if in_order && self.paid.len() < self.cfg.max_depth {
            self.admit(true, item, since);
            return;
        }
        // An item from before a restart (or a re-run) was accepted once already.
        if !self.cfg.protect_paid && in_order && !resume {
            self.overflow(true, item, since);
            return;
        }
        if self.reporter.store().is_some() {
            // Kept in the store, in order; only the id stays in memory.
            self.reporter.queued(&item);
            if self.spilled.is_empty() {
                tracing::info!(lane = %self.cfg.name, item = item.id, "paid items beyond the lane's depth wait in the store");
            }
            self.spilled.push_back(Spilled { id: item.id, since });
            return;
        }
        let reason = format!(
            "lane {} holds {} paid items, its limit in memory, and has no store to keep more: refused",
            self.cfg.name,
            self.paid.len()
        );
        self.drop_item(&item, reason, resume);
    }

    fn overflow(&mut self, paid: bool, item: Arc<QueueItem>, since: Instant) {
        let queue = if paid { &self.paid } else { &self.unpaid };
        let full = format!("lane {} full ({} waiting)", self.cfg.name, queue.len());
        match self.cfg.overflow {
            Overflow::DropNewest => self.drop_item(&item, format!("{full}: newest dropped"), false),
            Overflow::DropOldest => {
                let queue = if paid {
                    &mut self.paid
                } else {
                    &mut self.unpaid
                };
                match queue.pop_front() {
                    Some(old) => {
                        self.drop_item(&old.item, format!("{full}: oldest dropped"), true);
                        self.admit(paid, item, since);
                    }
                    None => self.drop_item(&item, format!("{full}: newest dropped"), false),
                }
            }
            Overflow::Coalesce => {
                let target = queue.iter().rposition(|w| {
                    w.item.action_id == item.action_id && w.item.rule_id == item.rule_id
                });
                match target {
                    Some(pos) => self.coalesce(paid, pos, &item),
                    None => self.drop_item(
                        &item,
                        format!("{full}: nothing to merge with, dropped"),
                        false,
                    ),
                }
            }
        }
    }

    fn admit(&mut self, paid: bool, item: Arc<QueueItem>, since: Instant) {
        // Also for resumed and re-run items: a re-run is a new item the store has not seen,
        // and writing a resumed one again changes nothing.
        self.reporter.queued(&item);
        let w = Waiting { item, since };
        if paid {
            self.paid.push_back(w);
        } else {
            self.unpaid.push_back(w);
        }
    }

    /// Drops `item`; `waiting` says whether it was in the queue (and so in the store).
    fn drop_item(&mut self, item: &Arc<QueueItem>, reason: String, waiting: bool) {
        self.stats.dropped += 1;
        let status = ItemStatus::Dropped { reason };
        if waiting {
            self.reporter.finished(item, status);
        } else {
            self.reporter.rejected(item, status);
        }
    }

    /// Merges `new` into the waiting item at `pos`: one run, `{count}` summed.
    fn coalesce(&mut self, paid: bool, pos: usize, new: &Arc<QueueItem>) {
        let queue = if paid {
            &mut self.paid
        } else {
            &mut self.unpaid
        };
        let Some(slot) = queue.get_mut(pos) else {
            return;
        };
        let mut merged = QueueItem::clone(&slot.item);
        let count = merged.vars.count.unwrap_or(1) + new.vars.count.unwrap_or(1);
        merged.vars.count = Some(count);
        if let (Some(a), Some(b)) = (merged.vars.coins, new.vars.coins) {
            merged.vars.coins = Some(a + b);
        }
        merged.paid |= new.paid;
        match self
            .book
            .plan(&merged.action_id, &merged.vars, &mut self.rng)
        {
            Ok(steps) => merged.steps = steps,
            Err(e) => {
                // Keep the old rendering rather than lose the item; the count shown is then
                // the old one, which the warning says.
                self.reporter.warning(format!(
                    "item {}: cannot re-render after merging: {e}",
                    merged.id
                ));
            }
        }
        let merged = Arc::new(merged);
        slot.item = merged.clone();
        self.stats.coalesced += 1;
        self.reporter.queued(&merged);
        self.reporter.rejected(
            new,
            ItemStatus::Dropped {
                reason: format!("merged into item {}", merged.id),
            },
        );
    }

    /// Moves the paid items' age clocks forward by the part of the pause each waited through,
    /// so only the time the lane could have run them counts towards `maxAgeMs`.
    fn discount_pause(&mut self, at: Instant, now: Instant) {
        let shift = |since: &mut Instant| {
            *since += now.saturating_duration_since((*since).max(at));
        };
        self.paid.iter_mut().for_each(|w| shift(&mut w.since));
        self.spilled.iter_mut().for_each(|s| shift(&mut s.since));
        self.refilling.iter_mut().for_each(|s| shift(&mut s.since));
    }

    /// Expires the waiting items in memory that are past their lane's age limit.
    fn expire_old(&mut self, now: Instant) {
        for paid in [true, false] {
            if paid && self.paused_at.is_some() {
                continue;
            }
            let limit = self.max_age(paid);
            loop {
                let queue = if paid {
                    &mut self.paid
                } else {
                    &mut self.unpaid
                };
                if queue.front().is_none_or(|w| w.since + limit > now) {
                    break;
                }
                if let Some(w) = queue.pop_front() {
                    self.expire(w, paid, now);
                }
            }
        }
    }

    fn expire(&mut self, w: Waiting, paid: bool, now: Instant) {
        self.stats.expired += 1;
        let (limit, field) = if paid {
            (self.cfg.max_age_ms, "maxAgeMs")
        } else {
            (
                self.cfg.unpaid_max_age_ms.min(self.cfg.max_age_ms),
                "unpaidMaxAgeMs",
            )
        };
        let waited =
            u64::try_from(now.saturating_duration_since(w.since).as_millis()).unwrap_or(u64::MAX);
        self.reporter.finished(
            &w.item,
            ItemStatus::Expired {
                reason: format!(
                    "not run: waited {} in lane {}, over its limit of {} ({field})",
                    secs(waited),
                    self.cfg.name,
                    secs(limit)
                ),
            },
        );
    }

    /// Reads paid items back from the store once the ones in memory run low.
    fn maybe_refill(&mut self) {
        if self.refill.is_some()
            || self.spilled.is_empty()
            || self.refill_retry.is_some()
            || self.paid.len() > self.cfg.max_depth / 2
        {
            return;
        }
        let Some(store) = self.reporter.store().cloned() else {
            return;
        };
        let room = self
            .cfg
            .max_depth
            .saturating_sub(self.paid.len())
            .clamp(1, REFILL_BATCH);
        let n = room.min(self.spilled.len());
        self.refilling = self.spilled.drain(..n).collect();
        let ids: Vec<u64> = self.refilling.iter().map(|s| s.id).collect();
        let (tx, rx) = oneshot::channel();
        tokio::spawn(async move {
            let _ = tx.send(store.items(ids).await);
        });
        self.refill = Some(rx);
    }

    fn on_refill(&mut self, loaded: Refill) {
        self.refill = None;
        let batch = std::mem::take(&mut self.refilling);
        match loaded {
            Ok(items) => {
                for (s, item) in batch.into_iter().zip(items) {
                    match item {
                        Ok(item) => self.paid.push_back(Waiting {
                            item: Arc::new(item),
                            since: s.since,
                        }),
                        Err((id, reason)) => {
                            self.stats.failed += 1;
                            self.reporter.warning(format!(
                                "lane {}: paid item {id} could not be read back from the store ({reason}); marked failed",
                                self.cfg.name
                            ));
                            // Its row must not stay `queued` (the queue view would show it
                            // waiting forever, and every start would try it again). The row
                            // keeps what it holds; the update only needs the id and lane.
                            let placeholder = Arc::new(QueueItem {
                                id,
                                lane: self.cfg.name.clone(),
                                rule_id: String::new(),
                                action_id: String::new(),
                                kind: EventKind::Gift,
                                event: format!("paid item {id} (unreadable in the store)"),
                                msg_id: 0,
                                username: None,
                                paid: true,
                                vars: Default::default(),
                                steps: Vec::new(),
                                queued_ms: wall_ms(),
                                rerun_of: None,
                                keep_separate: false,
                            });
                            self.reporter.finished(
                                &placeholder,
                                ItemStatus::Failed {
                                    reason: format!(
                                        "could not be read back from the store: {reason}"
                                    ),
                                    may_have_run: false,
                                },
                            );
                        }
                    }
                }
            }
            Err(e) => {
                self.reporter.warning(format!(
                    "lane {}: paid items could not be read back from the store ({e}); trying again",
                    self.cfg.name
                ));
                for s in batch.into_iter().rev() {
                    self.spilled.push_front(s);
                }
                self.refill_retry = Some(Instant::now() + REFILL_RETRY);
            }
        }
    }

    /// Starts the next item (if one is still in date), each part under the lane's guard: a
    /// panic while launching fails the item it took, never one still waiting. Returns
    /// whether no fault occurred.
    fn start_next(&mut self) -> bool {
        let mut taken = None;
        if !self.guarded(None, |l| taken = l.take_next()) {
            return false;
        }
        match taken {
            Some(item) => self.guarded(Some(item.clone()), |l| l.launch(item)),
            None => true,
        }
    }

    /// Takes the next item to run off the queues: paid first, expiring what is too old.
    fn take_next(&mut self) -> Option<Arc<QueueItem>> {
        let now = Instant::now();
        loop {
            let (w, paid) = match self.paid.pop_front() {
                Some(w) => (w, true),
                None if self.paid_elsewhere() => return None,
                None => (self.unpaid.pop_front()?, false),
            };
            if w.since + self.max_age(paid) <= now {
                self.expire(w, paid, now);
                continue;
            }
            return Some(w.item);
        }
    }

    fn launch(&mut self, item: Arc<QueueItem>) {
        let skip = CancellationToken::new();
        let fut = run_item(
            item.clone(),
            self.exec.clone(),
            self.reporter.clone(),
            skip.clone(),
        );
        let handle = self.tasks.spawn(fut);
        self.running.insert(handle.id(), Running { item, skip });
        if self.cfg.mode == LaneMode::Overlap {
            self.next_start = Instant::now() + Duration::from_millis(self.cfg.min_gap_ms);
        }
    }

    fn on_finished(&mut self, joined: Result<(Id, ItemStatus), tokio::task::JoinError>) {
        let (id, status) = match joined {
            Ok((id, status)) => (id, status),
            Err(e) => {
                let id = e.id();
                let status = match e.try_into_panic() {
                    Ok(panic) => {
                        let fault =
                            crate::supervise::report(&format!("lane {}", self.cfg.name), &*panic);
                        let reason = format!(
                            "internal error while running a step ({}); it may have run",
                            fault.message
                        );
                        self.reporter.fault(&fault, reason.clone());
                        ItemStatus::Failed {
                            reason,
                            may_have_run: true,
                        }
                    }
                    Err(_) => ItemStatus::Skipped {
                        reason: "stopped before it ran".into(),
                    },
                };
                (id, status)
            }
        };
        let Some(done) = self.running.remove(&id) else {
            return;
        };
        match &status {
            ItemStatus::Done => self.stats.done += 1,
            ItemStatus::Failed { .. } => self.stats.failed += 1,
            ItemStatus::Skipped { .. } => self.stats.skipped += 1,
            _ => {}
        }
        self.reporter.finished(&done.item, status);
        if self.cfg.mode == LaneMode::Serial {
            self.next_start = Instant::now() + Duration::from_millis(self.cfg.min_gap_ms);
        }
    }

    fn notify_idle(&mut self) {
        if self.idle_waiters.is_empty() {
            return;
        }
        if self.running.is_empty() && (self.waiting() == 0 || self.paused) {
            for w in self.idle_waiters.drain(..) {
                let _ = w.send(());
            }
        }
    }

    fn current(&self) -> LaneSnapshot {
        let mut s = self.stats.clone();
        s.paused = self.paused;
        s.waiting = self.waiting();
        s.spilled = self.spilled.len() + self.refilling.len();
        s.waiting_paid = self.paid.len() + s.spilled;
        s.running = self.running.values().map(|r| r.item.id).collect();
        s.running.sort_unstable();
        s
    }

    fn publish(&self) {
        let now = self.current();
        self.snapshot.send_if_modified(|cur| {
            let changed = *cur != now;
            if changed {
                *cur = now;
            }
            changed
        });
    }

    fn lane_changed(&self) {
        self.reporter
            .send(EngineUpdate::Lane(Box::new(self.current())));
    }
}

async fn run_item<E: Executor>(
    item: Arc<QueueItem>,
    exec: Arc<E>,
    reporter: Arc<Reporter>,
    skip: CancellationToken,
) -> ItemStatus {
    if let Err(e) = reporter.running(&item).await {
        return ItemStatus::Failed {
            reason: format!("not run: its start could not be recorded ({e})"),
            may_have_run: false,
        };
    }
    let mut sent_any = false;
    for (index, step) in item.steps.iter().enumerate() {
        let step_run = async {
            match step {
                PlannedStep::Command { command } => exec.command(command).await.map(|reply| {
                    reporter.step(item.id, index, || reply);
                    true
                }),
                PlannedStep::Sound { file, volume } => exec.sound(file, *volume).await.map(|()| {
                    reporter.step(item.id, index, || format!("played {file}"));
                    false
                }),
                PlannedStep::Delay { ms } => {
                    tokio::time::sleep(Duration::from_millis(*ms)).await;
                    Ok(false)
                }
            }
        };
        let result = tokio::select! {
            biased;
            _ = skip.cancelled() => {
                // A command in flight may already be on the server, and earlier steps ran:
                // that is not a clean skip, and must not invite a blind re-run.
                let in_flight = matches!(step, PlannedStep::Command { .. });
                if in_flight || sent_any {
                    return ItemStatus::Failed {
                        reason: "skipped while running; it may have run".into(),
                        may_have_run: true,
                    };
                }
                return ItemStatus::Skipped {
                    reason: "skipped by the user".into(),
                };
            }
            r = step_run => r,
        };
        match result {
            Ok(sent) => sent_any |= sent,
            Err(e) => {
                return ItemStatus::Failed {
                    reason: e.reason,
                    may_have_run: e.may_have_run || sent_any,
                }
            }
        }
    }
    ItemStatus::Done
}
