//! The gift catalogue for the Mapping view: the room's own list (fetched when a stream is
//! joined and cached in the data folder, so mapping works offline), else the last cached list,
//! else the built-in list of common gifts.

use std::path::{Path, PathBuf};

use serde::Serialize;
use tauri::State;
use tiktok_live::client::LiveClient;
use tiktok_live::gifts::{self, CatalogGift};
use ts_rs::TS;

use crate::error::IpcError;
use crate::paths::AppPaths;

/// The cache file in the data folder.
pub const CACHE_FILE: &str = "gifts.json";

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct GiftView {
    /// Gift ids are small numbers (safe in JS).
    pub id: u32,
    pub name: String,
    pub diamond_count: u32,
    pub image_url: Option<String>,
    pub streakable: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum CatalogSource {
    /// Fetched from a room (now or earlier) and cached.
    Room,
    /// The built-in list: no room was joined yet.
    Builtin,
}

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct CatalogView {
    pub source: CatalogSource,
    pub gifts: Vec<GiftView>,
}

fn view(g: CatalogGift) -> GiftView {
    GiftView {
        id: u32::try_from(g.id).unwrap_or(u32::MAX),
        name: g.name,
        diamond_count: g.diamond_count,
        image_url: g.image_url,
        streakable: g.streakable,
    }
}

pub fn cache_path(data_dir: &Path) -> PathBuf {
    data_dir.join(CACHE_FILE)
}

/// The catalogue to show: the cache, else the built-in list.
pub fn catalog(data_dir: &Path) -> CatalogView {
    match gifts::load_cache(&cache_path(data_dir)) {
        Some(c) if !c.gifts.is_empty() => CatalogView {
            source: CatalogSource::Room,
            gifts: c.gifts.into_iter().map(view).collect(),
        },
        _ => CatalogView {
            source: CatalogSource::Builtin,
            gifts: gifts::builtin().into_iter().map(view).collect(),
        },
    }
}

/// Fetches the room's list and caches it. Failures are logged: the old cache stays.
pub async fn refresh(client: &LiveClient, room_id: u64, data_dir: &Path) {
    match client.gift_list(room_id).await {
        Ok(list) if !list.is_empty() => {
            if let Err(e) = gifts::save_cache(&cache_path(data_dir), Some(room_id), &list) {
                tracing::warn!(error = %e, "cannot cache the gift list");
            } else {
                tracing::info!(room_id, gifts = list.len(), "gift catalogue updated");
            }
        }
        Ok(_) => tracing::warn!(room_id, "the room's gift list is empty; keeping the cache"),
        Err(e) => tracing::warn!(room_id, error = %e, "cannot fetch the gift list"),
    }
}

#[tauri::command]
pub fn gift_catalog(paths: State<'_, AppPaths>) -> Result<CatalogView, IpcError> {
    Ok(catalog(&paths.data_dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_until_a_room_list_is_cached() {
        let dir = std::env::temp_dir().join(format!("lt-gifts-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let first = catalog(&dir);
        assert_eq!(first.source, CatalogSource::Builtin);
        assert!(first.gifts.iter().any(|g| g.name == "Rose"));
        let room = vec![CatalogGift {
            id: 99,
            name: "Room Gift".into(),
            diamond_count: 7,
            image_url: None,
            streakable: false,
        }];
        gifts::save_cache(&cache_path(&dir), Some(1), &room).unwrap();
        let cached = catalog(&dir);
        assert_eq!(cached.source, CatalogSource::Room);
        assert_eq!(cached.gifts[0].name, "Room Gift");
        std::fs::write(cache_path(&dir), b"{broken").unwrap();
        assert_eq!(
            catalog(&dir).source,
            CatalogSource::Builtin,
            "a broken cache is ignored"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
