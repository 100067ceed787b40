//! Replay of a recorded folder: `initial_fetch.bin` (optional) and `frames/*` in name order.

use std::path::{Path, PathBuf};

use prost::encoding::{decode_varint, encode_varint};

/// Why a recorded folder cannot be replayed.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// A file or folder could not be read.
    #[error("reading {path}: {source}")]
    Io {
        /// What was being read.
        path: PathBuf,
        /// Why it failed.
        source: std::io::Error,
    },
    /// `initial_fetch.bin` is not a protobuf fetch result.
    #[error("{0}: not a fetch result (cannot rewrite its push_server)")]
    BadInitial(PathBuf),
}

/// A loaded recording.
#[derive(Debug, Clone, Default)]
pub struct Recording {
    /// The sign reply to serve, `push_server` already rewritten; `None` = generate one.
    pub initial: Option<Vec<u8>>,
    /// The frames, byte for byte, in file-name order.
    pub frames: Vec<Vec<u8>>,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ReplayError + '_ {
    move |source| ReplayError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Loads `dir`, pointing the initial fetch result's `push_server` at `ws_url`.
pub fn load(dir: &Path, ws_url: &str) -> Result<Recording, ReplayError> {
    let initial_path = dir.join("initial_fetch.bin");
    let initial = match std::fs::read(&initial_path) {
        Ok(bytes) => {
            let body = if bytes.starts_with(&[0x1f, 0x8b]) {
                let mut out = Vec::new();
                tiktok_live::frame::gunzip_into(&bytes, &mut out)
                    .map_err(|_| ReplayError::BadInitial(initial_path.clone()))?;
                out
            } else {
                bytes
            };
            Some(
                rewrite_push_server(&body, ws_url)
                    .ok_or_else(|| ReplayError::BadInitial(initial_path.clone()))?,
            )
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(io(&initial_path)(e)),
    };
    let frames_dir = dir.join("frames");
    let mut names: Vec<PathBuf> = std::fs::read_dir(&frames_dir)
        .map_err(io(&frames_dir))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    names.sort();
    let frames = names
        .iter()
        .map(|p| std::fs::read(p).map_err(io(p)))
        .collect::<Result<_, _>>()?;
    Ok(Recording { initial, frames })
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
