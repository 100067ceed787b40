//! The websocket transport: `PushFrame`s in both directions, gzip, and the frames a client
//! sends (ack, heartbeat, enter-room). Layouts follow protocol.md §3.

use prost::Message as _;

use crate::proto::{FetchResult, HeartBeat, ImEnterRoom, PushFrame, PushHeader};

/// Decompressed payloads larger than this are refused: a hostile or broken server must not be
/// able to make us allocate without bound (a "gzip bomb").
pub const MAX_PAYLOAD_BYTES: usize = 32 * 1024 * 1024;

/// Payload types of [`PushFrame`].
pub mod payload_type {
    pub const MSG: &str = "msg";
    pub const ACK: &str = "ack";
    pub const HEARTBEAT: &str = "hb";
    pub const ENTER_ROOM: &str = "im_enter_room";
    pub const ENTER_ROOM_RESP: &str = "im_enter_room_resp";
}

/// Why a frame could not be read. The raw bytes stay with the caller, who reports them.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    #[error("not a push frame: {0}")]
    PushFrame(prost::DecodeError),
    #[error("gzip payload is corrupt: {0}")]
    Gzip(std::io::Error),
    #[error("payload is larger than {MAX_PAYLOAD_BYTES} bytes once decompressed")]
    TooLarge,
    #[error("not a fetch result: {0}")]
    FetchResult(prost::DecodeError),
}

/// True when the frame says its payload is gzip'd, or the payload starts with the gzip magic.
/// Both are checked: the header is what TikTok sends, the magic is what some servers rely on.
pub fn is_gzip(frame: &PushFrame) -> bool {
    let by_header = frame
        .headers
        .iter()
        .any(|h| h.key == "compress_type" && h.value.eq_ignore_ascii_case("gzip"));
    by_header || frame.payload.starts_with(&[0x1f, 0x8b])
}

/// Reads push frames and their `msg` payloads, reusing one buffer for decompression.
#[derive(Debug, Default)]
pub struct FrameDecoder {
    buf: Vec<u8>,
}

impl FrameDecoder {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push_frame(&self, bytes: &[u8]) -> Result<PushFrame, FrameError> {
        PushFrame::decode(bytes).map_err(FrameError::PushFrame)
    }

    /// Decodes a `msg` frame's payload (gunzipped if needed) as a [`FetchResult`].
    pub fn fetch_result(&mut self, frame: &PushFrame) -> Result<FetchResult, FrameError> {
        let bytes = self.payload(frame)?;
        FetchResult::decode(bytes).map_err(FrameError::FetchResult)
    }

    /// Decodes a sign server's reply body: a bare [`FetchResult`], gunzipped if it is gzip'd.
    pub fn fetch_initial(&mut self, bytes: &[u8]) -> Result<FetchResult, FrameError> {
        let body = if bytes.starts_with(&[0x1f, 0x8b]) {
            gunzip_into(bytes, &mut self.buf)?;
            self.buf.as_slice()
        } else {
            bytes
        };
        FetchResult::decode(body).map_err(FrameError::FetchResult)
    }

    /// The frame's payload, decompressed when it is gzip'd.
    pub fn payload<'a>(&'a mut self, frame: &'a PushFrame) -> Result<&'a [u8], FrameError> {
        if !is_gzip(frame) {
            return Ok(&frame.payload);
        }
        gunzip_into(&frame.payload, &mut self.buf)?;
        Ok(&self.buf)
    }
}

/// Gunzips `input` into `out` (cleared first), refusing more than [`MAX_PAYLOAD_BYTES`].
///
/// Inflates straight into the vector's spare capacity: going through `Read` would zero every
/// new buffer first, which showed up as a tenth of the decode time in profiles.
pub fn gunzip_into(input: &[u8], out: &mut Vec<u8>) -> Result<(), FrameError> {
    use flate2::{Decompress, FlushDecompress, Status};
    out.clear();
    // Webcast payloads expand about 3–8×; start near that to avoid regrowing.
    out.reserve((input.len() * 6).clamp(1024, MAX_PAYLOAD_BYTES + 1));
    let mut inflater = Decompress::new_gzip(15);
    loop {
        let consumed = usize::try_from(inflater.total_in()).unwrap_or(usize::MAX);
        let rest = input.get(consumed..).unwrap_or_default();
        let (in_before, out_before) = (inflater.total_in(), inflater.total_out());
        let status = inflater
            .decompress_vec(rest, out, FlushDecompress::Finish)
            .map_err(|e| {
                FrameError::Gzip(std::io::Error::new(std::io::ErrorKind::InvalidData, e))
            })?;
        if out.len() > MAX_PAYLOAD_BYTES {
            out.clear();
            return Err(FrameError::TooLarge);
        }
        match status {
            Status::StreamEnd => return Ok(()),
            Status::Ok | Status::BufError => {
                if out.len() == out.capacity() {
                    let grow = out.capacity().min(MAX_PAYLOAD_BYTES + 1 - out.len()).max(1);
                    out.reserve(grow);
                } else if inflater.total_in() == in_before && inflater.total_out() == out_before {
                    return Err(FrameError::Gzip(std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        "the gzip stream is cut short",
                    )));
                }
            }
        }
    }
}

/// Gzips bytes (used by the simulator and by tests).
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    // Writing to a Vec cannot fail.
    let _ = enc.write_all(bytes);
    enc.finish().unwrap_or_default()
}

fn client_frame(kind: &str, log_id: u64, payload: Vec<u8>) -> Vec<u8> {
    PushFrame {
        log_id,
        payload_encoding: "pb".into(),
        payload_type: kind.into(),
        payload,
        ..Default::default()
    }
    .encode_to_vec()
}

/// The ack for a `msg` frame that asked for one: its `log_id` echoed bit for bit, and the
/// result's `internal_ext` as the payload.
pub fn ack_frame(log_id: u64, internal_ext: &str) -> Vec<u8> {
    client_frame(payload_type::ACK, log_id, internal_ext.as_bytes().to_vec())
}

/// A protocol heartbeat (`hb`). `seq` starts at 1 after entering a room.
pub fn heartbeat_frame(room_id: u64, seq: u64) -> Vec<u8> {
    let hb = HeartBeat {
        room_id,
        send_packet_seq_id: seq,
    };
    client_frame(payload_type::HEARTBEAT, 0, hb.encode_to_vec())
}

/// `im_enter_room`, sent once right after the socket opens.
pub fn enter_room_frame(room_id: u64, enter_unique_id: u64) -> Vec<u8> {
    let msg = ImEnterRoom {
        room_id,
        live_id: 12,
        identity: "audience".into(),
        enter_unique_id,
        filter_welcome_msg: "0".into(),
        ..Default::default()
    };
    client_frame(payload_type::ENTER_ROOM, 0, msg.encode_to_vec())
}

/// A server `msg` frame carrying `result` (gzip'd with the `compress_type` header when asked).
pub fn msg_frame(seq_id: i64, log_id: u64, result: &FetchResult, gzip_payload: bool) -> Vec<u8> {
    let raw = result.encode_to_vec();
    let (payload, headers) = if gzip_payload {
        (
            gzip(&raw),
            vec![PushHeader {
                key: "compress_type".into(),
                value: "gzip".into(),
            }],
        )
    } else {
        (raw, Vec::new())
    };
    PushFrame {
        seq_id,
        log_id,
        headers,
        payload_encoding: "pb".into(),
        payload_type: payload_type::MSG.into(),
        payload,
        ..Default::default()
    }
    .encode_to_vec()
}

/// A server frame of another type (`hb` echo, `im_enter_room_resp`).
pub fn server_frame(kind: &str, log_id: u64, payload: Vec<u8>) -> Vec<u8> {
    client_frame(kind, log_id, payload)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        s.split_whitespace()
            .map(|b| u8::from_str_radix(b, 16).unwrap())
            .collect()
    }

    // protocol.md §3.9: room 7140000000000000001, seq 1.
    #[test]
    fn heartbeat_matches_the_reference_bytes() {
        let want = hex("32 02 70 62 3a 02 68 62 42 0c 08 81 80 a8 82 bb 85 98 8b 63 10 01");
        assert_eq!(heartbeat_frame(7_140_000_000_000_000_001, 1), want);
        let frame = FrameDecoder::new().push_frame(&want).unwrap();
        assert_eq!(frame.payload_type, "hb");
        let hb = HeartBeat::decode(frame.payload.as_slice()).unwrap();
        assert_eq!(hb.room_id, 7_140_000_000_000_000_001);
        assert_eq!(hb.send_packet_seq_id, 1);
    }

    // protocol.md §3.8: log_id 123456789, 20 bytes of ext.
    #[test]
    fn ack_matches_the_reference_layout() {
        let ext = "internal_src:dim|abc";
        assert_eq!(ext.len(), 20);
        let mut want = hex("10 95 9a ef 3a 32 02 70 62 3a 03 61 63 6b 42 14");
        want.extend_from_slice(ext.as_bytes());
        assert_eq!(ack_frame(123_456_789, ext), want);
    }

    #[test]
    fn ack_echoes_log_ids_above_i64_max() {
        let frame = FrameDecoder::new()
            .push_frame(&ack_frame(u64::MAX - 1, "x"))
            .unwrap();
        assert_eq!(frame.log_id, u64::MAX - 1);
    }

    // protocol.md §3.10: the enter-room frame layout.
    #[test]
    fn enter_room_matches_the_reference_layout() {
        let room: u64 = 7_140_000_000_000_000_001;
        let bytes = enter_room_frame(room, 0);
        let mut want = hex("32 02 70 62 3a 0d");
        want.extend_from_slice(b"im_enter_room");
        want.extend_from_slice(&hex("42 19 08 81 80 a8 82 bb 85 98 8b 63 20 0c 2a 08"));
        want.extend_from_slice(b"audience");
        want.extend_from_slice(&hex("4a 01 30"));
        assert_eq!(bytes, want);
    }

    #[test]
    fn minimal_java_heartbeat_is_a_valid_frame() {
        let frame = FrameDecoder::new()
            .push_frame(&hex("32 02 70 62 3a 02 68 62"))
            .unwrap();
        assert_eq!(frame.payload_type, "hb");
        assert!(frame.payload.is_empty());
    }

    #[test]
    fn gzip_is_detected_by_header_or_magic() {
        let result = FetchResult {
            cursor: "c-1".into(),
            internal_ext: "ext-1".into(),
            need_ack: true,
            ..Default::default()
        };
        let mut dec = FrameDecoder::new();
        for gz in [true, false] {
            let bytes = msg_frame(1, 7, &result, gz);
            let frame = dec.push_frame(&bytes).unwrap();
            assert_eq!(is_gzip(&frame), gz);
            assert_eq!(dec.fetch_result(&frame).unwrap(), result);
        }
        // Magic bytes without the header still mean gzip.
        let mut frame = dec.push_frame(&msg_frame(1, 7, &result, true)).unwrap();
        frame.headers.clear();
        assert!(is_gzip(&frame));
        assert_eq!(dec.fetch_result(&frame).unwrap(), result);
    }

    #[test]
    fn corrupt_gzip_and_bombs_are_errors() {
        let mut dec = FrameDecoder::new();
        let frame = PushFrame {
            payload_type: "msg".into(),
            payload: vec![0x1f, 0x8b, 0x08, 0, 1, 2, 3],
            ..Default::default()
        };
        assert!(matches!(dec.fetch_result(&frame), Err(FrameError::Gzip(_))));
        let bomb = gzip(&vec![0u8; MAX_PAYLOAD_BYTES + 10]);
        let frame = PushFrame {
            payload: bomb,
            ..Default::default()
        };
        assert!(matches!(dec.payload(&frame), Err(FrameError::TooLarge)));
    }

    #[test]
    fn gunzip_round_trips_small_large_and_truncated_input() {
        let mut out = Vec::new();
        for size in [0usize, 1, 1000, 200_000] {
            let data: Vec<u8> = (0..size).map(|i| (i * 31 % 251) as u8).collect();
            gunzip_into(&gzip(&data), &mut out).unwrap();
            assert_eq!(out, data, "size {size}");
        }
        let full = gzip(&[7u8; 5000]);
        assert!(matches!(
            gunzip_into(&full[..full.len() / 2], &mut out),
            Err(FrameError::Gzip(_))
        ));
    }

    #[test]
    fn garbage_is_not_a_push_frame() {
        let dec = FrameDecoder::new();
        assert!(dec.push_frame(&[0xff, 0xff, 0xff]).is_err());
    }
}
