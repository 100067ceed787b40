//! The trigger engine: TikTok LIVE events in, paced and recorded actions out.
//!
//! ```text
//! LiveStream ──submit──▶ [bounded channel] ──▶ handler task ──▶ lane tasks ──▶ Executor
//!                                              (registry, rules,   (pacing,     (RCON, sound)
//!                                               pure matching)      overflow)
//!                                   every change ──▶ Reporter ──▶ broadcast (app) + store (SQLite)
//! ```
//!
//! Module map:
//! - [`rules`]: the rule model (triggers, filters, streak modes, actions, lanes);
//! - [`input`]: what the engine reads from a client event;
//! - [`matching`]: the pure matching function and its state;
//! - [`registry`]: event kind → handler, and the handler task;
//! - [`lane`]: the lane tasks (pacing, overflow, pause/skip/clear);
//! - [`item`]: queue items and their lifecycle;
//! - [`exec`]: the [`Executor`] trait, the real outputs behind it, and a test recorder;
//! - [`store`]: the SQLite store, crash recovery and session stats;
//! - [`profile`]: the JSON profile format.

pub mod exec;
pub mod input;
pub mod item;
pub mod lane;
pub mod matching;
pub mod profile;
pub mod registry;
pub mod report;
pub mod rules;
pub mod store;

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use futures_util::{Stream, StreamExt};
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use exec::{ExecError, Executor, OutputsExecutor, Recorder};
pub use input::{EventKind, Input};
pub use item::{ItemStatus, ItemUpdate, QueueItem};
pub use lane::{LaneHandle, LaneSnapshot};
pub use profile::{Profile, ProfileError, ProfileFile};
pub use registry::Registry;
pub use report::EngineUpdate;
pub use store::{Recovery, SessionStats, Store, StoreError, StoreOptions};
pub use tiktok_live::client::Resume;

use item::{wall_ms, ActionBook};
use lane::LaneMsg;
use matching::{MatchState, RuleSet};
use registry::{Core, CoreMsg, LaneSpawner, Lanes};
use report::Reporter;

/// Events waiting for the handler. When full, `submit` waits: the client's own buffer and then
/// TCP hold the rest, so a burst slows the reader down instead of losing anything. A full
/// buffer is resident memory (~330 bytes an event with its strings and the channel's blocks,
/// heaptrack in a 20,000 events/s flood), so it holds a few hundred milliseconds of a flood,
/// not more: 4,096 still absorbs any single frame (TikTok batches tens of messages).
const EVENT_BUFFER: usize = 4_096;
/// How long shutdown waits for running items to finish.
const STOP_GRACE: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("the profile's actions are invalid: action {action:?}, step {step}: {reason}")]
    Actions {
        action: String,
        step: usize,
        reason: String,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("no lane {0:?}")]
    NoSuchLane(String),
    #[error("the engine has stopped")]
    Stopped,
    #[error("item {id} is {status}; only interrupted, failed, skipped or dropped items can be run again")]
    NotRerunnable { id: u64, status: String },
    #[error("there is no store to read from (the engine runs without a data folder)")]
    NoStore,
}

/// How the engine starts.
#[derive(Clone, Debug, Default)]
pub struct EngineConfig {
    /// Where the SQLite store lives; `None`: nothing is recorded or recovered.
    pub data_dir: Option<PathBuf>,
    /// What this session watches (`@user` or a room), recorded with the session.
    pub target: String,
    /// Handler validators; default: [`Registry::default`].
    pub registry: Option<Registry>,
    /// Retention of the store's events.
    pub store: StoreOptions,
}

/// What the engine found at start. Every item a previous run left is in exactly one list:
/// nothing vanishes silently. Kept by the engine ([`EngineHandle::start_report`]) for a
/// window that opens later.
#[derive(Clone, Debug, Default, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StartReport {
    /// Items from the last run queued again (rendered again with the current profile).
    pub resumed: usize,
    pub resumed_items: Vec<QueueItem>,
    /// Items that were running when the last run died ("interrupted — may have run"): shown,
    /// not re-run unless the user asks ([`EngineHandle::rerun`]).
    pub interrupted: Vec<QueueItem>,
    /// Items that waited longer than their lane's `maxAgeMs`, with the reason.
    pub expired: Vec<(QueueItem, String)>,
    /// Items whose rule, action or lane no longer exists (or that no longer render), with the
    /// reason.
    pub dropped: Vec<(QueueItem, String)>,
    pub unreadable: Vec<(u64, String)>,
    /// Things in the profile worth a look that do not stop it (e.g. a gift with a rule by
    /// name and another by id: which one wins).
    pub warnings: Vec<String>,
    /// Events deleted by the retention setting.
    pub events_deleted: u64,
    /// msg_ids already handled and whether the last run was watching moments ago: hand it to
    /// the first connection ([`EngineHandle::take_resume`]).
    #[serde(skip)]
    pub resume: Resume,
}

/// How to stop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shutdown {
    /// Run every waiting item first.
    Drain,
    /// Let running items finish; waiting items stay queued in the store for the next start.
    Persist,
}

/// A running engine. Dropping it stops its tasks (prefer [`Engine::shutdown`]).
pub struct Engine {
    handle: EngineHandle,
    cancel: CancellationToken,
    core: Option<JoinHandle<()>>,
    store: Option<Store>,
}

/// The cloneable control surface the app and the CLI use.
#[derive(Clone)]
pub struct EngineHandle {
    tx: mpsc::Sender<CoreMsg>,
    lanes: Lanes,
    reporter: Arc<Reporter>,
    next_id: Arc<AtomicU64>,
    start_report: Arc<StartReport>,
    /// Silences the outputs (the panic button).
    stop_outputs: Arc<dyn Fn() + Send + Sync>,
    resume: PendingResume,
}

/// The [`Resume`] not yet taken, with when the last run recorded its last event.
type PendingResume = Arc<Mutex<Option<(Resume, Option<i64>)>>>;

impl Engine {
    /// Starts the handler and lane tasks on the current runtime, opens the store (when a
    /// data folder is given) and queues the items a previous run left waiting.
    pub fn start<E: Executor>(
        profile: &Profile,
        executor: E,
        config: EngineConfig,
    ) -> Result<(Engine, StartReport), EngineError> {
        let book = Arc::new(
            ActionBook::for_profile(profile).map_err(|(action, step, e)| EngineError::Actions {
                action,
                step,
                reason: e.to_string(),
            })?,
        );
        let (store, recovery) = match &config.data_dir {
            Some(dir) => {
                let (s, r) = Store::open_with(dir, &config.target, config.store)?;
                (Some(s), r)
            }
            None => (
                None,
                Recovery {
                    next_id: 1,
                    ..Recovery::default()
                },
            ),
        };
        let reporter = Reporter::new(store.as_ref().map(Store::handle));
        let cancel = CancellationToken::new();
        let exec = Arc::new(executor);
        let stop_outputs: Arc<dyn Fn() + Send + Sync> = {
            let exec = exec.clone();
            Arc::new(move || exec.stop_all())
        };
        let spawn_lane: LaneSpawner = {
            let (exec, reporter, cancel) = (exec.clone(), reporter.clone(), cancel.clone());
            Box::new(move |cfg, book| {
                lane::spawn(
                    cfg,
                    book,
                    exec.clone(),
                    reporter.clone(),
                    cancel.child_token(),
                )
            })
        };
        let lanes: Lanes = Arc::new(RwLock::new(BTreeMap::new()));
        {
            let mut map = lanes.write().unwrap_or_else(|p| p.into_inner());
            for cfg in &profile.lanes {
                map.insert(cfg.name.clone(), spawn_lane(cfg.clone(), book.clone()));
            }
        }
        let next_id = Arc::new(AtomicU64::new(recovery.next_id.max(1)));
        let mut report = StartReport {
            interrupted: recovery.interrupted,
            unreadable: recovery.unreadable,
            warnings: profile.warnings(),
            events_deleted: recovery.events_deleted,
            ..StartReport::default()
        };
        for w in &report.warnings {
            reporter.warning(w.clone());
        }
        for item in &report.interrupted {
            reporter.send(EngineUpdate::Item(ItemUpdate {
                item: Arc::new(item.clone()),
                status: ItemStatus::Interrupted,
                at_ms: wall_ms(),
            }));
        }
        let mut rng = fastrand::Rng::new();
        {
            let map = lanes.read().unwrap_or_else(|p| p.into_inner());
            for item in recovery.resumed {
                match triage(item, profile, &book, &mut rng, wall_ms()) {
                    Triage::Resume(item) => match map.get(&item.lane) {
                        Some(l) => {
                            report.resumed_items.push(item.clone());
                            l.send(LaneMsg::Enqueue {
                                item: Box::new(item),
                                resume: true,
                            });
                            report.resumed += 1;
                        }
                        None => {
                            let reason = format!("lane {:?} is not running", item.lane);
                            report.dropped.push((item.clone(), reason.clone()));
                            reporter.finished(&Arc::new(item), ItemStatus::Dropped { reason });
                        }
                    },
                    Triage::Expired(item, reason) => {
                        report.expired.push((item.clone(), reason.clone()));
                        reporter.finished(&Arc::new(item), ItemStatus::Expired { reason });
                    }
                    Triage::Dropped(item, reason) => {
                        report.dropped.push((item.clone(), reason.clone()));
                        reporter.finished(&Arc::new(item), ItemStatus::Dropped { reason });
                    }
                }
            }
        }
        let mut state = MatchState::new();
        state.seed_msg_ids(recovery.resume.seen_msg_ids.iter().copied());
        state.restore_ledgers(recovery.ledgers);
        let open_streaks = !recovery.open_streaks.is_empty();
        state.restore_open_streaks(recovery.open_streaks);
        report.resume = recovery.resume;
        let recovery_last_event = recovery.last_event_ms;
        let (tx, rx) = mpsc::channel(EVENT_BUFFER);
        let core = Core {
            registry: config.registry.unwrap_or_default(),
            rules: RuleSet::new(&profile.rules, &profile.actions),
            book,
            state,
            lanes: lanes.clone(),
            spawn_lane,
            reporter: reporter.clone(),
            next_id: next_id.clone(),
            rng: fastrand::Rng::new(),
        };
        let core = tokio::spawn(core.run(rx, cancel.child_token()));
        if open_streaks {
            // The last run's client would have settled these after its streak timeout; give
            // this run's stream as long to continue them first.
            let weak = tx.downgrade();
            tokio::spawn(async move {
                tokio::time::sleep(tiktok_live::streak::DEFAULT_STREAK_TIMEOUT).await;
                if let Some(tx) = weak.upgrade() {
                    let _ = tx.send(CoreMsg::SettleOrphans).await;
                }
            });
        }
        Ok((
            Engine {
                handle: EngineHandle {
                    tx,
                    lanes,
                    reporter,
                    next_id,
                    resume: Arc::new(Mutex::new(Some((
                        report.resume.clone(),
                        recovery_last_event,
                    )))),
                    // The id list is for the first connection only; not kept twice.
                    start_report: Arc::new(StartReport {
                        resume: Resume::default(),
                        ..report.clone()
                    }),
                    stop_outputs,
                },
                cancel,
                core: Some(core),
                store,
            },
            report,
        ))
    }

    pub fn handle(&self) -> EngineHandle {
        self.handle.clone()
    }

    /// Stops the engine. With [`Shutdown::Drain`] every waiting item runs first; with
    /// [`Shutdown::Persist`] waiting items stay in the store and resume at the next start.
    /// Either way the store has everything when this returns.
    pub async fn shutdown(mut self, how: Shutdown) {
        if how == Shutdown::Drain {
            let _ = self.handle.drain().await;
        } else {
            // Events already handed over become queued items (kept for the next start)
            // rather than vanish with the handler.
            let (tx, rx) = oneshot::channel();
            if self.handle.tx.send(CoreMsg::Sync(tx)).await.is_ok() {
                let _ = rx.await;
            }
        }
        // Stop the handler first so nothing new reaches the lanes.
        self.cancel_core().await;
        let lanes: Vec<LaneHandle> = self.handle.lane_handles();
        let mut waits = Vec::new();
        for l in lanes {
            let (tx, rx) = oneshot::channel();
            if l.send(LaneMsg::Stop(tx)) {
                waits.push(rx);
            }
        }
        // A step stuck on an unreachable output must not hold the app open: after the grace
        // period it is abandoned, and shows as interrupted at the next start.
        let all = async {
            for w in waits {
                let _ = w.await;
            }
        };
        if tokio::time::timeout(STOP_GRACE, all).await.is_err() {
            tracing::warn!("items still running at shutdown were abandoned");
        }
        self.cancel.cancel();
        if let Some(store) = self.store.take() {
            if let Some(h) = self.handle.reporter.store() {
                let _ = h.flush().await;
            }
            // Joining the store thread blocks; it has nothing left but the close.
            let _ = tokio::task::spawn_blocking(move || store.close()).await;
        }
    }

    async fn cancel_core(&mut self) {
        if let Some(core) = self.core.take() {
            core.abort();
            let _ = core.await;
        }
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        self.cancel.cancel();
        if let Some(core) = self.core.take() {
            core.abort();
        }
    }
}

/// What becomes of an item a previous run left waiting.
enum Triage {
    Resume(QueueItem),
    Expired(QueueItem, String),
    Dropped(QueueItem, String),
}

/// Decides, with the current profile, whether a waiting item from the last run still runs:
/// too old for its lane → expired; its rule, action or lane gone → dropped; else rendered
/// again from its event's values, so an edited command applies.
fn triage(
    mut item: QueueItem,
    profile: &Profile,
    book: &ActionBook,
    rng: &mut fastrand::Rng,
    now_ms: i64,
) -> Triage {
    let rules: HashSet<&str> = profile
        .rules
        .iter()
        .filter(|r| r.enabled)
        .map(|r| r.id.as_str())
        .collect();
    if !rules.contains(item.rule_id.as_str()) {
        let reason = format!("rule {:?} no longer exists (or is disabled)", item.rule_id);
        return Triage::Dropped(item, reason);
    }
    let Some(action) = book.get(&item.action_id) else {
        let reason = format!("action {:?} no longer exists", item.action_id);
        return Triage::Dropped(item, reason);
    };
    let lane = action.action.lane().to_owned();
    let Some(cfg) = profile.lane(&lane) else {
        let reason = format!("lane {lane:?} no longer exists");
        return Triage::Dropped(item, reason);
    };
    // The lane's own limits (unpaid items expire sooner), so what resumes is not expired
    // by the lane a moment later.
    let (limit_ms, field) = if item.paid {
        (cfg.max_age_ms, "maxAgeMs")
    } else {
        (cfg.unpaid_max_age_ms.min(cfg.max_age_ms), "unpaidMaxAgeMs")
    };
    let age_ms = u64::try_from(now_ms.saturating_sub(item.queued_ms)).unwrap_or(0);
    if age_ms > limit_ms {
        let reason = format!(
            "waited {} s while the app was down, over the {} lane's limit of {} s ({field})",
            age_ms / 1000,
            lane,
            limit_ms / 1000
        );
        return Triage::Expired(item, reason);
    }
    match book.plan(&item.action_id, &item.vars, rng) {
        Ok(steps) => {
            item.steps = steps;
            item.lane = lane;
            Triage::Resume(item)
        }
        Err(e) => Triage::Dropped(
            item,
            format!("cannot be rendered with the current profile: {e}"),
        ),
    }
}

impl EngineHandle {
    /// What the engine found at start (interrupted, expired, dropped and resumed items), for
    /// a view that opens after the start was broadcast.
    pub fn start_report(&self) -> Arc<StartReport> {
        self.start_report.clone()
    }

    /// The [`Resume`] for the first connection after start (later calls: an empty one). The
    /// last run counts as "mid-stream" only if its last event is recent at the time of the
    /// call (the window may connect long after the engine started).
    pub fn take_resume(&self) -> Resume {
        let taken = self.resume.lock().unwrap_or_else(|p| p.into_inner()).take();
        match taken {
            Some((mut resume, last)) => {
                let window = i64::try_from(store::MID_STREAM_WINDOW.as_millis()).unwrap_or(0);
                resume.mid_stream = last.is_some_and(|at| wall_ms().saturating_sub(at) < window);
                resume
            }
            None => Resume::default(),
        }
    }

    /// Hands one client event to the engine, waiting while the handler's buffer is full.
    pub async fn submit(&self, event: &tiktok_live::event::Event) -> Result<(), EngineError> {
        match Input::from_event(event) {
            Some(input) => self.submit_input(input).await,
            None => Ok(()),
        }
    }

    /// Hands an engine input over (also how "test trigger" buttons inject events).
    pub async fn submit_input(&self, input: Input) -> Result<(), EngineError> {
        self.tx
            .send(CoreMsg::Input(Box::new(input)))
            .await
            .map_err(|_| EngineError::Stopped)
    }

    /// Every change from now on: events, matches, item lifecycle, lane changes, warnings.
    pub fn subscribe(&self) -> broadcast::Receiver<EngineUpdate> {
        self.reporter.subscribe()
    }

    fn lane_handles(&self) -> Vec<LaneHandle> {
        self.lanes
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .cloned()
            .collect()
    }

    fn lane(&self, name: &str) -> Result<LaneHandle, EngineError> {
        self.lanes
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(name)
            .cloned()
            .ok_or_else(|| EngineError::NoSuchLane(name.to_owned()))
    }

    fn tell(&self, name: &str, msg: LaneMsg) -> Result<(), EngineError> {
        if self.lane(name)?.send(msg) {
            Ok(())
        } else {
            Err(EngineError::Stopped)
        }
    }

    pub fn lanes(&self) -> Vec<LaneSnapshot> {
        self.lane_handles()
            .iter()
            .map(LaneHandle::snapshot)
            .collect()
    }

    pub fn lane_handle(&self, name: &str) -> Result<LaneHandle, EngineError> {
        self.lane(name)
    }

    pub fn pause(&self, lane: &str) -> Result<(), EngineError> {
        self.tell(lane, LaneMsg::Pause)
    }

    pub fn resume(&self, lane: &str) -> Result<(), EngineError> {
        self.tell(lane, LaneMsg::Resume)
    }

    /// Stops what the lane is running now (it ends as skipped) and goes on with the next.
    pub fn skip_current(&self, lane: &str) -> Result<(), EngineError> {
        self.tell(lane, LaneMsg::Skip)
    }

    /// Drops everything waiting in the lane.
    pub fn clear(&self, lane: &str) -> Result<(), EngineError> {
        self.tell(
            lane,
            LaneMsg::Clear {
                reason: "cleared by the user".into(),
            },
        )
    }

    /// The panic button: every lane is paused, emptied, what runs is skipped, and every
    /// sound playing stops.
    pub fn panic(&self) {
        for l in self.lane_handles() {
            l.send(LaneMsg::Pause);
            l.send(LaneMsg::Clear {
                reason: "panic button".into(),
            });
            l.send(LaneMsg::Skip);
        }
        (self.stop_outputs)();
    }

    pub fn resume_all(&self) {
        for l in self.lane_handles() {
            l.send(LaneMsg::Resume);
        }
    }

    /// Applies a new profile: rules and actions at once, lane settings for what comes next.
    pub async fn reload(&self, profile: Profile) -> Result<(), EngineError> {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(CoreMsg::Reload(Box::new(profile), tx))
            .await
            .map_err(|_| EngineError::Stopped)?;
        rx.await.map_err(|_| EngineError::Stopped)
    }

    /// Waits until every event submitted so far is handled and every lane is idle (a paused
    /// lane with items counts as idle: it cannot go on by itself).
    pub async fn drain(&self) -> Result<(), EngineError> {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(CoreMsg::Drain(tx))
            .await
            .map_err(|_| EngineError::Stopped)?;
        rx.await.map_err(|_| EngineError::Stopped)
    }

    /// Like [`EngineHandle::drain`], giving up after `limit`; true if drained.
    pub async fn drain_for(&self, limit: Duration) -> bool {
        matches!(tokio::time::timeout(limit, self.drain()).await, Ok(Ok(())))
    }

    /// Queues a stored item again as a new item (e.g. one interrupted by a crash). Returns
    /// the new item's id.
    pub async fn rerun(&self, id: u64) -> Result<u64, EngineError> {
        let store = self.reporter.store().ok_or(EngineError::NoStore)?;
        let (mut item, status) = store.item(id).await?;
        if matches!(status.as_str(), "queued" | "running" | "done") {
            return Err(EngineError::NotRerunnable { id, status });
        }
        // A merged item's units already ran in the item it was merged into, and an item that
        // was re-run once must not be re-run again by a second click.
        let (reason, already) = store.rerun_facts(id).await?;
        if already {
            return Err(EngineError::NotRerunnable {
                id,
                status: format!("{status}, already re-run"),
            });
        }
        if reason
            .as_deref()
            .is_some_and(|r| r.starts_with("merged into"))
        {
            return Err(EngineError::NotRerunnable {
                id,
                status: format!("{status} ({})", reason.unwrap_or_default()),
            });
        }
        item.rerun_of = Some(id);
        item.id = self.next_id.fetch_add(1, Ordering::Relaxed);
        item.queued_ms = wall_ms();
        let new_id = item.id;
        self.tell(
            &item.lane.clone(),
            LaneMsg::Enqueue {
                item: Box::new(item),
                resume: true,
            },
        )?;
        Ok(new_id)
    }

    /// This session's statistics, from the store.
    pub async fn stats(&self) -> Result<SessionStats, EngineError> {
        let store = self.reporter.store().ok_or(EngineError::NoStore)?;
        let mut stats = store.stats().await?;
        stats.invalid_events = self.reporter.invalid_events();
        Ok(stats)
    }

    /// Everything written so far is committed when this returns.
    pub async fn flush_store(&self) -> Result<(), EngineError> {
        match self.reporter.store() {
            Some(s) => Ok(s.flush().await?),
            None => Ok(()),
        }
    }

    /// The store's handle, for history queries.
    pub fn store(&self) -> Option<store::StoreHandle> {
        self.reporter.store().cloned()
    }
}

/// How long [`pump`] keeps reading after `cancel` fires: the client settles its open streaks
/// and hands over what it had buffered in this time, then ends its stream.
pub const PUMP_DRAIN_GRACE: Duration = Duration::from_secs(5);

/// Feeds a client stream into the engine until it ends; errors from the stream are logged and
/// skipped. Returns the number of events handed over.
///
/// `cancel` should be the token the client was started with: once it fires the client stops
/// by itself, settling open streaks and ending the stream, and everything it sends until then
/// is still handed over (paid gifts already received must not be lost at stop). Only a stream
/// that does not end within [`PUMP_DRAIN_GRACE`] after `cancel` is abandoned.
pub async fn pump<S>(mut stream: S, engine: &EngineHandle, cancel: &CancellationToken) -> u64
where
    S: Stream<Item = Result<tiktok_live::event::Event, tiktok_live::error::Error>> + Unpin,
{
    let mut n = 0;
    let mut deadline: Option<tokio::time::Instant> = None;
    loop {
        let item = match deadline {
            Some(at) => match tokio::time::timeout_at(at, stream.next()).await {
                Ok(item) => item,
                Err(_) => {
                    tracing::warn!("the stream did not end after stop; leaving it");
                    break;
                }
            },
            None => tokio::select! {
                biased;
                _ = cancel.cancelled() => {
                    deadline = Some(tokio::time::Instant::now() + PUMP_DRAIN_GRACE);
                    continue;
                }
                item = stream.next() => item,
            },
        };
        match item {
            None => break,
            Some(Ok(event)) => {
                if engine.submit(&event).await.is_err() {
                    break;
                }
                n += 1;
            }
            Some(Err(e)) => tracing::warn!(error = %e, code = e.code(), "stream error; going on"),
        }
    }
    n
}
