//! Lanes: named queues, each owned by one task that paces and runs its items.
//!
//! A lane takes items from the handler over a channel it drains at once into its own queue,
//! where the depth limit and overflow policy apply, so the handler never waits on a busy
//! output. A serial lane runs one item at a time with `minGapMs` between them; an overlap lane
//! runs up to `maxConcurrent` at once. Every start is recorded durably *before* the item's
//! first step runs (see [`Reporter::running`]).

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::{Id, JoinSet};
use tokio::time::{sleep_until, Instant};
use tokio_util::sync::CancellationToken;

use super::exec::Executor;
use super::item::{ActionBook, ItemStatus, PlannedStep, QueueItem};
use super::report::{EngineUpdate, Reporter};
use super::rules::{LaneConfig, LaneMode, Overflow};

/// What the queue view shows for a lane.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LaneSnapshot {
    pub name: String,
    pub mode: LaneMode,
    pub paused: bool,
    pub waiting: usize,
    pub running: Vec<u64>,
    pub max_depth: usize,
    pub done: u64,
    pub failed: u64,
    pub skipped: u64,
    /// Dropped by the overflow policy, clear or panic.
    pub dropped: u64,
    /// Merged into a waiting item by the coalesce policy.
    pub coalesced: u64,
}

impl LaneSnapshot {
    pub fn is_idle(&self) -> bool {
        self.running.is_empty() && (self.waiting == 0 || self.paused)
    }
}

pub(crate) enum LaneMsg {
    /// `resume`: an item from before a restart; it was already accepted once, so the
    /// overflow policy does not apply again.
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

struct Lane<E> {
    cfg: LaneConfig,
    book: Arc<ActionBook>,
    exec: Arc<E>,
    reporter: Arc<Reporter>,
    queue: VecDeque<Arc<QueueItem>>,
    tasks: JoinSet<ItemStatus>,
    running: HashMap<Id, Running>,
    paused: bool,
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
        queue: VecDeque::new(),
        tasks: JoinSet::new(),
        running: HashMap::new(),
        paused: false,
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

impl<E: Executor> Lane<E> {
    fn can_start(&self) -> bool {
        !self.paused
            && self.stopping.is_none()
            && !self.queue.is_empty()
            && self.running.len() < self.limit()
    }

    fn limit(&self) -> usize {
        match self.cfg.mode {
            LaneMode::Serial => 1,
            LaneMode::Overlap => self.cfg.max_concurrent.max(1),
        }
    }

    async fn run(mut self, mut rx: mpsc::UnboundedReceiver<LaneMsg>, cancel: CancellationToken) {
        loop {
            // Start what may start now without a timer: even an expired sleep costs a timer
            // tick, which is most of the latency budget with pacing off.
            while self.can_start() && self.next_start <= Instant::now() {
                self.start_next();
            }
            let can_start = self.can_start();
            let next_start = self.next_start;
            tokio::select! {
                biased;
                _ = cancel.cancelled() => break,
                joined = self.tasks.join_next_with_id(), if !self.tasks.is_empty() => {
                    if let Some(joined) = joined {
                        self.on_finished(joined);
                    }
                }
                msg = rx.recv() => match msg {
                    Some(msg) => self.on_msg(msg),
                    None => break,
                },
                _ = sleep_until(next_start), if can_start => self.start_next(),
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
                self.lane_changed();
            }
            LaneMsg::Resume => {
                self.paused = false;
                self.lane_changed();
            }
            LaneMsg::Skip => {
                for r in self.running.values() {
                    r.skip.cancel();
                }
            }
            LaneMsg::Clear { reason } => {
                for item in std::mem::take(&mut self.queue) {
                    self.stats.dropped += 1;
                    self.reporter.finished(
                        &item,
                        ItemStatus::Dropped {
                            reason: reason.clone(),
                        },
                    );
                }
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

    fn enqueue(&mut self, item: Arc<QueueItem>, resume: bool) {
        if resume || self.queue.len() < self.cfg.max_depth {
            self.admit(item);
            return;
        }
        if item.paid && self.cfg.protect_paid {
            tracing::info!(
                lane = %self.cfg.name,
                item = item.id,
                waiting = self.queue.len(),
                "lane over its depth; a paid item is kept anyway"
            );
            self.admit(item);
            return;
        }
        let full = format!("lane {} full ({} waiting)", self.cfg.name, self.queue.len());
        match self.cfg.overflow {
            Overflow::DropNewest => self.drop_item(&item, format!("{full}: newest dropped"), false),
            Overflow::DropOldest => {
                let protect = self.cfg.protect_paid;
                match self.queue.iter().position(|i| !(protect && i.paid)) {
                    Some(pos) => {
                        if let Some(old) = self.queue.remove(pos) {
                            self.drop_item(&old, format!("{full}: oldest dropped"), true);
                        }
                        self.admit(item);
                    }
                    None => self.drop_item(
                        &item,
                        format!("{full} of paid items: newest dropped"),
                        false,
                    ),
                }
            }
            Overflow::Coalesce => {
                let target = self
                    .queue
                    .iter()
                    .rposition(|i| i.action_id == item.action_id && i.rule_id == item.rule_id);
                match target {
                    Some(pos) => self.coalesce(pos, &item),
                    None => self.drop_item(
                        &item,
                        format!("{full}: nothing to merge with, dropped"),
                        false,
                    ),
                }
            }
        }
    }

    fn admit(&mut self, item: Arc<QueueItem>) {
        self.reporter.queued(&item);
        self.queue.push_back(item);
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
    fn coalesce(&mut self, pos: usize, new: &Arc<QueueItem>) {
        let Some(slot) = self.queue.get_mut(pos) else {
            return;
        };
        let mut merged = QueueItem::clone(slot);
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
        *slot = merged.clone();
        self.stats.coalesced += 1;
        self.reporter.queued(&merged);
        self.reporter.rejected(
            new,
            ItemStatus::Dropped {
                reason: format!("merged into item {}", merged.id),
            },
        );
    }

    fn start_next(&mut self) {
        let Some(item) = self.queue.pop_front() else {
            return;
        };
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
                let status = if e.is_panic() {
                    ItemStatus::Failed {
                        reason: "the step panicked".into(),
                        may_have_run: true,
                    }
                } else {
                    ItemStatus::Skipped
                };
                (e.id(), status)
            }
        };
        let Some(done) = self.running.remove(&id) else {
            return;
        };
        match &status {
            ItemStatus::Done => self.stats.done += 1,
            ItemStatus::Failed { .. } => self.stats.failed += 1,
            ItemStatus::Skipped => self.stats.skipped += 1,
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
        if self.running.is_empty() && (self.queue.is_empty() || self.paused) {
            for w in self.idle_waiters.drain(..) {
                let _ = w.send(());
            }
        }
    }

    fn current(&self) -> LaneSnapshot {
        let mut s = self.stats.clone();
        s.paused = self.paused;
        s.waiting = self.queue.len();
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
        self.reporter.send(EngineUpdate::Lane(self.current()));
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
                return ItemStatus::Skipped;
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
