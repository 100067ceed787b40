//! RCON packets: `length:i32le id:i32le type:i32le body NUL NUL`, `length` counting everything
//! after itself.
//!
//! Our own framing instead of `rcon` 0.6's (see docs/outputs.md): its reader trusts the length
//! field (a length under 10 panics with "capacity overflow", a huge one reserves gigabytes),
//! fails the whole connection on a body that is not UTF-8, and cannot be given a timeout
//! without losing its place in the stream.

use std::io;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

pub const TYPE_AUTH: i32 = 3;
pub const TYPE_EXEC: i32 = 2;
pub const TYPE_AUTH_RESPONSE: i32 = 2;
pub const TYPE_RESPONSE: i32 = 0;

/// Vanilla splits replies into bodies of 4096 bytes; a body this long may have a sequel.
pub const VANILLA_CHUNK: usize = 4096;

/// Largest `length` accepted from a server. Vanilla never exceeds 4096 + a few bytes of
/// U+FFFD expansion; other servers send bigger single packets, but nothing near this.
pub const MAX_INCOMING_LENGTH: usize = 64 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    pub id: i32,
    pub kind: i32,
    pub body: Vec<u8>,
}

/// The whole packet in one buffer, so it goes out in one write: vanilla handles one packet
/// per `read()` and drops the connection when a packet arrives split or merged (MC-87863).
pub fn encode(id: i32, kind: i32, body: &[u8]) -> Vec<u8> {
    let len = i32::try_from(body.len() + 10).expect("caller limits the body length");
    let mut buf = Vec::with_capacity(body.len() + 14);
    buf.extend_from_slice(&len.to_le_bytes());
    buf.extend_from_slice(&id.to_le_bytes());
    buf.extend_from_slice(&kind.to_le_bytes());
    buf.extend_from_slice(body);
    buf.extend_from_slice(&[0, 0]);
    buf
}

fn invalid(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg)
}

/// Splits one packet off the front of `buf`, or returns `None` if more bytes are needed.
/// A length outside 10..=[`MAX_INCOMING_LENGTH`] is an error before anything is allocated.
pub fn decode(buf: &mut Vec<u8>) -> io::Result<Option<Packet>> {
    let Some(head) = buf.get(..4) else {
        return Ok(None);
    };
    let length = i32::from_le_bytes(head.try_into().expect("4 bytes"));
    let len = usize::try_from(length).unwrap_or(0);
    if !(10..=MAX_INCOMING_LENGTH).contains(&len) {
        return Err(invalid(format!(
            "RCON packet with impossible length {length}"
        )));
    }
    if buf.len() < 4 + len {
        return Ok(None);
    }
    let frame: Vec<u8> = buf.drain(..4 + len).collect();
    let id = i32::from_le_bytes(frame[4..8].try_into().expect("4 bytes"));
    let kind = i32::from_le_bytes(frame[8..12].try_into().expect("4 bytes"));
    // The two trailing NULs are padding; servers differ on whether both are there, so they
    // are dropped rather than checked.
    let mut body = frame[12..].to_vec();
    while body.last() == Some(&0) {
        body.pop();
    }
    Ok(Some(Packet { id, kind, body }))
}

/// One RCON byte stream with its read buffer, so reads can be cancelled and resumed without
/// losing bytes (the buffer, not the future, holds what has arrived).
pub struct Framed<S> {
    io: S,
    rbuf: Vec<u8>,
}

/// What an idle read saw.
pub enum Idle {
    Closed,
    Data,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Framed<S> {
    pub fn new(io: S) -> Self {
        Framed {
            io,
            rbuf: Vec::with_capacity(VANILLA_CHUNK + 14),
        }
    }

    /// Reads the next packet. Cancel-safe: partial data stays in the buffer.
    pub async fn read_packet(&mut self) -> io::Result<Packet> {
        loop {
            if let Some(p) = decode(&mut self.rbuf)? {
                return Ok(p);
            }
            if self.io.read_buf(&mut self.rbuf).await? == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the server closed the connection",
                ));
            }
        }
    }

    /// Waits for the server to close the connection or send something unasked. Cancel-safe,
    /// so it can sit in a `select!` while the connection is idle.
    pub async fn idle(&mut self) -> io::Result<Idle> {
        Ok(match self.io.read_buf(&mut self.rbuf).await? {
            0 => Idle::Closed,
            _ => Idle::Data,
        })
    }

    /// Writes one whole packet. On error, says whether any byte may have left.
    pub async fn write_packet(&mut self, bytes: &[u8]) -> Result<(), (io::Error, bool)> {
        let mut written = 0;
        while written < bytes.len() {
            match self.io.write(&bytes[written..]).await {
                Ok(0) => {
                    return Err((
                        io::Error::new(io::ErrorKind::WriteZero, "connection closed"),
                        written > 0,
                    ))
                }
                Ok(n) => written += n,
                Err(e) => return Err((e, written > 0)),
            }
        }
        self.io.flush().await.map_err(|e| (e, true))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let mut buf = encode(7, TYPE_EXEC, b"list");
        assert_eq!(buf.len(), 18);
        assert_eq!(&buf[..4], &14i32.to_le_bytes());
        let p = decode(&mut buf).unwrap().unwrap();
        assert_eq!(
            p,
            Packet {
                id: 7,
                kind: TYPE_EXEC,
                body: b"list".to_vec()
            }
        );
        assert!(buf.is_empty());
    }

    #[test]
    fn partial_packets_wait_for_more() {
        let full = encode(1, TYPE_RESPONSE, b"hello");
        let mut buf = full[..7].to_vec();
        assert!(decode(&mut buf).unwrap().is_none());
        buf.extend_from_slice(&full[7..]);
        assert!(decode(&mut buf).unwrap().is_some());
    }

    #[test]
    fn hostile_lengths_are_errors_not_allocations() {
        for length in [
            i32::MIN,
            -1,
            0,
            9,
            (MAX_INCOMING_LENGTH + 1) as i32,
            i32::MAX,
        ] {
            let mut buf = length.to_le_bytes().to_vec();
            buf.extend_from_slice(&[0; 10]);
            let err = decode(&mut buf).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidData, "{length}");
        }
    }
}
