// TikTok-Live-Connector (npm `tiktok-live-connector`) driven in-process over recorded push
// frames. Run by run.sh with NODE_PATH pointing into the npm prefix it creates. Two modes:
//
//   bench SECS REC...   one counting pass, then timed passes for SECS (at least 3); prints one
//                       JSON line: messages, typed events, median messages/s, peak RSS.
//   print REC...        decode as a user would and print one JSON line per decoded message
//                       (the whole-process row: start-up, imports and file reads included).
//
// The path driven is the library's own (dist/lib-*.js of 2.x):
//   - per frame, what `WebcastWebSocketClient.onMessage` does with a websocket binary message:
//     `deserializeWebSocketMessage(bytes)` (exported: `WebcastPushFrame.decode`, gunzip by the
//     gzip magic with zlib.unzip, `ProtoMessageFetchResult` decode, then every message's body
//     decoded by its method name into `decodedData`);
//   - then the handler the connection binds to that client's "protoMessageFetchResult" event,
//     `TikTokLiveConnection.processProtoMessageFetchResult` (a method without a leading
//     underscore, but not documented as API): "decodedData" plus the typed event ("chat",
//     "gift", "follow", "streamEnd", ...) emitted per message.
// The ack `onMessage` sends needs a socket and is left out (as for the other drivers).
//
// Recordings are LiveTrigger's one-file format (docs/tiktok-live.md, "Recordings").

import { readFileSync } from 'node:fs';
import { deserializeWebSocketMessage, TikTokLiveConnection } from 'tiktok-live-connector';

function readFrames(path) {
  const data = readFileSync(path);
  if (data.subarray(0, 6).toString('latin1') !== 'LTREC\n') {
    throw new Error(`${path}: not a LiveTrigger recording`);
  }
  const frames = [];
  let at = 8;
  while (at + 13 <= data.length) {
    const kind = data[at];
    const length = data.readUInt32LE(at + 9);
    if (at + 13 + length > data.length) break;
    if (kind === 2) frames.push(data.subarray(at + 13, at + 13 + length));
    at += 13 + length;
  }
  return frames;
}

function peakRssKib() {
  const status = readFileSync('/proc/self/status', 'utf8');
  const line = status.split('\n').find((l) => l.startsWith('VmHWM:'));
  return line ? Number.parseInt(line.split(/\s+/)[1], 10) : 0;
}

async function onePass(connection, streams) {
  let messages = 0;
  for (const frames of streams) {
    for (const bytes of frames) {
      const container = await deserializeWebSocketMessage(bytes);
      if (container.protoMessageFetchResult) {
        messages += container.protoMessageFetchResult.messages.length;
        await connection.processProtoMessageFetchResult(container.protoMessageFetchResult);
      }
    }
  }
  return messages;
}

async function bench(secs, paths) {
  const streams = paths.map(readFrames);
  const connection = new TikTokLiveConnection('peers_bench', {});
  // Counting pass: every emitted event by name (the timed passes count nothing).
  const perType = {};
  const realEmit = connection.emit;
  connection.emit = function counting(name, ...args) {
    perType[name] = (perType[name] ?? 0) + 1;
    return realEmit.call(this, name, ...args);
  };
  const messages = await onePass(connection, streams);
  connection.emit = realEmit;

  // Per wall second and per CPU second of the process, all threads (gunzip runs on libuv's
  // pool): on a shared machine the wall clock also counts other processes' turns.
  const rates = [];
  const cpuRates = [];
  const started = performance.now();
  while (rates.length < 3 || performance.now() - started < secs * 1000) {
    const t = performance.now();
    const c = process.cpuUsage();
    const n = await onePass(connection, streams);
    const used = process.cpuUsage(c);
    rates.push(n / ((performance.now() - t) / 1000));
    cpuRates.push(n / ((used.user + used.system) / 1e6));
  }
  rates.sort((a, b) => a - b);
  cpuRates.sort((a, b) => a - b);
  const typed = Object.entries(perType)
    .filter(([k]) => !['decodedData', 'disconnected'].includes(k))
    .reduce((sum, [, v]) => sum + v, 0);
  console.log(
    JSON.stringify({
      driver: 'connector',
      messages,
      events: typed,
      decoded: perType.decodedData ?? 0,
      event_types: perType,
      passes: rates.length,
      msgs_per_s: rates[Math.floor(rates.length / 2)],
      msgs_per_cpu_s: cpuRates[Math.floor(cpuRates.length / 2)],
      peak_rss_kib: peakRssKib(),
    }),
  );
}

// 64-bit ids may come as BigInt, which JSON.stringify refuses.
const bigints = (_key, value) => (typeof value === 'bigint' ? value.toString() : value);

async function printAll(paths) {
  const connection = new TikTokLiveConnection('peers_bench', {});
  const out = [];
  // The library's per-message event: every decoded message, with its method name.
  connection.on('decodedData', (type, decoded) => {
    out.push(JSON.stringify({ type, data: decoded.data }, bigints));
    if (out.length >= 256) process.stdout.write(out.splice(0).join('\n') + '\n');
  });
  for (const path of paths) {
    await onePass(connection, [readFrames(path)]);
  }
  if (out.length) process.stdout.write(out.join('\n') + '\n');
}

const [mode, ...rest] = process.argv.slice(2);
if (mode === 'bench' && rest.length >= 2) {
  await bench(Number(rest[0]), rest.slice(1));
} else if (mode === 'print' && rest.length >= 1) {
  await printAll(rest);
} else {
  console.error('usage: connector_driver.mjs bench SECS REC... | print REC...');
  process.exit(2);
}
