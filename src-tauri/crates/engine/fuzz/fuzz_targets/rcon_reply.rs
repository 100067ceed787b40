//! Any bytes as what an RCON server sends → the client's packet decoder, login judgement and
//! reply assembly (the same pure code the connection task runs). Nothing may panic or
//! allocate past the limits, and the outcome must not depend on how the bytes were split
//! into reads (reads are cancelled and resumed on timeouts).
#![no_main]

use libfuzzer_sys::fuzz_target;
use livetrigger_engine::outputs::rcon::wire::{self, Packet, MAX_INCOMING_LENGTH};
use livetrigger_engine::outputs::rcon::{
    auth_reply, AuthStep, RconError, RconReply, ReplyAssembler, ReplyStep, MAX_REPLY_BYTES,
};

#[derive(Debug, PartialEq)]
enum Seen {
    LoggedIn,
    Refused,
    Marker(i32),
    Reply(RconReply),
    Failed(RconError),
    BadFrame,
}

/// Plays a client against `stream`: login with id 1, then commands with rising ids, fed
/// `chunk(i)` bytes at a time.
fn play(stream: &[u8], mut chunk: impl FnMut() -> usize) -> Vec<Seen> {
    let mut seen = Vec::new();
    let mut buf = Vec::new();
    let mut pos = 0;
    let mut next_id = 1;
    let mut logged_in = false;
    let mut reply = ReplyAssembler::new(0);
    loop {
        let packet = match wire::decode(&mut buf) {
            Ok(Some(p)) => p,
            Ok(None) if pos < stream.len() => {
                let end = (pos + chunk()).min(stream.len());
                buf.extend_from_slice(&stream[pos..end]);
                pos = end;
                continue;
            }
            Ok(None) => return seen,
            Err(_) => {
                seen.push(Seen::BadFrame);
                return seen;
            }
        };
        check_packet(&packet);
        if !logged_in {
            match auth_reply(1, &packet) {
                AuthStep::More => {}
                AuthStep::Refused => {
                    seen.push(Seen::Refused);
                    return seen;
                }
                AuthStep::Accepted => {
                    seen.push(Seen::LoggedIn);
                    logged_in = true;
                    next_id = 2;
                    reply = ReplyAssembler::new(next_id);
                }
            }
            continue;
        }
        match reply.push(packet) {
            Ok(ReplyStep::More) => {}
            Ok(ReplyStep::SendMarker) => {
                next_id += 1;
                reply.marker_sent(next_id);
                seen.push(Seen::Marker(next_id));
            }
            Ok(ReplyStep::Done(r)) => {
                assert!(r.packets >= 1, "a reply without packets: {r:?}");
                // U+FFFD is 3 bytes for each bad byte at most.
                assert!(r.text.len() <= 3 * (MAX_REPLY_BYTES + MAX_INCOMING_LENGTH));
                if r.lossy {
                    assert!(r.text.contains('\u{FFFD}'), "lossy without U+FFFD: {r:?}");
                }
                seen.push(Seen::Reply(r));
                next_id += 1;
                reply = ReplyAssembler::new(next_id);
            }
            Err(e) => {
                // Every reply failure happens after the command left: it must say so.
                assert_eq!(
                    e.delivery(),
                    livetrigger_engine::outputs::rcon::Delivery::SentReplyLost
                );
                seen.push(Seen::Failed(e));
                return seen;
            }
        }
    }
}

fn check_packet(p: &Packet) {
    assert!(p.body.len() <= MAX_INCOMING_LENGTH - 10);
    assert_ne!(p.body.last(), Some(&0), "padding left in the body");
    // What we decode, we can encode back to the same packet.
    let mut again = wire::encode(p.id, p.kind, &p.body);
    assert_eq!(wire::decode(&mut again).unwrap().as_ref(), Some(p));
    assert!(again.is_empty());
}

fuzz_target!(|data: &[u8]| {
    let whole = play(data, || usize::MAX / 2);
    // A split derived from the input, so a crash reproduces from the file alone.
    let mut state = data.len() as u32 ^ 0x9E37_79B9;
    let split = play(data, || {
        state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        1 + (state >> 16) as usize % 23
    });
    assert_eq!(whole, split, "the outcome depends on how the bytes arrived");
});
