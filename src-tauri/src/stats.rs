//! The Stats view's backend: this session's totals from the engine's store.

use serde::Serialize;
use tauri::{AppHandle, Runtime, State};
use ts_rs::TS;

use crate::engine::EngineState;
use crate::error::{ErrorCode, IpcError};

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Count {
    pub name: String,
    pub count: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct GifterView {
    /// The @handle and display name (untrusted text).
    pub username: String,
    pub nickname: String,
    pub diamonds: u32,
    pub units: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct StatsView {
    /// Events received per kind.
    pub events: Vec<Count>,
    pub gift_units: u32,
    pub diamonds: u32,
    pub top_gifters: Vec<GifterView>,
    /// Settled gift units per minute since the session started, oldest first.
    pub gifts_per_minute: Vec<u32>,
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
) -> Result<StatsView, IpcError> {
    let handle = engine.handle(&app).await?;
    let s = handle
        .stats()
        .await
        .map_err(|e| IpcError::new(ErrorCode::Internal, e.to_string()))?;
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
        top_gifters: s
            .top_gifters
            .into_iter()
            .take(10)
            .map(|g| GifterView {
                username: g.username,
                nickname: g.nickname,
                diamonds: small(g.diamonds),
                units: small(g.units),
            })
            .collect(),
        gifts_per_minute: s.gifts_per_minute.into_iter().map(small).collect(),
        items: counts(s.items),
    })
}
