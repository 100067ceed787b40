//! RCON output against a real server: [`McRconServer`] on 127.0.0.1 for behaviour over TCP,
//! and the same server code over in-memory pipes where time is paused (timeouts, pacing,
//! backoff), because a paused clock would race real socket I/O.

use std::collections::HashSet;
use std::io;
use std::time::Duration;

use livetrigger_engine::outputs::rcon::test_server::{McRconServer, ServerState};
use livetrigger_engine::outputs::rcon::{
    Connector, Delivery, RconConfig, RconError, RconHealth, RconOutput,
};
use livetrigger_engine::outputs::MAX_COMMAND_BYTES;
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};
use tokio_util::sync::CancellationToken;

const PW: &str = "s3cret";

fn fast(addr: impl Into<String>, password: &str) -> RconConfig {
    let mut c = RconConfig::new(addr, password);
    c.backoff_initial = Duration::from_millis(20);
    c.backoff_max = Duration::from_millis(200);
    c.command_gap = Duration::from_millis(2);
    c
}

async fn wait_health(
    rx: &mut tokio::sync::watch::Receiver<RconHealth>,
    f: impl Fn(&RconHealth) -> bool,
) -> RconHealth {
    rx.wait_for(|h| f(h)).await.expect("output alive").clone()
}

/// Connects to the server code over an in-memory pipe, so paused time is safe.
struct Pipe {
    state: ServerState,
    stop: CancellationToken,
    down: bool,
}

impl Pipe {
    fn new(state: &ServerState) -> Self {
        Pipe {
            state: state.clone(),
            stop: CancellationToken::new(),
            down: false,
        }
    }
}

impl Connector for Pipe {
    type Io = DuplexStream;
    async fn connect(&mut self, _addr: &str) -> io::Result<DuplexStream> {
        if self.down {
            return Err(io::ErrorKind::ConnectionRefused.into());
        }
        let (client, server) = tokio::io::duplex(64 * 1024);
        tokio::spawn(self.state.clone().serve(server, self.stop.clone()));
        Ok(client)
    }
}

#[tokio::test]
async fn commands_run_in_order_and_replies_come_back() {
    let server = McRconServer::start(PW).await.unwrap();
    let out = RconOutput::spawn(fast(server.addr().to_string(), PW));
    let h = out.handle();
    let mut records = h.records();
    assert_eq!(
        h.send("list").await.unwrap().text,
        "There are 0 of a max of 20 players online: "
    );
    assert_eq!(h.send("echo héllo").await.unwrap().text, "héllo");
    assert_eq!(h.send("say hi").await.unwrap().text, "");
    assert_eq!(server.state().executed(), ["list", "echo héllo", "say hi"]);
    assert_eq!(*h.health().borrow(), RconHealth::Connected);
    let first = records.recv().await.unwrap();
    assert_eq!(first.command, "list");
    assert!(first.result.is_ok());
    out.shutdown().await;
    assert_eq!(*h.health().borrow(), RconHealth::Stopped);
    assert_eq!(h.send("list").await, Err(RconError::Stopped));
}

#[tokio::test]
async fn summon_at_the_player_answers_like_vanilla() {
    let server = McRconServer::start(PW).await.unwrap();
    let out = RconOutput::spawn(fast(server.addr().to_string(), PW));
    let h = out.handle();
    let reply = |c: &'static str| {
        let h = h.clone();
        async move { h.send(c).await.unwrap().text }
    };
    assert_eq!(
        reply("execute at @p run summon minecraft:creeper ~ ~ ~").await,
        "Summoned new Creeper"
    );
    assert_eq!(
        reply("summon minecraft:tnt ~ ~ ~").await,
        "Summoned new Primed TNT"
    );
    assert_eq!(
        reply("execute as @a at @s run summon minecraft:iron_golem").await,
        "Summoned new Iron Golem"
    );
    assert!(reply("execute at @p")
        .await
        .starts_with("Unknown or incomplete command"));
    assert!(reply("summon")
        .await
        .starts_with("Unknown or incomplete command"));
    // The server records what it was sent, not the inner command.
    assert_eq!(
        server.state().executed()[0],
        "execute at @p run summon minecraft:creeper ~ ~ ~"
    );
    out.shutdown().await;
}

#[tokio::test]
async fn wrong_password_is_a_typed_error_and_not_retried() {
    let server = McRconServer::start(PW).await.unwrap();
    let out = RconOutput::spawn(fast(server.addr().to_string(), "wrong"));
    let h = out.handle();
    let err = h.send("list").await.unwrap_err();
    assert_eq!(err, RconError::AuthFailed);
    assert_eq!(err.delivery(), Delivery::NotSent);
    assert_eq!(*h.health().borrow(), RconHealth::AuthFailed);
    assert_eq!(h.send("say again").await, Err(RconError::AuthFailed));
    assert_eq!(server.state().auth_attempts(), 1);
    assert!(server.state().executed().is_empty());
}

#[tokio::test(start_paused = true)]
async fn wrong_password_stays_one_attempt_over_ten_minutes() {
    let state = ServerState::new(PW);
    let out = RconOutput::spawn_with(fast("pipe", "nope"), Pipe::new(&state));
    let mut health = out.handle().health();
    wait_health(&mut health, |h| *h == RconHealth::AuthFailed).await;
    tokio::time::sleep(Duration::from_secs(600)).await;
    assert_eq!(state.auth_attempts(), 1, "retry storm");
}

#[tokio::test]
async fn server_restart_mid_stream_loses_and_doubles_nothing() {
    let mut server = McRconServer::start(PW).await.unwrap();
    let out = RconOutput::spawn(fast(server.addr().to_string(), PW));
    let h = out.handle();
    let mut health = h.health();

    let mut pending = Vec::new();
    for i in 0..30 {
        pending.push((i, h.submit(format!("echo {i}")).await.unwrap()));
    }
    server.state().wait_executed(10).await;
    server.stop().await;
    wait_health(&mut health, |h| {
        matches!(
            h,
            RconHealth::Reconnecting { .. } | RconHealth::Unreachable { .. }
        )
    })
    .await;
    // Queued while the server is down.
    for i in 30..60 {
        pending.push((i, h.submit(format!("echo {i}")).await.unwrap()));
    }
    server.restart().await.unwrap();

    let mut ok = HashSet::new();
    let mut lost = Vec::new();
    for (i, p) in pending {
        match p.outcome().await {
            Ok(reply) => {
                assert_eq!(reply.text, i.to_string());
                ok.insert(format!("echo {i}"));
            }
            Err(e) => {
                assert_eq!(e.delivery(), Delivery::SentReplyLost, "{i}: {e}");
                lost.push(format!("echo {i}"));
            }
        }
    }
    let executed = server.state().executed();
    let unique: HashSet<_> = executed.iter().cloned().collect();
    assert_eq!(
        unique.len(),
        executed.len(),
        "a command ran twice: {executed:?}"
    );
    assert!(
        lost.len() <= 1,
        "only the one in flight may be lost: {lost:?}"
    );
    for cmd in &ok {
        assert!(unique.contains(cmd), "{cmd} replied but never ran");
    }
    for cmd in &unique {
        assert!(
            ok.contains(cmd) || lost.contains(cmd),
            "{cmd} ran unreported"
        );
    }
    assert_eq!(ok.len() + lost.len(), 60);
    let order: Vec<u32> = executed
        .iter()
        .map(|c| c.trim_start_matches("echo ").parse().unwrap())
        .collect();
    assert!(
        order.windows(2).all(|w| w[0] < w[1]),
        "out of order: {order:?}"
    );
    assert!(server.state().connections() >= 2);
}

#[tokio::test]
async fn ten_thousand_char_reply_is_reassembled() {
    let server = McRconServer::start(PW).await.unwrap();
    let out = RconOutput::spawn(fast(server.addr().to_string(), PW));
    let h = out.handle();

    let r = h.send("repeat 10000 W").await.unwrap();
    assert_eq!(r.text, "W".repeat(10_000));
    assert_eq!(r.packets, 3);
    assert!(!r.lossy);

    // Exactly one full chunk: there is no sequel, and the end marker must say so.
    let r = h.send("repeat 4096 a").await.unwrap();
    assert_eq!(r.text.len(), 4096);
    assert_eq!(r.packets, 1);

    // Vanilla splits bytes, not chars: a char cut at a seam arrives as U+FFFD on each side.
    let r = h.send("repeat 2500 aé漢😀").await.unwrap();
    assert!(r.packets >= 7);
    assert!(r.text.chars().all(|c| "aé漢😀\u{FFFD}".contains(c)));
    assert!(r.text.chars().filter(|&c| c != '\u{FFFD}').count() >= 10_000 - 2 * r.packets as usize);

    // The marker's own reply was consumed: the next command gets its own reply.
    assert_eq!(h.send("echo next").await.unwrap().text, "next");
    assert_eq!(server.state().connections(), 1);
    assert_eq!(server.state().dropped_for_framing(), 0);
}

#[tokio::test]
async fn oversize_commands_are_refused_and_never_sent() {
    let server = McRconServer::start(PW).await.unwrap();
    let out = RconOutput::spawn(fast(server.addr().to_string(), PW));
    let h = out.handle();
    let at_limit = format!("echo {}", "x".repeat(MAX_COMMAND_BYTES - 5));
    assert_eq!(at_limit.len(), MAX_COMMAND_BYTES);
    assert_eq!(
        h.send(at_limit.clone()).await.unwrap().text.len(),
        MAX_COMMAND_BYTES - 5
    );

    let over = format!("{at_limit}x");
    let err = h.send(over).await.unwrap_err();
    assert_eq!(
        err,
        RconError::TooLong {
            len: MAX_COMMAND_BYTES + 1
        }
    );
    assert_eq!(err.delivery(), Delivery::NotSent);
    assert_eq!(h.send("say a\0op me").await, Err(RconError::ContainsNul));
    assert_eq!(h.send("").await, Err(RconError::Empty));
    assert_eq!(server.state().executed(), [at_limit]);
}

#[tokio::test(start_paused = true)]
async fn slow_server_times_out_as_reply_lost_then_recovers() {
    let state = ServerState::new(PW);
    let mut cfg = fast("pipe", PW);
    cfg.command_timeout = Duration::from_secs(2);
    let out = RconOutput::spawn_with(cfg, Pipe::new(&state));
    let h = out.handle();
    let err = h.send("sleep 5000 late").await.unwrap_err();
    assert_eq!(err, RconError::NoReply(Duration::from_secs(2)));
    assert_eq!(err.delivery(), Delivery::SentReplyLost);
    // The next command gets its own reply on a fresh connection, never the late one.
    assert_eq!(h.send("echo fresh").await.unwrap().text, "fresh");
    assert_eq!(state.connections(), 2);
}

#[tokio::test(start_paused = true)]
async fn packets_are_paced_by_the_command_gap() {
    let state = ServerState::new(PW);
    let mut cfg = fast("pipe", PW);
    cfg.command_gap = Duration::from_millis(25);
    let out = RconOutput::spawn_with(cfg, Pipe::new(&state));
    let h = out.handle();
    let mut pending = Vec::new();
    for i in 0..10 {
        pending.push(h.submit(format!("echo {i}")).await.unwrap());
    }
    for p in pending {
        p.outcome().await.unwrap();
    }
    let times = state.packet_times();
    assert_eq!(times.len(), 11, "auth + 10 commands");
    for w in times.windows(2) {
        assert!(
            w[1] - w[0] >= Duration::from_millis(25),
            "{:?}",
            w[1] - w[0]
        );
    }
}

#[tokio::test]
async fn server_that_drops_pipelined_packets_never_sees_ours() {
    let server = McRconServer::start(PW).await.unwrap();
    // First prove the server enforces the rule: two packets in one write get the connection
    // closed, as on vanilla.
    let mut raw = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
    let mut two = Vec::new();
    for (id, kind, body) in [(1i32, 3i32, PW.as_bytes()), (2, 2, b"list".as_slice())] {
        two.extend_from_slice(&(body.len() as i32 + 10).to_le_bytes());
        two.extend_from_slice(&id.to_le_bytes());
        two.extend_from_slice(&kind.to_le_bytes());
        two.extend_from_slice(body);
        two.extend_from_slice(&[0, 0]);
    }
    raw.write_all(&two).await.unwrap();
    let mut buf = [0u8; 64];
    assert_eq!(raw.read(&mut buf).await.unwrap(), 0, "server should close");
    assert_eq!(server.state().dropped_for_framing(), 1);

    let mut cfg = fast(server.addr().to_string(), PW);
    cfg.command_gap = Duration::ZERO;
    let out = RconOutput::spawn(cfg);
    let h = out.handle();
    let mut pending = Vec::new();
    for i in 0..100 {
        pending.push(h.submit(format!("echo {i}")).await.unwrap());
    }
    for (i, p) in pending.into_iter().enumerate() {
        assert_eq!(p.outcome().await.unwrap().text, i.to_string());
    }
    assert_eq!(server.state().dropped_for_framing(), 1);
    assert_eq!(server.state().connections(), 2);
}

#[tokio::test]
async fn invalid_utf8_reply_keeps_the_connection() {
    let server = McRconServer::start(PW).await.unwrap();
    let out = RconOutput::spawn(fast(server.addr().to_string(), PW));
    let h = out.handle();
    let r = h.send("rawhex 66ff6f").await.unwrap();
    assert_eq!(r.text, "f\u{FFFD}o");
    assert!(r.lossy);
    assert_eq!(h.send("echo ok").await.unwrap().text, "ok");
    assert_eq!(server.state().connections(), 1);
}

#[tokio::test]
async fn hostile_reply_length_is_an_error_not_a_panic() {
    let server = McRconServer::start(PW).await.unwrap();
    let out = RconOutput::spawn(fast(server.addr().to_string(), PW));
    let h = out.handle();
    let err = h.send("badlength").await.unwrap_err();
    assert!(matches!(err, RconError::BadReply(_)), "{err}");
    assert_eq!(err.delivery(), Delivery::SentReplyLost);
    assert_eq!(h.send("echo after").await.unwrap().text, "after");
}

#[tokio::test(start_paused = true)]
async fn unreachable_server_fails_waiting_commands_as_not_sent() {
    let state = ServerState::new(PW);
    let mut pipe = Pipe::new(&state);
    pipe.down = true;
    let mut cfg = fast("pipe", PW);
    cfg.max_queue_wait = Duration::from_secs(30);
    let out = RconOutput::spawn_with(cfg, pipe);
    let h = out.handle();
    let mut health = h.health();
    let start = tokio::time::Instant::now();
    let err = h.send("say hello").await.unwrap_err();
    assert!(matches!(err, RconError::Unreachable { .. }), "{err}");
    assert_eq!(err.delivery(), Delivery::NotSent);
    assert!(start.elapsed() >= Duration::from_secs(30));
    let h2 = wait_health(&mut health, |h| matches!(h, RconHealth::Unreachable { .. })).await;
    assert!(matches!(h2, RconHealth::Unreachable { attempt, .. } if attempt >= 3));
    assert!(state.executed().is_empty());
}

#[tokio::test]
async fn unreachable_tcp_port_reports_health() {
    // A port nobody listens on: bind, note it, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut cfg = fast(format!("127.0.0.1:{port}"), PW);
    cfg.max_queue_wait = Duration::from_millis(300);
    let out = RconOutput::spawn(cfg);
    let h = out.handle();
    let err = h.send("list").await.unwrap_err();
    assert!(matches!(err, RconError::Unreachable { .. }), "{err}");
    let mut health = h.health();
    wait_health(&mut health, |h| matches!(h, RconHealth::Unreachable { .. })).await;
}

#[tokio::test]
async fn shutdown_fails_queued_commands_as_not_sent() {
    let mut cfg = fast("127.0.0.1:9", PW);
    cfg.max_queue_wait = Duration::from_secs(3600);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    cfg.addr = format!("127.0.0.1:{port}");
    let out = RconOutput::spawn(cfg);
    let h = out.handle();
    let p = h.submit("say queued").await.unwrap();
    out.shutdown().await;
    assert_eq!(p.outcome().await, Err(RconError::Stopped));
}

/// Why the library frames packets itself: `rcon` 0.6 trusts the length field.
#[tokio::test]
async fn rcon_crate_0_6_panics_on_a_hostile_length() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        let mut buf = [0u8; 64];
        let _ = s.read(&mut buf).await.unwrap();
        // length 0: the crate computes a body of -10 bytes and reserves usize::MAX - 9.
        s.write_all(&[0u8; 16]).await.unwrap();
        s
    });
    let client = tokio::spawn(async move {
        let _ = rcon::Connection::<tokio::net::TcpStream>::builder()
            .enable_minecraft_quirks(true)
            .connect(addr, PW)
            .await;
    });
    let joined = client.await;
    assert!(
        joined.is_err_and(|e| e.is_panic()),
        "rcon 0.6 no longer panics; revisit docs/outputs.md"
    );
    drop(server.await);
}
