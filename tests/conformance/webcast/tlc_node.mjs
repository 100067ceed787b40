// Points npm tiktok-live-connector 2.x at `livetrigger-cli simulate` and prints what it
// receives (one JSON line per event, then a summary). Not run in CI: see README.md here.
//   SIM=http://127.0.0.1:PORT SIGN_API_URL=$SIM node tlc_node.mjs
import { TikTokLiveConnection, WebcastEvent, ControlEvent } from "tiktok-live-connector";

const sim = process.env.SIM;
const host = new URL(sim).host;
const conn = new TikTokLiveConnection("simstreamer", {
  webConfigOverrides: {
    TIKTOK_HOST_WEB: host,
    TIKTOK_HOST_WEBCAST: host,
  },
  // TLC switches to https for loopback hosts; the simulator answers it with a self-signed
  // certificate on the same port.
  webClientOptions: { https: { rejectUnauthorized: false } },
  fetchRoomInfoOnConnect: true,
  processInitialData: true,
});
const counts = {};
const bump = (k) => (counts[k] = (counts[k] ?? 0) + 1);
const on = (ev, name, fmt) =>
  conn.on(ev, (d) => {
    bump(name);
    console.log(JSON.stringify({ event: name, ...fmt(d) }));
  });
on(WebcastEvent.CHAT, "chat", (d) => ({ user: d.user?.uniqueId, text: d.comment }));
on(WebcastEvent.GIFT, "gift", (d) => ({
  user: d.user?.uniqueId,
  gift: d.giftDetails?.giftName ?? d.giftId,
  repeatCount: d.repeatCount,
  repeatEnd: d.repeatEnd,
}));
on(WebcastEvent.LIKE, "like", (d) => ({ count: d.likeCount, total: d.totalLikeCount }));
on(WebcastEvent.FOLLOW, "follow", (d) => ({ user: d.user?.uniqueId }));
on(WebcastEvent.SHARE, "share", (d) => ({ user: d.user?.uniqueId }));
on(WebcastEvent.MEMBER, "member", (d) => ({ user: d.user?.uniqueId, action: d.action }));
on(WebcastEvent.ROOM_USER, "viewers", (d) => ({ total: d.viewerCount ?? d.total }));
on(WebcastEvent.SUBSCRIBE, "subscribe", (d) => ({ user: d.user?.uniqueId }));
on(WebcastEvent.STREAM_END, "stream_end", () => ({}));
on(ControlEvent.DISCONNECTED, "disconnected", (d) => ({ code: d?.code, reason: String(d?.reason ?? "") }));
conn.on(ControlEvent.ERROR, (e) => {
  bump("error");
  console.log(JSON.stringify({ event: "error", info: String(e?.info ?? e), exception: String(e?.exception ?? "") }));
});

try {
  const state = await conn.connect();
  console.log(JSON.stringify({ event: "connected", roomId: state.roomId }));
} catch (e) {
  console.log(JSON.stringify({ event: "connect_failed", error: String(e) }));
  process.exit(1);
}
await new Promise((resolve) => {
  conn.on(ControlEvent.DISCONNECTED, resolve);
  setTimeout(resolve, 20000);
});
console.log(JSON.stringify({ summary: counts }));
process.exit(0);
