//! The Queue view's backend: lanes with their controls, and a feed of item lifecycle changes.

use livetrigger_engine::engine::{
    EngineHandle, EngineUpdate, ItemStatus, ItemUpdate, LaneSnapshot,
};
use serde::{Deserialize, Serialize};
use tauri::{AppHandle, Runtime, State};
use ts_rs::TS;

use crate::engine::EngineState;
use crate::error::{ErrorCode, IpcError};
use crate::ipc::AppEvent;

/// One lane as the Queue view shows it.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct LaneView {
    pub name: String,
    pub paused: bool,
    pub waiting: u32,
    pub running: u32,
    pub done: u32,
    pub failed: u32,
    pub dropped: u32,
}

impl From<&LaneSnapshot> for LaneView {
    fn from(l: &LaneSnapshot) -> Self {
        let n = |v: u64| u32::try_from(v).unwrap_or(u32::MAX);
        LaneView {
            name: l.name.clone(),
            paused: l.paused,
            waiting: u32::try_from(l.waiting).unwrap_or(u32::MAX),
            running: u32::try_from(l.running.len()).unwrap_or(u32::MAX),
            done: n(l.done),
            failed: n(l.failed),
            dropped: n(l.dropped),
        }
    }
}

/// A queue item's latest state.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct QueueItemView {
    /// Item ids are small counters of this data folder (safe as JS numbers).
    pub id: u32,
    pub lane: String,
    pub rule: String,
    /// queued, running, done, failed, dropped, skipped or interrupted.
    pub status: String,
    /// Why it failed or was dropped; "may have run" when that is possible.
    pub detail: Option<String>,
    pub commands: Vec<String>,
    /// The viewer's @handle (untrusted text).
    pub user: Option<String>,
}

impl From<&ItemUpdate> for QueueItemView {
    fn from(u: &ItemUpdate) -> Self {
        let detail = match &u.status {
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
        };
        QueueItemView {
            id: u32::try_from(u.item.id).unwrap_or(u32::MAX),
            lane: u.item.lane.clone(),
            rule: u.item.rule_id.clone(),
            status: u.status.name().into(),
            detail,
            commands: u.item.commands(),
            user: u.item.username.clone(),
        }
    }
}

/// What a lane button does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum LaneOp {
    Pause,
    Resume,
    Skip,
    Clear,
}

/// Forwards item changes to the UI as `queue-item` events.
pub fn forward_updates<R: Runtime>(app: &AppHandle<R>, handle: &EngineHandle) {
    let mut updates = handle.subscribe();
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        loop {
            match updates.recv().await {
                Ok(EngineUpdate::Item(u)) => {
                    let mut view = QueueItemView::from(&u);
                    if view.status == "done" && !view.commands.is_empty() {
                        use tauri::Manager;
                        if app.state::<crate::setup::outputs::RconSlot>().is_dry() {
                            view.detail = Some(crate::setup::outputs::DRY_RUN_REPLY.into());
                        }
                    }
                    if let Err(e) = AppEvent::QueueItem(view).emit(&app) {
                        tracing::debug!(error = %e, "could not push a queue change");
                    }
                }
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
            }
        }
    });
}

fn engine_error(e: impl std::fmt::Display) -> IpcError {
    IpcError::new(ErrorCode::InvalidInput, e.to_string())
}

#[tauri::command]
pub async fn queue_lanes<R: Runtime>(
    app: AppHandle<R>,
    engine: State<'_, EngineState>,
) -> Result<Vec<LaneView>, IpcError> {
    let handle = engine.handle(&app).await?;
    Ok(handle.lanes().iter().map(LaneView::from).collect())
}

#[tauri::command]
pub async fn lane_control<R: Runtime>(
    app: AppHandle<R>,
    engine: State<'_, EngineState>,
    lane: String,
    op: LaneOp,
) -> Result<Vec<LaneView>, IpcError> {
    let handle = engine.handle(&app).await?;
    match op {
        LaneOp::Pause => handle.pause(&lane),
        LaneOp::Resume => handle.resume(&lane),
        LaneOp::Skip => handle.skip_current(&lane),
        LaneOp::Clear => handle.clear(&lane),
    }
    .map_err(engine_error)?;
    Ok(handle.lanes().iter().map(LaneView::from).collect())
}

/// The panic button: clears and pauses every lane (`resume` on each lane, or
/// [`queue_resume_all`], starts them again).
#[tauri::command]
pub async fn queue_panic<R: Runtime>(
    app: AppHandle<R>,
    engine: State<'_, EngineState>,
) -> Result<Vec<LaneView>, IpcError> {
    let handle = engine.handle(&app).await?;
    handle.panic();
    tracing::warn!("panic button: every lane cleared and paused");
    Ok(handle.lanes().iter().map(LaneView::from).collect())
}

#[tauri::command]
pub async fn queue_resume_all<R: Runtime>(
    app: AppHandle<R>,
    engine: State<'_, EngineState>,
) -> Result<Vec<LaneView>, IpcError> {
    let handle = engine.handle(&app).await?;
    handle.resume_all();
    Ok(handle.lanes().iter().map(LaneView::from).collect())
}
