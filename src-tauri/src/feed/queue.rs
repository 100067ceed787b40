//! The queue as the window shows it: every waiting and running item, the latest finished
//! ones per lane, and lane counters. Waiting and running are counted from those same items,
//! so the counters and the rows on screen can never disagree; the totals (done, failed, ...)
//! and the paused flag are the lanes' own.

use std::collections::{HashMap, HashSet, VecDeque};

use livetrigger_engine::engine::{ItemUpdate, LaneSnapshot, QueueItem};

use crate::queue::{LaneView, QueueItemView};

/// Finished items kept per lane for the view.
pub const FINISHED_PER_LANE: usize = 200;
/// Final item ids remembered, so a late update never brings a finished item back.
const FINISHED_MEMORY: usize = 200_000;

#[derive(Default)]
pub struct QueueBook {
    items: HashMap<u64, QueueItemView>,
    finished: HashMap<String, VecDeque<u64>>,
    finished_ids: HashSet<u64>,
    finished_order: VecDeque<u64>,
    /// The lanes as the engine last described them.
    engine_lanes: Vec<LaneSnapshot>,
    changed: HashSet<u64>,
    removed: Vec<u32>,
    last_lanes: Vec<LaneView>,
    reset: bool,
}

fn rank(status: &str) -> u8 {
    match status {
        "queued" => 0,
        "running" => 1,
        _ => 2,
    }
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
        let mut view = QueueItemView::from(u);
        if let Some(old) = self.items.get(&id) {
            // Updates of one item arrive in order; this only guards a resync racing them.
            if rank(&view.status) < rank(&old.status) {
                return;
            }
            if old.dry_run && view.detail.is_none() {
                view.dry_run = true;
                view.detail.clone_from(&old.detail);
            }
        }
        let lane = view.lane.clone();
        self.items.insert(id, view);
        self.changed.insert(id);
        if u.status.is_final() {
            self.remember_finished(id);
            let list = self.finished.entry(lane).or_default();
            list.push_back(id);
            while list.len() > FINISHED_PER_LANE {
                if let Some(old) = list.pop_front() {
                    self.items.remove(&old);
                    self.changed.remove(&old);
                    self.removed.push(small(old));
                }
            }
        }
    }

    /// A step's reply: the dry-run executor's answer marks the item as a dry run.
    pub fn step(&mut self, item: u64, text: &str) {
        if text != crate::setup::outputs::DRY_RUN_REPLY {
            return;
        }
        if let Some(view) = self.items.get_mut(&item) {
            view.dry_run = true;
            view.detail = Some(text.to_string());
            self.changed.insert(item);
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
        self.items.retain(|_, v| rank(&v.status) == 2);
        self.changed.clear();
        for (item, status) in active {
            let mut view = QueueItemView::from_item(&item);
            view.status = status;
            self.finished_ids.remove(&item.id);
            self.items.insert(item.id, view);
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
        for v in self.items.values() {
            let i = match index.get(&v.lane) {
                Some(&i) => i,
                None => {
                    out.push(LaneView {
                        name: v.lane.clone(),
                        paused: false,
                        waiting: 0,
                        running: 0,
                        done: 0,
                        failed: 0,
                        dropped: 0,
                        skipped: 0,
                    });
                    index.insert(v.lane.clone(), out.len() - 1);
                    out.len() - 1
                }
            };
            match v.status.as_str() {
                "queued" => out[i].waiting += 1,
                "running" => out[i].running += 1,
                _ => {}
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }

    /// Waiting plus running items, for the status bar.
    pub fn depth(&self) -> u32 {
        let n = self.items.values().filter(|v| rank(&v.status) < 2).count();
        u32::try_from(n).unwrap_or(u32::MAX)
    }

    pub fn items(&self) -> Vec<QueueItemView> {
        let mut v: Vec<QueueItemView> = self.items.values().cloned().collect();
        v.sort_by_key(|i| i.id);
        v
    }

    pub fn has_changes(&self) -> bool {
        !self.changed.is_empty()
            || !self.removed.is_empty()
            || self.reset
            || self.lanes() != self.last_lanes
    }

    /// What changed since the last call: (reset, items, removed ids, lanes if changed).
    pub fn take_changes(&mut self) -> (bool, Vec<QueueItemView>, Vec<u32>, Option<Vec<LaneView>>) {
        let reset = std::mem::take(&mut self.reset);
        let items = if reset {
            self.changed.clear();
            self.items()
        } else {
            let mut v: Vec<QueueItemView> = self
                .changed
                .drain()
                .filter_map(|id| self.items.get(&id).cloned())
                .collect();
            v.sort_by_key(|i| i.id);
            v
        };
        let removed = std::mem::take(&mut self.removed);
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
