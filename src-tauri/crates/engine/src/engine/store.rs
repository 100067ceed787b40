//! The durable store: one SQLite file (WAL) in the app's data folder holding the events
//! received, the rules that fired, and every queue item with its outcome.
//!
//! One thread owns the connection. The hot path only sends it messages; the thread writes them
//! in batches, one transaction per batch, so 20,000 events a second cost a few commits. The
//! exception is an item's start: [`StoreHandle::item_running`] returns only once the start is
//! committed, because after a crash an item must be either still `queued` (never started, safe
//! to run) or `interrupted` (may have run, never re-run by itself).
//!
//! WAL with `synchronous=NORMAL`: a commit survives the process being killed (it is in the OS
//! cache); only a power loss can take the last commits back, and those would be re-shown as
//! queued, not doubled, since the order is queued → running → outcome.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc as sync_mpsc;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use tiktok_live::client::Resume;
use tiktok_live::streak::StreakKey;
use tokio::sync::oneshot;

use super::input::{EventKind, Input, Payload};
use super::item::{wall_ms, ItemStatus, QueueItem};
use super::matching::LedgerState;

/// Most messages written in one transaction.
const BATCH: usize = 4096;
/// Messages waiting for the store's thread. When full, the sender waits (the handler, and so
/// the client's reading), so a flood costs bounded memory instead of a growing backlog; the
/// thread commits a full batch in milliseconds (see `benches/engine_pipeline.rs`). Two
/// batches: one being committed, one filling; more only adds resident memory in a flood.
pub const STORE_BUFFER: usize = 2 * BATCH;
/// Message ids remembered from earlier runs of the same target (the client's dedupe size).
const SEEN_IDS: i64 = 100_000;
/// A previous run whose last event is younger than this was watching the same stream: the
/// restarted client treats its first connection as a reconnect.
pub const MID_STREAM_WINDOW: Duration = Duration::from_secs(600);
/// Streak ledgers older than this are of no use (the client forgets a streak after 2 min).
const LEDGER_KEEP: Duration = Duration::from_secs(600);
/// Default for [`StoreOptions::event_retention`].
pub const DEFAULT_EVENT_RETENTION: Duration = Duration::from_secs(30 * 24 * 3600);

/// How the store is kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StoreOptions {
    /// Events and matches older than this are deleted at start (queue items are kept).
    pub event_retention: Duration,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            event_retention: DEFAULT_EVENT_RETENTION,
        }
    }
}

pub const DB_FILE: &str = "livetrigger.sqlite3";
/// Held (an OS advisory lock) for as long as a process writes the store beside it.
pub const LOCK_FILE: &str = "livetrigger.lock";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot create the data folder {path}: {source}")]
    Folder {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("database {path}: {source}")]
    Sqlite {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("database error: {0}")]
    Query(#[from] rusqlite::Error),
    /// Two processes resuming the same queue would run its paid items twice.
    #[error(
        "another LiveTrigger (the app or livetrigger-cli) is already using the data folder {path}; \
         close it first, or choose another data folder"
    )]
    InUse { path: PathBuf },
    #[error("the store has stopped")]
    Stopped,
    #[error("item {0} is not in the store")]
    NoSuchItem(u64),
    #[error("stored item {id} cannot be read: {reason}")]
    Corrupt { id: u64, reason: String },
}

/// Takes the data folder for this process. The lock is the kernel's (flock / LockFileEx), so
/// it goes away with the process, even after `kill -9`; a stale file is never a problem.
fn lock_folder(dir: &Path) -> Result<std::fs::File, StoreError> {
    let path = dir.join(LOCK_FILE);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|source| StoreError::Folder {
            path: path.clone(),
            source,
        })?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(StoreError::InUse {
            path: dir.to_owned(),
        }),
        Err(std::fs::TryLockError::Error(source)) => Err(StoreError::Folder { path, source }),
    }
}

/// What was found at open: items to resume and items to show as interrupted.
#[derive(Debug, Default)]
pub struct Recovery {
    /// Items that were waiting, oldest first; the engine queues them again.
    pub resumed: Vec<QueueItem>,
    /// Items that were running when the process died: marked interrupted, not re-run.
    pub interrupted: Vec<QueueItem>,
    /// Stored items that could not be read back (reported, left as they are).
    pub unreadable: Vec<(u64, String)>,
    /// Next free item id.
    pub next_id: u64,
    /// What the client and matching need to take over from the last run of this target.
    pub resume: Resume,
    /// Streak ledgers of this target, recent enough to matter.
    pub ledgers: Vec<LedgerState>,
    /// The last message of each streak that was still open (units seen live, not all
    /// settled) when the last run stopped: its client would have settled them by timeout,
    /// this run's client has never seen them.
    pub open_streaks: Vec<Input>,
    /// Events deleted by the retention setting at this start.
    pub events_deleted: u64,
    /// When the last run of this target recorded its last event.
    pub last_event_ms: Option<i64>,
}

/// Session statistics.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionStats {
    pub session: i64,
    /// Events received per kind.
    pub totals: Vec<(String, u64)>,
    /// Settled gift units.
    pub gift_units: u64,
    pub diamonds: u64,
    /// Viewers by diamonds sent, most first.
    pub top_gifters: Vec<Gifter>,
    /// Settled gift units per minute since the session started, oldest first.
    pub gifts_per_minute: Vec<u64>,
    /// Queue items per final status.
    pub items: Vec<(String, u64)>,
    /// Events refused as invalid (e.g. a gift with no usable viewer): not queued, counted.
    pub invalid_events: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Gifter {
    pub username: String,
    pub nickname: String,
    pub diamonds: u64,
    pub units: u64,
}

type Query = Box<dyn FnOnce(&Connection) + Send>;

/// An event as the store writes it (boxed in [`Op`]: the channel's slots are all as large as
/// its largest message, and there are [`STORE_BUFFER`] of them).
struct EventOp {
    at: i64,
    kind: EventKind,
    msg_id: u64,
    user_id: u64,
    username: String,
    nickname: String,
    gift: Option<String>,
    units: u64,
    diamonds: u64,
    summary: String,
    history: bool,
}

/// A streak ledger as the store writes it (boxed in [`Op`], as [`EventOp`]).
struct LedgerOp {
    at: i64,
    state: LedgerState,
    /// The streak's last message (JSON) while units seen live are not settled yet.
    input: Option<String>,
}

enum Op {
    Event(Box<EventOp>),
    Match {
        at: i64,
        rule: String,
        msg_id: u64,
        runs: u32,
    },
    ItemQueued(Arc<QueueItem>),
    ItemRunning {
        id: u64,
        at: i64,
        ack: oneshot::Sender<()>,
    },
    ItemStatus {
        id: u64,
        at: i64,
        status: &'static str,
        reason: Option<String>,
    },
    Ledger(Box<LedgerOp>),
    Query(Query),
    Flush(oneshot::Sender<()>),
    /// What comes until the matching `GroupEnd` is committed in one transaction.
    GroupStart,
    GroupEnd,
    /// Write what came before, then stop (other handles may still exist).
    Close,
}

/// See [`StoreHandle::group`]. Ends the group when dropped, also while unwinding.
#[must_use = "the group ends when this is dropped"]
pub struct StoreGroup {
    tx: sync_mpsc::SyncSender<Op>,
}

impl Drop for StoreGroup {
    fn drop(&mut self) {
        let _ = self.tx.send(Op::GroupEnd);
    }
}

/// Sends work to the store's thread. Cheap to clone.
#[derive(Clone)]
pub struct StoreHandle {
    tx: sync_mpsc::SyncSender<Op>,
    session: i64,
}

/// Owns the store's thread; dropping it (and every handle) lets the thread finish its last
/// batch and close the database.
pub struct Store {
    handle: StoreHandle,
    thread: Option<thread::JoinHandle<()>>,
    path: PathBuf,
    /// The data folder's lock: held while this store is, i.e. for the process's life in the
    /// app and the CLI. Declared last so `close` has joined the writer before it is released.
    _lock: std::fs::File,
}

impl Store {
    /// Opens (or creates) the database in `dir`, recovers what a previous run left, and
    /// starts a new session.
    pub fn open(dir: &Path, target: &str) -> Result<(Store, Recovery), StoreError> {
        Self::open_with(dir, target, StoreOptions::default())
    }

    /// [`Store::open`] with options.
    pub fn open_with(
        dir: &Path,
        target: &str,
        options: StoreOptions,
    ) -> Result<(Store, Recovery), StoreError> {
        std::fs::create_dir_all(dir).map_err(|source| StoreError::Folder {
            path: dir.to_owned(),
            source,
        })?;
        let lock = lock_folder(dir)?;
        let path = dir.join(DB_FILE);
        let sql = |source| StoreError::Sqlite {
            path: path.clone(),
            source,
        };
        let mut conn = Connection::open(&path).map_err(sql)?;
        conn.execute_batch(SCHEMA).map_err(sql)?;
        add_streak_input_column(&conn).map_err(sql)?;
        let mut recovery = recover(&mut conn)?;
        recovery.events_deleted = apply_retention(&conn, options.event_retention)?;
        take_over(&conn, target, &mut recovery)?;
        conn.execute(
            "INSERT INTO sessions (started_ms, target) VALUES (?1, ?2)",
            params![wall_ms(), target],
        )?;
        let session = conn.last_insert_rowid();
        let (tx, rx) = sync_mpsc::sync_channel(STORE_BUFFER);
        let target = target.to_owned();
        let thread = thread::Builder::new()
            .name("livetrigger-store".into())
            .spawn(move || writer(conn, rx, session, &target))
            .map_err(|source| StoreError::Folder {
                path: dir.to_owned(),
                source,
            })?;
        Ok((
            Store {
                handle: StoreHandle { tx, session },
                thread: Some(thread),
                path,
                _lock: lock,
            },
            recovery,
        ))
    }

    pub fn handle(&self) -> StoreHandle {
        self.handle.clone()
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes everything sent so far and stops the thread; later writes are refused.
    pub fn close(mut self) {
        let _ = self.handle.tx.send(Op::Close);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl StoreHandle {
    pub fn session(&self) -> i64 {
        self.session
    }

    /// Waits (blocking this thread) while the buffer is full: that is the backpressure. The
    /// store's thread never waits on the async runtime, so this cannot deadlock, and a full
    /// buffer drains within one batch commit.
    /// Until the guard is dropped, what this handle sends is committed together: an event
    /// and the paid items it causes reach the disk both or neither, so a crash in between
    /// cannot leave a recorded (hence deduplicated) event without its items.
    pub fn group(&self) -> StoreGroup {
        self.send(Op::GroupStart);
        StoreGroup {
            tx: self.tx.clone(),
        }
    }

    fn send(&self, op: Op) {
        if self.tx.send(op).is_err() {
            tracing::warn!("the store has stopped; a record was not written");
        }
    }

    /// Stores a streak ledger (before the items it led to can start: same channel, in order).
    /// While the streak is open (units seen live, not all settled) its last message goes
    /// with it: if the process dies before the client's streak timeout, the next start has
    /// what it needs to settle the streak itself ([`Recovery::open_streaks`]).
    pub fn record_ledger(&self, state: LedgerState, last: &Input) {
        let open = !state.ended && state.live > state.settled && !last.is_history;
        let input = if open {
            serde_json::to_string(last).ok()
        } else {
            None
        };
        self.send(Op::Ledger(Box::new(LedgerOp {
            at: wall_ms(),
            state,
            input,
        })));
    }

    pub fn record_event(&self, input: &Input, summary: &str) {
        let (gift, units, diamonds) = match &input.payload {
            Payload::Gift(g) => {
                let units = u64::from(g.settled.map(|(n, _)| n).unwrap_or(0));
                (Some(g.name.clone()), units, units * u64::from(g.coins))
            }
            Payload::Like { count, .. } => (None, u64::from(*count), 0),
            _ => (None, 0, 0),
        };
        let (user_id, username, nickname) = match &input.user {
            Some(u) => (u.id, u.unique_id.clone(), u.nickname.clone()),
            None => (0, String::new(), String::new()),
        };
        self.send(Op::Event(Box::new(EventOp {
            at: wall_ms(),
            kind: input.kind(),
            msg_id: input.msg_id,
            user_id,
            username,
            nickname,
            gift,
            units,
            diamonds,
            summary: summary.to_owned(),
            history: input.is_history,
        })));
    }

    pub fn record_match(&self, rule: &str, msg_id: u64, runs: u32) {
        self.send(Op::Match {
            at: wall_ms(),
            rule: rule.to_owned(),
            msg_id,
            runs,
        });
    }

    pub fn item_queued(&self, item: Arc<QueueItem>) {
        self.send(Op::ItemQueued(item));
    }

    /// Marks the item running and waits until that is committed.
    pub async fn item_running(&self, id: u64) -> Result<(), StoreError> {
        let (ack, rx) = oneshot::channel();
        self.tx
            .send(Op::ItemRunning {
                id,
                at: wall_ms(),
                ack,
            })
            .map_err(|_| StoreError::Stopped)?;
        rx.await.map_err(|_| StoreError::Stopped)
    }

    pub fn item_status(&self, id: u64, status: &ItemStatus) {
        self.send(Op::ItemStatus {
            id,
            at: wall_ms(),
            status: status.name(),
            reason: status.reason().map(str::to_owned),
        });
    }

    /// Waits until everything sent before is committed.
    pub async fn flush(&self) -> Result<(), StoreError> {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(Op::Flush(tx))
            .map_err(|_| StoreError::Stopped)?;
        rx.await.map_err(|_| StoreError::Stopped)
    }

    /// Runs `f` on the store's thread, after every write sent before it.
    pub async fn query<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let (tx, rx) = oneshot::channel();
        let job: Query = Box::new(move |conn| {
            let _ = tx.send(f(conn));
        });
        self.tx
            .send(Op::Query(job))
            .map_err(|_| StoreError::Stopped)?;
        rx.await.map_err(|_| StoreError::Stopped)?
    }

    /// Statistics of this session.
    pub async fn stats(&self) -> Result<SessionStats, StoreError> {
        let session = self.session;
        self.query(move |c| session_stats(c, session)).await
    }

    /// One stored item (for a re-run).
    pub async fn item(&self, id: u64) -> Result<(QueueItem, String), StoreError> {
        self.query(move |c| {
            let row = c
                .query_row(
                    &format!("SELECT {ITEM_COLUMNS}, status FROM items WHERE id = ?1"),
                    params![to_i64(id)],
                    |r| Ok((item_from_row(r), r.get::<_, String>(13)?)),
                )
                .optional()?;
            match row {
                None => Err(StoreError::NoSuchItem(id)),
                Some((Err(reason), _)) => Err(StoreError::Corrupt { id, reason }),
                Some((Ok(item), status)) => Ok((item, status)),
            }
        })
        .await
    }

    /// Stored items by id, in the order asked; an id that is missing or unreadable comes back
    /// as `Err((id, reason))` in its place. Lanes read back paid items they spilled here.
    pub async fn items(
        &self,
        ids: Vec<u64>,
    ) -> Result<Vec<Result<QueueItem, (u64, String)>>, StoreError> {
        self.query(move |c| {
            let mut stmt =
                c.prepare_cached(&format!("SELECT {ITEM_COLUMNS} FROM items WHERE id = ?1"))?;
            let mut out = Vec::with_capacity(ids.len());
            for id in ids {
                let row = stmt
                    .query_row(params![to_i64(id)], |r| Ok(item_from_row(r)))
                    .optional()?;
                out.push(match row {
                    None => Err((id, "not in the store".to_owned())),
                    Some(Err(reason)) => Err((id, reason)),
                    Some(Ok(item)) => Ok(item),
                });
            }
            Ok(out)
        })
        .await
    }

    /// Why an item ended as it did (`reason` column), and whether it was already re-run.
    pub async fn rerun_facts(&self, id: u64) -> Result<(Option<String>, bool), StoreError> {
        self.query(move |c| {
            let reason: Option<String> = c
                .query_row(
                    "SELECT reason FROM items WHERE id = ?1",
                    params![to_i64(id)],
                    |r| r.get(0),
                )
                .optional()?
                .flatten();
            let reruns: i64 = c.query_row(
                "SELECT COUNT(*) FROM items WHERE rerun_of = ?1",
                params![to_i64(id)],
                |r| r.get(0),
            )?;
            Ok((reason, reruns > 0))
        })
        .await
    }

    /// Items still waiting or running, oldest first: what a live view rebuilds itself from
    /// after it missed updates. Unreadable rows are left out (recovery reports them).
    pub async fn active_items(&self) -> Result<Vec<(QueueItem, String)>, StoreError> {
        self.query(|c| {
            let mut st = c.prepare(&format!(
                "SELECT {ITEM_COLUMNS}, status FROM items WHERE status IN ('queued', 'running') ORDER BY id"
            ))?;
            let rows = st.query_map([], |r| Ok((item_from_row(r), r.get::<_, String>(13)?)))?;
            let mut out = Vec::new();
            for row in rows {
                if let (Ok(item), status) = row? {
                    out.push((item, status));
                }
            }
            Ok(out)
        })
        .await
    }

    /// Items per status, for tests and the queue view's history.
    pub async fn item_statuses(&self) -> Result<HashMap<u64, String>, StoreError> {
        self.query(|c| {
            let mut st = c.prepare("SELECT id, status FROM items")?;
            let rows = st.query_map([], |r| Ok((r.get::<_, i64>(0)? as u64, r.get(1)?)))?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }
}

/// SQLite stores signed 64-bit integers; message ids use the full unsigned range, so they are
/// stored as their bit pattern.
fn to_i64(v: u64) -> i64 {
    v as i64
}

// The page cache is 1 MiB (SQLite's default is 2 MiB, resident once a flood has gone
// through): the writer appends, and the pages it touches are the right edges of a few
// B-trees, which fit many times over.
const SCHEMA: &str = "
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
PRAGMA cache_size = -1024;
CREATE TABLE IF NOT EXISTS sessions (
    id INTEGER PRIMARY KEY,
    started_ms INTEGER NOT NULL,
    target TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY,
    session INTEGER NOT NULL,
    at_ms INTEGER NOT NULL,
    kind TEXT NOT NULL,
    msg_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    username TEXT NOT NULL,
    nickname TEXT NOT NULL,
    gift TEXT,
    units INTEGER NOT NULL,
    diamonds INTEGER NOT NULL,
    summary TEXT NOT NULL,
    -- Replayed at connect: happened before this session, so not in its stats.
    history INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS events_session ON events (session, kind);
CREATE TABLE IF NOT EXISTS matches (
    id INTEGER PRIMARY KEY,
    session INTEGER NOT NULL,
    at_ms INTEGER NOT NULL,
    rule TEXT NOT NULL,
    msg_id INTEGER NOT NULL,
    runs INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS items (
    id INTEGER PRIMARY KEY,
    session INTEGER NOT NULL,
    lane TEXT NOT NULL,
    rule TEXT NOT NULL,
    action TEXT NOT NULL,
    kind TEXT NOT NULL,
    event TEXT NOT NULL,
    msg_id INTEGER NOT NULL,
    username TEXT,
    paid INTEGER NOT NULL,
    vars TEXT NOT NULL,
    steps TEXT NOT NULL,
    queued_ms INTEGER NOT NULL,
    rerun_of INTEGER,
    status TEXT NOT NULL,
    reason TEXT,
    started_ms INTEGER,
    finished_ms INTEGER
);
CREATE INDEX IF NOT EXISTS items_status ON items (status);
CREATE INDEX IF NOT EXISTS events_at ON events (at_ms);
-- One row per streak slot (sender, gift, group id) of a target: its latest ledger.
CREATE TABLE IF NOT EXISTS streaks (
    target TEXT NOT NULL,
    user_id INTEGER NOT NULL,
    gift_id INTEGER NOT NULL,
    group_id INTEGER NOT NULL,
    generation INTEGER NOT NULL,
    settled INTEGER NOT NULL,
    live INTEGER NOT NULL,
    ended INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL,
    -- The last message (JSON) while the streak is open; NULL once settled.
    input TEXT,
    PRIMARY KEY (target, user_id, gift_id, group_id)
);
";

const ITEM_COLUMNS: &str =
    "id, lane, rule, action, kind, event, msg_id, username, paid, vars, steps, queued_ms, rerun_of";

fn item_from_row(r: &rusqlite::Row<'_>) -> Result<QueueItem, String> {
    let get = |e: rusqlite::Error| e.to_string();
    let kind: String = r.get(4).map_err(get)?;
    let vars: String = r.get(9).map_err(get)?;
    let steps: String = r.get(10).map_err(get)?;
    Ok(QueueItem {
        id: r.get::<_, i64>(0).map_err(get)? as u64,
        lane: r.get(1).map_err(get)?,
        rule_id: r.get(2).map_err(get)?,
        action_id: r.get(3).map_err(get)?,
        kind: serde_json::from_value(serde_json::Value::String(kind)).map_err(|e| e.to_string())?,
        event: r.get(5).map_err(get)?,
        msg_id: r.get::<_, i64>(6).map_err(get)? as u64,
        username: r.get(7).map_err(get)?,
        paid: r.get::<_, i64>(8).map_err(get)? != 0,
        vars: serde_json::from_str(&vars).map_err(|e| e.to_string())?,
        steps: serde_json::from_str(&steps).map_err(|e| e.to_string())?,
        queued_ms: r.get(11).map_err(get)?,
        rerun_of: r.get::<_, Option<i64>>(12).map_err(get)?.map(|v| v as u64),
        // Not stored: only unpaid like runs set it, and those do not outlive a restart.
        keep_separate: false,
    })
}

fn recover(conn: &mut Connection) -> Result<Recovery, StoreError> {
    let tx = conn.transaction()?;
    let mut out = Recovery::default();
    {
        let mut st = tx.prepare(&format!(
            "SELECT {ITEM_COLUMNS}, status FROM items WHERE status IN ('queued', 'running') ORDER BY id"
        ))?;
        let rows = st.query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)? as u64,
                item_from_row(r),
                r.get::<_, String>(13)?,
            ))
        })?;
        for row in rows {
            let (id, item, status) = row?;
            match (item, status.as_str()) {
                (Ok(item), "running") => out.interrupted.push(item),
                (Ok(item), _) => out.resumed.push(item),
                (Err(reason), _) => out.unreadable.push((id, reason)),
            }
        }
    }
    tx.execute(
        "UPDATE items SET status = 'interrupted', reason = 'interrupted — may have run', finished_ms = ?1 WHERE status = 'running'",
        params![wall_ms()],
    )?;
    let max: Option<i64> = tx.query_row("SELECT MAX(id) FROM items", [], |r| r.get(0))?;
    out.next_id = max.map(|m| m as u64 + 1).unwrap_or(1);
    tx.commit()?;
    Ok(out)
}

/// Stores from before open streaks were kept lack `streaks.input`.
fn add_streak_input_column(conn: &Connection) -> rusqlite::Result<()> {
    let has = conn
        .prepare("SELECT 1 FROM pragma_table_info('streaks') WHERE name = 'input'")?
        .exists([])?;
    if !has {
        conn.execute("ALTER TABLE streaks ADD COLUMN input TEXT", [])?;
    }
    Ok(())
}

/// Deletes events and matches older than `keep`; returns the events deleted.
fn apply_retention(conn: &Connection, keep: Duration) -> Result<u64, StoreError> {
    let cutoff = wall_ms().saturating_sub(i64::try_from(keep.as_millis()).unwrap_or(i64::MAX));
    let n = conn.execute("DELETE FROM events WHERE at_ms < ?1", params![cutoff])?;
    conn.execute("DELETE FROM matches WHERE at_ms < ?1", params![cutoff])?;
    let ledger_cutoff = wall_ms() - i64::try_from(LEDGER_KEEP.as_millis()).unwrap_or(0);
    conn.execute(
        "DELETE FROM streaks WHERE updated_ms < ?1",
        params![ledger_cutoff],
    )?;
    if n > 0 {
        tracing::info!(deleted = n, "old events deleted (retention)");
    }
    Ok(n as u64)
}

/// What a restart takes over from earlier runs of `target`: the msg_ids handled (for the
/// client's and the matcher's dedupe), whether that was moments ago, and the streak ledgers.
fn take_over(conn: &Connection, target: &str, out: &mut Recovery) -> Result<(), StoreError> {
    let mut st = conn.prepare(
        "SELECT e.msg_id, e.at_ms FROM events e JOIN sessions s ON e.session = s.id
         WHERE s.target = ?1 AND e.msg_id != 0 ORDER BY e.id DESC LIMIT ?2",
    )?;
    let rows: Vec<(i64, i64)> = st
        .query_map(params![target, SEEN_IDS], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let last_at = rows.first().map(|r| r.1);
    out.last_event_ms = last_at;
    out.resume.seen_msg_ids = rows.iter().rev().map(|r| r.0 as u64).collect();
    out.resume.mid_stream = last_at.is_some_and(|at| {
        wall_ms().saturating_sub(at) < i64::try_from(MID_STREAM_WINDOW.as_millis()).unwrap_or(0)
    });
    let mut st = conn.prepare(
        "SELECT user_id, gift_id, group_id, generation, settled, live, ended, input FROM streaks WHERE target = ?1",
    )?;
    let rows: Vec<(LedgerState, Option<String>)> = st
        .query_map(params![target], |r| {
            Ok((
                LedgerState {
                    key: StreakKey {
                        user_id: r.get::<_, i64>(0)? as u64,
                        gift_id: r.get::<_, i64>(1)? as u64,
                        group_id: r.get::<_, i64>(2)? as u64,
                        generation: r.get(3)?,
                    },
                    settled: r.get(4)?,
                    live: r.get(5)?,
                    ended: r.get::<_, i64>(6)? != 0,
                },
                r.get(7)?,
            ))
        })?
        .collect::<Result<_, _>>()?;
    for (ledger, input) in rows {
        let open = !ledger.ended && ledger.live > ledger.settled;
        if let Some(text) = input.filter(|_| open) {
            match serde_json::from_str::<Input>(&text) {
                // Only a message of this very streak can settle it.
                Ok(i) if i.streak_key() == Some(ledger.key) => out.open_streaks.push(i),
                Ok(_) => tracing::warn!("a stored open streak does not match its ledger"),
                Err(e) => tracing::warn!(error = %e, "a stored open streak cannot be read"),
            }
        }
        out.ledgers.push(ledger);
    }
    Ok(())
}

fn writer(mut conn: Connection, rx: sync_mpsc::Receiver<Op>, session: i64, target: &str) {
    let mut batch = Vec::with_capacity(BATCH);
    let mut closing = false;
    // Groups open in the batch: it is not committed while one is (the handler sends a
    // group's end moments after its start, and never waits on the store in between).
    let mut open = 0usize;
    let count = |op: &Op, open: &mut usize| match op {
        Op::GroupStart => *open += 1,
        Op::GroupEnd => *open = open.saturating_sub(1),
        _ => {}
    };
    while let Ok(first) = rx.recv() {
        count(&first, &mut open);
        batch.push(first);
        while batch.len() < BATCH || open > 0 {
            let next = if open > 0 {
                rx.recv().map_err(|_| ())
            } else {
                rx.try_recv().map_err(|_| ())
            };
            match next {
                Ok(op) => {
                    count(&op, &mut open);
                    batch.push(op);
                }
                Err(()) => break,
            }
        }
        if let Some(i) = batch.iter().position(|op| matches!(op, Op::Close)) {
            closing = true;
            batch.truncate(i);
        }
        if let Err(e) = write_batch(&mut conn, &mut batch, session, target) {
            tracing::error!(error = %e, "the store could not write a batch");
        }
        batch.clear();
        if closing {
            return;
        }
    }
}

/// Writes a batch in one transaction, then answers the waiters. Queries run after the writes
/// before them are committed.
fn write_batch(
    conn: &mut Connection,
    batch: &mut Vec<Op>,
    session: i64,
    target: &str,
) -> Result<(), StoreError> {
    let mut acks = Vec::new();
    let mut queries = Vec::new();
    let tx = conn.transaction()?;
    {
        let mut ins_event = tx.prepare_cached(
            "INSERT INTO events (session, at_ms, kind, msg_id, user_id, username, nickname, gift, units, diamonds, summary, history)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        )?;
        let mut ins_match = tx.prepare_cached(
            "INSERT INTO matches (session, at_ms, rule, msg_id, runs) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        let mut ins_item = tx.prepare_cached(
            "INSERT INTO items (id, session, lane, rule, action, kind, event, msg_id, username, paid, vars, steps, queued_ms, rerun_of, status)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, 'queued')
             ON CONFLICT (id) DO UPDATE SET vars = excluded.vars, steps = excluded.steps, paid = excluded.paid, lane = excluded.lane",
        )?;
        let mut running = tx
            .prepare_cached("UPDATE items SET status = 'running', started_ms = ?2 WHERE id = ?1")?;
        let mut finished = tx.prepare_cached(
            "UPDATE items SET status = ?2, reason = ?3, finished_ms = ?4 WHERE id = ?1",
        )?;
        let mut ledger = tx.prepare_cached(
            "INSERT INTO streaks (target, user_id, gift_id, group_id, generation, settled, live, ended, updated_ms, input)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
             ON CONFLICT (target, user_id, gift_id, group_id) DO UPDATE SET generation = excluded.generation,
             settled = excluded.settled, live = excluded.live, ended = excluded.ended, updated_ms = excluded.updated_ms,
             input = excluded.input",
        )?;
        for op in batch.drain(..) {
            match op {
                Op::Event(e) => {
                    let EventOp {
                        at,
                        kind,
                        msg_id,
                        user_id,
                        username,
                        nickname,
                        gift,
                        units,
                        diamonds,
                        summary,
                        history,
                    } = *e;
                    ins_event.execute(params![
                        session,
                        at,
                        kind.as_str(),
                        to_i64(msg_id),
                        to_i64(user_id),
                        username,
                        nickname,
                        gift,
                        to_i64(units),
                        to_i64(diamonds),
                        summary,
                        history
                    ])?;
                }
                Op::Match {
                    at,
                    rule,
                    msg_id,
                    runs,
                } => {
                    ins_match.execute(params![session, at, rule, to_i64(msg_id), runs])?;
                }
                Op::ItemQueued(item) => {
                    let vars = serde_json::to_string(&item.vars).unwrap_or_default();
                    let steps = serde_json::to_string(&item.steps).unwrap_or_default();
                    ins_item.execute(params![
                        to_i64(item.id),
                        session,
                        item.lane,
                        item.rule_id,
                        item.action_id,
                        item.kind.as_str(),
                        item.event,
                        to_i64(item.msg_id),
                        item.username,
                        item.paid,
                        vars,
                        steps,
                        item.queued_ms,
                        item.rerun_of.map(to_i64),
                    ])?;
                }
                Op::ItemRunning { id, at, ack } => {
                    running.execute(params![to_i64(id), at])?;
                    acks.push(ack);
                }
                Op::ItemStatus {
                    id,
                    at,
                    status,
                    reason,
                } => {
                    finished.execute(params![to_i64(id), status, reason, at])?;
                }
                Op::Ledger(l) => {
                    let LedgerOp { at, state, input } = *l;
                    ledger.execute(params![
                        target,
                        to_i64(state.key.user_id),
                        to_i64(state.key.gift_id),
                        to_i64(state.key.group_id),
                        state.key.generation,
                        state.settled,
                        state.live,
                        state.ended,
                        at,
                        input
                    ])?;
                }
                Op::Query(q) => queries.push(q),
                Op::Flush(tx) => acks.push(tx),
                Op::Close | Op::GroupStart | Op::GroupEnd => {}
            }
        }
    }
    tx.commit()?;
    for ack in acks {
        let _ = ack.send(());
    }
    for q in queries {
        q(conn);
    }
    Ok(())
}

fn session_stats(c: &Connection, session: i64) -> Result<SessionStats, StoreError> {
    let mut out = SessionStats {
        session,
        ..SessionStats::default()
    };
    let mut st = c.prepare(
        "SELECT kind, COUNT(*) FROM events WHERE session = ?1 AND history = 0 GROUP BY kind ORDER BY kind",
    )?;
    out.totals = st
        .query_map(params![session], |r| {
            Ok((r.get(0)?, r.get::<_, i64>(1)? as u64))
        })?
        .collect::<Result<_, _>>()?;
    let (units, diamonds): (i64, i64) = c.query_row(
        "SELECT COALESCE(SUM(units), 0), COALESCE(SUM(diamonds), 0) FROM events WHERE session = ?1 AND kind = 'gift' AND history = 0",
        params![session],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    out.gift_units = units as u64;
    out.diamonds = diamonds as u64;
    let mut st = c.prepare(
        "SELECT username, MAX(nickname), SUM(diamonds), SUM(units) FROM events
         WHERE session = ?1 AND kind = 'gift' AND units > 0 AND history = 0
         GROUP BY user_id ORDER BY SUM(diamonds) DESC, SUM(units) DESC LIMIT 10",
    )?;
    out.top_gifters = st
        .query_map(params![session], |r| {
            Ok(Gifter {
                username: r.get(0)?,
                nickname: r.get(1)?,
                diamonds: r.get::<_, i64>(2)? as u64,
                units: r.get::<_, i64>(3)? as u64,
            })
        })?
        .collect::<Result<_, _>>()?;
    let started: i64 = c.query_row(
        "SELECT started_ms FROM sessions WHERE id = ?1",
        params![session],
        |r| r.get(0),
    )?;
    let mut st = c.prepare(
        "SELECT (at_ms - ?2) / 60000 AS minute, SUM(units) FROM events
         WHERE session = ?1 AND kind = 'gift' AND units > 0 AND history = 0 GROUP BY minute ORDER BY minute",
    )?;
    let per: Vec<(i64, i64)> = st
        .query_map(params![session, started], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    if let Some(&(last, _)) = per.last() {
        let len = usize::try_from(last.max(0) + 1).unwrap_or(0);
        out.gifts_per_minute = vec![0; len];
        for (m, n) in per {
            if let Some(slot) = usize::try_from(m)
                .ok()
                .and_then(|m| out.gifts_per_minute.get_mut(m))
            {
                *slot = n as u64;
            }
        }
    }
    let mut st = c.prepare(
        "SELECT status, COUNT(*) FROM items WHERE session = ?1 GROUP BY status ORDER BY status",
    )?;
    out.items = st
        .query_map(params![session], |r| {
            Ok((r.get(0)?, r.get::<_, i64>(1)? as u64))
        })?
        .collect::<Result<_, _>>()?;
    Ok(out)
}

#[cfg(test)]
mod size_tests {
    use super::*;

    #[test]
    fn the_channel_slots_stay_small() {
        // STORE_BUFFER slots are allocated (and touched) when the store opens: a 150-byte
        // message made them 1.3 MB.
        assert!(
            std::mem::size_of::<Op>() <= 64,
            "{}",
            std::mem::size_of::<Op>()
        );
    }
}
