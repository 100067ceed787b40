//! Live gift statistics for the Stats view: gifts and coins per minute and the top gifters
//! with the gifts they sent, counted from the settled gifts of the log (history excluded).

use std::collections::HashMap;

use serde::Serialize;
use ts_rs::TS;

/// Gifters listed.
pub const TOP_GIFTERS: usize = 10;
/// Kinds of gift remembered per gifter.
const GIFTS_PER_GIFTER: usize = 8;

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct GifterGift {
    pub name: String,
    pub image_url: Option<String>,
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
    /// What they sent, most units first.
    pub gifts: Vec<GifterGift>,
}

#[derive(Default)]
struct Gifter {
    nickname: String,
    coins: u64,
    units: u64,
    gifts: Vec<(String, Option<String>, u64)>,
}

#[derive(Default)]
pub struct LiveStats {
    /// Wall-clock minute (ms / 60,000) of the first bucket.
    start_minute: Option<i64>,
    gifts: Vec<u64>,
    coins: Vec<u64>,
    gifters: HashMap<String, Gifter>,
    changed: bool,
}

/// Per-minute series, oldest first, the first bucket starting at `start_ms`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Series {
    pub start_ms: Option<i64>,
    pub gifts: Vec<u64>,
    pub coins: Vec<u64>,
}

/// One settled gift, as the stats count it.
pub struct GiftSeen<'a> {
    pub at_ms: i64,
    pub handle: &'a str,
    pub nickname: &'a str,
    pub gift: &'a str,
    pub image: Option<&'a str>,
    pub units: u32,
    pub coins: u64,
}

impl LiveStats {
    pub fn gift(&mut self, seen: GiftSeen<'_>) {
        let GiftSeen {
            at_ms,
            handle,
            nickname,
            gift,
            image,
            units,
            coins,
        } = seen;
        let minute = at_ms.div_euclid(60_000);
        let start = *self.start_minute.get_or_insert(minute);
        // A clock set back lands in the first minute rather than nowhere.
        let idx = usize::try_from(minute - start).unwrap_or(0);
        if self.gifts.len() <= idx {
            self.gifts.resize(idx + 1, 0);
            self.coins.resize(idx + 1, 0);
        }
        self.gifts[idx] += u64::from(units);
        self.coins[idx] += coins;
        let g = self.gifters.entry(handle.to_owned()).or_default();
        nickname.clone_into(&mut g.nickname);
        g.coins += coins;
        g.units += u64::from(units);
        if let Some(slot) = g.gifts.iter_mut().find(|(n, _, _)| n == gift) {
            slot.2 += u64::from(units);
        } else if g.gifts.len() < GIFTS_PER_GIFTER {
            g.gifts
                .push((gift.to_owned(), image.map(str::to_owned), u64::from(units)));
        }
        self.changed = true;
    }

    pub fn take_changed(&mut self) -> bool {
        std::mem::take(&mut self.changed)
    }

    pub fn series(&self) -> Series {
        Series {
            start_ms: self.start_minute.map(|m| m * 60_000),
            gifts: self.gifts.clone(),
            coins: self.coins.clone(),
        }
    }

    pub fn top_gifters(&self) -> Vec<GifterView> {
        let n = |v: u64| u32::try_from(v).unwrap_or(u32::MAX);
        let mut all: Vec<(&String, &Gifter)> = self.gifters.iter().collect();
        all.sort_by(|a, b| {
            b.1.coins
                .cmp(&a.1.coins)
                .then(b.1.units.cmp(&a.1.units))
                .then(a.0.cmp(b.0))
        });
        all.into_iter()
            .take(TOP_GIFTERS)
            .map(|(handle, g)| {
                let mut gifts: Vec<GifterGift> = g
                    .gifts
                    .iter()
                    .map(|(name, image, count)| GifterGift {
                        name: name.clone(),
                        image_url: image.clone(),
                        count: n(*count),
                    })
                    .collect();
                gifts.sort_by_key(|g| std::cmp::Reverse(g.count));
                GifterView {
                    username: handle.clone(),
                    nickname: g.nickname.clone(),
                    diamonds: n(g.coins),
                    units: n(g.units),
                    gifts,
                }
            })
            .collect()
    }
}
