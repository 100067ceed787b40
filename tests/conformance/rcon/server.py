"""A third-party RCON server (PyPI `rcon-server`, a Source-protocol implementation) with a
few commands, so livetrigger-cli can be run against code we did not write.

Usage: python server.py PORT PASSWORD   (binds 127.0.0.1 only)
"""
import asyncio
import sys

from rcon_server.rcon_packet import RCONPacket
from rcon_server.rcon_server import RCONServer

CHUNK = 4096  # split long replies like Minecraft does


class ConformanceServer(RCONServer):
    def handle_execcommand(self, packet, connection):
        name, _, rest = packet.body.partition(" ")
        if name == "list":
            reply = "There are 0 of a max of 20 players online: "
        elif name == "echo":
            reply = rest
        elif name == "repeat":
            n, _, text = rest.partition(" ")
            reply = text * int(n)
        else:
            reply = f"Unknown command: {packet.body}"
        print(f"executed {packet.body[:60]!r}", flush=True)
        chunks = [reply[i:i + CHUNK] for i in range(0, len(reply), CHUNK)] or [""]
        for chunk in chunks:
            connection.send_packet(
                RCONPacket(packet.id, RCONPacket.SERVERDATA_RESPONSE_VALUE, chunk))


if __name__ == "__main__":
    port, password = int(sys.argv[1]), sys.argv[2]
    asyncio.run(ConformanceServer(bind=("127.0.0.1", port), password=password).listen())
