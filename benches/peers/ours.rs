//! Our side of the peer comparison (`benches/peers/run.sh`): the same recorded push frames the
//! TikTokLive and TikTok-Live-Connector drivers read, through the client's own decode +
//! dispatch path, and through a bare gunzip + prost loop (the practical limit).
//!
//! Built as an example of the `tiktok-live` crate so `cargo build --all-targets` keeps it
//! compiling; run by `run.sh`, not by CI (the peers are downloaded).
//!
//! ```text
//! peers export OUT_DIR REC...        copy each recording's websocket frames (kind 2) to OUT_DIR
//! peers mix REC...                   what the corpus holds (frames, gzip, types, batches, streaks)
//! peers bench ours|limit|gunzip SECS REC...
//!                                    warm passes over the frames, one JSON line of results
//! ```
//!
//! Each recording is one stream: `ours` gives each its own `Dispatcher`, as the client does
//! per connection, so the streams' overlapping msg_ids (every simulator run starts from the
//! same base) are not taken for duplicates.

use std::collections::{BTreeMap, HashMap};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use prost::Message as _;
use tiktok_live::dispatch::Dispatcher;
use tiktok_live::event::Event;
use tiktok_live::frame::{self, payload_type, FrameDecoder};
use tiktok_live::message::method;
use tiktok_live::proto::{self, FetchResult, PushFrame};
use tiktok_live::record::{self, RecordKind};

type Streams = Vec<Vec<Vec<u8>>>;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("export") if args.len() >= 3 => export(Path::new(&args[1]), &args[2..]),
        Some("mix") if args.len() >= 2 => load(&args[1..]).map(|s| mix(&s)),
        Some("bench") if args.len() >= 4 => bench(&args[1], &args[2], &args[3..]),
        _ => Err(
            "usage: peers export OUT_DIR REC... | mix REC... | bench ours|limit|gunzip SECS REC..."
                .into(),
        ),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The websocket frames of each recording, in order (the sign reply is left out: the peers'
/// websocket paths never see it).
fn load(paths: &[String]) -> Result<Streams, String> {
    paths
        .iter()
        .map(|p| {
            let mut reader = record::Reader::open(Path::new(p)).map_err(|e| e.to_string())?;
            let mut frames = Vec::new();
            while let Some(rec) = reader.next_record().map_err(|e| e.to_string())? {
                if rec.kind == RecordKind::Frame {
                    frames.push(rec.bytes);
                }
            }
            if let Some(torn) = reader.torn() {
                eprintln!("warning: {p}: {torn}");
            }
            Ok(frames)
        })
        .collect()
}

/// Writes one recording file per input holding only its frames, so `decode FILE` and the
/// peers' whole-process scripts read exactly the bytes the in-process drivers time.
fn export(out_dir: &Path, paths: &[String]) -> Result<(), String> {
    std::fs::create_dir_all(out_dir).map_err(|e| format!("{}: {e}", out_dir.display()))?;
    for p in paths {
        let mut reader = record::Reader::open(Path::new(p)).map_err(|e| e.to_string())?;
        let name = Path::new(p)
            .file_name()
            .ok_or(format!("{p}: no file name"))?;
        let dest: PathBuf = out_dir.join(name);
        let mut out = Vec::new();
        out.extend_from_slice(record::MAGIC);
        out.extend_from_slice(&record::VERSION.to_le_bytes());
        let mut n = 0u64;
        while let Some(rec) = reader.next_record().map_err(|e| e.to_string())? {
            if rec.kind != RecordKind::Frame {
                continue;
            }
            let len = u32::try_from(rec.bytes.len()).map_err(|_| "frame over 4 GiB")?;
            out.push(2);
            out.extend_from_slice(&rec.at_ms.unwrap_or(0).to_le_bytes());
            out.extend_from_slice(&len.to_le_bytes());
            out.extend_from_slice(&rec.bytes);
            n += 1;
        }
        std::fs::write(&dest, out).map_err(|e| format!("{}: {e}", dest.display()))?;
        eprintln!("{}: {n} frames", dest.display());
    }
    Ok(())
}

/// Prints what the corpus holds, so a reader can check it is gzip'd, mixed, batched and has
/// streaks (and a run can fail when it is not).
fn mix(streams: &Streams) {
    let mut decoder = FrameDecoder::new();
    let (mut frames, mut msg_frames, mut gzipped, mut bytes, mut messages) = (0u64, 0, 0, 0, 0);
    let mut inflated = 0u64;
    let mut methods: BTreeMap<String, u64> = BTreeMap::new();
    let mut batches: BTreeMap<&str, u64> = BTreeMap::new();
    let (mut streak_steps, mut streak_finals) = (0u64, 0u64);
    let mut multi_step_streaks = 0u64;
    for stream in streams {
        let mut steps_per_group: HashMap<u64, u32> = HashMap::new();
        for raw in stream {
            frames += 1;
            bytes += raw.len() as u64;
            let Ok(f) = decoder.push_frame(raw) else {
                continue;
            };
            if f.payload_type != payload_type::MSG {
                continue;
            }
            msg_frames += 1;
            gzipped += u64::from(frame::is_gzip(&f));
            inflated += decoder.payload(&f).map_or(0, |p| p.len() as u64);
            let Ok(result) = decoder.fetch_result(&f) else {
                continue;
            };
            let n = result.messages.len();
            messages += n as u64;
            let bucket = match n {
                0 => "0",
                1 => "1",
                2..=5 => "2-5",
                6..=10 => "6-10",
                11..=20 => "11-20",
                _ => "21+",
            };
            *batches.entry(bucket).or_default() += 1;
            for m in result.messages {
                *methods.entry(m.method.clone()).or_default() += 1;
                if m.method == method::GIFT {
                    if let Ok(g) = proto::GiftMessage::decode(m.payload.as_slice()) {
                        let streakable = g.gift.as_ref().is_some_and(|d| d.r#type == 1);
                        if streakable {
                            *steps_per_group.entry(g.group_id).or_default() += 1;
                            if g.repeat_end == 1 {
                                streak_finals += 1;
                            } else {
                                streak_steps += 1;
                            }
                        }
                    }
                }
            }
        }
        multi_step_streaks += steps_per_group.values().filter(|&&n| n > 1).count() as u64;
    }
    let summary = serde_json::json!({
        "streams": streams.len(),
        "frames": frames,
        "msg_frames": msg_frames,
        "gzip_frames": gzipped,
        "frame_bytes": bytes,
        "payload_bytes_inflated": inflated,
        "messages": messages,
        "methods": methods,
        "messages_per_frame": batches,
        "streak_gift_messages_not_final": streak_steps,
        "streak_gift_finals": streak_finals,
        "streaks_with_several_messages": multi_step_streaks,
    });
    println!("{summary}");
}

/// Result of one pass over the corpus.
#[derive(Default, Clone, Copy)]
struct Pass {
    messages: u64,
    events: u64,
    errors: u64,
}

/// The client's path for one inbound frame (`client::Run::on_frame` without the socket):
/// push frame → gunzip if needed → fetch result → each message decoded and dispatched to an
/// `Event`, queued; a stream end settles open streaks first. Acks are left out here as they
/// are for the peers (none of the three drivers has a socket).
fn ours_pass(streams: &Streams) -> Pass {
    let mut pass = Pass::default();
    let mut decoder = FrameDecoder::new();
    let mut pending: Vec<Result<Event, tiktok_live::error::Error>> = Vec::with_capacity(64);
    for stream in streams {
        let mut dispatcher = Dispatcher::default();
        for raw in stream {
            let Ok(f) = decoder.push_frame(raw) else {
                pass.errors += 1;
                continue;
            };
            if f.payload_type != payload_type::MSG {
                continue;
            }
            let Ok(result) = decoder.fetch_result(&f) else {
                pass.errors += 1;
                continue;
            };
            let now = tokio::time::Instant::now();
            pass.messages += result.messages.len() as u64;
            for msg in result.messages {
                let Some(item) = dispatcher.dispatch(msg, now) else {
                    continue;
                };
                if matches!(item, Ok(Event::StreamEnded { .. })) {
                    pending.extend(dispatcher.flush_streaks(now).into_iter().map(Ok));
                }
                pending.push(item);
            }
            for item in pending.drain(..) {
                match item {
                    Ok(ev) => {
                        pass.events += 1;
                        std::hint::black_box(&ev);
                    }
                    Err(_) => pass.errors += 1,
                }
            }
        }
        let settled = dispatcher.flush_streaks(tokio::time::Instant::now());
        pass.events += settled.len() as u64;
    }
    pass
}

/// The practical limit: prost decodes of the push frame, the (gunzipped) fetch result and
/// each message body by its method, nothing else.
fn limit_pass(streams: &Streams) -> Pass {
    let mut pass = Pass::default();
    let mut buf = Vec::new();
    for raw in streams.iter().flatten() {
        let Ok(f) = PushFrame::decode(raw.as_slice()) else {
            pass.errors += 1;
            continue;
        };
        if f.payload_type != payload_type::MSG {
            continue;
        }
        let body = if frame::is_gzip(&f) {
            if frame::gunzip_into(&f.payload, &mut buf).is_err() {
                pass.errors += 1;
                continue;
            }
            buf.as_slice()
        } else {
            f.payload.as_slice()
        };
        let Ok(result) = FetchResult::decode(body) else {
            pass.errors += 1;
            continue;
        };
        pass.messages += result.messages.len() as u64;
        for m in result.messages {
            let p = m.payload.as_slice();
            let ok = match m.method.as_str() {
                method::CHAT => proto::ChatMessage::decode(p).map(drop),
                method::EMOTE_CHAT => proto::EmoteChatMessage::decode(p).map(drop),
                method::GIFT => proto::GiftMessage::decode(p).map(drop),
                method::LIKE => proto::LikeMessage::decode(p).map(drop),
                method::SOCIAL => proto::SocialMessage::decode(p).map(drop),
                method::MEMBER => proto::MemberMessage::decode(p).map(drop),
                method::ROOM_USER_SEQ => proto::RoomUserSeqMessage::decode(p).map(drop),
                method::SUB_NOTIFY => proto::SubNotifyMessage::decode(p).map(drop),
                method::CONTROL => proto::ControlMessage::decode(p).map(drop),
                // A method we have no schema for: nothing to decode.
                _ => Ok(()),
            };
            match ok {
                Ok(()) => pass.events += 1,
                Err(_) => pass.errors += 1,
            }
        }
    }
    pass
}

/// Only the push frame and the inflate of its payload: what any decoder pays before the first
/// protobuf field of the fetch result (the floor under the limit).
fn gunzip_pass(streams: &Streams) -> Pass {
    let mut pass = Pass::default();
    let mut decoder = FrameDecoder::new();
    for raw in streams.iter().flatten() {
        let Ok(f) = decoder.push_frame(raw) else {
            pass.errors += 1;
            continue;
        };
        if f.payload_type != payload_type::MSG {
            continue;
        }
        match decoder.payload(&f) {
            Ok(body) => {
                pass.events += 1;
                std::hint::black_box(body);
            }
            Err(_) => pass.errors += 1,
        }
    }
    pass
}

/// Peak resident set of this process (VmHWM), in KiB.
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// CPU time this thread has run, in seconds (`/proc/thread-self/schedstat`, nanoseconds):
/// on a shared machine, wall time also counts the time other processes had the core.
fn cpu_secs() -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .map_or(0.0, |ns| ns as f64 / 1e9)
}

/// One warm-up pass, then passes until `secs` have gone by (at least 3); the median pass's
/// rates (per wall second and per CPU second) are the figures.
fn bench(which: &str, secs: &str, paths: &[String]) -> Result<(), String> {
    let run: fn(&Streams) -> Pass = match which {
        "ours" => ours_pass,
        "limit" => limit_pass,
        "gunzip" => gunzip_pass,
        _ => return Err(format!("unknown driver {which:?} (ours, limit, gunzip)")),
    };
    let secs: f64 = secs
        .parse()
        .map_err(|_| format!("{secs:?} is not seconds"))?;
    let streams = load(paths)?;
    // The gunzip floor does not read the messages: count them once with the limit's loop.
    let messages = limit_pass(&streams).messages;
    let first = run(&streams);
    let (mut rates, mut cpu_rates) = (Vec::new(), Vec::new());
    let started = Instant::now();
    while rates.len() < 3 || started.elapsed().as_secs_f64() < secs {
        let (t, c) = (Instant::now(), cpu_secs());
        let pass = run(&streams);
        let (dt, dc) = (t.elapsed().as_secs_f64(), cpu_secs() - c);
        if pass.messages != first.messages || pass.events != first.events {
            return Err("two passes over the same frames gave different counts".into());
        }
        rates.push(messages as f64 / dt);
        cpu_rates.push(messages as f64 / dc);
    }
    rates.sort_by(f64::total_cmp);
    cpu_rates.sort_by(f64::total_cmp);
    let line = serde_json::json!({
        "driver": which,
        // What this driver itself went through (the gunzip floor reads no messages).
        "messages": if which == "gunzip" { messages } else { first.messages },
        "events": first.events,
        "errors": first.errors,
        "passes": rates.len(),
        "msgs_per_s": rates[rates.len() / 2],
        "msgs_per_cpu_s": cpu_rates[cpu_rates.len() / 2],
        "peak_rss_kib": peak_rss_kib(),
    });
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}").map_err(|e| e.to_string())?;
    Ok(())
}
