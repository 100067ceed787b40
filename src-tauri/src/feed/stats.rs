//! Live gift statistics for the Stats view: gifts and coins per minute and the top gifters
//! with the gifts they sent, counted from the settled gifts of the log (history excluded).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

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
    /// Gift name, image URL (shared by every gifter of that gift), units.
    gifts: Vec<(Arc<str>, Option<Arc<str>>, u64)>,
}

/// Gift names and image URLs kept for sharing; past this the set starts over.
const SHARED_TEXTS: usize = 4_096;

#[derive(Default)]
pub struct LiveStats {
    /// Wall-clock minute (ms / 60,000) of the first bucket.
    start_minute: Option<i64>,
    gifts: Vec<u64>,
    coins: Vec<u64>,
    gifters: HashMap<String, Gifter>,
    /// A flood has tens of thousands of gifters, most sending the same few gifts.
    shared: HashSet<Arc<str>>,
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

fn share(set: &mut HashSet<Arc<str>>, text: &str) -> Arc<str> {
    if let Some(t) = set.get(text) {
        return t.clone();
    }
    if set.len() >= SHARED_TEXTS {
        set.clear();
    }
    let t: Arc<str> = Arc::from(text);
    set.insert(t.clone());
    t
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
        if let Some(slot) = g.gifts.iter_mut().find(|(n, _, _)| **n == *gift) {
            slot.2 += u64::from(units);
        } else if g.gifts.len() < GIFTS_PER_GIFTER {
            let entry = (
                share(&mut self.shared, gift),
                image.map(|i| share(&mut self.shared, i)),
                u64::from(units),
            );
            g.gifts.reserve_exact(1);
            g.gifts.push(entry);
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
        let order = |a: &(&String, &Gifter), b: &(&String, &Gifter)| {
            b.1.coins
                .cmp(&a.1.coins)
                .then(b.1.units.cmp(&a.1.units))
                .then(a.0.cmp(b.0))
        };
        // Only the first few are listed: no need to sort tens of thousands of gifters.
        if all.len() > TOP_GIFTERS {
            all.select_nth_unstable_by(TOP_GIFTERS, order);
            all.truncate(TOP_GIFTERS);
        }
        all.sort_by(order);
        all.into_iter()
            .take(TOP_GIFTERS)
            .map(|(handle, g)| {
                let mut gifts: Vec<GifterGift> = g
                    .gifts
                    .iter()
                    .map(|(name, image, count)| GifterGift {
                        name: name.to_string(),
                        image_url: image.as_deref().map(str::to_owned),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn seen<'a>(handle: &'a str, gift: &'a str, units: u32, coins: u64) -> GiftSeen<'a> {
        GiftSeen {
            at_ms: 0,
            handle,
            nickname: handle,
            gift,
            image: Some("https://example.invalid/rose.png"),
            units,
            coins,
        }
    }

    #[test]
    fn the_top_gifters_of_thousands_are_the_ones_a_full_sort_gives() {
        let mut stats = LiveStats::default();
        let handles: Vec<String> = (0..5_000).map(|i| format!("viewer{i}")).collect();
        let gifts = ["Rose", "Lion", "Galaxy"];
        // Coins spread so that ties (same coins, then same units) occur and break by handle.
        for (i, h) in handles.iter().enumerate() {
            for gift in gifts.iter().take(i % 3 + 1) {
                let coins = ((i * 7_919) % 50) as u64;
                stats.gift(seen(h, gift, (i % 4) as u32 + 1, coins));
            }
        }
        let top = stats.top_gifters();
        let mut all: Vec<(&String, &Gifter)> = stats.gifters.iter().collect();
        all.sort_by(|a, b| {
            b.1.coins
                .cmp(&a.1.coins)
                .then(b.1.units.cmp(&a.1.units))
                .then(a.0.cmp(b.0))
        });
        let expected: Vec<&str> = all
            .iter()
            .take(TOP_GIFTERS)
            .map(|(h, _)| h.as_str())
            .collect();
        let got: Vec<&str> = top.iter().map(|g| g.username.as_str()).collect();
        assert_eq!(got, expected);
        assert_eq!(top.len(), TOP_GIFTERS);
        assert!(top.iter().all(|g| !g.gifts.is_empty()));
        assert_eq!(
            top[0].gifts[0].image_url.as_deref(),
            Some("https://example.invalid/rose.png")
        );

        // Every gifter's "Rose" and image are one allocation.
        let a = &stats.gifters["viewer1"].gifts[0];
        let b = &stats.gifters["viewer4"].gifts[0];
        assert!(Arc::ptr_eq(&a.0, &b.0));
        assert!(Arc::ptr_eq(a.1.as_ref().unwrap(), b.1.as_ref().unwrap()));
    }

    #[test]
    fn a_few_gifters_are_all_listed_in_order() {
        let mut stats = LiveStats::default();
        stats.gift(seen("ann", "Rose", 1, 1));
        stats.gift(seen("bob", "Lion", 1, 500));
        stats.gift(seen("ann", "Rose", 4, 4));
        let top = stats.top_gifters();
        let got: Vec<(&str, u32, u32)> = top
            .iter()
            .map(|g| (g.username.as_str(), g.diamonds, g.units))
            .collect();
        assert_eq!(got, vec![("bob", 500, 1), ("ann", 5, 5)]);
        assert_eq!(top[1].gifts[0].count, 5);
    }
}
