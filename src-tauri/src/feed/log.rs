//! The authoritative session log: a ring of rows (default 100,000) the window pages through,
//! each with the trace of what the trigger engine did with it.
//!
//! Rows come from the live connection (the client's events, with the gift's image and count)
//! before the engine sees the event, so the engine's later updates can always find their row:
//! the engine's `Event` links the oldest unlinked row of the same message id and kind, and its
//! `Matched`, `Skipped`, item and step updates follow that link.

use std::collections::{HashMap, VecDeque};

use livetrigger_engine::engine::item::PlannedStep;
use livetrigger_engine::engine::{EventKind, ItemStatus, ItemUpdate};
use serde::{Deserialize, Serialize};
use tiktok_live::event::Event;
use ts_rs::TS;

/// Rows kept when nothing else is configured.
pub const DEFAULT_CAPACITY: usize = 100_000;
/// The most rows one page request returns.
pub const MAX_PAGE: u32 = 1_000;

/// The gift of a gift row.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct GiftInfo {
    pub id: u32,
    /// Untrusted text from the stream.
    pub name: String,
    pub image_url: Option<String>,
    /// Units settled by this streak.
    pub count: u32,
    /// Coins for all of them.
    pub coins: u32,
}

/// One line of the log.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct LogRow {
    /// Increases by one per row of this app run.
    pub id: u32,
    #[ts(type = "number")]
    pub at_ms: i64,
    /// `gift`, `chat`, `like`, `follow`, `share`, `join`, `subscribe`, `viewers`, `stream`,
    /// `connection`, `error` or `warning`.
    pub kind: String,
    /// The viewer's display name (untrusted text: the UI shows it as text only).
    pub user: Option<String>,
    /// The viewer's @handle.
    pub handle: Option<String>,
    pub text: String,
    pub gift: Option<GiftInfo>,
    /// What a chat message said.
    pub comment: Option<String>,
    /// Replayed at connect from before this session: shown, never acted on.
    pub history: bool,
    /// Whether the row has a trace (the engine handles this kind of event).
    pub traced: bool,
    /// Rules that fired for it so far.
    pub fired: u32,
}

/// Which rows a page holds.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct LogQuery {
    /// Row kinds to show; empty: all.
    #[serde(default)]
    pub kinds: Vec<String>,
    /// Part of the viewer's name or @handle, any case; empty: everyone.
    #[serde(default)]
    pub search: String,
    /// Index into the matching rows, oldest first.
    pub offset: u32,
    pub limit: u32,
    /// Count the matching rows newer than this id (the "N new" pill).
    #[serde(default)]
    #[ts(optional)]
    pub after_id: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct LogPage {
    /// Matching rows in the ring.
    pub total: u32,
    pub offset: u32,
    pub rows: Vec<LogRow>,
    /// Matching rows newer than `afterId` (0 without it).
    pub newer: u32,
    /// The newest row id in the ring (0 when empty).
    pub last_id: u32,
}

/// Where the ring stands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct LogCursor {
    pub count: u32,
    pub first_id: u32,
    pub last_id: u32,
    /// Rows added since the previous batch.
    pub added: u32,
}

/// A rule that fired.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct TraceMatch {
    pub rule: String,
    pub runs: u32,
}

/// A rule (or the whole event) that did not fire, and why.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct TraceSkip {
    pub rule: Option<String>,
    pub reason: String,
}

/// A queue item the event produced, with its outcome.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct TraceItem {
    pub id: u32,
    pub lane: String,
    pub rule: String,
    pub status: String,
    /// Why it failed or was dropped.
    pub detail: Option<String>,
    pub commands: Vec<String>,
    pub sounds: Vec<String>,
    /// The RCON server's replies and sounds played, in step order.
    pub outputs: Vec<String>,
}

/// Event → rules → queue items → outcome, for one row.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct TraceView {
    pub row: LogRow,
    /// One sentence: what happened overall.
    pub verdict: String,
    pub matches: Vec<TraceMatch>,
    pub skips: Vec<TraceSkip>,
    pub items: Vec<TraceItem>,
}

#[derive(Debug, Default)]
struct Trace {
    /// The engine reported the event.
    seen: bool,
    duplicate: bool,
    matches: Vec<TraceMatch>,
    skips: Vec<TraceSkip>,
    items: Vec<TraceItem>,
}

struct Entry {
    row: LogRow,
    /// The engine's kind for it; `None`: the engine never sees this row's event.
    engine_kind: Option<EventKind>,
    trace: Option<Box<Trace>>,
}

/// What a client event becomes in the log.
pub struct NewRow {
    pub kind: String,
    pub user: Option<String>,
    pub handle: Option<String>,
    pub text: String,
    pub gift: Option<GiftInfo>,
    pub comment: Option<String>,
    pub history: bool,
    pub msg_id: u64,
    pub engine_kind: Option<EventKind>,
}

/// The engine's kind for a client event (mirrors `Input::from_event`).
pub fn engine_kind(event: &Event) -> Option<EventKind> {
    Some(match event {
        Event::Gift(_) => EventKind::Gift,
        Event::Follow(_) => EventKind::Follow,
        Event::Share(_) => EventKind::Share,
        Event::Join(_) => EventKind::Join,
        Event::Subscribe(_) => EventKind::Subscribe,
        Event::Like(_) => EventKind::Like,
        Event::Chat(_) => EventKind::Chat,
        Event::ViewerCount(_) => EventKind::ViewerCount,
        Event::Connected { .. } => EventKind::StreamStart,
        Event::StreamEnded { .. } => EventKind::StreamEnd,
        _ => return None,
    })
}

fn small(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The log ring and the links from engine updates to its rows.
pub struct LogRing {
    capacity: usize,
    entries: VecDeque<Entry>,
    next_id: u32,
    added: u32,
    /// Rows waiting for the engine's `Event`, by message id.
    unlinked: HashMap<u64, VecDeque<u32>>,
    /// The newest linked row per message id (matches and items follow it).
    by_msg: HashMap<u64, u32>,
    /// The row of each item that is not final yet.
    item_rows: HashMap<u64, u32>,
    /// Rows up to this id may have lost engine updates (the feed fell behind).
    lag_until: Option<u32>,
    /// Whether the engine runs at all (else traces say actions are off).
    engine_on: bool,
    traces_changed: bool,
}

impl LogRing {
    pub fn new(capacity: usize) -> Self {
        LogRing {
            capacity: capacity.max(1),
            entries: VecDeque::new(),
            next_id: 1,
            added: 0,
            unlinked: HashMap::new(),
            by_msg: HashMap::new(),
            item_rows: HashMap::new(),
            lag_until: None,
            engine_on: false,
            traces_changed: false,
        }
    }

    pub fn set_capacity(&mut self, capacity: usize) {
        self.capacity = capacity.max(1);
        self.evict();
    }

    pub fn set_engine_on(&mut self, on: bool) {
        self.engine_on = on;
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn first_id(&self) -> u32 {
        self.entries.front().map_or(self.next_id, |e| e.row.id)
    }

    pub fn cursor(&self) -> LogCursor {
        LogCursor {
            count: small(self.entries.len() as u64),
            first_id: self.first_id(),
            last_id: self.entries.back().map_or(0, |e| e.row.id),
            added: self.added,
        }
    }

    /// The cursor for a batch; resets the added count and the traces flag.
    pub fn take_changes(&mut self) -> (LogCursor, bool) {
        let c = self.cursor();
        self.added = 0;
        (c, std::mem::take(&mut self.traces_changed))
    }

    pub fn has_changes(&self) -> bool {
        self.added > 0 || self.traces_changed
    }

    pub fn push(&mut self, at_ms: i64, new: NewRow) -> u32 {
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1).max(1);
        let traced = new.engine_kind.is_some();
        if traced && !new.history {
            self.unlinked.entry(new.msg_id).or_default().push_back(id);
        }
        self.entries.push_back(Entry {
            row: LogRow {
                id,
                at_ms,
                kind: new.kind,
                user: new.user,
                handle: new.handle,
                text: new.text,
                gift: new.gift,
                comment: new.comment,
                history: new.history,
                traced,
                fired: 0,
            },
            engine_kind: new.engine_kind,
            trace: None,
        });
        self.added = self.added.saturating_add(1);
        self.evict();
        id
    }

    fn evict(&mut self) {
        while self.entries.len() > self.capacity {
            self.entries.pop_front();
        }
        // The link maps point at rows by id; drop what fell out of the ring once they grow
        // (the engine answers within moments, so old unlinked rows never get linked).
        let first = self.first_id();
        let limit = self.capacity.max(1024) * 2;
        if self.unlinked.len() > limit {
            self.unlinked.retain(|_, rows| {
                rows.retain(|&r| r >= first);
                !rows.is_empty()
            });
        }
        if self.by_msg.len() > limit {
            self.by_msg.retain(|_, r| *r >= first);
        }
        if self.item_rows.len() > limit {
            self.item_rows.retain(|_, r| *r >= first);
        }
    }

    fn entry_mut(&mut self, id: u32) -> Option<&mut Entry> {
        let first = self.first_id();
        let idx = usize::try_from(id.checked_sub(first)?).ok()?;
        self.entries.get_mut(idx)
    }

    fn entry(&self, id: u32) -> Option<&Entry> {
        let first = self.first_id();
        let idx = usize::try_from(id.checked_sub(first)?).ok()?;
        self.entries.get(idx)
    }

    fn trace_mut(&mut self, id: u32) -> Option<&mut Trace> {
        self.traces_changed = true;
        let e = self.entry_mut(id)?;
        Some(e.trace.get_or_insert_with(Box::default).as_mut())
    }

    /// The engine handled an event: links it to its row.
    pub fn engine_event(&mut self, kind: EventKind, msg_id: u64) {
        let Some(rows) = self.unlinked.get_mut(&msg_id) else {
            return;
        };
        let first = self.entries.front().map_or(u32::MAX, |e| e.row.id);
        let pos = rows.iter().position(|&r| {
            r >= first
                && self
                    .entries
                    .get(usize::try_from(r - first).unwrap_or(usize::MAX))
                    .is_some_and(|e| e.engine_kind == Some(kind))
        });
        let Some(pos) = pos else { return };
        let Some(row) = rows.remove(pos) else { return };
        if rows.is_empty() {
            self.unlinked.remove(&msg_id);
        }
        self.by_msg.insert(msg_id, row);
        if let Some(t) = self.trace_mut(row) {
            t.seen = true;
        }
    }

    pub fn matched(&mut self, rule: &str, msg_id: u64, runs: u32) {
        let Some(&row) = self.by_msg.get(&msg_id) else {
            return;
        };
        if let Some(e) = self.entry_mut(row) {
            e.row.fired = e.row.fired.saturating_add(1);
        }
        if let Some(t) = self.trace_mut(row) {
            t.matches.push(TraceMatch {
                rule: rule.to_owned(),
                runs,
            });
        }
    }

    pub fn skipped(&mut self, msg_id: u64, rule: Option<String>, reason: String) {
        let row = match &rule {
            Some(_) => self.by_msg.get(&msg_id).copied(),
            // A duplicate never gets an `Event`: it takes its row from the unlinked ones.
            None => self.unlinked.get_mut(&msg_id).and_then(VecDeque::pop_front),
        };
        let Some(row) = row else { return };
        if let Some(t) = self.trace_mut(row) {
            if rule.is_none() {
                t.duplicate = true;
            }
            t.skips.push(TraceSkip { rule, reason });
        }
    }

    pub fn item(&mut self, u: &ItemUpdate) {
        let id = u.item.id;
        let row = match self.item_rows.get(&id) {
            Some(&r) => r,
            None => match self.by_msg.get(&u.item.msg_id) {
                Some(&r) if u.item.rerun_of.is_none() => {
                    self.item_rows.insert(id, r);
                    r
                }
                _ => return,
            },
        };
        if u.status.is_final() {
            self.item_rows.remove(&id);
        }
        let Some(t) = self.trace_mut(row) else { return };
        let view = trace_item(u);
        match t.items.iter_mut().find(|i| u64::from(i.id) == id) {
            Some(existing) => {
                let outputs = std::mem::take(&mut existing.outputs);
                *existing = TraceItem { outputs, ..view };
            }
            None => t.items.push(view),
        }
    }

    pub fn step(&mut self, item: u64, text: String) {
        let Some(&row) = self.item_rows.get(&item) else {
            return;
        };
        if let Some(t) = self.trace_mut(row) {
            if let Some(i) = t.items.iter_mut().find(|i| u64::from(i.id) == item) {
                i.outputs.push(text);
            }
        }
    }

    /// Engine updates were lost: rows so far may have incomplete traces.
    pub fn lagged(&mut self) {
        self.lag_until = self.entries.back().map(|e| e.row.id);
        self.traces_changed = true;
    }

    fn matches(e: &Entry, kinds: &[String], search: &str) -> bool {
        if !kinds.is_empty() && !kinds.contains(&e.row.kind) {
            return false;
        }
        if search.is_empty() {
            return true;
        }
        let hit = |s: &Option<String>| {
            s.as_deref()
                .is_some_and(|s| s.to_lowercase().contains(search))
        };
        hit(&e.row.user) || hit(&e.row.handle)
    }

    pub fn page(&self, q: &LogQuery) -> LogPage {
        let search = q.search.trim().to_lowercase();
        let search = search.trim_start_matches('@');
        let limit = q.limit.min(MAX_PAGE) as usize;
        let offset = q.offset as usize;
        let last_id = self.entries.back().map_or(0, |e| e.row.id);
        let after = q.after_id.unwrap_or(u32::MAX);
        if q.kinds.is_empty() && search.is_empty() {
            let start = offset.min(self.entries.len());
            let end = start.saturating_add(limit).min(self.entries.len());
            let rows = self
                .entries
                .range(start..end)
                .map(|e| e.row.clone())
                .collect();
            let newer = q.after_id.map_or(0, |a| last_id.saturating_sub(a));
            return LogPage {
                total: small(self.entries.len() as u64),
                offset: q.offset,
                rows,
                newer: newer.min(small(self.entries.len() as u64)),
                last_id,
            };
        }
        let mut total = 0usize;
        let mut newer = 0u32;
        let mut rows = Vec::new();
        for e in &self.entries {
            if !Self::matches(e, &q.kinds, search) {
                continue;
            }
            if total >= offset && rows.len() < limit {
                rows.push(e.row.clone());
            }
            if e.row.id > after {
                newer += 1;
            }
            total += 1;
        }
        LogPage {
            total: small(total as u64),
            offset: q.offset,
            rows,
            newer,
            last_id,
        }
    }

    pub fn trace(&self, id: u32) -> Option<TraceView> {
        let e = self.entry(id)?;
        let empty = Trace::default();
        let t = e.trace.as_deref().unwrap_or(&empty);
        let verdict = self.verdict(e, t);
        Some(TraceView {
            row: e.row.clone(),
            verdict,
            matches: t.matches.clone(),
            skips: t.skips.clone(),
            items: t.items.clone(),
        })
    }

    fn verdict(&self, e: &Entry, t: &Trace) -> String {
        let Some(kind) = e.engine_kind else {
            return "Not an event rules react to.".into();
        };
        if e.row.history {
            return "Replayed from before you connected: shown, never acted on.".into();
        }
        if t.duplicate {
            return "A duplicate of a message already handled: ignored.".into();
        }
        if !t.seen {
            if self.lag_until.is_some_and(|l| e.row.id <= l) {
                return "Its trace is incomplete: the window fell behind and updates were dropped."
                    .into();
            }
            if !self.engine_on {
                return "The trigger engine is not running: no actions.".into();
            }
            return "Waiting for the trigger engine…".into();
        }
        if t.matches.is_empty() {
            if t.skips.is_empty() {
                return format!("No rule matched this {} event.", kind.as_str());
            }
            return "Rules matched, but their filters held them back.".into();
        }
        let runs: u32 = t.matches.iter().map(|m| m.runs).sum();
        let done = t.items.iter().filter(|i| i.status == "done").count();
        let failed = t
            .items
            .iter()
            .filter(|i| matches!(i.status.as_str(), "failed" | "dropped" | "interrupted"))
            .count();
        format!(
            "{} rule(s) fired ({} run(s)); {} item(s) queued, {done} done, {failed} failed or dropped.",
            t.matches.len(),
            runs,
            t.items.len()
        )
    }

    /// Every row, oldest first (for export).
    pub fn rows(&self) -> impl Iterator<Item = &LogRow> {
        self.entries.iter().map(|e| &e.row)
    }
}

fn trace_item(u: &ItemUpdate) -> TraceItem {
    let (commands, sounds) = steps(&u.item.steps);
    TraceItem {
        id: small(u.item.id),
        lane: u.item.lane.clone(),
        rule: u.item.rule_id.clone(),
        status: u.status.name().into(),
        detail: status_detail(&u.status),
        commands,
        sounds,
        outputs: Vec::new(),
    }
}

/// Rendered commands and sound files of an item.
pub fn steps(steps: &[PlannedStep]) -> (Vec<String>, Vec<String>) {
    let mut commands = Vec::new();
    let mut sounds = Vec::new();
    for s in steps {
        match s {
            PlannedStep::Command { command } => commands.push(command.clone()),
            PlannedStep::Sound { file, .. } => sounds.push(file.clone()),
            PlannedStep::Delay { .. } => {}
        }
    }
    (commands, sounds)
}

/// Why an item failed or was dropped; "may have run" when that is possible.
pub fn status_detail(status: &ItemStatus) -> Option<String> {
    match status {
        ItemStatus::Failed {
            reason,
            may_have_run,
        } => Some(if *may_have_run {
            format!("{reason} (may have run)")
        } else {
            reason.clone()
        }),
        ItemStatus::Dropped { reason } | ItemStatus::Expired { reason } => Some(reason.clone()),
        ItemStatus::Skipped { reason } if !reason.is_empty() => Some(reason.clone()),
        ItemStatus::Interrupted => Some("interrupted; may have run".into()),
        _ => None,
    }
}
