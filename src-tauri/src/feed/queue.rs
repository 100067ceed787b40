//! The queue as the window shows it: per lane the running items, the first
//! [`SHOWN_WAITING`] waiting ones, the latest finished ones, and lane counters. The window is
//! sent only those items (a flood can leave tens of thousands waiting, and listing them all
//! cost the window more than everything else it does); the rest are counted. Waiting and
//! running are counted from the same book the shown items come from, so the counters and the
//! rows on screen can never disagree; the totals (done, failed, ...) and the paused flag are
//! the lanes' own.

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::sync::Arc;

use livetrigger_engine::engine::{ItemUpdate, LaneSnapshot, QueueItem};

use crate::queue::{LaneView, QueueItemView};

/// Finished items kept per lane for the view.
pub const FINISHED_PER_LANE: usize = 200;
/// Waiting items per lane the window is sent, in queue order; the rest are only counted.
pub const SHOWN_WAITING: usize = 100;
/// Final item ids remembered, so a late update never brings a finished item back.
const FINISHED_MEMORY: usize = 200_000;

/// An item as the book keeps it: the engine's own item (shared with its lane, not copied) and
/// where it is. A flood leaves thousands waiting; views are built only for the ones sent.
struct BookItem {
    item: Arc<QueueItem>,
    status: &'static str,
    detail: Option<Box<str>>,
    dry_run: bool,
}

impl BookItem {
    fn view(&self) -> QueueItemView {
        let mut v = QueueItemView::from_item(&self.item);
        self.status.clone_into(&mut v.status);
        v.detail = self.detail.as_deref().map(str::to_owned);
        v.dry_run = self.dry_run;
        v
    }
}

/// The engine's status names, as `&'static str` (a resync hands them over as strings).
const STATUS_NAMES: [&str; 8] = [
    "queued",
    "running",
    "done",
    "failed",
    "dropped",
    "skipped",
    "expired",
    "interrupted",
];

fn status_name(status: &str) -> &'static str {
    STATUS_NAMES
        .iter()
        .copied()
        .find(|s| *s == status)
        .unwrap_or("queued")
}

#[derive(Default)]
pub struct QueueBook {
    items: HashMap<u64, BookItem>,
    finished: HashMap<String, VecDeque<u64>>,
    finished_ids: HashSet<u64>,
    finished_order: VecDeque<u64>,
    /// The lanes as the engine last described them.
    engine_lanes: Vec<LaneSnapshot>,
    changed: HashSet<u64>,
    last_lanes: Vec<LaneView>,
    reset: bool,
    /// Queued and running item ids per lane, in queue order (ids only grow).
    queued: HashMap<String, BTreeSet<u64>>,
    running: HashMap<String, BTreeSet<u64>>,
    /// The items the window holds (as of the last batch).
    sent: HashSet<u64>,
}

fn rank(status: &str) -> u8 {
    match status {
        "queued" => 0,
        "running" => 1,
        _ => 2,
    }
}

/// Whether a table holds far more room than entries (a flood's backlog grew it; a table never
/// shrinks on its own).
fn roomy(capacity: usize, len: usize) -> bool {
    capacity > 4 * len + 1_024
}

fn small(v: u64) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

impl QueueBook {
    pub fn apply(&mut self, u: &ItemUpdate) {
        let id = u.item.id;
        if self.finished_ids.contains(&id) {
            return;
        }
        let status = u.status.name();
        let mut book = BookItem {
            item: u.item.clone(),
            status,
            detail: crate::feed::log::status_detail(&u.status).map(String::into_boxed_str),
            dry_run: false,
        };
        if let Some(old) = self.items.get(&id) {
            // Updates of one item arrive in order; this only guards a resync racing them.
            if rank(status) < rank(old.status) {
                return;
            }
            if old.dry_run && book.detail.is_none() {
                book.dry_run = true;
                book.detail.clone_from(&old.detail);
            }
        }
        self.place(id, &u.item.lane, rank(status));
        self.items.insert(id, book);
        self.changed.insert(id);
        if u.status.is_final() {
            self.remember_finished(id);
            let list = match self.finished.get_mut(&u.item.lane) {
                Some(list) => list,
                None => self.finished.entry(u.item.lane.clone()).or_default(),
            };
            list.push_back(id);
            while list.len() > FINISHED_PER_LANE {
                if let Some(old) = list.pop_front() {
                    // Left in `changed`: the next batch tells a window that may hold it (from
                    // a snapshot taken since the last batch) that it is gone.
                    self.items.remove(&old);
                    self.changed.insert(old);
                }
            }
        }
    }

    /// A step's reply: the dry-run executor's answer marks the item as a dry run.
    pub fn step(&mut self, item: u64, text: &str) {
        if text != crate::setup::outputs::DRY_RUN_REPLY {
            return;
        }
        if let Some(book) = self.items.get_mut(&item) {
            book.dry_run = true;
            book.detail = Some(text.into());
            self.changed.insert(item);
        }
    }

    /// Files the item under its lane's queued or running ids (or neither, once final).
    fn place(&mut self, id: u64, lane: &str, rank: u8) {
        if let Some(set) = self.queued.get_mut(lane) {
            set.remove(&id);
        }
        if let Some(set) = self.running.get_mut(lane) {
            set.remove(&id);
        }
        let book = match rank {
            0 => &mut self.queued,
            1 => &mut self.running,
            _ => return,
        };
        if let Some(set) = book.get_mut(lane) {
            set.insert(id);
        } else {
            book.insert(lane.to_string(), BTreeSet::from([id]));
        }
    }

    fn remember_finished(&mut self, id: u64) {
        if self.finished_ids.insert(id) {
            self.finished_order.push_back(id);
            while self.finished_order.len() > FINISHED_MEMORY {
                if let Some(old) = self.finished_order.pop_front() {
                    self.finished_ids.remove(&old);
                }
            }
        }
    }

    /// The lanes as the engine has them now (read at each batch).
    pub fn set_engine_lanes(&mut self, lanes: Vec<LaneSnapshot>) {
        self.engine_lanes = lanes;
    }

    /// Starts over from the engine's word: the items it still has waiting or running (after
    /// missed updates, or at start when it resumed items from a last run).
    pub fn resync(&mut self, active: Vec<(QueueItem, String)>) {
        self.items.retain(|_, b| rank(b.status) == 2);
        self.changed.clear();
        self.queued.clear();
        self.running.clear();
        for (item, status) in active {
            let status = status_name(&status);
            let id = item.id;
            self.finished_ids.remove(&id);
            self.place(id, &item.lane, rank(status));
            self.items.insert(
                id,
                BookItem {
                    item: Arc::new(item),
                    status,
                    detail: None,
                    dry_run: false,
                },
            );
        }
        self.reset = true;
    }

    pub fn lanes(&self) -> Vec<LaneView> {
        let mut out: Vec<LaneView> = self
            .engine_lanes
            .iter()
            .map(|l| LaneView {
                name: l.name.clone(),
                paused: l.paused,
                waiting: 0,
                running: 0,
                done: small(l.done),
                failed: small(l.failed),
                dropped: small(l.dropped.saturating_add(l.coalesced)),
                skipped: small(l.skipped),
            })
            .collect();
        let mut index: HashMap<String, usize> = out
            .iter()
            .enumerate()
            .map(|(i, l)| (l.name.clone(), i))
            .collect();
        // Lanes the engine does not list (yet) still get a row for the items shown in them.
        let counts = self
            .queued
            .iter()
            .map(|(lane, ids)| (lane, ids.len(), 0))
            .chain(self.running.iter().map(|(lane, ids)| (lane, 0, ids.len())))
            .chain(self.finished.keys().map(|lane| (lane, 0, 0)));
        for (lane, waiting, running) in counts {
            if waiting == 0 && running == 0 && !self.finished.contains_key(lane) {
                continue;
            }
            let i = match index.get(lane) {
                Some(&i) => i,
                None => {
                    out.push(LaneView {
                        name: lane.clone(),
                        paused: false,
                        waiting: 0,
                        running: 0,
                        done: 0,
                        failed: 0,
                        dropped: 0,
                        skipped: 0,
                    });
                    index.insert(lane.clone(), out.len() - 1);
                    out.len() - 1
                }
            };
            out[i].waiting = out[i].waiting.saturating_add(small(waiting as u64));
            out[i].running = out[i].running.saturating_add(small(running as u64));
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }

    /// Waiting plus running items, for the status bar.
    pub fn depth(&self) -> u32 {
        let n: usize = self
            .queued
            .values()
            .chain(self.running.values())
            .map(BTreeSet::len)
            .sum();
        small(n as u64)
    }

    /// The ids the window shows: per lane the running items, the first [`SHOWN_WAITING`]
    /// waiting ones and the kept finished ones.
    fn shown(&self) -> HashSet<u64> {
        let mut out = HashSet::new();
        for ids in self.running.values() {
            out.extend(ids.iter().copied());
        }
        for ids in self.queued.values() {
            out.extend(ids.iter().take(SHOWN_WAITING).copied());
        }
        for ids in self.finished.values() {
            out.extend(ids.iter().copied().filter(|id| self.items.contains_key(id)));
        }
        out
    }

    /// The items the window shows, in queue order.
    pub fn items(&self) -> Vec<QueueItemView> {
        self.views(self.shown())
    }

    fn views(&self, ids: impl IntoIterator<Item = u64>) -> Vec<QueueItemView> {
        let mut v: Vec<QueueItemView> = ids
            .into_iter()
            .filter_map(|id| self.items.get(&id).map(BookItem::view))
            .collect();
        v.sort_by_key(|i| i.id);
        v
    }

    pub fn has_changes(&self) -> bool {
        !self.changed.is_empty() || self.reset || self.lanes() != self.last_lanes
    }

    /// What changed since the last call: (reset, items, removed ids, lanes if changed).
    ///
    /// Items are what the window must add or update: shown items that changed, and items that
    /// came into view because those ahead of them left. Removed ids are items the window holds
    /// that are no longer shown (it may also be told about ids it never had).
    /// Entries the item table has room for (tests).
    #[cfg(test)]
    pub fn item_room(&self) -> usize {
        self.items.capacity()
    }

    pub fn take_changes(&mut self) -> (bool, Vec<QueueItemView>, Vec<u32>, Option<Vec<LaneView>>) {
        let reset = std::mem::take(&mut self.reset);
        let shown = self.shown();
        let changed = std::mem::take(&mut self.changed);
        let mut removed = Vec::new();
        let items = if reset {
            self.views(shown.iter().copied())
        } else {
            let new: Vec<u64> = shown
                .iter()
                .copied()
                .filter(|id| changed.contains(id) || !self.sent.contains(id))
                .collect();
            // Evicted finished items the window holds, from the last batch or from a snapshot
            // taken since (those are among the changed ones).
            let gone = self
                .sent
                .iter()
                .chain(changed.iter())
                .filter(|id| !shown.contains(id))
                .map(|&id| small(id));
            removed.extend(gone);
            self.views(new)
        };
        removed.sort_unstable();
        removed.dedup();
        self.sent = shown;
        // A flood's backlog grew these tables: the room goes back as it drains.
        if roomy(self.items.capacity(), self.items.len()) {
            self.items.shrink_to(2 * self.items.len());
        }
        if roomy(self.finished_ids.capacity(), self.finished_ids.len()) {
            self.finished_ids.shrink_to(2 * self.finished_ids.len());
        }
        let lanes = self.lanes();
        let lanes = if lanes != self.last_lanes || reset {
            self.last_lanes = lanes.clone();
            Some(lanes)
        } else {
            None
        };
        (reset, items, removed, lanes)
    }
}
