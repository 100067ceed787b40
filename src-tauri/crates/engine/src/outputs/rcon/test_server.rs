//! A small RCON server that behaves like vanilla Minecraft's, for tests and for trying the app
//! without a game running.
//!
//! Faithful where clients trip: one packet per `read()` of at most 1460 bytes (a read holding
//! a split or a second packet closes the connection, as vanilla does), a wrong password
//! answered with id -1 while the connection stays open, replies split into 4096-byte bodies
//! with a multi-byte char cut at the seam turned into U+FFFD, and unknown packet types
//! answered with `Unknown request <hex>`.
//!
//! Commands it understands: `list`, `say <text>` (empty reply), `echo <text>`,
//! `repeat <n> <text>` (the text n times), `sleep <ms> <text>` (replies after a delay),
//! `rawhex <hex>` (reply bytes as given, e.g. invalid UTF-8, as non-vanilla servers send),
//! `badlength` (a packet whose length field is -5), `close` (drops the connection without a
//! reply). Anything else gets vanilla's unknown-command message.

use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::wire::{self, TYPE_AUTH, TYPE_AUTH_RESPONSE, TYPE_EXEC, TYPE_RESPONSE};

/// Vanilla's read buffer: a packet must arrive whole in one read of this size.
const READ_BUF: usize = 1460;

#[derive(Debug, Default)]
struct Log {
    executed: Vec<String>,
    packet_times: Vec<tokio::time::Instant>,
    auth_attempts: u32,
    connections: u32,
    dropped_for_framing: u32,
}

/// State shared by every connection of one server, across restarts.
#[derive(Clone)]
pub struct ServerState {
    password: Arc<str>,
    // A std mutex: it is never held across an `.await`.
    log: Arc<Mutex<Log>>,
    changed: watch::Sender<u64>,
}

impl ServerState {
    pub fn new(password: &str) -> Self {
        ServerState {
            password: password.into(),
            log: Arc::default(),
            changed: watch::channel(0).0,
        }
    }

    fn update(&self, f: impl FnOnce(&mut Log)) {
        f(&mut self.log.lock().expect("log lock"));
        self.changed.send_modify(|n| *n += 1);
    }

    /// Commands executed so far, in order.
    pub fn executed(&self) -> Vec<String> {
        self.log.lock().expect("log lock").executed.clone()
    }

    /// When each packet arrived (tokio's clock, so paused-time tests see virtual time).
    pub fn packet_times(&self) -> Vec<tokio::time::Instant> {
        self.log.lock().expect("log lock").packet_times.clone()
    }

    pub fn auth_attempts(&self) -> u32 {
        self.log.lock().expect("log lock").auth_attempts
    }

    pub fn connections(&self) -> u32 {
        self.log.lock().expect("log lock").connections
    }

    /// Connections closed because a read held a split or a second packet.
    pub fn dropped_for_framing(&self) -> u32 {
        self.log.lock().expect("log lock").dropped_for_framing
    }

    /// Waits until at least `n` commands have been executed.
    pub async fn wait_executed(&self, n: usize) {
        let mut rx = self.changed.subscribe();
        while self.executed().len() < n {
            if rx.changed().await.is_err() {
                return;
            }
        }
    }

    /// Serves one connection until the client leaves, a framing rule is broken, or `stop`.
    pub async fn serve<S>(self, mut io: S, stop: CancellationToken)
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        self.update(|l| l.connections += 1);
        let mut authed = false;
        let mut buf = [0u8; READ_BUF];
        loop {
            let n = tokio::select! {
                _ = stop.cancelled() => return,
                r = io.read(&mut buf) => match r {
                    Ok(0) | Err(_) => return,
                    Ok(n) => n,
                },
            };
            self.update(|l| l.packet_times.push(tokio::time::Instant::now()));
            let mut bytes = buf[..n].to_vec();
            let packet = match wire::decode(&mut bytes) {
                Ok(Some(p)) if bytes.is_empty() => p,
                _ => {
                    self.update(|l| l.dropped_for_framing += 1);
                    return;
                }
            };
            let outcome = match packet.kind {
                TYPE_AUTH => {
                    authed = packet.body == self.password.as_bytes();
                    self.update(|l| l.auth_attempts += 1);
                    let id = if authed { packet.id } else { -1 };
                    send(&mut io, id, TYPE_AUTH_RESPONSE, b"").await
                }
                TYPE_EXEC if !authed => send(&mut io, -1, TYPE_AUTH_RESPONSE, b"").await,
                TYPE_EXEC => {
                    let cmd = String::from_utf8_lossy(&packet.body).into_owned();
                    match self.execute(&cmd, &stop).await {
                        Action::Reply(text) => reply_chunked(&mut io, packet.id, &text).await,
                        Action::Raw(bytes) => send(&mut io, packet.id, TYPE_RESPONSE, &bytes).await,
                        Action::BadLength => {
                            let mut p = wire::encode(packet.id, TYPE_RESPONSE, b"x");
                            p[..4].copy_from_slice(&(-5i32).to_le_bytes());
                            io.write_all(&p).await
                        }
                        Action::Close => return,
                    }
                }
                other => {
                    let msg = format!("Unknown request {other:x}");
                    reply_chunked(&mut io, packet.id, &msg).await
                }
            };
            if outcome.is_err() {
                return;
            }
        }
    }

    async fn execute(&self, cmd: &str, stop: &CancellationToken) -> Action {
        let cmd = cmd.strip_prefix('/').unwrap_or(cmd);
        // `execute … run <command>` only changes where and as whom the command runs (the
        // starter places mobs at the streamer): the reply is the inner command's.
        let mut inner = cmd;
        while let Some((_, run)) = inner
            .strip_prefix("execute ")
            .and_then(|rest| rest.split_once(" run "))
        {
            inner = run;
        }
        let (name, rest) = inner.split_once(' ').unwrap_or((inner, ""));
        let action = match name {
            "summon" => match summoned_name(rest) {
                Some(entity) => Action::Reply(format!("Summoned new {entity}")),
                None => Action::Reply(format!(
                    "Unknown or incomplete command, see below for error{cmd}<--[HERE]"
                )),
            },
            "list" => Action::Reply("There are 0 of a max of 20 players online: ".into()),
            "say" => Action::Reply(String::new()),
            "echo" => Action::Reply(rest.into()),
            "repeat" => {
                let (n, text) = rest.split_once(' ').unwrap_or((rest, ""));
                Action::Reply(text.repeat(n.parse().unwrap_or(1)))
            }
            "sleep" => {
                let (ms, text) = rest.split_once(' ').unwrap_or((rest, ""));
                let delay = Duration::from_millis(ms.parse().unwrap_or(0));
                tokio::select! {
                    _ = tokio::time::sleep(delay) => {}
                    _ = stop.cancelled() => return Action::Close,
                }
                Action::Reply(text.into())
            }
            "rawhex" => Action::Raw(
                (0..rest.len() / 2)
                    .filter_map(|i| u8::from_str_radix(&rest[2 * i..2 * i + 2], 16).ok())
                    .collect(),
            ),
            "badlength" => Action::BadLength,
            "close" => Action::Close,
            _ => Action::Reply(format!(
                "Unknown or incomplete command, see below for error{cmd}<--[HERE]"
            )),
        };
        if !matches!(action, Action::Close) {
            self.update(|l| l.executed.push(cmd.to_owned()));
        }
        action
    }
}

/// The display name vanilla puts in "Summoned new …" for `summon <entity> …`.
fn summoned_name(args: &str) -> Option<String> {
    let id = args.split_whitespace().next()?;
    let id = id.strip_prefix("minecraft:").unwrap_or(id);
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
        return None;
    }
    Some(match id {
        "tnt" => "Primed TNT".to_owned(),
        other => other
            .split('_')
            .map(|w| {
                let mut c = w.chars();
                c.next()
                    .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                    .unwrap_or_default()
            })
            .collect::<Vec<_>>()
            .join(" "),
    })
}

enum Action {
    Reply(String),
    Raw(Vec<u8>),
    BadLength,
    Close,
}

async fn send<S: AsyncWrite + Unpin>(
    io: &mut S,
    id: i32,
    kind: i32,
    body: &[u8],
) -> io::Result<()> {
    io.write_all(&wire::encode(id, kind, body)).await
}

/// Vanilla's reply splitting: 4096-byte slices of the UTF-8 bytes, each decoded on its own,
/// so a char cut at a seam becomes U+FFFD on both sides. An empty reply is one empty packet.
async fn reply_chunked<S: AsyncWrite + Unpin>(io: &mut S, id: i32, text: &str) -> io::Result<()> {
    let bytes = text.as_bytes();
    let mut start = 0;
    loop {
        let end = (start + wire::VANILLA_CHUNK).min(bytes.len());
        let chunk = String::from_utf8_lossy(&bytes[start..end]);
        send(io, id, TYPE_RESPONSE, chunk.as_bytes()).await?;
        start = end;
        if start >= bytes.len() {
            return Ok(());
        }
    }
}

/// The server on 127.0.0.1, restartable on the same port.
pub struct McRconServer {
    state: ServerState,
    addr: SocketAddr,
    stop: CancellationToken,
    tracker: TaskTracker,
}

impl McRconServer {
    /// Starts on 127.0.0.1 with a port picked by the OS.
    pub async fn start(password: &str) -> io::Result<Self> {
        Self::start_at(
            ServerState::new(password),
            SocketAddr::from(([127, 0, 0, 1], 0)),
        )
        .await
    }

    async fn start_at(state: ServerState, addr: SocketAddr) -> io::Result<Self> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let stop = CancellationToken::new();
        let tracker = TaskTracker::new();
        let (st, cancel, tr) = (state.clone(), stop.clone(), tracker.clone());
        tracker.spawn(async move {
            loop {
                let accepted = tokio::select! {
                    _ = cancel.cancelled() => return,
                    a = listener.accept() => a,
                };
                if let Ok((sock, _)) = accepted {
                    let _ = sock.set_nodelay(true);
                    tr.spawn(st.clone().serve(sock, cancel.clone()));
                }
            }
        });
        Ok(McRconServer {
            state,
            addr,
            stop,
            tracker,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn state(&self) -> &ServerState {
        &self.state
    }

    /// Closes the listener and every connection, like a server shutting down.
    pub async fn stop(&self) {
        self.stop.cancel();
        self.tracker.close();
        self.tracker.wait().await;
    }

    /// Stops, then listens again on the same port with the same log.
    pub async fn restart(&mut self) -> io::Result<()> {
        self.stop().await;
        *self = Self::start_at(self.state.clone(), self.addr).await?;
        Ok(())
    }
}

impl Drop for McRconServer {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}
