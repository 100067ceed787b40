//! The Stats view's backend: this session's totals from the engine's store, the per-minute
//! series and top gifters (with their gifts' images) from the live feed.

use serde::Serialize;
use tauri::{AppHandle, Runtime, State};
use ts_rs::TS;

use crate::engine::EngineState;
use crate::error::{ErrorCode, IpcError};
use crate::feed::{FeedHub, GifterView};

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Count {
    pub name: String,
    pub count: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct StatsView {
    /// Events received per kind.
    pub events: Vec<Count>,
    pub gift_units: u32,
    pub diamonds: u32,
    /// The biggest gifters of this app run, with the gifts they sent.
    pub top_gifters: Vec<GifterView>,
    /// Where the per-minute series start (wall-clock ms of the first minute), if any gift
    /// came yet.
    #[ts(type = "number | null")]
    pub minute_start_ms: Option<i64>,
    /// Settled gift units per minute, oldest first.
    pub gifts_per_minute: Vec<u32>,
    /// Coins of those gifts per minute.
    pub coins_per_minute: Vec<u32>,
    /// Queue items per final status.
    pub items: Vec<Count>,
}

fn small(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[tauri::command]
pub async fn session_stats<R: Runtime>(
    app: AppHandle<R>,
    engine: State<'_, EngineState>,
    feed: State<'_, FeedHub>,
) -> Result<StatsView, IpcError> {
    let handle = engine.handle(&app).await?;
    let s = handle
        .stats()
        .await
        .map_err(|e| IpcError::new(ErrorCode::Internal, e.to_string()))?;
    let (series, top_gifters) = {
        let core = feed.lock();
        (core.stats.series(), core.stats.top_gifters())
    };
    let counts = |v: Vec<(String, u64)>| {
        v.into_iter()
            .map(|(name, n)| Count {
                name,
                count: small(n),
            })
            .collect()
    };
    Ok(StatsView {
        events: counts(s.totals),
        gift_units: small(s.gift_units),
        diamonds: small(s.diamonds),
        top_gifters,
        minute_start_ms: series.start_ms,
        gifts_per_minute: series.gifts.into_iter().map(small).collect(),
        coins_per_minute: series.coins.into_iter().map(small).collect(),
        items: counts(s.items),
    })
}
