//! The gift catalogue: the room's gifts (protocol.md §5), a disk cache for offline editing, and
//! a built-in list of common gifts for use before the first connection.

use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::Error;

/// One gift the streamer can map to actions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogGift {
    pub id: u64,
    pub name: String,
    /// Cost of one unit in diamonds (coins).
    pub diamond_count: u32,
    pub image_url: Option<String>,
    /// `type == 1`: sent as a streak (combo).
    pub streakable: bool,
}

/// The on-disk cache: the catalogue plus where and when it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogCache {
    pub version: u32,
    pub room_id: Option<u64>,
    /// Unix seconds.
    pub fetched_at: u64,
    pub gifts: Vec<CatalogGift>,
}

const CACHE_VERSION: u32 = 1;

/// Reads `data.gifts` of a gift-list reply.
pub fn parse_gift_list(v: &Value) -> Result<Vec<CatalogGift>, Error> {
    let status = v["status_code"].as_i64().unwrap_or(0);
    let Some(gifts) = v["data"]["gifts"].as_array() else {
        return Err(Error::protocol(
            "gift list",
            format!("no data.gifts in the reply (status_code {status})"),
        ));
    };
    let mut out = Vec::with_capacity(gifts.len());
    for g in gifts {
        let id = match &g["id"] {
            Value::Number(n) => n.as_u64(),
            Value::String(s) => s.parse().ok(),
            _ => None,
        };
        let (Some(id), Some(name)) = (id, g["name"].as_str()) else {
            // One odd entry must not cost the streamer the whole catalogue.
            tracing::debug!(entry = %g, "skipping a gift without id or name");
            continue;
        };
        out.push(CatalogGift {
            id,
            name: name.to_string(),
            diamond_count: g["diamond_count"]
                .as_u64()
                .and_then(|d| u32::try_from(d).ok())
                .unwrap_or(0),
            image_url: g["image"]["url_list"][0].as_str().map(str::to_string),
            streakable: g["type"].as_i64() == Some(1),
        });
    }
    out.sort_by(|a, b| {
        a.diamond_count
            .cmp(&b.diamond_count)
            .then(a.name.cmp(&b.name))
    });
    Ok(out)
}

/// Saves a catalogue next to the app's data (atomically: write then rename).
pub fn save_cache(path: &Path, room_id: Option<u64>, gifts: &[CatalogGift]) -> std::io::Result<()> {
    let cache = CatalogCache {
        version: CACHE_VERSION,
        room_id,
        fetched_at: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0),
        gifts: gifts.to_vec(),
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, serde_json::to_vec_pretty(&cache)?)?;
    std::fs::rename(&tmp, path)
}

/// Loads a cached catalogue; `None` if there is none or it cannot be read (the caller then
/// uses [`builtin`]).
pub fn load_cache(path: &Path) -> Option<CatalogCache> {
    let bytes = std::fs::read(path).ok()?;
    match serde_json::from_slice::<CatalogCache>(&bytes) {
        Ok(c) if c.version == CACHE_VERSION => Some(c),
        Ok(_) => None,
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, "ignoring an unreadable gift cache");
            None
        }
    }
}

/// Common gifts with their usual ids and costs, for mapping before the first connection.
/// Costs and ids can differ by region and change over time; the room's own list replaces
/// this as soon as one is fetched.
pub fn builtin() -> Vec<CatalogGift> {
    const LIST: &[(u64, &str, u32, bool)] = &[
        (5655, "Rose", 1, true),
        (5269, "TikTok", 1, true),
        (6064, "GG", 1, true),
        (5827, "Ice Cream Cone", 1, true),
        (7934, "Heart Me", 1, true),
        (5487, "Finger Heart", 5, true),
        (8913, "Rosa", 10, true),
        (5658, "Perfume", 20, true),
        (5879, "Doughnut", 30, true),
        (5660, "Hand Hearts", 100, true),
        (5585, "Confetti", 100, true),
        (6267, "Corgi", 299, false),
        (7168, "Money Gun", 500, false),
        (11046, "Galaxy", 1000, false),
        (6820, "Whale diving", 2150, false),
        (5765, "Motorcycle", 2988, false),
        (6369, "Lion", 29999, false),
        (7312, "TikTok Universe", 34999, false),
    ];
    LIST.iter()
        .map(|&(id, name, diamonds, streakable)| CatalogGift {
            id,
            name: name.into(),
            diamond_count: diamonds,
            image_url: None,
            streakable,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn parses_the_gift_list_and_skips_odd_entries() {
        let v = json!({"status_code":0,"data":{"gifts":[
            {"id":5655,"name":"Rose","diamond_count":1,"type":1,"image":{"url_list":["http://x/rose.png"]}},
            {"id":"6369","name":"Lion","diamond_count":29999,"type":2},
            {"name":"no id"},
        ]}});
        let gifts = parse_gift_list(&v).unwrap();
        assert_eq!(gifts.len(), 2);
        assert_eq!(gifts[0].name, "Rose");
        assert!(gifts[0].streakable);
        assert_eq!(gifts[0].image_url.as_deref(), Some("http://x/rose.png"));
        assert_eq!(gifts[1].id, 6369);
        assert!(!gifts[1].streakable);
        assert!(parse_gift_list(&json!({"status_code":5})).is_err());
    }

    #[test]
    fn cache_round_trips_and_corrupt_cache_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gifts.json");
        save_cache(&path, Some(9), &builtin()).unwrap();
        let c = load_cache(&path).unwrap();
        assert_eq!(c.room_id, Some(9));
        assert_eq!(c.gifts, builtin());
        std::fs::write(&path, b"{broken").unwrap();
        assert!(load_cache(&path).is_none());
    }

    #[test]
    fn builtin_has_unique_ids() {
        let list = builtin();
        let mut ids: Vec<u64> = list.iter().map(|g| g.id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), list.len());
    }
}
