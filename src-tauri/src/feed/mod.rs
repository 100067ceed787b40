//! The one update stream from the backend to the window.
//!
//! Everything that changes (log rows, queue items, lane counters, the status bar, stats) is
//! collected here into one batch at most [`BATCHES_PER_SECOND`] times a second, so a flood of
//! events costs the window a bounded amount of work. The window pulls the batches: it asks
//! [`feed_next`] for the one after the batch it has just painted, and the reply is that batch
//! as soon as it is made. Each batch has a sequence number; a window that sees a gap (or has
//! just loaded) asks for [`feed_snapshot`] and goes on from there.
//!
//! Why a pull and not Tauri's events or channels: both deliver by evaluating a script in the
//! page, and in WebKitGTK every evaluation makes the app process run JavaScriptCore to read
//! the result and the web process compile a new script. Over 200 deliveries of 30 kB that cost
//! an empty window +6.5 MB in the app process and +13-20 MB in WebKit; the same data as
//! command replies (plain responses of Tauri's `ipc:` protocol) cost neither (measured in
//! docs/performance.md). The log itself stays here (a ring of [`log::DEFAULT_CAPACITY`]
//! rows) and the window asks for the page it shows ([`log_page`]).
//!
//! When the engine's update channel overflows (`Lagged`), the queue is rebuilt from the
//! engine's own state and the next batch says `reset`, so no item stays "queued" forever.

pub mod log;
pub mod queue;
pub mod stats;
#[cfg(test)]
mod tests;

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use livetrigger_engine::engine::{EngineHandle, EngineUpdate};
use serde::{Deserialize, Serialize};
use tauri::{AppHandle, Manager, Runtime, State};
use tiktok_live::event::Event;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tokio::sync::{broadcast, Notify};
use ts_rs::TS;

use crate::error::{ErrorCode, IpcError};
use crate::queue::{LaneView, QueueItemView};
use crate::status::{RoomStats, StatusHub, StatusSnapshot};
use log::{GiftInfo, LogCursor, LogPage, LogQuery, LogRing, NewRow, TraceView};
use queue::QueueBook;
use stats::LiveStats;

pub use stats::{GifterGift, GifterView};

/// The most batches a second the window receives. Ten keeps a flooded log moving smoothly and
/// leaves the window time between batches for the streamer's clicks (measured in
/// docs/performance.md: twenty kept it busy from one batch to the next).
pub const BATCHES_PER_SECOND: u32 = 10;
const BATCH_GAP: Duration = Duration::from_millis(1000 / BATCHES_PER_SECOND as u64);
/// The shortest gap before a batch that carries no new log rows (a lane draining its backlog,
/// the status bar): such progress reads fine at 4 frames a second, and every batch costs the
/// window a repaint, which is most of its work without a GPU.
const QUIET_GAP: Duration = Duration::from_millis(250);
/// How long the next batch waits for the window to ask for it (asking for batch N + 1 says N
/// is painted). A
/// window that is busy gets fewer, larger batches instead of a queue of them in front of the
/// streamer's clicks; a window that reloads or stops answering slows the feed to one batch per
/// this interval, never stops it.
const ACK_TIMEOUT: Duration = Duration::from_secs(1);
/// Batches kept for a window that asks late (a slow one is still sent them in order).
const BATCHES_KEPT: usize = 8;
/// How long [`feed_next`] waits for a batch before it answers "none yet" (the window asks
/// again at once): no request stays open for ever.
pub const LONG_POLL: Duration = Duration::from_secs(25);
/// Engine updates handled under one lock.
const UPDATES_PER_LOCK: usize = 512;
/// Stats changes are announced at most this often (the Stats view refetches on it).
const STATS_GAP_MS: i64 = 1_000;
/// Overrides the log ring's size (rows).
pub const LOG_ROWS_ENV: &str = "LIVETRIGGER_LOG_ROWS";

/// Everything changed since the previous batch.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct FeedBatch {
    /// One more than the previous batch's.
    pub seq: u32,
    /// The queue was rebuilt (updates were missed): `items` is the whole list, replace it.
    pub reset: bool,
    pub log: LogCursor,
    /// Some row's trace changed (open traces should be fetched again).
    pub traces_changed: bool,
    /// Changed queue items, latest state only (all items when `reset`).
    pub items: Vec<QueueItemView>,
    /// Items no longer shown.
    pub removed_items: Vec<u32>,
    /// Every lane, when any counter changed.
    pub lanes: Option<Vec<LaneView>>,
    pub status: Option<StatusSnapshot>,
    /// The stats changed (fetch `session_stats` again).
    pub stats_changed: bool,
    /// Engine updates this window's feed could not keep up with, in total.
    pub missed_updates: u32,
}

/// The whole state a window starts from; batches with a higher `seq` follow it.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct FeedSnapshot {
    pub seq: u32,
    pub log: LogCursor,
    pub items: Vec<QueueItemView>,
    pub lanes: Vec<LaneView>,
    pub status: StatusSnapshot,
    pub missed_updates: u32,
}

/// How to export the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    JsonLines,
    Csv,
}

/// The state behind the stream (no Tauri in here, so it is tested directly).
pub struct FeedCore {
    pub log: LogRing,
    pub queue: QueueBook,
    pub stats: LiveStats,
    seq: u32,
    missed: u64,
    last_status: Option<StatusSnapshot>,
    last_stats_ms: i64,
    stats_pending: bool,
    room: RoomStats,
}

impl FeedCore {
    pub fn new(log_capacity: usize) -> Self {
        FeedCore {
            log: LogRing::new(log_capacity),
            queue: QueueBook::default(),
            stats: LiveStats::default(),
            seq: 0,
            missed: 0,
            last_status: None,
            last_stats_ms: i64::MIN,
            stats_pending: false,
            room: RoomStats::default(),
        }
    }

    pub fn seq(&self) -> u32 {
        self.seq
    }

    pub fn missed(&self) -> u64 {
        self.missed
    }

    /// One engine update.
    pub fn apply(&mut self, update: EngineUpdate) {
        match update {
            EngineUpdate::Event { kind, msg_id, .. } => self.log.engine_event(kind, msg_id),
            EngineUpdate::Matched {
                rule, msg_id, runs, ..
            } => self.log.matched(&rule, msg_id, runs),
            EngineUpdate::Skipped {
                msg_id,
                rule,
                reason,
                ..
            } => self.log.skipped(msg_id, rule, reason),
            EngineUpdate::Item(u) => {
                self.log.item(&u);
                self.queue.apply(&u);
            }
            EngineUpdate::Step { item, text, .. } => {
                self.queue.step(item, &text);
                self.log.step(item, text);
            }
            // Lanes are read from the engine at each batch.
            EngineUpdate::Lane(_) => {}
            EngineUpdate::Warning { message, at_ms } => {
                self.note(at_ms, "warning", message);
            }
            EngineUpdate::Fault {
                component,
                message,
                at_ms,
            } => {
                self.note(at_ms, "error", format!("{component}: {message}"));
            }
        }
    }

    /// A line that is not a viewer's event (connection changes, errors, engine warnings).
    pub fn note(&mut self, at_ms: i64, kind: &str, text: String) {
        self.log.push(
            at_ms,
            NewRow {
                kind: kind.into(),
                user: None,
                handle: None,
                text,
                gift: None,
                comment: None,
                history: false,
                msg_id: 0,
                engine_kind: None,
            },
        );
    }

    /// A client event: a log row (if the log shows it) and the live stats.
    pub fn client_event(&mut self, at_ms: i64, event: &Event) {
        self.room_event(event);
        let Some((kind, user, handle, text)) = crate::live::describe(event) else {
            return;
        };
        let mut gift = None;
        let mut comment = None;
        let (msg_id, history) = match event {
            Event::Gift(g) => {
                let count = g.settled_count().unwrap_or(0);
                let coins = g.settled_diamonds().unwrap_or(0);
                let details = g.gift.gift.as_ref();
                gift = Some(GiftInfo {
                    id: u32::try_from(g.gift.gift_id).unwrap_or(u32::MAX),
                    name: g.gift.gift_name().to_owned(),
                    image_url: details.and_then(|d| d.image_url.clone()),
                    count,
                    coins: u32::try_from(coins).unwrap_or(u32::MAX),
                });
                if !g.meta.is_history && count > 0 {
                    self.stats.gift(stats::GiftSeen {
                        at_ms,
                        handle: handle.as_deref().unwrap_or(""),
                        nickname: user.as_deref().unwrap_or(""),
                        gift: g.gift.gift_name(),
                        image: details.and_then(|d| d.image_url.as_deref()),
                        units: count,
                        coins,
                    });
                }
                (g.meta.msg_id, g.meta.is_history)
            }
            Event::Chat(c) => {
                comment = Some(c.content.clone());
                (c.meta.msg_id, c.meta.is_history)
            }
            Event::Like(e) => (e.meta.msg_id, e.meta.is_history),
            Event::Follow(e) | Event::Share(e) | Event::Join(e) => {
                (e.meta.msg_id, e.meta.is_history)
            }
            Event::Subscribe(e) => (e.meta.msg_id, e.meta.is_history),
            Event::ViewerCount(e) => (e.meta.msg_id, e.meta.is_history),
            _ => (0, false),
        };
        // Event totals come from the store; announce them on the stats clock too.
        self.stats_pending = true;
        self.log.push(
            at_ms,
            NewRow {
                kind,
                user,
                handle,
                text,
                gift,
                comment,
                history,
                msg_id,
                engine_kind: log::engine_kind(event),
            },
        );
    }

    /// The room figures an event carries. They reach the window with the status of the next
    /// batch, so a flood of like messages costs no more than one batch.
    fn room_event(&mut self, event: &Event) {
        let small = |v: u64| u32::try_from(v).unwrap_or(u32::MAX);
        match event {
            // A new stream (not a reconnect to the same one) starts from nothing.
            Event::Connected {
                reconnect: false, ..
            } => self.room = RoomStats::default(),
            Event::ViewerCount(v) if !v.meta.is_history => {
                self.room.viewers = Some(small(v.total));
            }
            // The total only grows; an older message arriving late does not lower it.
            Event::Like(l) if !l.meta.is_history => {
                self.room.likes = Some(self.room.likes.unwrap_or(0).max(small(l.total)));
            }
            _ => {}
        }
    }

    /// The room's title (room info), for the Connect view.
    pub fn set_room_title(&mut self, title: Option<String>) {
        self.room.title = title;
    }

    /// Updates were lost; `lanes` and `active` are the engine's word on the queue now.
    pub fn resync(
        &mut self,
        missed: u64,
        active: Vec<(livetrigger_engine::engine::QueueItem, String)>,
    ) {
        self.missed = self.missed.saturating_add(missed);
        if missed > 0 {
            self.log.lagged();
        }
        self.queue.resync(active);
    }

    fn status_with_depth(&self, mut status: StatusSnapshot) -> StatusSnapshot {
        status.queue_depth = self.queue.depth();
        status.room = self.room.clone();
        status
    }

    /// The next batch, if anything changed. `status` is the status bar's model now.
    pub fn take_batch(&mut self, status: StatusSnapshot, now_ms: i64) -> Option<FeedBatch> {
        let status = self.status_with_depth(status);
        let status_changed = self.last_status.as_ref() != Some(&status);
        let stats_due =
            self.stats_pending && now_ms.saturating_sub(self.last_stats_ms) >= STATS_GAP_MS;
        if !(status_changed || stats_due || self.log.has_changes() || self.queue.has_changes()) {
            return None;
        }
        let (log, traces_changed) = self.log.take_changes();
        let (reset, items, removed_items, lanes) = self.queue.take_changes();
        if stats_due {
            self.stats_pending = false;
            self.last_stats_ms = now_ms;
        }
        self.seq = self.seq.wrapping_add(1);
        let status = status_changed.then(|| {
            self.last_status = Some(status.clone());
            status
        });
        Some(FeedBatch {
            seq: self.seq,
            reset,
            log,
            traces_changed,
            items,
            removed_items,
            lanes,
            status,
            stats_changed: stats_due,
            missed_updates: u32::try_from(self.missed).unwrap_or(u32::MAX),
        })
    }

    /// Whether a batch is due only because of stats waiting for their gap.
    pub fn stats_waiting(&self) -> bool {
        self.stats_pending
    }

    pub fn snapshot(&self, status: StatusSnapshot) -> FeedSnapshot {
        let mut log = self.log.cursor();
        log.added = 0;
        FeedSnapshot {
            seq: self.seq,
            log,
            items: self.queue.items(),
            lanes: self.queue.lanes(),
            status: self.status_with_depth(status),
            missed_updates: u32::try_from(self.missed).unwrap_or(u32::MAX),
        }
    }
}

/// The feed: its state and the wake-up for the batch task.
pub struct Feed {
    core: Mutex<FeedCore>,
    wake: Notify,
    engine: Mutex<Option<EngineHandle>>,
    /// The newest batch a window has applied and painted (said by its `feed_next` request),
    /// and whether any window asked at all (until one does, batches are paced by time alone).
    acked: Mutex<Option<u32>>,
    ack_wake: Notify,
    /// The newest batches made, oldest first, for [`Feed::next_batch`].
    outbox: Mutex<VecDeque<FeedBatch>>,
    outbox_wake: Notify,
}

impl Feed {
    pub fn new(log_capacity: usize) -> Arc<Self> {
        Arc::new(Feed {
            core: Mutex::new(FeedCore::new(log_capacity)),
            wake: Notify::new(),
            engine: Mutex::new(None),
            acked: Mutex::new(None),
            ack_wake: Notify::new(),
            outbox: Mutex::new(VecDeque::new()),
            outbox_wake: Notify::new(),
        })
    }

    pub fn lock(&self) -> MutexGuard<'_, FeedCore> {
        self.core.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The window applied and painted batch `seq`.
    pub fn ack(&self, seq: u32) {
        *self.acked.lock().unwrap_or_else(|p| p.into_inner()) = Some(seq);
        self.ack_wake.notify_one();
    }

    /// Whether batch `seq` (or a later one) was acknowledged; true when no window acknowledges.
    fn acked_up_to(&self, seq: u32) -> bool {
        match *self.acked.lock().unwrap_or_else(|p| p.into_inner()) {
            None => true,
            // Sequence numbers wrap; "at or after" within half the range.
            Some(a) => a.wrapping_sub(seq) < u32::MAX / 2,
        }
    }

    /// Waits until the window has painted batch `seq`, or [`ACK_TIMEOUT`].
    async fn wait_for_ack(&self, seq: u32) {
        let deadline = tokio::time::Instant::now() + ACK_TIMEOUT;
        loop {
            let notified = self.ack_wake.notified();
            if self.acked_up_to(seq) {
                return;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return;
            }
        }
    }

    /// A batch made by [`Feed::run_batches`]: the window's next request takes it.
    pub fn publish(&self, batch: FeedBatch) {
        {
            let mut out = self.outbox.lock().unwrap_or_else(|p| p.into_inner());
            out.push_back(batch);
            while out.len() > BATCHES_KEPT {
                out.pop_front();
            }
        }
        self.outbox_wake.notify_waiters();
    }

    /// The batch after `after` (which the window has applied and painted: this is also its
    /// acknowledgement), waiting up to `wait` for it to be made; `None` when none came.
    /// A window too far behind gets the oldest batch kept: the gap tells it to resync.
    pub async fn next_batch(&self, after: u32, wait: Duration) -> Option<FeedBatch> {
        self.ack(after);
        {
            // The window has batch `after` and those before it: they need not be kept.
            let mut out = self.outbox.lock().unwrap_or_else(|p| p.into_inner());
            out.retain(|b| b.seq.wrapping_sub(after).wrapping_sub(1) < u32::MAX / 2);
        }
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let notified = self.outbox_wake.notified();
            tokio::pin!(notified);
            // Registered before looking, so a batch published in between still wakes us.
            notified.as_mut().enable();
            if let Some(b) = self.kept_after(after) {
                return Some(b);
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return None;
            }
        }
    }

    fn kept_after(&self, after: u32) -> Option<FeedBatch> {
        let out = self.outbox.lock().unwrap_or_else(|p| p.into_inner());
        // Sequence numbers wrap: "after" means within half the range ahead.
        let ahead = |seq: u32| seq.wrapping_sub(after).wrapping_sub(1) < u32::MAX / 2;
        out.iter()
            .find(|b| b.seq == after.wrapping_add(1))
            .or_else(|| out.iter().find(|b| ahead(b.seq)))
            .cloned()
    }

    /// Something changed: a batch goes out within [`BATCH_GAP`].
    pub fn poke(&self) {
        self.wake.notify_one();
    }

    pub fn client_event(&self, event: &Event) {
        self.lock().client_event(wall_ms(), event);
        self.poke();
    }

    pub fn note(&self, kind: &str, text: String) {
        self.lock().note(wall_ms(), kind, text);
        self.poke();
    }

    pub fn set_room_title(&self, title: Option<String>) {
        self.lock().set_room_title(title);
        self.poke();
    }

    /// Reads the engine's lanes into the core (their paused flags and totals).
    pub fn refresh_lanes(&self) {
        let lanes = self
            .engine
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .map(EngineHandle::lanes);
        if let Some(lanes) = lanes {
            self.lock().queue.set_engine_lanes(lanes);
        }
    }

    pub fn lanes(&self) -> Vec<LaneView> {
        self.refresh_lanes();
        self.lock().queue.lanes()
    }

    pub fn snapshot(&self, status: StatusSnapshot) -> FeedSnapshot {
        self.refresh_lanes();
        self.lock().snapshot(status)
    }

    /// Sends batches through `emit` until the task is dropped: after each batch it waits
    /// [`BATCH_GAP`] (and the window's acknowledgement), so changes in that time travel
    /// together in the next one; a batch without new log rows waits for [`QUIET_GAP`].
    pub async fn run_batches(
        self: Arc<Self>,
        status: impl Fn() -> StatusSnapshot,
        mut emit: impl FnMut(FeedBatch),
    ) {
        let mut last_sent: Option<tokio::time::Instant> = None;
        loop {
            self.wake.notified().await;
            if let Some(at) = last_sent {
                // New log rows end the wait at once.
                let until = at + QUIET_GAP;
                while !self.lock().log.rows_added() {
                    tokio::select! {
                        () = tokio::time::sleep_until(until) => break,
                        () = self.wake.notified() => {}
                    }
                }
            }
            self.refresh_lanes();
            let batch = self.lock().take_batch(status(), wall_ms());
            let sent = batch.as_ref().map(|b| b.seq);
            if let Some(batch) = batch {
                emit(batch);
                last_sent = Some(tokio::time::Instant::now());
            }
            tokio::time::sleep(BATCH_GAP).await;
            if let Some(seq) = sent {
                // Changes keep collecting meanwhile and go out together in the next batch.
                self.wait_for_ack(seq).await;
            }
            if self.lock().stats_waiting() {
                // Stats are announced on their own slower clock; come back for them.
                self.poke();
            }
        }
    }

    /// Reads the engine's updates into the feed until the engine stops. Starts (and, after
    /// a `Lagged`, starts over) from the engine's own queue state.
    pub async fn follow_engine(
        self: Arc<Self>,
        engine: EngineHandle,
        mut rx: broadcast::Receiver<EngineUpdate>,
    ) {
        self.lock().log.set_engine_on(true);
        *self.engine.lock().unwrap_or_else(|p| p.into_inner()) = Some(engine.clone());
        self.resync(&engine, 0).await;
        loop {
            let first = match rx.recv().await {
                Ok(u) => u,
                Err(RecvError::Lagged(n)) => {
                    tracing::warn!(
                        missed = n,
                        "the window's feed fell behind the engine; resyncing"
                    );
                    self.resync(&engine, n).await;
                    continue;
                }
                Err(RecvError::Closed) => break,
            };
            let mut lagged = None;
            {
                let mut core = self.lock();
                core.apply(first);
                for _ in 0..UPDATES_PER_LOCK {
                    match rx.try_recv() {
                        Ok(u) => core.apply(u),
                        Err(TryRecvError::Lagged(n)) => {
                            lagged = Some(n);
                            break;
                        }
                        Err(_) => break,
                    }
                }
            }
            if let Some(n) = lagged {
                tracing::warn!(
                    missed = n,
                    "the window's feed fell behind the engine; resyncing"
                );
                self.resync(&engine, n).await;
            }
            self.poke();
        }
        self.lock().log.set_engine_on(false);
        *self.engine.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    async fn resync(&self, engine: &EngineHandle, missed: u64) {
        let active = match engine.store() {
            Some(store) => match store.active_items().await {
                Ok(items) => items,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot read the queue to resync");
                    Vec::new()
                }
            },
            None => Vec::new(),
        };
        self.lock().resync(missed, active);
        self.poke();
    }
}

fn wall_ms() -> i64 {
    livetrigger_engine::engine::item::wall_ms()
}

/// Managed state: the app's one feed.
#[derive(Clone)]
pub struct FeedHub(pub Arc<Feed>);

impl std::ops::Deref for FeedHub {
    type Target = Feed;
    fn deref(&self) -> &Feed {
        &self.0
    }
}

impl Default for FeedHub {
    fn default() -> Self {
        let rows = std::env::var(LOG_ROWS_ENV)
            .ok()
            .and_then(|v| v.trim().parse::<usize>().ok())
            .filter(|&n| n > 0)
            .unwrap_or(log::DEFAULT_CAPACITY);
        FeedHub(Feed::new(rows))
    }
}

/// Starts the batch task (from the setup hook).
pub fn start<R: Runtime>(app: &AppHandle<R>) {
    let feed = app.state::<FeedHub>().0.clone();
    let status_app = app.clone();
    let outbox = feed.clone();
    tauri::async_runtime::spawn(feed.run_batches(
        move || status_app.state::<StatusHub>().snapshot(),
        move |batch| outbox.publish(batch),
    ));
}

/// Feeds a newly started engine's updates into the window's stream.
pub fn attach_engine<R: Runtime>(app: &AppHandle<R>, engine: &EngineHandle) {
    let feed = app.state::<FeedHub>().0.clone();
    let rx = engine.subscribe();
    tauri::async_runtime::spawn(feed.follow_engine(engine.clone(), rx));
}

/// The status bar changed: it travels with the next batch.
pub fn status_changed<R: Runtime>(app: &AppHandle<R>) {
    if let Some(feed) = app.try_state::<FeedHub>() {
        feed.poke();
    }
}

#[tauri::command]
pub fn feed_snapshot(
    feed: State<'_, FeedHub>,
    hub: State<'_, StatusHub>,
) -> Result<FeedSnapshot, IpcError> {
    static FIRST: std::sync::Once = std::sync::Once::new();
    FIRST.call_once(|| {
        // The window's script runs and asks for its data: the start-up bench waits for this.
        tracing::info!(
            ms = crate::started().elapsed().as_millis(),
            "the window is up (first snapshot served)"
        );
    });
    Ok(feed.snapshot(hub.snapshot()))
}

/// The batch after `after`, once it is made (see [`Feed::next_batch`]).
#[tauri::command]
pub async fn feed_next(
    feed: State<'_, FeedHub>,
    after: u32,
) -> Result<Option<FeedBatch>, IpcError> {
    Ok(feed.next_batch(after, LONG_POLL).await)
}

#[tauri::command]
pub fn log_page(feed: State<'_, FeedHub>, query: LogQuery) -> Result<LogPage, IpcError> {
    Ok(feed.lock().log.page(&query))
}

#[tauri::command]
pub fn log_trace(feed: State<'_, FeedHub>, id: u32) -> Result<Option<TraceView>, IpcError> {
    Ok(feed.lock().log.trace(id))
}

/// Writes the whole log to a file in the data folder's `exports/` and returns its path.
#[tauri::command]
pub fn log_export(
    feed: State<'_, FeedHub>,
    paths: State<'_, crate::paths::AppPaths>,
    format: ExportFormat,
) -> Result<String, IpcError> {
    let dir = paths.data_dir.join("exports");
    let path = export(&feed, &dir, format, wall_ms())?;
    tracing::info!(path = %path.display(), "log exported");
    Ok(path.display().to_string())
}

pub fn export(
    feed: &Feed,
    dir: &Path,
    format: ExportFormat,
    now_ms: i64,
) -> Result<PathBuf, IpcError> {
    let io = |e: std::io::Error, what: &Path| {
        IpcError::new(
            ErrorCode::Path,
            format!("cannot write {}: {e}", what.display()),
        )
    };
    std::fs::create_dir_all(dir).map_err(|e| io(e, dir))?;
    let ext = match format {
        ExportFormat::JsonLines => "jsonl",
        ExportFormat::Csv => "csv",
    };
    let path = dir.join(format!("log-{now_ms}.{ext}"));
    // Rendered under the lock, written after it, so the feed is not held up by the disk.
    let text = {
        let core = feed.lock();
        match format {
            ExportFormat::JsonLines => export_jsonl(core.log.rows()),
            ExportFormat::Csv => export_csv(core.log.rows()),
        }
    };
    std::fs::write(&path, text).map_err(|e| io(e, &path))?;
    Ok(path)
}

pub fn export_jsonl(rows: impl Iterator<Item = log::LogRow>) -> String {
    let mut out = String::new();
    for r in rows {
        if let Ok(line) = serde_json::to_string(&r) {
            out.push_str(&line);
            out.push('\n');
        }
    }
    out
}

/// A CSV field: quoted when needed. A leading `=`, `+`, `-` or `@` is prefixed with `'` so a
/// viewer's name cannot become a spreadsheet formula.
fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

pub fn export_csv(rows: impl Iterator<Item = log::LogRow>) -> String {
    let mut out =
        String::from("id,at_ms,kind,user,handle,text,gift,gift_count,gift_coins,comment,history\n");
    for r in rows {
        let gift = r.gift.as_ref();
        let fields = [
            r.id.to_string(),
            r.at_ms.to_string(),
            csv_field(&r.kind),
            csv_field(r.user.as_deref().unwrap_or("")),
            csv_field(r.handle.as_deref().unwrap_or("")),
            csv_field(&r.text),
            csv_field(gift.map_or("", |g| g.name.as_str())),
            gift.map_or(String::new(), |g| g.count.to_string()),
            gift.map_or(String::new(), |g| g.coins.to_string()),
            csv_field(r.comment.as_deref().unwrap_or("")),
            r.history.to_string(),
        ];
        out.push_str(&fields.join(","));
        out.push('\n');
    }
    out
}
