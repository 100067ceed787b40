//! The simulated room's gift catalogue and the small PNGs served as gift pictures and avatars.

use std::io::Write;

use serde_json::{json, Value};

/// One catalogue entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CatalogueGift {
    /// Gift id.
    pub id: u64,
    /// Name as shown in the app.
    pub name: &'static str,
    /// Cost of one unit in diamonds (coins).
    pub diamond_count: u32,
    /// 1 = streakable, 2 = sent once.
    pub gift_type: i32,
}

const fn g(id: u64, name: &'static str, diamond_count: u32, gift_type: i32) -> CatalogueGift {
    CatalogueGift {
        id,
        name,
        diamond_count,
        gift_type,
    }
}

/// Common gifts with their public ids and costs (cheap ones streakable, expensive ones not).
pub const CATALOGUE: &[CatalogueGift] = &[
    g(5655, "Rose", 1, 1),
    g(5269, "TikTok", 1, 1),
    g(6064, "GG", 1, 1),
    g(5827, "Ice Cream Cone", 1, 1),
    g(7934, "Heart Me", 1, 1),
    g(6652, "Lightning Bolt", 1, 1),
    g(5487, "Finger Heart", 5, 1),
    g(9947, "Friendship Necklace", 10, 1),
    g(8913, "Rosa", 10, 1),
    g(5658, "Perfume", 20, 1),
    g(5879, "Doughnut", 30, 1),
    g(6427, "Hat and Mustache", 99, 1),
    g(5660, "Hand Hearts", 100, 1),
    g(5585, "Confetti", 100, 1),
    g(5509, "Sunglasses", 199, 1),
    g(6267, "Corgi", 299, 1),
    g(7168, "Money Gun", 500, 1),
    g(5897, "Swan", 699, 1),
    g(5978, "Train", 899, 1),
    g(11046, "Galaxy", 1000, 2),
    g(6090, "Fireworks", 1088, 2),
    g(6820, "Whale Diving", 2150, 2),
    g(6089, "Sports Car", 7000, 2),
    g(6149, "Interstellar", 10000, 2),
    g(6751, "TikTok Shuttle", 20000, 2),
    g(6369, "Lion", 29999, 2),
    g(7312, "Universe", 34999, 2),
    g(6104, "Cap", 99, 1),
];

/// Looks a gift up by id.
pub fn by_id(id: u64) -> Option<&'static CatalogueGift> {
    CATALOGUE.iter().find(|g| g.id == id)
}

/// The `data` of a `gift/list/` reply, with image URLs on this simulator.
pub(crate) fn list_json(base_url: &str) -> Value {
    let gifts: Vec<Value> = CATALOGUE
        .iter()
        .map(|g| {
            let url = format!("{base_url}/gift-images/{}.png", g.id);
            json!({
                "id": g.id,
                "name": g.name,
                "diamond_count": g.diamond_count,
                "type": g.gift_type,
                "combo": g.gift_type == 1,
                "describe": format!("sent {}", g.name),
                "duration": 1000,
                "is_displayed_on_panel": true,
                "image": {
                    "url_list": [url],
                    "uri": format!("webcast-va/{}", g.id),
                    "avg_color": "#FE2C55",
                    "width": 16,
                    "height": 16,
                },
                "icon": { "url_list": [url] },
            })
        })
        .collect();
    json!({ "gifts": gifts, "gifts_info": { "new_gift_id": 0 } })
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xedb8_8320 & mask);
        }
    }
    !crc
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&u32::try_from(data.len()).unwrap_or(0).to_be_bytes());
    let start = out.len();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let crc = crc32(&out[start..]);
    out.extend_from_slice(&crc.to_be_bytes());
}

/// A valid 16×16 RGB PNG in a colour derived from `seed`, so different gifts look different.
pub fn png(seed: u64) -> Vec<u8> {
    const SIZE: u32 = 16;
    let [r, g, b] = [
        (seed.wrapping_mul(97) % 200 + 40) as u8,
        (seed.wrapping_mul(57) % 200 + 40) as u8,
        (seed.wrapping_mul(31) % 200 + 40) as u8,
    ];
    let mut raw = Vec::new();
    for y in 0..SIZE {
        raw.push(0); // filter: none
        for x in 0..SIZE {
            // A lighter diagonal so the picture is not a flat square.
            let light = if x == y { 60 } else { 0 };
            raw.extend_from_slice(&[
                r.saturating_add(light),
                g.saturating_add(light),
                b.saturating_add(light),
            ]);
        }
    }
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing to a Vec cannot fail.
    let _ = z.write_all(&raw);
    let idat = z.finish().unwrap_or_default();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&SIZE.to_be_bytes());
    ihdr.extend_from_slice(&SIZE.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]); // 8-bit RGB, no interlace
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"IDAT", &idat);
    chunk(&mut out, b"IEND", &[]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_matches_the_png_reference_value() {
        // The CRC of an empty IEND chunk is fixed by the PNG spec.
        assert_eq!(crc32(b"IEND"), 0xae42_6082);
    }

    #[test]
    fn png_decodes_back_to_its_pixels() {
        use std::io::Read;
        let bytes = png(5655);
        assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"));
        assert!(bytes.ends_with(&[0xae, 0x42, 0x60, 0x82]));
        // IHDR is 13 bytes at offset 8; IDAT follows it.
        let idat_len = u32::from_be_bytes(bytes[33..37].try_into().unwrap()) as usize;
        assert_eq!(&bytes[37..41], b"IDAT");
        let mut raw = Vec::new();
        flate2::read::ZlibDecoder::new(&bytes[41..41 + idat_len])
            .read_to_end(&mut raw)
            .unwrap();
        assert_eq!(raw.len(), 16 * (1 + 16 * 3));
    }

    #[test]
    fn catalogue_ids_are_unique() {
        let mut ids: Vec<u64> = CATALOGUE.iter().map(|g| g.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), CATALOGUE.len());
        assert_eq!(by_id(5655).map(|g| g.name), Some("Rose"));
    }
}
