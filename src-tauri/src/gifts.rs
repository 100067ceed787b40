//! The gift catalogue for the Mapping view: the room's own list (fetched when a stream is
//! joined and cached in the data folder, so mapping works offline), else the last cached list,
//! else the built-in list of common gifts.
//!
//! Gift pictures are cached too (`gift-images/<id>` in the data folder) and handed to the
//! window as `data:` URLs, so the palette shows them offline; a gift without a cached picture
//! keeps its remote URL, and the window draws a placeholder when that does not load.

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
/// The folder of cached gift pictures in the data folder.
pub const IMAGE_DIR: &str = "gift-images";
/// A picture larger than this is not a gift icon; it is not cached.
const MAX_IMAGE_BYTES: usize = 512 * 1024;

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

fn view(g: CatalogGift, data_dir: &Path) -> GiftView {
    let cached = std::fs::read(image_path(data_dir, g.id))
        .ok()
        .and_then(|bytes| data_url(&bytes));
    GiftView {
        id: u32::try_from(g.id).unwrap_or(u32::MAX),
        name: g.name,
        diamond_count: g.diamond_count,
        image_url: cached.or(g.image_url),
        streakable: g.streakable,
    }
}

pub fn image_path(data_dir: &Path, gift_id: u64) -> PathBuf {
    data_dir.join(IMAGE_DIR).join(gift_id.to_string())
}

/// The picture's type from its first bytes; `None` for anything that is not a picture the
/// window should show (an HTML error page, say).
fn image_mime(bytes: &[u8]) -> Option<&'static str> {
    match bytes {
        [0x89, b'P', b'N', b'G', ..] => Some("image/png"),
        [0xFF, 0xD8, 0xFF, ..] => Some("image/jpeg"),
        [b'G', b'I', b'F', b'8', ..] => Some("image/gif"),
        [b'R', b'I', b'F', b'F', _, _, _, _, b'W', b'E', b'B', b'P', ..] => Some("image/webp"),
        _ => None,
    }
}

fn data_url(bytes: &[u8]) -> Option<String> {
    use base64::Engine as _;
    let mime = image_mime(bytes)?;
    Some(format!(
        "data:{mime};base64,{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    ))
}

/// Downloads the pictures not cached yet (a few at a time). Failures are logged and skipped:
/// the next stream tries again.
pub async fn cache_images(list: &[CatalogGift], data_dir: &Path) -> usize {
    use futures_util::StreamExt;
    let dir = data_dir.join(IMAGE_DIR);
    if let Err(e) = std::fs::create_dir_all(&dir) {
        tracing::warn!(error = %e, "cannot create the gift picture folder");
        return 0;
    }
    let client = match reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(error = %e, "cannot fetch gift pictures");
            return 0;
        }
    };
    let todo: Vec<(u64, String)> = list
        .iter()
        .filter(|g| !image_path(data_dir, g.id).exists())
        .filter_map(|g| {
            let url = g.image_url.clone()?;
            (url.starts_with("http://") || url.starts_with("https://")).then_some((g.id, url))
        })
        .collect();
    let fetched = futures_util::stream::iter(todo)
        .map(|(id, url)| {
            let client = client.clone();
            async move {
                let bytes = client
                    .get(&url)
                    .send()
                    .await
                    .and_then(reqwest::Response::error_for_status)
                    .ok()?
                    .bytes()
                    .await
                    .ok()?;
                (bytes.len() <= MAX_IMAGE_BYTES && image_mime(&bytes).is_some())
                    .then_some((id, bytes))
            }
        })
        .buffer_unordered(4)
        .collect::<Vec<_>>()
        .await;
    let mut saved = 0;
    for (id, bytes) in fetched.into_iter().flatten() {
        let path = image_path(data_dir, id);
        let tmp = path.with_extension("tmp");
        match std::fs::write(&tmp, &bytes).and_then(|()| std::fs::rename(&tmp, &path)) {
            Ok(()) => saved += 1,
            Err(e) => tracing::debug!(error = %e, id, "cannot cache a gift picture"),
        }
    }
    saved
}

pub fn cache_path(data_dir: &Path) -> PathBuf {
    data_dir.join(CACHE_FILE)
}

/// The catalogue to show: the cache, else the built-in list.
pub fn catalog(data_dir: &Path) -> CatalogView {
    match gifts::load_cache(&cache_path(data_dir)) {
        Some(c) if !c.gifts.is_empty() => CatalogView {
            source: CatalogSource::Room,
            gifts: c.gifts.into_iter().map(|g| view(g, data_dir)).collect(),
        },
        _ => CatalogView {
            source: CatalogSource::Builtin,
            gifts: gifts::builtin()
                .into_iter()
                .map(|g| view(g, data_dir))
                .collect(),
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
            let saved = cache_images(&list, data_dir).await;
            tracing::info!(saved, "gift pictures cached");
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

    #[tokio::test]
    async fn pictures_are_cached_once_and_served_as_data_urls() {
        let dir = std::env::temp_dir().join(format!("lt-gift-img-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let sim = webcast_sim::Simulator::start(
            webcast_sim::SimConfig::default(),
            "127.0.0.1:0".parse().unwrap(),
        )
        .await
        .unwrap();
        let gift = |id: u64, url: String| CatalogGift {
            id,
            name: format!("g{id}"),
            diamond_count: 1,
            image_url: Some(url),
            streakable: true,
        };
        let list = vec![
            gift(5655, format!("{}/gift-images/5655.png", sim.base_url())),
            // Not a picture (the simulator answers 404): skipped, the remote URL stays.
            gift(7, format!("{}/nope.png", sim.base_url())),
        ];
        assert_eq!(cache_images(&list, &dir).await, 1);
        assert_eq!(
            cache_images(&list, &dir).await,
            0,
            "cached pictures are not fetched again"
        );
        gifts::save_cache(&cache_path(&dir), Some(1), &list).unwrap();
        let shown = catalog(&dir);
        assert!(shown.gifts[0]
            .image_url
            .as_deref()
            .unwrap()
            .starts_with("data:image/png;base64,"));
        assert!(shown.gifts[1]
            .image_url
            .as_deref()
            .unwrap()
            .starts_with("http://127.0.0.1"));
        sim.shutdown().await;
        let _ = std::fs::remove_dir_all(&dir);
    }
}
