//! The JSON line format of `livetrigger-cli decode`: one object per webcast message.
//!
//! 64-bit ids (`msg_id`, `user.id`, `group_id`) are decimal strings so no JSON reader loses
//! precision; small numbers (counts, gift ids, actions) are numbers.

use serde_json::{json, Map, Value};

use crate::message::{DecodeError, Payload, User, WebcastMessage};

fn user_json(user: Option<&User>) -> Value {
    match user {
        Some(u) => json!({
            "id": u.id.to_string(),
            "unique_id": u.unique_id,
            "nickname": u.nickname,
        }),
        None => Value::Null,
    }
}

/// The `type` key for a method.
pub fn type_name(payload: &Payload) -> &'static str {
    match payload {
        Payload::Gift(_) => "gift",
        Payload::Like(_) => "like",
        Payload::Social(_) => "social",
        Payload::Member(_) => "member",
        Payload::Chat(_) => "chat",
        Payload::ViewerCount(_) => "viewer_count",
        Payload::Subscribe(_) => "subscribe",
        Payload::Control(_) => "control",
        Payload::Unknown(_) => "unknown",
    }
}

/// One decoded message as a JSON object.
pub fn message(msg: &WebcastMessage) -> Value {
    let mut out = Map::new();
    out.insert("method".into(), json!(msg.method));
    out.insert("msg_id".into(), json!(msg.msg_id.to_string()));
    out.insert("type".into(), json!(type_name(&msg.payload)));
    if msg.is_history {
        out.insert("is_history".into(), json!(true));
    }
    let user = match &msg.payload {
        Payload::Gift(g) => g.user.as_ref(),
        Payload::Like(m) => m.user.as_ref(),
        Payload::Social(m) => m.user.as_ref(),
        Payload::Member(m) => m.user.as_ref(),
        Payload::Chat(m) => m.user.as_ref(),
        Payload::Subscribe(m) => m.user.as_ref(),
        Payload::ViewerCount(_) | Payload::Control(_) | Payload::Unknown(_) => None,
    };
    out.insert("user".into(), user_json(user));
    let mut put = |k: &str, v: Value| {
        out.insert(k.to_string(), v);
    };
    match &msg.payload {
        Payload::Gift(g) => {
            put("gift_id", json!(g.gift_id));
            put(
                "gift",
                match &g.gift {
                    Some(d) => json!({
                        "id": d.id,
                        "name": d.name,
                        "diamond_count": d.diamond_count,
                        "type": d.gift_type,
                        "combo": d.combo,
                    }),
                    None => Value::Null,
                },
            );
            put("repeat_count", json!(g.repeat_count));
            put("repeat_end", json!(g.repeat_end));
            put("group_id", json!(g.group_id.to_string()));
            put("streakable", json!(g.streakable()));
            put("streaking", json!(g.streaking()));
            put("final", json!(g.is_final()));
        }
        Payload::Like(m) => {
            put("count", json!(m.count));
            put("total", json!(m.total));
        }
        Payload::Social(m) => {
            put("action", json!(m.action));
            put("display_type", json!(m.display_type));
            put("kind", serde_json::to_value(m.kind).unwrap_or(Value::Null));
        }
        Payload::Member(m) => {
            put("action", json!(m.action));
            put("member_count", json!(m.member_count));
        }
        Payload::Chat(m) => put("content", json!(m.content)),
        Payload::ViewerCount(m) => {
            put("total", json!(m.total));
            put("total_user", json!(m.total_user));
        }
        Payload::Subscribe(m) => put("sub_month", json!(m.sub_month)),
        Payload::Control(m) => put("action", json!(m.action)),
        Payload::Unknown(_) => {}
    }
    Value::Object(out)
}

/// A message whose payload failed to decode.
pub fn decode_error(err: &DecodeError) -> Value {
    json!({
        "method": err.method,
        "msg_id": err.msg_id.to_string(),
        "type": "unknown",
        "decode_error": true,
        "error": err.reason,
    })
}
