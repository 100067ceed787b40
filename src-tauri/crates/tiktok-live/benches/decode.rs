//! Decode + dispatch throughput of realistic push frames, beside the bare gunzip + prost
//! decode of the same frames (the practical limit). Run: `cargo bench -p tiktok-live`.
//!
//! The frame mix: gzip'd `msg` frames of 1–10 messages each — mostly chat, likes and joins,
//! some gift streaks, follows, shares and viewer counts — with long, mixed-script nicknames.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use prost::Message as _;
use tiktok_live::dispatch::Dispatcher;
use tiktok_live::frame::{self, FrameDecoder};
use tiktok_live::message::method;
use tiktok_live::proto::{self, BaseMessage, FetchResult};

fn user(i: u64) -> proto::User {
    let nick = match i % 4 {
        0 => format!("viewer_{i}"),
        1 => format!("✨ Sparkle Queen {i} ✨ 🌸🌸"),
        2 => format!("名前がとても長いユーザー{i}さん"),
        _ => format!("{}{}", "W".repeat(60), i),
    };
    proto::User {
        id: 7_000_000_000_000_000_000 + i,
        nickname: nick,
        display_id: format!("user.{i}"),
        avatar_thumb: Some(proto::Image {
            url_list: vec![format!("https://p16-sign.tiktokcdn.com/avatar/{i}.webp")],
            ..Default::default()
        }),
        follow_info: Some(proto::FollowInfo {
            follower_count: (i * 37) as i64 % 100_000,
            follow_status: (i % 3) as i64,
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn common(id: u64) -> Option<proto::Common> {
    Some(proto::Common {
        msg_id: id,
        room_id: 7_140_000_000_000_000_001,
        create_time: 1_700_000_000_000 + id as i64,
        ..Default::default()
    })
}

fn message(id: u64) -> BaseMessage {
    let (m, payload) = match id % 20 {
        0..=7 => (
            method::CHAT,
            proto::ChatMessage {
                common: common(id),
                user: Some(user(id)),
                content: format!("hello from the stream, message number {id} !tnt"),
                ..Default::default()
            }
            .encode_to_vec(),
        ),
        8..=11 => (
            method::LIKE,
            proto::LikeMessage {
                common: common(id),
                user: Some(user(id)),
                count: 15,
                total: id as i64 * 15,
            }
            .encode_to_vec(),
        ),
        12..=14 => (
            method::MEMBER,
            proto::MemberMessage {
                common: common(id),
                user: Some(user(id)),
                action: 1,
                member_count: 1200,
                ..Default::default()
            }
            .encode_to_vec(),
        ),
        15..=17 => (
            method::GIFT,
            proto::GiftMessage {
                common: common(id),
                gift_id: 5655,
                repeat_count: (id % 7 + 1) as i32,
                repeat_end: id.is_multiple_of(3) as i32,
                group_id: id / 10,
                user: Some(user(id / 10)),
                gift: Some(proto::Gift {
                    id: 5655,
                    name: "Rose".into(),
                    diamond_count: 1,
                    r#type: 1,
                    image: Some(proto::Image {
                        url_list: vec!["https://p19-webcast.tiktokcdn.com/rose.png".into()],
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            }
            .encode_to_vec(),
        ),
        18 => (
            method::SOCIAL,
            proto::SocialMessage {
                common: Some(proto::Common {
                    display_text: Some(proto::Text {
                        key: "pm_main_follow_message_viewer_2".into(),
                        ..Default::default()
                    }),
                    ..common(id).unwrap_or_default()
                }),
                user: Some(user(id)),
                action: 1,
                ..Default::default()
            }
            .encode_to_vec(),
        ),
        _ => (
            method::ROOM_USER_SEQ,
            proto::RoomUserSeqMessage {
                common: common(id),
                total: 1234,
                total_user: 99_999,
                ..Default::default()
            }
            .encode_to_vec(),
        ),
    };
    BaseMessage {
        method: m.into(),
        payload,
        msg_id: id as i64,
        ..Default::default()
    }
}

/// 500 frames with 1–10 messages each.
fn frames() -> (Vec<Vec<u8>>, u64) {
    let mut id = 1u64;
    let mut out = Vec::new();
    let mut total = 0;
    for f in 0..500u64 {
        let n = f % 10 + 1;
        let messages: Vec<BaseMessage> = (0..n)
            .map(|_| {
                id += 1;
                message(id)
            })
            .collect();
        total += n;
        let result = FetchResult {
            messages,
            cursor: format!("c-{f}"),
            internal_ext: format!("internal_src:dim|wss_push_room_id:7140000000000000001|seq:{f}"),
            need_ack: true,
            ..Default::default()
        };
        out.push(frame::msg_frame(f as i64, f, &result, true));
    }
    (out, total)
}

fn bench(c: &mut Criterion) {
    let (frames, total) = frames();
    let mut group = c.benchmark_group("frames");
    group.throughput(Throughput::Elements(total));

    group.bench_function("decode_and_dispatch", |b| {
        b.iter_batched_ref(
            || (FrameDecoder::new(), Dispatcher::default()),
            |(decoder, dispatcher)| {
                let now = tokio::time::Instant::now();
                let mut events = 0usize;
                for bytes in &frames {
                    let frame = decoder.push_frame(bytes).expect("frame");
                    let result = decoder.fetch_result(&frame).expect("result");
                    for msg in result.messages {
                        if let Some(Ok(ev)) = dispatcher.dispatch(msg, now) {
                            events += 1;
                            std::hint::black_box(&ev);
                        }
                    }
                }
                events
            },
            BatchSize::LargeInput,
        )
    });

    group.bench_function("bare_gunzip_and_prost", |b| {
        let mut buf = Vec::new();
        b.iter(|| {
            let mut n = 0usize;
            for bytes in &frames {
                let frame = proto::PushFrame::decode(bytes.as_slice()).expect("frame");
                frame::gunzip_into(&frame.payload, &mut buf).expect("gzip");
                let result = FetchResult::decode(buf.as_slice()).expect("result");
                for msg in result.messages {
                    let p = msg.payload.as_slice();
                    let ok = match msg.method.as_str() {
                        method::CHAT => proto::ChatMessage::decode(p).is_ok(),
                        method::LIKE => proto::LikeMessage::decode(p).is_ok(),
                        method::MEMBER => proto::MemberMessage::decode(p).is_ok(),
                        method::GIFT => proto::GiftMessage::decode(p).is_ok(),
                        method::SOCIAL => proto::SocialMessage::decode(p).is_ok(),
                        _ => proto::RoomUserSeqMessage::decode(p).is_ok(),
                    };
                    n += usize::from(ok);
                }
            }
            std::hint::black_box(n)
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
