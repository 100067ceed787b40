//! Replay of a recording (see `tiktok_live::record`): a recording file, or an old-format
//! folder (`initial_fetch.bin` (optional) and `frames/*` in name order).

use std::path::{Path, PathBuf};
use std::time::Duration;

use prost::encoding::{decode_varint, encode_varint};
use tiktok_live::record::{Reader, RecordError, RecordKind, TornTail};

/// Why a recording cannot be replayed.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// The recording could not be read.
    #[error(transparent)]
    Read(#[from] RecordError),
    /// The sign reply is not a protobuf fetch result.
    #[error("{0}: the recorded sign reply is not a fetch result (cannot rewrite its push_server)")]
    BadInitial(PathBuf),
}

/// A loaded recording.
#[derive(Debug, Clone, Default)]
pub struct Recording {
    /// The sign reply to serve, `push_server` already rewritten; `None` = generate one.
    pub initial: Option<Vec<u8>>,
    /// The frames, byte for byte, in recorded order.
    pub frames: Vec<Vec<u8>>,
    /// Each frame's arrival time (Unix ms), parallel to `frames`; empty when the recording
    /// has no times (old folder format).
    pub arrivals_ms: Vec<u64>,
    /// The recording ended in an incomplete record (reported when loading).
    pub torn: Option<TornTail>,
}

impl Recording {
    /// The pause before frame `next` at `speed` (1 = as recorded), each recorded gap capped
    /// at `max_gap` first so a long pause in the recording does not stall the replay. `None`
    /// when the recording has no times.
    pub fn gap_before(&self, next: usize, speed: f64, max_gap: Duration) -> Option<Duration> {
        if next == 0 || speed <= 0.0 || !speed.is_finite() {
            return None;
        }
        let (prev, at) = (
            *self.arrivals_ms.get(next - 1)?,
            *self.arrivals_ms.get(next)?,
        );
        // A clock stepped back between two frames: no pause rather than a huge one.
        let gap = Duration::from_millis(at.saturating_sub(prev)).min(max_gap);
        // A day bounds what a tiny speed or a huge cap can ask for (an `Instant` overflows).
        let day = Duration::from_secs(24 * 3600);
        Some(
            Duration::try_from_secs_f64(gap.as_secs_f64() / speed)
                .unwrap_or(day)
                .min(day),
        )
    }
}

/// Loads `path` (a recording file or an old-format folder), pointing the first sign reply's
/// `push_server` at `ws_url`.
pub fn load(path: &Path, ws_url: &str) -> Result<Recording, ReplayError> {
    let mut reader = Reader::open(path)?;
    let mut rec = Recording::default();
    let mut initial: Option<Vec<u8>> = None;
    while let Some(r) = reader.next_record()? {
        match r.kind {
            RecordKind::SignReply => {
                // Only the stream's first reply matters; a file may not hold more, but a
                // concatenation could.
                if initial.is_none() {
                    initial = Some(r.bytes);
                }
            }
            RecordKind::Frame => {
                if let Some(at) = r.at_ms {
                    rec.arrivals_ms.push(at);
                }
                rec.frames.push(r.bytes);
            }
        }
    }
    rec.torn = reader.torn();
    if let Some(t) = &rec.torn {
        tracing::warn!(path = %path.display(), "{t}");
    }
    if let Some(bytes) = initial {
        let bad = || ReplayError::BadInitial(path.to_path_buf());
        let body = if bytes.starts_with(&[0x1f, 0x8b]) {
            let mut out = Vec::new();
            tiktok_live::frame::gunzip_into(&bytes, &mut out).map_err(|_| bad())?;
            out
        } else {
            bytes
        };
        rec.initial = Some(rewrite_push_server(&body, ws_url).ok_or_else(bad)?);
    }
    Ok(rec)
}

/// Replaces field 10 (`push_server`) of a serialized fetch result, copying every other field
/// byte for byte, so fields our schema does not declare survive the rewrite.
pub fn rewrite_push_server(body: &[u8], push_server: &str) -> Option<Vec<u8>> {
    const PUSH_SERVER_KEY: u64 = (10 << 3) | 2;
    let mut out = Vec::with_capacity(body.len() + push_server.len());
    let mut rest = body;
    let mut replaced = false;
    let write_field = |out: &mut Vec<u8>| {
        encode_varint(PUSH_SERVER_KEY, out);
        encode_varint(push_server.len() as u64, out);
        out.extend_from_slice(push_server.as_bytes());
    };
    while !rest.is_empty() {
        let start = rest;
        let key = decode_varint(&mut rest).ok()?;
        if key >> 3 == 0 {
            return None;
        }
        let skip = match key & 7 {
            0 => {
                decode_varint(&mut rest).ok()?;
                0
            }
            1 => 8,
            2 => usize::try_from(decode_varint(&mut rest).ok()?).ok()?,
            5 => 4,
            _ => return None,
        };
        rest = rest.get(skip..)?;
        let field = &start[..start.len() - rest.len()];
        if key == PUSH_SERVER_KEY {
            if !replaced {
                write_field(&mut out);
                replaced = true;
            }
        } else {
            out.extend_from_slice(field);
        }
    }
    if !replaced {
        write_field(&mut out);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_are_capped_scaled_and_never_negative() {
        let rec = Recording {
            frames: vec![Vec::new(); 4],
            arrivals_ms: vec![10_000, 11_000, 9_000, 100_000_000],
            ..Default::default()
        };
        let cap = Duration::from_secs(5);
        assert_eq!(rec.gap_before(0, 1.0, cap), None);
        assert_eq!(rec.gap_before(1, 1.0, cap), Some(Duration::from_secs(1)));
        assert_eq!(
            rec.gap_before(1, 2.0, cap),
            Some(Duration::from_millis(500))
        );
        // The clock went back: no pause.
        assert_eq!(rec.gap_before(2, 1.0, cap), Some(Duration::ZERO));
        assert_eq!(rec.gap_before(3, 1.0, cap), Some(cap));
        assert_eq!(rec.gap_before(3, 0.0, cap), None);
        assert_eq!(
            rec.gap_before(3, 1e-300, Duration::MAX),
            Some(Duration::from_secs(24 * 3600))
        );
        let untimed = Recording {
            frames: vec![Vec::new(); 2],
            ..Default::default()
        };
        assert_eq!(untimed.gap_before(1, 1.0, cap), None);
    }
    use prost::Message as _;
    use tiktok_live::proto::FetchResult;

    #[test]
    fn rewrite_keeps_other_fields_and_unknown_ones() {
        let mut body = FetchResult {
            cursor: "c-9".into(),
            internal_ext: "ext-9".into(),
            push_server: "wss://webcast-ws.tiktok.com/webcast/im/ws_proxy/ws_reuse_supplement/"
                .into(),
            is_first: true,
            ..Default::default()
        }
        .encode_to_vec();
        // An undeclared field 99 (varint 5) must survive.
        body.extend_from_slice(&[0x98, 0x06, 0x05]);
        let out = rewrite_push_server(&body, "ws://127.0.0.1:1/x/").unwrap();
        let r = FetchResult::decode(out.as_slice()).unwrap();
        assert_eq!(r.push_server, "ws://127.0.0.1:1/x/");
        assert_eq!(r.cursor, "c-9");
        assert!(r.is_first);
        assert!(
            out.ends_with(&[0x98, 0x06, 0x05]) || out.windows(3).any(|w| w == [0x98, 0x06, 0x05])
        );
        assert!(rewrite_push_server(&[0x0a, 0x7f], "x").is_none());
    }
}
