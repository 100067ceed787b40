"""TikTokLive (PyPI `TikTokLive`) driven in-process over recorded push frames.

Run by run.sh with the venv it creates. Two modes:

  bench SECS REC...   one counting pass, then timed passes for SECS (at least 3); prints one
                      JSON line: messages, typed events, median messages/s, peak RSS.
  print REC...        decode as a user would and print one JSON line per message (the
                      whole-process row: start-up, imports and file reads included).

The path driven is the library's own, not a copy of it:
  - per frame, what `WebcastConnect.__aiter__` (client/ws/ws_connect.py) does with each
    websocket binary message: `WebcastPushFrame().parse(bytes)`, drop non-`msg` frames, then
    `extract_webcast_response_message(push_frame)` (client/ws/ws_utils.py: gunzip by the
    `compress_type` header, `ProtoMessageFetchResult().parse`);
  - per stream, `TikTokLiveClient._ws_client_loop` (private) verbatim, with `self._ws.connect`
    replaced by a generator of those fetch results: it runs `_parse_webcast_response` (typed
    decode by method through `EVENT_MAPPINGS`, the follow/share/live-end custom events) and
    `emit`s every event, as it does on a live socket. The ack and room switch that
    `WebcastWSClient.connect` adds need a socket and are left out (as for the other drivers).

Recordings are LiveTrigger's one-file format (docs/tiktok-live.md, "Recordings"): `LTREC\\n`,
u16 version, then records of kind u8, arrival u64, length u32 (little-endian), body.
"""

import asyncio
import json
import struct
import sys
import time

from TikTokLive import TikTokLiveClient
from TikTokLive.client.ws.ws_utils import extract_webcast_response_message
from TikTokLive.events.custom_events import UnknownEvent, WebsocketResponseEvent
from TikTokLive.proto import WebcastPushFrame

ROOM_ID = 7_000_000_000_000_000_001


def read_frames(path: str) -> list[bytes]:
    with open(path, "rb") as f:
        data = f.read()
    if data[:6] != b"LTREC\n":
        raise SystemExit(f"{path}: not a LiveTrigger recording")
    frames, at = [], 8
    while at + 13 <= len(data):
        kind, _arrival, length = struct.unpack_from("<BQI", data, at)
        body = data[at + 13: at + 13 + length]
        if len(body) < length:
            break
        at += 13 + length
        if kind == 2:
            frames.append(body)
    return frames


def fetch_results(frames: list[bytes], counter: list[int]):
    """The websocket side of `WebcastConnect.__aiter__`, without the socket."""
    async def gen(**_kwargs):
        for payload_bytes in frames:
            push_frame = WebcastPushFrame().parse(payload_bytes)
            if push_frame.payload_type != "msg":
                continue
            response = extract_webcast_response_message(push_frame)
            counter[0] += len(response.messages)
            yield response
    return gen


def peak_rss_kib() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


async def one_pass(client: TikTokLiveClient, streams: list[list[bytes]]) -> int:
    counter = [0]
    for frames in streams:
        client._room_id = ROOM_ID  # set by `start()` on a real connection
        client._ws.connect = fetch_results(frames, counter)
        await client._ws_client_loop(
            initial_webcast_response=None, process_connect_events=True, compress_ws_events=True
        )
        # A stream end schedules `disconnect()` as a task: let it run, as it would live.
        await asyncio.sleep(0)
    return counter[0]


async def bench(secs: float, paths: list[str]) -> None:
    streams = [read_frames(p) for p in paths]
    client = TikTokLiveClient(unique_id="@peers_bench")
    # Corrupt payloads are in the corpus on purpose; the library logs each with a traceback
    # unless told to ignore them, which would time the logger rather than the decoding.
    client.ignore_broken_payload = True

    # Counting pass: every emitted event by type (the timed passes count nothing).
    per_type: dict[str, int] = {}
    real_emit = client.emit

    def counting_emit(name, *args):
        per_type[name] = per_type.get(name, 0) + 1
        return real_emit(name, *args)

    client.emit = counting_emit
    messages = await one_pass(client, streams)
    client.emit = real_emit

    # Per wall second and per CPU second of the process (on a shared machine the wall clock
    # also counts other processes' turns on the core).
    rates, cpu_rates = [], []
    started = time.perf_counter()
    while len(rates) < 3 or time.perf_counter() - started < secs:
        t, c = time.perf_counter(), time.process_time()
        n = await one_pass(client, streams)
        rates.append(n / (time.perf_counter() - t))
        cpu_rates.append(n / (time.process_time() - c))
    rates.sort()
    cpu_rates.sort()
    typed = sum(v for k, v in per_type.items()
                if k not in ("WebsocketResponseEvent", "UnknownEvent", "DisconnectEvent", "ConnectEvent"))
    print(json.dumps({
        "driver": "tiktoklive",
        "messages": messages,
        "events": typed,
        "unknown": per_type.get("UnknownEvent", 0),
        "event_types": per_type,
        "passes": len(rates),
        "msgs_per_s": rates[len(rates) // 2],
        "msgs_per_cpu_s": cpu_rates[len(cpu_rates) // 2],
        "peak_rss_kib": peak_rss_kib(),
    }))


async def print_all(paths: list[str]) -> None:
    # TikTokLive 7.0.1's `ExtendedUser`/`ExtendedGift` (TikTokLive/proto/custom_proto.py)
    # subclass TikTokLiveProto types whose annotations name `typing`, `pydantic`, ...; but
    # betterproto2 resolves them in custom_proto's namespace, which lacks those names, so
    # `to_dict()` of any event with a user fails with NameError. A user printing events needs
    # the same fix: lend custom_proto the names of the modules its base classes come from.
    import TikTokLive.proto.custom_proto as custom_proto
    for base in (custom_proto.User, custom_proto.Gift):
        for name, value in vars(sys.modules[base.__module__]).items():
            custom_proto.__dict__.setdefault(name, value)

    client = TikTokLiveClient(unique_id="@peers_bench")
    client.ignore_broken_payload = True
    out = sys.stdout
    for path in paths:
        client._room_id = ROOM_ID
        for payload_bytes in read_frames(path):
            push_frame = WebcastPushFrame().parse(payload_bytes)
            if push_frame.payload_type != "msg":
                continue
            response = extract_webcast_response_message(push_frame)
            for message in response.messages:
                events = await client._parse_webcast_response_message(
                    webcast_response=response, webcast_response_message=message
                )
                # The most specific event of the message (a custom one such as FollowEvent
                # comes first), as a handler registered for it would receive it.
                typed = next((e for e in events if not isinstance(e, WebsocketResponseEvent)), None)
                if typed is None or isinstance(typed, UnknownEvent):
                    out.write(json.dumps({"type": "unknown", "method": message.method}) + "\n")
                else:
                    out.write(json.dumps({"type": typed.get_type(), "data": typed.to_dict()},
                                         ensure_ascii=False, default=str) + "\n")
        await asyncio.sleep(0)


def main() -> None:
    if len(sys.argv) >= 4 and sys.argv[1] == "bench":
        asyncio.run(bench(float(sys.argv[2]), sys.argv[3:]))
    elif len(sys.argv) >= 3 and sys.argv[1] == "print":
        asyncio.run(print_all(sys.argv[2:]))
    else:
        raise SystemExit("usage: tiktoklive_driver.py bench SECS REC... | print REC...")


if __name__ == "__main__":
    main()
