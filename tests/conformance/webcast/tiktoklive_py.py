"""Point PyPI TikTokLive 7.x at a running `livetrigger-cli simulate` and print what it sees.

Usage: python tiktoklive_py.py http://127.0.0.1:PORT [unique_id]
Not run in CI: it needs `pip install "TikTokLive>=7,<8"` (see run.sh).
"""
import asyncio
import json
import os
import sys

base = sys.argv[1].rstrip("/")
user = sys.argv[2] if len(sys.argv) > 2 else "simstreamer"
# The sign base must be set before TikTokLive builds its signer.
os.environ["SIGN_API_URL"] = base

from TikTokLive import TikTokLiveClient  # noqa: E402
from TikTokLive.client.web.web_settings import WebDefaults  # noqa: E402
from TikTokLive.events import (  # noqa: E402
    CommentEvent, ConnectEvent, ControlEvent, DisconnectEvent, FollowEvent, GiftEvent, JoinEvent,
    LikeEvent, LiveEndEvent, LivePauseEvent, LiveUnpauseEvent, RoomUserSeqEvent, ShareEvent,
    SubNotifyEvent,
)
from TikTokLive.events.custom_events import UnknownEvent  # noqa: E402

WebDefaults.tiktok_app_url = base
WebDefaults.tiktok_webcast_url = base + "/webcast"
WebDefaults.tiktok_sign_url = base

client = TikTokLiveClient(unique_id="@" + user)
counts = {}


def out(kind, **fields):
    counts[kind] = counts.get(kind, 0) + 1
    print(json.dumps({"event": kind, **fields}, ensure_ascii=False), flush=True)


@client.on(ConnectEvent)
async def on_connect(e: ConnectEvent):
    out("connect", room_id=str(client.room_id))


@client.on(CommentEvent)
async def on_comment(e: CommentEvent):
    out("comment", user=e.user.unique_id, text=e.comment)


@client.on(GiftEvent)
async def on_gift(e: GiftEvent):
    out("gift", user=e.user.unique_id, gift=e.gift.name, repeat_count=e.repeat_count,
        streaking=e.streaking, group_id=str(e.group_id))


@client.on(LikeEvent)
async def on_like(e: LikeEvent):
    out("like", count=e.count, total=e.total)


@client.on(FollowEvent)
async def on_follow(e: FollowEvent):
    out("follow", user=e.user.unique_id)


@client.on(ShareEvent)
async def on_share(e: ShareEvent):
    out("share", user=e.user.unique_id)


@client.on(JoinEvent)
async def on_join(e: JoinEvent):
    out("join", user=e.user.unique_id)


@client.on(RoomUserSeqEvent)
async def on_viewers(e: RoomUserSeqEvent):
    out("viewers", total=e.total)


@client.on(SubNotifyEvent)
async def on_sub(e: SubNotifyEvent):
    out("subscribe", user=e.user.unique_id)


@client.on(ControlEvent)
async def on_control(e: ControlEvent):
    out("control", action=int(e.action))


@client.on(LivePauseEvent)
async def on_pause(e):
    out("pause")


@client.on(LiveUnpauseEvent)
async def on_unpause(e):
    out("unpause")


@client.on(LiveEndEvent)
async def on_end(e):
    out("live_end")


@client.on(UnknownEvent)
async def on_unknown(e: UnknownEvent):
    out("unknown", methods=[m.method for m in e.raw.messages] if e.raw else [])


@client.on(DisconnectEvent)
async def on_disconnect(e):
    out("disconnect")


async def main():
    try:
        await asyncio.wait_for(client.connect(fetch_gift_info=True), timeout=60)
    except asyncio.TimeoutError:
        print("timed out", file=sys.stderr)
    print(json.dumps({"summary": counts}), flush=True)


asyncio.run(main())
