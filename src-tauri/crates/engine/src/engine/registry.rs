//! The handler registry and the task that runs it.
//!
//! Every event kind has a handler; a handler reads the event, validates it, finds the
//! matching rules (through the pure [`evaluate`]) and enqueues the actions. It never runs an
//! action itself, never waits on an output, and never takes the engine down: an invalid
//! event, a template that cannot render or even a panic in matching is logged with the
//! event's msg_id, user and rule, and the next event is handled.

use std::collections::{BTreeMap, HashMap};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::input::{short, EventKind, Input, Payload};
use super::item::{wall_ms, ActionBook, ItemStatus, QueueItem};
use super::lane::{LaneHandle, LaneMsg};
use super::matching::{evaluate, MatchState, RuleSet};
use super::profile::Profile;
use super::report::Reporter;
use super::rules::LaneConfig;

/// Longest text kept from a viewer (chat) or a name; TikTok's own limits are far below.
const MAX_TEXT_CHARS: usize = 500;
const MAX_NAME_CHARS: usize = 100;
/// A streak above this is not a real gift count (TikTok caps combos far lower).
const MAX_REPEAT: u32 = 1_000_000;

/// Why an event was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

/// Checks (and trims) one kind of event before matching.
pub type Validator = fn(&mut Input) -> Result<(), Invalid>;

/// Event kind → handler. The default registry validates every kind; an app can replace a
/// kind's validator (e.g. to ignore a spammy viewer) without touching matching.
#[derive(Clone)]
pub struct Registry {
    handlers: HashMap<EventKind, Validator>,
}

impl Default for Registry {
    fn default() -> Self {
        let mut handlers: HashMap<EventKind, Validator> = HashMap::new();
        for kind in EventKind::ALL {
            handlers.insert(kind, validate_common);
        }
        handlers.insert(EventKind::Gift, validate_gift);
        handlers.insert(EventKind::Chat, validate_chat);
        Registry { handlers }
    }
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("kinds", &self.handlers.len())
            .finish()
    }
}

impl Registry {
    pub fn on(&mut self, kind: EventKind, validator: Validator) {
        self.handlers.insert(kind, validator);
    }

    pub fn validate(&self, input: &mut Input) -> Result<(), Invalid> {
        match self.handlers.get(&input.kind()) {
            Some(v) => v(input),
            None => Err(Invalid(format!(
                "no handler for {} events",
                input.kind().as_str()
            ))),
        }
    }
}

fn cut(s: &mut String, max: usize) {
    if let Some((i, _)) = s.char_indices().nth(max) {
        s.truncate(i);
    }
}

fn validate_common(input: &mut Input) -> Result<(), Invalid> {
    if let Some(u) = &mut input.user {
        cut(&mut u.nickname, MAX_NAME_CHARS);
        cut(&mut u.unique_id, MAX_NAME_CHARS);
    }
    Ok(())
}

fn validate_gift(input: &mut Input) -> Result<(), Invalid> {
    validate_common(input)?;
    let Payload::Gift(g) = &mut input.payload else {
        return Err(Invalid("not a gift".into()));
    };
    cut(&mut g.name, MAX_NAME_CHARS);
    if g.repeat_count > MAX_REPEAT || g.settled.is_some_and(|(n, _)| n > MAX_REPEAT) {
        return Err(Invalid(format!(
            "gift count {} is not plausible",
            g.repeat_count
        )));
    }
    if g.name.is_empty() && g.gift_id == 0 {
        return Err(Invalid("a gift with neither name nor id".into()));
    }
    // As in the seed: a gift nobody can be credited with is not acted on (its streak could
    // not be keyed, and "{user}" would be empty in the commands).
    let usable = input.user.as_ref().is_some_and(|u| {
        u.id != 0 || !u.unique_id.trim().is_empty() || !u.nickname.trim().is_empty()
    });
    if !usable {
        return Err(Invalid(
            "a gift with no usable viewer (no id and no name)".into(),
        ));
    }
    Ok(())
}

fn validate_chat(input: &mut Input) -> Result<(), Invalid> {
    validate_common(input)?;
    if let Payload::Chat { text } = &mut input.payload {
        cut(text, MAX_TEXT_CHARS);
    }
    Ok(())
}

/// Messages to the handler task.
pub(crate) enum CoreMsg {
    Input(Box<Input>),
    Reload(Box<Profile>, oneshot::Sender<()>),
    /// Answered once every event sent before has been handled and every lane is idle.
    Drain(oneshot::Sender<()>),
    /// Answered once every event sent before has been handled (queued in its lane).
    Sync(oneshot::Sender<()>),
    /// Settle the streaks an earlier run left open that nothing in this run continued.
    SettleOrphans,
}

/// Starts lanes for the handler (it is not generic over the executor).
pub(crate) type LaneSpawner = Box<dyn Fn(LaneConfig, Arc<ActionBook>) -> LaneHandle + Send + Sync>;

pub(crate) type Lanes = Arc<RwLock<BTreeMap<String, LaneHandle>>>;

/// The handler task's state.
pub(crate) struct Core {
    pub registry: Registry,
    pub rules: RuleSet,
    pub book: Arc<ActionBook>,
    pub state: MatchState,
    pub lanes: Lanes,
    pub spawn_lane: LaneSpawner,
    pub reporter: Arc<Reporter>,
    pub next_id: Arc<AtomicU64>,
    pub rng: fastrand::Rng,
}

impl Core {
    pub async fn run(mut self, mut rx: mpsc::Receiver<CoreMsg>, cancel: CancellationToken) {
        loop {
            let msg = tokio::select! {
                biased;
                _ = cancel.cancelled() => break,
                msg = rx.recv() => match msg {
                    Some(m) => m,
                    None => break,
                },
            };
            match msg {
                CoreMsg::Input(input) => {
                    let (msg_id, kind) = (input.msg_id, input.kind());
                    // Contained: one event lost (and said so) instead of the whole handler.
                    if let Err(panic) = catch_unwind(AssertUnwindSafe(|| self.handle(*input))) {
                        let fault = crate::supervise::report("handler", &*panic);
                        self.reporter.fault(
                            &fault,
                            format!(
                                "{} event {msg_id} was not handled (internal error: {})",
                                kind.as_str(),
                                fault.message
                            ),
                        );
                    }
                }
                CoreMsg::Reload(profile, done) => {
                    if let Err(panic) = catch_unwind(AssertUnwindSafe(|| self.reload(&profile))) {
                        let fault = crate::supervise::report("handler", &*panic);
                        self.reporter.fault(
                            &fault,
                            format!(
                                "the profile was not applied (internal error: {})",
                                fault.message
                            ),
                        );
                    }
                    let _ = done.send(());
                }
                CoreMsg::Drain(done) => {
                    // The stream is over: its open streaks are settled, the earlier run's too.
                    self.settle_orphans();
                    self.drain(done);
                }
                CoreMsg::SettleOrphans => self.settle_orphans(),
                CoreMsg::Sync(done) => {
                    let _ = done.send(());
                }
            }
        }
    }

    fn lane(&self, name: &str) -> Option<LaneHandle> {
        self.lanes
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(name)
            .cloned()
    }

    /// Read → validate → match → enqueue, for one event.
    pub fn handle(&mut self, mut input: Input) {
        if let Err(e) = self.registry.validate(&mut input) {
            let user = input
                .user
                .as_ref()
                .map(|u| short(&u.unique_id, 32))
                .unwrap_or_default();
            tracing::warn!(msg_id = input.msg_id, user = %user, kind = input.kind().as_str(), error = %e, "event ignored");
            self.reporter.count_invalid();
            self.reporter.warning(format!(
                "{} event {} ignored: {e}",
                input.kind().as_str(),
                input.msg_id
            ));
            return;
        }
        let now = Instant::now();
        let evaluated = catch_unwind(AssertUnwindSafe(|| {
            evaluate(&input, &self.rules, &mut self.state, now)
        }));
        let eval = match evaluated {
            Ok(e) => e,
            Err(panic) => {
                let fault = crate::supervise::report("matching", &*panic);
                tracing::error!(
                    msg_id = input.msg_id,
                    kind = input.kind().as_str(),
                    "matching panicked; event skipped"
                );
                self.reporter.fault(
                    &fault,
                    format!(
                        "event {} could not be matched (internal error: {})",
                        input.msg_id, fault.message
                    ),
                );
                return;
            }
        };
        if eval.duplicate {
            tracing::debug!(msg_id = input.msg_id, "duplicate event ignored");
            self.reporter.skipped(input.msg_id, None, || {
                "duplicate: this message was already handled".into()
            });
            return;
        }
        // A crash between the event's record and its paid items' would leave the event
        // deduplicated after the restart and its units never run: they are written together.
        let paid = eval.matches.iter().any(|m| m.paid) || !eval.paid_skips.is_empty();
        let group = self
            .reporter
            .store()
            .filter(|_| paid)
            .map(super::store::StoreHandle::group);
        self.reporter.event(&input, input.summary());
        if let (Some(ledger), Some(store)) = (eval.streak, self.reporter.store()) {
            store.record_ledger(ledger, &input);
        }
        let user = input.user.as_ref().map(|u| u.unique_id.clone());
        for (rule, skip) in &eval.skipped {
            tracing::debug!(msg_id = input.msg_id, user = user.as_deref().unwrap_or(""), rule = %rule, ?skip, "rule filtered");
            self.reporter
                .skipped(input.msg_id, Some(rule.as_str()), || skip.describe());
            // Paid units not run because of a cap are worth telling the streamer about.
            if let super::matching::Skip::OverStreakCap { cap, units } = skip {
                self.reporter.warning(format!(
                    "rule {rule}: {units} unit(s) of a streak above its limit of {cap} were not run"
                ));
            }
        }
        for ps in &eval.paid_skips {
            let Some(rule) = self.rules.get(ps.rule) else {
                continue;
            };
            let reason = format!("not run: {}", ps.skip);
            for action_id in &rule.rule.actions {
                // The steps it would have run, for the queue view; an action that cannot
                // render still leaves its trace.
                let steps = self
                    .book
                    .plan(action_id, &ps.vars, &mut self.rng)
                    .unwrap_or_default();
                let item = QueueItem {
                    id: self.next_id.fetch_add(1, Ordering::Relaxed),
                    lane: self
                        .book
                        .get(action_id)
                        .map(|a| a.action.lane().to_owned())
                        .unwrap_or_default(),
                    rule_id: ps.rule_id.clone(),
                    action_id: action_id.clone(),
                    kind: input.kind(),
                    event: input.summary(),
                    msg_id: input.msg_id,
                    username: user.clone(),
                    paid: true,
                    vars: ps.vars.clone(),
                    steps,
                    queued_ms: wall_ms(),
                    rerun_of: None,
                    keep_separate: false,
                };
                self.reporter.rejected(
                    &Arc::new(item),
                    ItemStatus::Skipped {
                        reason: reason.clone(),
                    },
                );
            }
        }
        for m in eval.matches {
            let Some(rule) = self.rules.get(m.rule) else {
                continue;
            };
            self.reporter.matched(&m.rule_id, input.msg_id, m.runs);
            for _ in 0..m.runs {
                for action_id in &rule.rule.actions {
                    let steps = match self.book.plan(action_id, &m.vars, &mut self.rng) {
                        Ok(s) => s,
                        Err(e) => {
                            tracing::warn!(msg_id = input.msg_id, user = user.as_deref().unwrap_or(""), rule = %m.rule_id, error = %e, "action not queued");
                            self.reporter.warning(format!("rule {}: {e}", m.rule_id));
                            continue;
                        }
                    };
                    let lane_name = self
                        .book
                        .get(action_id)
                        .map(|a| a.action.lane().to_owned())
                        .unwrap_or_default();
                    let item = QueueItem {
                        id: self.next_id.fetch_add(1, Ordering::Relaxed),
                        lane: lane_name.clone(),
                        rule_id: m.rule_id.clone(),
                        action_id: action_id.clone(),
                        kind: input.kind(),
                        event: input.summary(),
                        msg_id: input.msg_id,
                        username: user.clone(),
                        paid: m.paid,
                        vars: m.vars.clone(),
                        steps,
                        queued_ms: wall_ms(),
                        rerun_of: None,
                        keep_separate: rule.rule.run_per_threshold,
                    };
                    // A paid item is recorded as queued from here, in the event's transaction;
                    // the lane's own record of it (on admission) updates the same row.
                    let recorded = match (m.paid, group.as_ref().and(self.reporter.store())) {
                        (true, Some(store)) => {
                            let item = Arc::new(item.clone());
                            store.item_queued(item.clone());
                            Some(item)
                        }
                        _ => None,
                    };
                    let sent = self.lane(&lane_name).is_some_and(|l| {
                        l.send(LaneMsg::Enqueue {
                            item: Box::new(item),
                            resume: false,
                        })
                    });
                    if !sent {
                        tracing::error!(msg_id = input.msg_id, rule = %m.rule_id, lane = %lane_name, "no running lane; action not queued");
                        self.reporter.warning(format!(
                            "rule {}: lane {lane_name:?} is not running",
                            m.rule_id
                        ));
                        if let Some(item) = recorded {
                            // Not left `queued` in the store for a later start to run.
                            self.reporter.finished(
                                &item,
                                ItemStatus::Dropped {
                                    reason: format!("lane {lane_name:?} is not running"),
                                },
                            );
                        }
                    }
                }
            }
        }
    }

    fn reload(&mut self, profile: &Profile) {
        let book = match ActionBook::for_profile(profile) {
            Ok(b) => Arc::new(b),
            Err((action, step, e)) => {
                // Profiles are checked when loaded; this only happens for a profile built in code.
                self.reporter.warning(format!(
                    "profile not applied: action {action:?} step {step}: {e}"
                ));
                return;
            }
        };
        self.rules = RuleSet::new(&profile.rules, &profile.actions);
        self.state.rules_changed();
        for w in profile.warnings() {
            self.reporter.warning(w);
        }
        self.book = book.clone();
        let mut lanes = self.lanes.write().unwrap_or_else(|p| p.into_inner());
        for cfg in &profile.lanes {
            match lanes.get(&cfg.name) {
                Some(l) => {
                    l.send(LaneMsg::Configure(cfg.clone()));
                    l.send(LaneMsg::Book(book.clone()));
                }
                None => {
                    let l = (self.spawn_lane)(cfg.clone(), book.clone());
                    lanes.insert(cfg.name.clone(), l);
                }
            }
        }
    }

    /// See [`MatchState::orphan_settles`].
    fn settle_orphans(&mut self) {
        for input in self.state.orphan_settles() {
            let key = input.streak_key();
            tracing::info!(
                user = input
                    .user
                    .as_ref()
                    .map(|u| u.unique_id.as_str())
                    .unwrap_or(""),
                "settling a streak the last run left open"
            );
            if let Err(panic) = catch_unwind(AssertUnwindSafe(|| self.handle(input))) {
                let fault = crate::supervise::report("handler", &*panic);
                self.reporter.fault(
                    &fault,
                    format!(
                        "a streak left open by the last run was not settled (internal error: {})",
                        fault.message
                    ),
                );
            }
            if let Some(key) = key {
                self.state.release_orphan(&key);
            }
        }
    }

    fn drain(&self, done: oneshot::Sender<()>) {
        let lanes: Vec<LaneHandle> = self
            .lanes
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .cloned()
            .collect();
        let mut waits = Vec::new();
        for l in lanes {
            let (tx, rx) = oneshot::channel();
            if l.send(LaneMsg::WhenIdle(tx)) {
                waits.push(rx);
            }
        }
        tokio::spawn(async move {
            for w in waits {
                let _ = w.await;
            }
            let _ = done.send(());
        });
    }
}
