//! The engine's live stream of changes ([`EngineUpdate`]) and the one place every change goes
//! through on its way to the app and to the store.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use serde::Serialize;
use tokio::sync::broadcast;

use super::input::{EventKind, Input};
use super::item::{wall_ms, ItemStatus, ItemUpdate, QueueItem};
use super::lane::LaneSnapshot;
use super::store::{StoreError, StoreHandle};

/// Buffered changes per subscriber; a subscriber slower than this misses updates (and is
/// told so by `broadcast`'s `Lagged`), it never slows the engine. A flood fills every slot
/// and each keeps its update (and its strings) until overwritten, so the buffer is resident
/// memory: an update is kept small (see the size test below) and 8,192 of them are 0.4 s of a
/// 20,000 events/s flood, which the window's feed drains without missing any (the flood
/// bench prints the updates it missed).
const UPDATES_CAPACITY: usize = 8_192;

/// Something the app's live log and queue view show.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum EngineUpdate {
    /// An event arrived (after duplicate filtering).
    Event {
        kind: EventKind,
        msg_id: u64,
        #[serde(skip_serializing_if = "Option::is_none")]
        user: Option<String>,
        summary: String,
        at_ms: i64,
    },
    /// A rule fired.
    Matched {
        rule: String,
        msg_id: u64,
        runs: u32,
        at_ms: i64,
    },
    /// A queue item changed state.
    Item(ItemUpdate),
    /// A lane was paused, resumed, cleared or reconfigured. Boxed: it is rare and large, and
    /// every slot of the update channel is as big as the largest variant.
    Lane(Box<LaneSnapshot>),
    /// Something went wrong but the engine went on (a template could not render, an event
    /// was invalid).
    Warning { message: String, at_ms: i64 },
    /// An internal error (a panic) was contained: `component` restarted, and `message` says
    /// what was lost (one event, one item). The status bar shows it.
    Fault {
        component: String,
        message: String,
        at_ms: i64,
    },
    /// Why an event did not fire a rule: `rule` names the rule a filter stopped (cooldown,
    /// cap, ...); `None` means the whole event was set aside (a duplicate, history).
    Skipped {
        msg_id: u64,
        #[serde(skip_serializing_if = "Option::is_none")]
        rule: Option<String>,
        reason: String,
        at_ms: i64,
    },
    /// One step of a running item finished: the RCON server's reply, or a sound played.
    /// Failures are not sent here; they end the item with their reason.
    Step {
        item: u64,
        step: u32,
        text: String,
        at_ms: i64,
    },
}

/// Fans changes out to subscribers and to the store.
pub struct Reporter {
    updates: broadcast::Sender<EngineUpdate>,
    store: Option<StoreHandle>,
    /// Events refused by their validator this session (shown in the stats).
    invalid: AtomicU64,
}

impl Reporter {
    pub fn new(store: Option<StoreHandle>) -> Arc<Self> {
        Arc::new(Reporter {
            updates: broadcast::channel(UPDATES_CAPACITY).0,
            store,
            invalid: AtomicU64::new(0),
        })
    }

    pub fn count_invalid(&self) {
        self.invalid.fetch_add(1, Ordering::Relaxed);
    }

    /// Events refused as invalid since the engine started.
    pub fn invalid_events(&self) -> u64 {
        self.invalid.load(Ordering::Relaxed)
    }

    pub fn subscribe(&self) -> broadcast::Receiver<EngineUpdate> {
        self.updates.subscribe()
    }

    pub fn store(&self) -> Option<&StoreHandle> {
        self.store.as_ref()
    }

    pub fn send(&self, update: EngineUpdate) {
        // No subscriber is fine: the store has it.
        let _ = self.updates.send(update);
    }

    pub fn event(&self, input: &Input, summary: String) {
        if let Some(store) = &self.store {
            store.record_event(input, &summary);
        }
        if self.updates.receiver_count() > 0 {
            self.send(EngineUpdate::Event {
                kind: input.kind(),
                msg_id: input.msg_id,
                user: input.user.as_ref().map(|u| u.unique_id.clone()),
                summary,
                at_ms: wall_ms(),
            });
        }
    }

    pub fn matched(&self, rule: &str, msg_id: u64, runs: u32) {
        if let Some(store) = &self.store {
            store.record_match(rule, msg_id, runs);
        }
        if self.updates.receiver_count() > 0 {
            self.send(EngineUpdate::Matched {
                rule: rule.to_owned(),
                msg_id,
                runs,
                at_ms: wall_ms(),
            });
        }
    }

    /// See [`EngineUpdate::Skipped`]. Only built when someone listens: a trace, not a record.
    pub fn skipped(&self, msg_id: u64, rule: Option<&str>, reason: impl FnOnce() -> String) {
        if self.updates.receiver_count() > 0 {
            self.send(EngineUpdate::Skipped {
                msg_id,
                rule: rule.map(str::to_owned),
                reason: reason(),
                at_ms: wall_ms(),
            });
        }
    }

    /// See [`EngineUpdate::Step`].
    pub fn step(&self, item: u64, step: usize, text: impl FnOnce() -> String) {
        if self.updates.receiver_count() > 0 {
            self.send(EngineUpdate::Step {
                item,
                step: u32::try_from(step).unwrap_or(u32::MAX),
                text: text(),
                at_ms: wall_ms(),
            });
        }
    }

    pub fn warning(&self, message: String) {
        tracing::warn!("{message}");
        self.send(EngineUpdate::Warning {
            message,
            at_ms: wall_ms(),
        });
    }

    /// Tells subscribers about a contained panic (already counted by [`crate::supervise`]).
    pub fn fault(&self, fault: &crate::supervise::Fault, message: String) {
        tracing::error!(component = %fault.component, "{message}");
        self.send(EngineUpdate::Fault {
            component: fault.component.clone(),
            message,
            at_ms: fault.at_ms,
        });
    }

    /// A new (or changed, e.g. coalesced) waiting item.
    pub fn queued(&self, item: &Arc<QueueItem>) {
        if let Some(store) = &self.store {
            store.item_queued(item.clone());
        }
        self.item(item, ItemStatus::Queued);
    }

    /// Records that `item` starts, and returns once that is durable: an item whose start was
    /// not recorded would be run a second time after a crash.
    pub async fn running(&self, item: &Arc<QueueItem>) -> Result<(), StoreError> {
        if let Some(store) = &self.store {
            store.item_running(item.id).await?;
        }
        self.item(item, ItemStatus::Running);
        Ok(())
    }

    /// An item turned away before it was queued (overflow, merged into another): recorded
    /// with its outcome so drops are visible in the history and the stats.
    pub fn rejected(&self, item: &Arc<QueueItem>, status: ItemStatus) {
        if let Some(store) = &self.store {
            store.item_queued(item.clone());
        }
        self.finished(item, status);
    }

    pub fn finished(&self, item: &Arc<QueueItem>, status: ItemStatus) {
        if let Some(reason) = status.reason() {
            tracing::warn!(
                item = item.id,
                lane = %item.lane,
                rule = %item.rule_id,
                msg_id = item.msg_id,
                user = item.username.as_deref().unwrap_or(""),
                reason,
                "queue item {}",
                status.name()
            );
        }
        if let Some(store) = &self.store {
            store.item_status(item.id, &status);
        }
        self.item(item, status);
    }

    fn item(&self, item: &Arc<QueueItem>, status: ItemStatus) {
        self.send(EngineUpdate::Item(ItemUpdate {
            item: item.clone(),
            status,
            at_ms: wall_ms(),
        }));
    }
}

#[cfg(test)]
mod size_tests {
    use super::*;

    /// The update channel keeps [`UPDATES_CAPACITY`] of these resident once a flood has gone
    /// through it: each variant stays small (large, rare ones are boxed).
    #[test]
    fn an_update_stays_small() {
        assert!(
            std::mem::size_of::<EngineUpdate>() <= 80,
            "{} bytes",
            std::mem::size_of::<EngineUpdate>()
        );
    }
}
