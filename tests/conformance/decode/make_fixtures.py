#!/usr/bin/env python3
"""Builds push-frame fixtures with a third-party encoder (PyPI TikTokLiveProto 0.2.2, the
betterproto2 schema TikTokLive 7 uses) and the JSON lines `livetrigger-cli decode` must print
for them. The output is committed under src-tauri/crates/cli/tests/fixtures/third_party/ and
checked by the CLI's tests, so CI needs no Python.

    python3 -m venv /tmp/tlp && /tmp/tlp/bin/pip install TikTokLiveProto==0.2.2
    /tmp/tlp/bin/python tests/conformance/decode/make_fixtures.py
"""
import gzip
import json
import pathlib
import shutil

# Note: the bindings resolve type names such as "base.ImageModel" lazily, partly in the
# caller's globals, so this script must not define top-level names like `base` or `user_`.

from TikTokLiveProto.v3.webcast.im import PushHeader, WebcastPushFrame
from TikTokLiveProto.v3.webcast.model import Gift
from TikTokLiveProto.v3.webcast.model.base.user import FollowInfo, User
from TikTokLiveProto.v3.webcast.model.message import (
    WebcastChatMessage,
    WebcastControlMessage,
    WebcastGiftMessage,
    WebcastLikeMessage,
    WebcastMemberMessage,
    WebcastRoomUserSeqMessage,
    WebcastSocialMessage,
)
from TikTokLiveProto.v3.webcast.model.message.common import Text
from TikTokLiveProto.v3.webcast.shared.message import (
    BaseProtoMessage,
    CommonMessageData,
    ProtoMessageFetchResult,
)

ROOT = pathlib.Path(__file__).resolve().parents[3]
OUT = ROOT / "src-tauri/crates/cli/tests/fixtures/third_party"

HOSTILE = [
    'Nick "the" Quote\\',
    "line1\nline2\r\n/op @a",
    "§4§lRED",
    '"},{"text":"pwn","clickEvent":{"action":"run_command","value":"/op @a"}}',
    "nul\x00byte",
    "\u202eRTL override",
    "👩‍👩‍👧‍👦 family",
    "W" * 1600,
    "名前" * 250,
]

next_id = [7_300_000_000_000_000_000]


def new_id():
    next_id[0] += 1
    return next_id[0]


def mk_user(i, nickname):
    return User(
        id=7_100_000_000_000_000_000 + i,
        nickname=nickname,
        display_id=f"viewer.{i}",
        follow_info=FollowInfo(follower_count=i * 3, follow_status=i % 3),
    )


def mk_user_json(i, nickname):
    return {"id": str(7_100_000_000_000_000_000 + i), "unique_id": f"viewer.{i}", "nickname": nickname}


def mk_common(msg_id, key=None):
    c = CommonMessageData(method="", msg_id=msg_id, room_id=7_140_000_000_000_000_001)
    if key is not None:
        c.display_text = Text(key=key)
    return c


def envelope(method, msg, msg_id):
    return BaseProtoMessage(method=method, payload=bytes(msg), msg_id=msg_id)


cases = []  # (BaseProtoMessage, expected dict)


def add(method, msg, msg_id, expected):
    expected = {"method": method, "msg_id": str(msg_id), **expected}
    cases.append((envelope(method, msg, msg_id), expected))


# Gifts: a streak (intermediate, final), a lone Rose, an expensive non-streak gift.
for i, (count, end) in enumerate([(1, 0), (3, 0), (5, 1)]):
    mid = new_id()
    add(
        "WebcastGiftMessage",
        WebcastGiftMessage(
            common=mk_common(mid), gift_id=5655, repeat_count=count, repeat_end=end,
            group_id=1_700_000_000_000_000_123, user=mk_user(1, "Rose Sender"),
            gift=Gift(id=5655, name="Rose", diamond_count=1, type=1, combo=True),
        ),
        mid,
        {"type": "gift", "user": mk_user_json(1, "Rose Sender"), "gift_id": 5655,
         "gift": {"id": 5655, "name": "Rose", "diamond_count": 1, "type": 1, "combo": True},
         "repeat_count": count, "repeat_end": end, "group_id": "1700000000000000123",
         "streakable": True, "streaking": end == 0, "final": end == 1},
    )
mid = new_id()
add(
    "WebcastGiftMessage",
    WebcastGiftMessage(common=mk_common(mid), gift_id=6369, repeat_count=1, repeat_end=0, group_id=0,
                       user=mk_user(2, HOSTILE[3]), gift=Gift(id=6369, name="Lion", diamond_count=29999, type=2)),
    mid,
    {"type": "gift", "user": mk_user_json(2, HOSTILE[3]), "gift_id": 6369,
     "gift": {"id": 6369, "name": "Lion", "diamond_count": 29999, "type": 2, "combo": False},
     "repeat_count": 1, "repeat_end": 0, "group_id": "0", "streakable": False, "streaking": False, "final": True},
)
# Likes, follow, share, join/leave, viewers, chat (hostile), controls.
mid = new_id()
add("WebcastLikeMessage", WebcastLikeMessage(common=mk_common(mid), count=15, total=123_456, user=mk_user(3, "liker")), mid,
    {"type": "like", "user": mk_user_json(3, "liker"), "count": 15, "total": 123456})
mid = new_id()
add("WebcastSocialMessage", WebcastSocialMessage(common=mk_common(mid, "pm_main_follow_message_viewer_2"), action=1, user=mk_user(4, "follower")), mid,
    {"type": "social", "user": mk_user_json(4, "follower"), "action": 1, "display_type": "pm_main_follow_message_viewer_2", "kind": "follow"})
mid = new_id()
add("WebcastSocialMessage", WebcastSocialMessage(common=mk_common(mid, "pm_mt_guidance_share"), action=3, user=mk_user(5, "sharer")), mid,
    {"type": "social", "user": mk_user_json(5, "sharer"), "action": 3, "display_type": "pm_mt_guidance_share", "kind": "share"})
for action in (1, 2):
    mid = new_id()
    add("WebcastMemberMessage", WebcastMemberMessage(common=mk_common(mid), action=action, member_count=321, user=mk_user(6, "joiner")), mid,
        {"type": "member", "user": mk_user_json(6, "joiner"), "action": action, "member_count": 321})
mid = new_id()
add("WebcastRoomUserSeqMessage", WebcastRoomUserSeqMessage(common=mk_common(mid), total=1234, total_user=98765), mid,
    {"type": "viewer_count", "user": None, "total": 1234, "total_user": 98765})
for n, nick in enumerate(HOSTILE):
    mid = new_id()
    add("WebcastChatMessage", WebcastChatMessage(common=mk_common(mid), content=f"!tnt {nick}", user=mk_user(10 + n, nick)), mid,
        {"type": "chat", "user": mk_user_json(10 + n, nick), "content": f"!tnt {nick}"})
for action in (1, 2, 3):
    mid = new_id()
    add("WebcastControlMessage", WebcastControlMessage(common=mk_common(mid), action=action), mid,
        {"type": "control", "user": None, "action": action})
# A method we do not read, and a gift whose payload is corrupt.
mid = new_id()
cases.append((BaseProtoMessage(method="WebcastEnvelopeMessage", payload=b"\x0a\x00", msg_id=mid),
              {"method": "WebcastEnvelopeMessage", "msg_id": str(mid), "type": "unknown", "user": None}))
mid = new_id()
cases.append((BaseProtoMessage(method="WebcastGiftMessage", payload=b"\x0a\xff\x01", msg_id=mid),
              {"method": "WebcastGiftMessage", "msg_id": str(mid), "type": "unknown", "decode_error": True}))

shutil.rmtree(OUT, ignore_errors=True)
(OUT / "frames").mkdir(parents=True)
expected_lines = []
# Frames of 1-4 messages; even frames gzip'd with the header, odd ones raw.
i = 0
frame_no = 0
while i < len(cases):
    batch = cases[i : i + 1 + frame_no % 4]
    i += len(batch)
    result = ProtoMessageFetchResult(
        messages=[b for b, _ in batch], cursor=f"c-{frame_no}", internal_ext=f"ext-{frame_no}", need_ack=True
    )
    payload = bytes(result)
    headers = []
    if frame_no % 2 == 0:
        payload = gzip.compress(payload)
        headers = [PushHeader(key="compress_type", value="gzip")]
    frame = WebcastPushFrame(
        seq_id=frame_no + 1, log_id=9_000_000_000_000_000_000 + frame_no, payload_encoding="pb",
        payload_type="msg", payload=payload, headers=headers,
    )
    (OUT / "frames" / f"{frame_no:04}.bin").write_bytes(bytes(frame))
    expected_lines.extend(e for _, e in batch)
    frame_no += 1
# A heartbeat frame carries no messages: nothing is printed for it.
(OUT / "frames" / f"{frame_no:04}.bin").write_bytes(bytes(WebcastPushFrame(payload_encoding="pb", payload_type="hb")))

with open(OUT / "expected.jsonl", "w", encoding="utf-8") as f:
    for e in expected_lines:
        f.write(json.dumps(e, ensure_ascii=False) + "\n")
print(f"{len(cases)} messages in {frame_no + 1} frames -> {OUT}")
