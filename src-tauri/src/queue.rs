//! The Queue view's backend: lanes with their controls and re-runs. Item changes and lane
//! counters reach the window through the batched feed ([`crate::feed`]).

use livetrigger_engine::engine::{ItemUpdate, QueueItem};
use serde::{Deserialize, Serialize};
use tauri::{AppHandle, Runtime, State};
use ts_rs::TS;

use crate::engine::EngineState;
use crate::error::{ErrorCode, IpcError};
use crate::feed::FeedHub;

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
    pub skipped: u32,
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
    /// Sound files it plays.
    pub sounds: Vec<String>,
    /// The viewer's @handle (untrusted text).
    pub user: Option<String>,
    /// What triggered it, for people.
    pub event: String,
    #[ts(type = "number")]
    pub queued_ms: i64,
    /// The item this one runs again, if it is a re-run.
    pub rerun_of: Option<u32>,
    /// Its commands went nowhere: no RCON server is set up, so the Minecraft lane runs dry
    /// (`detail` says so). Not a failure.
    pub dry_run: bool,
}

impl QueueItemView {
    /// The item as queued (its status is set by the caller).
    pub fn from_item(item: &QueueItem) -> Self {
        let (commands, sounds) = crate::feed::log::steps(&item.steps);
        let small = |v: u64| u32::try_from(v).unwrap_or(u32::MAX);
        QueueItemView {
            id: small(item.id),
            lane: item.lane.clone(),
            rule: item.rule_id.clone(),
            status: "queued".into(),
            detail: None,
            commands,
            sounds,
            user: item.username.clone(),
            event: item.event.clone(),
            queued_ms: item.queued_ms,
            rerun_of: item.rerun_of.map(small),
            dry_run: false,
        }
    }
}

impl From<&ItemUpdate> for QueueItemView {
    fn from(u: &ItemUpdate) -> Self {
        let mut v = QueueItemView::from_item(&u.item);
        v.status = u.status.name().into();
        v.detail = crate::feed::log::status_detail(&u.status);
        v
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

fn engine_error(e: impl std::fmt::Display) -> IpcError {
    IpcError::new(ErrorCode::InvalidInput, e.to_string())
}

#[tauri::command]
pub async fn queue_lanes<R: Runtime>(
    app: AppHandle<R>,
    engine: State<'_, EngineState>,
    feed: State<'_, FeedHub>,
) -> Result<Vec<LaneView>, IpcError> {
    engine.handle(&app).await?;
    Ok(feed.lanes())
}

#[tauri::command]
pub async fn lane_control<R: Runtime>(
    app: AppHandle<R>,
    engine: State<'_, EngineState>,
    feed: State<'_, FeedHub>,
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
    Ok(feed.lanes())
}

/// The panic button: clears and pauses every lane (`resume` on each lane, or
/// [`queue_resume_all`], starts them again).
#[tauri::command]
pub async fn queue_panic<R: Runtime>(
    app: AppHandle<R>,
    engine: State<'_, EngineState>,
    feed: State<'_, FeedHub>,
) -> Result<Vec<LaneView>, IpcError> {
    let handle = engine.handle(&app).await?;
    handle.panic();
    tracing::warn!("panic button: every lane cleared and paused");
    Ok(feed.lanes())
}

#[tauri::command]
pub async fn queue_resume_all<R: Runtime>(
    app: AppHandle<R>,
    engine: State<'_, EngineState>,
    feed: State<'_, FeedHub>,
) -> Result<Vec<LaneView>, IpcError> {
    let handle = engine.handle(&app).await?;
    handle.resume_all();
    Ok(feed.lanes())
}

/// Queues a failed, interrupted, skipped or dropped item again, as a new item. Returns the new
/// item's id.
#[tauri::command]
pub async fn queue_rerun<R: Runtime>(
    app: AppHandle<R>,
    engine: State<'_, EngineState>,
    id: u32,
) -> Result<u32, IpcError> {
    let handle = engine.handle(&app).await?;
    let new_id = handle.rerun(u64::from(id)).await.map_err(engine_error)?;
    tracing::info!(item = id, new_item = new_id, "item re-run by the user");
    Ok(u32::try_from(new_id).unwrap_or(u32::MAX))
}
