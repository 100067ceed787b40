//! Contained failures: the parts that must keep running (the handler task, each lane, the
//! RCON actor, the sound thread) catch a panic, report it here, fail the one item or command
//! they held with the reason, and go on. A fault is never silent: it is logged (the panic
//! hook adds the backtrace, see [`crate::panic_log`]) and published to
//! [`subscribe`], which the app's status bar shows, so the live log cannot keep scrolling
//! while triggers are dead without the streamer being told.
//!
//! Faults are process-wide, like the panic hook: the outputs are built apart from the engine,
//! and one status bar shows them all.

use std::any::Any;
use std::sync::OnceLock;

use serde::Serialize;
use tokio::sync::watch;

/// One contained panic.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Fault {
    /// What failed and restarted: `handler`, `lane minecraft`, `rcon`, `sound`.
    pub component: String,
    /// The panic message.
    pub message: String,
    pub at_ms: i64,
}

/// Every fault so far in this process.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FaultState {
    pub count: u64,
    pub last: Option<Fault>,
    /// The last few faults, oldest first.
    pub recent: Vec<Fault>,
}

/// Faults kept in [`FaultState::recent`].
const RECENT: usize = 16;

fn channel() -> &'static watch::Sender<FaultState> {
    static FAULTS: OnceLock<watch::Sender<FaultState>> = OnceLock::new();
    FAULTS.get_or_init(|| watch::channel(FaultState::default()).0)
}

/// Faults from now on (the current state first).
pub fn subscribe() -> watch::Receiver<FaultState> {
    channel().subscribe()
}

/// The faults so far.
pub fn current() -> FaultState {
    channel().borrow().clone()
}

/// Records a contained panic of `component`; returns the fault (its message is the reason
/// given to the item that was held).
pub fn report(component: &str, payload: &(dyn Any + Send)) -> Fault {
    let fault = Fault {
        component: component.to_owned(),
        message: panic_message(payload),
        at_ms: crate::engine::item::wall_ms(),
    };
    tracing::error!(component, message = %fault.message, "internal error contained; restarted");
    channel().send_modify(|s| {
        s.count += 1;
        s.last = Some(fault.clone());
        s.recent.push(fault.clone());
        if s.recent.len() > RECENT {
            s.recent.remove(0);
        }
    });
    fault
}

/// The text of a panic payload.
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".into())
}
