//! Minecraft RCON output: one task owns the connection; callers send a command and get its
//! outcome back on a oneshot.
//!
//! Guarantees the queue above relies on:
//! - Commands run in the order sent, one at a time, with [`RconConfig::command_gap`] between
//!   packets (vanilla drops packets that arrive together).
//! - A command that fails *before any byte left* is kept and sent after the reconnect; the
//!   caller only sees [`Delivery::NotSent`] when it gave up waiting for a connection. A command
//!   whose reply is lost is reported as [`Delivery::SentReplyLost`] and never sent again: it
//!   may have run, and a doubled paid action is worse than a missing one the user can see.
//! - A wrong password stops all attempts until the output is rebuilt with a new one.

pub mod wire;

pub mod test_server;

use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::time::Duration;

use serde::Serialize;
use thiserror::Error;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tokio::time::{sleep_until, timeout, Instant};
use tokio_util::sync::CancellationToken;

use super::MAX_COMMAND_BYTES;
use wire::{Framed, Idle, Packet, TYPE_AUTH, TYPE_AUTH_RESPONSE, TYPE_EXEC, TYPE_RESPONSE};

/// Largest reassembled reply accepted; a server streaming chunks forever is a protocol error.
pub const MAX_REPLY_BYTES: usize = 1024 * 1024;

/// Failed connects in a row after which the health turns from reconnecting to unreachable.
const UNREACHABLE_AFTER: u32 = 3;

#[derive(Clone)]
pub struct RconConfig {
    /// `host:port`, e.g. `127.0.0.1:25575`.
    pub addr: String,
    pub password: String,
    /// TCP connect plus login.
    pub connect_timeout: Duration,
    /// From sending a command to its last reply packet.
    pub command_timeout: Duration,
    /// Quiet time between two packets on the connection.
    pub command_gap: Duration,
    /// How long a command may wait for a connection before it fails as not sent.
    pub max_queue_wait: Duration,
    pub backoff_initial: Duration,
    pub backoff_max: Duration,
    /// Commands held while disconnected; beyond this, `send` waits (backpressure).
    pub queue_capacity: usize,
}

/// The password is never printed.
impl std::fmt::Debug for RconConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RconConfig")
            .field("addr", &self.addr)
            .field("password", &"***")
            .field("connect_timeout", &self.connect_timeout)
            .field("command_timeout", &self.command_timeout)
            .field("max_queue_wait", &self.max_queue_wait)
            .field("queue_capacity", &self.queue_capacity)
            .finish_non_exhaustive()
    }
}

impl RconConfig {
    pub fn new(addr: impl Into<String>, password: impl Into<String>) -> Self {
        RconConfig {
            addr: addr.into(),
            password: password.into(),
            connect_timeout: Duration::from_secs(5),
            command_timeout: Duration::from_secs(10),
            command_gap: Duration::from_millis(10),
            // Long enough for a server restart, short enough that a gift from an hour ago
            // does not suddenly fire.
            max_queue_wait: Duration::from_secs(120),
            backoff_initial: Duration::from_millis(500),
            backoff_max: Duration::from_secs(30),
            queue_capacity: 1024,
        }
    }
}

/// What the app shows for an RCON target.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "camelCase")]
pub enum RconHealth {
    /// First connection attempt in progress.
    Connecting,
    Connected,
    /// Lost or not yet made; retrying with backoff. Commands wait.
    Reconnecting {
        attempt: u32,
        error: String,
    },
    /// The server refused the password. Nothing is retried until the settings change.
    AuthFailed,
    /// Several attempts in a row failed; still retrying, at the slowest pace.
    Unreachable {
        attempt: u32,
        error: String,
    },
    Stopped,
}

/// Whether a failed command may have run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Delivery {
    /// Never reached the server: safe to retry.
    NotSent,
    /// Reached the server, but the reply did not come back: it may have run. Do not retry
    /// blindly.
    SentReplyLost,
}

#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum RconError {
    #[error("the command is {len} bytes; Minecraft RCON accepts at most {MAX_COMMAND_BYTES}")]
    TooLong { len: usize },
    #[error("the command is empty")]
    Empty,
    #[error("the command contains a NUL byte, which would cut it short on the server")]
    ContainsNul,
    #[error("the RCON password was refused by the server")]
    AuthFailed,
    #[error("cannot reach the RCON server at {addr}: {reason}")]
    Unreachable { addr: String, reason: String },
    #[error("the RCON output has stopped")]
    Stopped,
    #[error("sent, but no reply within {0:?}; it may have run, so it is not sent again")]
    NoReply(Duration),
    #[error("sent, but the connection dropped before the reply ({0}); it may have run, so it is not sent again")]
    ConnectionLost(String),
    #[error("sent, but the reply was malformed ({0}); it may have run, so it is not sent again")]
    BadReply(String),
    #[error("the RCON output failed while this command was in flight (internal error; it restarted); it may have run, so it is not sent again")]
    Crashed,
}

impl RconError {
    pub fn delivery(&self) -> Delivery {
        match self {
            RconError::NoReply(_)
            | RconError::ConnectionLost(_)
            | RconError::BadReply(_)
            | RconError::Crashed => Delivery::SentReplyLost,
            _ => Delivery::NotSent,
        }
    }
}

/// The server's answer to one command.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RconReply {
    pub text: String,
    /// The reply held bytes that are not UTF-8; they show as U+FFFD in `text`.
    pub lossy: bool,
    pub packets: u32,
}

/// One command's outcome, as broadcast to the event log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommandRecord {
    pub command: String,
    pub result: Result<RconReply, RconError>,
    pub latency: Duration,
}

/// Checks a command the way the server's reader would, before it is queued.
pub fn validate_command(command: &str) -> Result<(), RconError> {
    if command.is_empty() {
        return Err(RconError::Empty);
    }
    if command.len() > MAX_COMMAND_BYTES {
        return Err(RconError::TooLong { len: command.len() });
    }
    if command.contains('\0') {
        return Err(RconError::ContainsNul);
    }
    Ok(())
}

/// Opens the byte stream to a server. TCP in the app; in-memory pipes in paced tests.
pub trait Connector: Send + 'static {
    type Io: AsyncRead + AsyncWrite + Unpin + Send + 'static;
    fn connect(&mut self, addr: &str) -> impl Future<Output = io::Result<Self::Io>> + Send;
}

pub struct TcpConnector;

impl Connector for TcpConnector {
    type Io = TcpStream;
    async fn connect(&mut self, addr: &str) -> io::Result<TcpStream> {
        let s = TcpStream::connect(addr).await?;
        // Each packet is already one write; don't let Nagle hold it back for the gap.
        s.set_nodelay(true)?;
        Ok(s)
    }
}

struct Request {
    command: String,
    queued_at: Instant,
    reply: oneshot::Sender<Result<RconReply, RconError>>,
}

/// Cloneable sender side of an [`RconOutput`].
#[derive(Clone)]
pub struct RconHandle {
    tx: mpsc::Sender<Request>,
    health: watch::Receiver<RconHealth>,
    records: broadcast::Sender<CommandRecord>,
}

impl RconHandle {
    /// Runs `command` after every command sent before it and returns its outcome. Dropping
    /// the future before the command was sent withdraws it.
    pub async fn send(&self, command: impl Into<String>) -> Result<RconReply, RconError> {
        self.submit(command).await?.outcome().await
    }

    /// Queues `command` and returns once it holds its place in line, so several commands can
    /// be queued in a known order and awaited later.
    pub async fn submit(&self, command: impl Into<String>) -> Result<PendingReply, RconError> {
        let command = command.into();
        validate_command(&command)?;
        let (reply, rx) = oneshot::channel();
        let req = Request {
            command,
            queued_at: Instant::now(),
            reply,
        };
        self.tx.send(req).await.map_err(|_| RconError::Stopped)?;
        Ok(PendingReply(rx))
    }

    pub fn health(&self) -> watch::Receiver<RconHealth> {
        self.health.clone()
    }

    /// Every command's outcome from now on, for the event log.
    pub fn records(&self) -> broadcast::Receiver<CommandRecord> {
        self.records.subscribe()
    }
}

/// A queued command's outcome, still to come.
pub struct PendingReply(oneshot::Receiver<Result<RconReply, RconError>>);

impl PendingReply {
    pub async fn outcome(self) -> Result<RconReply, RconError> {
        // Every normal path answers, even at shutdown: a reply dropped unanswered means the
        // actor panicked while it held this command.
        self.0.await.unwrap_or(Err(RconError::Crashed))
    }
}

/// Owns the connection task. Dropping it stops the task.
pub struct RconOutput {
    handle: RconHandle,
    cancel: CancellationToken,
    task: Option<JoinHandle<()>>,
}

impl RconOutput {
    /// Starts the connection task over TCP on the current tokio runtime.
    pub fn spawn(config: RconConfig) -> Self {
        Self::spawn_with(config, TcpConnector)
    }

    pub fn spawn_with<C: Connector>(config: RconConfig, connector: C) -> Self {
        let (tx, rx) = mpsc::channel(config.queue_capacity.max(1));
        let (health_tx, health) = watch::channel(RconHealth::Connecting);
        let (records, _) = broadcast::channel(256);
        let cancel = CancellationToken::new();
        let actor = Actor {
            pending: VecDeque::new(),
            config,
            connector,
            rx,
            health: health_tx,
            records: records.clone(),
            cancel: cancel.clone(),
        };
        let task = tokio::spawn(actor.supervised());
        RconOutput {
            handle: RconHandle {
                tx,
                health,
                records,
            },
            cancel,
            task: Some(task),
        }
    }

    pub fn handle(&self) -> RconHandle {
        self.handle.clone()
    }

    /// Stops the task: queued commands fail with [`RconError::Stopped`] (not sent).
    pub async fn shutdown(mut self) {
        self.cancel.cancel();
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for RconOutput {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

enum ConnectError {
    Auth,
    Io(String),
}

struct Conn<S> {
    framed: Framed<S>,
    next_id: i32,
    /// When the last packet exchange ended; the next packet waits for `command_gap` after it.
    quiet_since: Instant,
}

/// Why a command failed, and whether any of it reached the wire.
enum ExecError {
    NotSent(String),
    Sent(RconError),
}

impl<S: AsyncRead + AsyncWrite + Unpin> Conn<S> {
    fn id(&mut self) -> i32 {
        // Positive only: -1 is the server's "auth failed".
        self.next_id = if self.next_id >= i32::MAX - 1 {
            1
        } else {
            self.next_id + 1
        };
        self.next_id
    }

    async fn login(io: S, password: &str) -> Result<Self, ConnectError> {
        let mut conn = Conn {
            framed: Framed::new(io),
            next_id: 0,
            quiet_since: Instant::now(),
        };
        let id = conn.id();
        conn.framed
            .write_packet(&wire::encode(id, TYPE_AUTH, password.as_bytes()))
            .await
            .map_err(|(e, _)| ConnectError::Io(e.to_string()))?;
        loop {
            let p = conn
                .framed
                .read_packet()
                .await
                .map_err(|e| ConnectError::Io(e.to_string()))?;
            match auth_reply(id, &p) {
                AuthStep::More => continue,
                AuthStep::Refused => return Err(ConnectError::Auth),
                AuthStep::Accepted => {
                    conn.quiet_since = Instant::now();
                    return Ok(conn);
                }
            }
        }
    }

    async fn send_packet(
        &mut self,
        gap: Duration,
        id: i32,
        kind: i32,
        body: &[u8],
    ) -> Result<(), (io::Error, bool)> {
        // An expired timer still waits for the runtime's next 1 ms tick, which would add a
        // millisecond to every command: only sleep when the gap has not passed yet.
        let ready_at = self.quiet_since + gap;
        if Instant::now() < ready_at {
            sleep_until(ready_at).await;
        }
        self.framed
            .write_packet(&wire::encode(id, kind, body))
            .await
    }

    /// Reads the next packet; a malformed one is the server's fault, a lost stream is not.
    async fn read_reply_packet(&mut self) -> Result<Packet, RconError> {
        self.framed.read_packet().await.map_err(|e| match e.kind() {
            io::ErrorKind::InvalidData => RconError::BadReply(e.to_string()),
            _ => RconError::ConnectionLost(e.to_string()),
        })
    }

    async fn exec(
        &mut self,
        gap: Duration,
        command: &str,
        sent: &mut bool,
    ) -> Result<RconReply, ExecError> {
        let id = self.id();
        if let Err((e, partly)) = self
            .send_packet(gap, id, TYPE_EXEC, command.as_bytes())
            .await
        {
            return Err(if partly {
                ExecError::Sent(RconError::ConnectionLost(e.to_string()))
            } else {
                ExecError::NotSent(e.to_string())
            });
        }
        *sent = true;
        let mut reply = ReplyAssembler::new(id);
        loop {
            let p = self.read_reply_packet().await.map_err(ExecError::Sent)?;
            match reply.push(p).map_err(ExecError::Sent)? {
                ReplyStep::More => {}
                ReplyStep::SendMarker => {
                    // The server has already answered, so a marker packet now cannot land in
                    // the same read as the command; its reply marks the end.
                    self.quiet_since = Instant::now();
                    let marker = self.id();
                    self.send_packet(gap, marker, TYPE_RESPONSE, b"")
                        .await
                        .map_err(|(e, _)| {
                            ExecError::Sent(RconError::ConnectionLost(e.to_string()))
                        })?;
                    reply.marker_sent(marker);
                }
                ReplyStep::Done(r) => {
                    self.quiet_since = Instant::now();
                    return Ok(r);
                }
            }
        }
    }
}

/// What a packet read while logging in means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthStep {
    /// Not the answer yet: read on.
    More,
    Accepted,
    Refused,
}

/// Judges one packet read after the login packet with id `id`.
pub fn auth_reply(id: i32, p: &Packet) -> AuthStep {
    // Source-engine servers send an empty RESPONSE_VALUE before the auth response.
    if p.kind != TYPE_AUTH_RESPONSE {
        return AuthStep::More;
    }
    if p.id == -1 {
        return AuthStep::Refused;
    }
    if p.id == id {
        return AuthStep::Accepted;
    }
    AuthStep::More
}

/// What to do after a reply packet was given to a [`ReplyAssembler`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReplyStep {
    /// Read the next packet.
    More,
    /// The first body was full-size and may have a sequel: send the end marker (an empty
    /// type-0 packet with a fresh id), tell [`ReplyAssembler::marker_sent`], then read on.
    SendMarker,
    Done(RconReply),
}

/// Puts one command's reply together from the packets that follow it. No I/O, so the
/// connection task and the fuzz target run exactly the same logic.
#[derive(Clone, Debug)]
pub struct ReplyAssembler {
    id: i32,
    marker: Option<i32>,
    body: Option<Vec<u8>>,
    packets: u32,
}

impl ReplyAssembler {
    /// For the command sent with packet id `id`.
    pub fn new(id: i32) -> Self {
        ReplyAssembler {
            id,
            marker: None,
            body: None,
            packets: 0,
        }
    }

    pub fn marker_sent(&mut self, marker: i32) {
        self.marker = Some(marker);
    }

    /// Takes the next packet read from the connection. Packets for other ids are leftovers
    /// of earlier exchanges and are skipped.
    pub fn push(&mut self, p: Packet) -> Result<ReplyStep, RconError> {
        if self.marker.is_some_and(|m| m == p.id) && self.body.is_some() {
            return Ok(ReplyStep::Done(self.finish()));
        }
        if p.id != self.id {
            if p.id == -1 {
                return Err(RconError::BadReply(
                    "the server says we are not logged in".into(),
                ));
            }
            return Ok(ReplyStep::More);
        }
        self.packets += 1;
        let Some(body) = self.body.as_mut() else {
            let full = p.body.len() >= wire::VANILLA_CHUNK;
            self.body = Some(p.body);
            return Ok(if full {
                ReplyStep::SendMarker
            } else {
                ReplyStep::Done(self.finish())
            });
        };
        body.extend_from_slice(&p.body);
        if body.len() > MAX_REPLY_BYTES {
            return Err(RconError::BadReply(format!(
                "reply longer than {MAX_REPLY_BYTES} bytes"
            )));
        }
        Ok(ReplyStep::More)
    }

    fn finish(&mut self) -> RconReply {
        let body = self.body.take().unwrap_or_default();
        let (text, lossy) = match String::from_utf8(body) {
            Ok(s) => (s, false),
            Err(e) => (String::from_utf8_lossy(e.as_bytes()).into_owned(), true),
        };
        RconReply {
            text,
            lossy,
            packets: std::mem::take(&mut self.packets),
        }
    }
}

struct Actor<C> {
    config: RconConfig,
    connector: C,
    rx: mpsc::Receiver<Request>,
    pending: VecDeque<Request>,
    health: watch::Sender<RconHealth>,
    records: broadcast::Sender<CommandRecord>,
    cancel: CancellationToken,
}

impl<C: Connector> Actor<C> {
    fn finish(&self, req: Request, result: Result<RconReply, RconError>) {
        let _ = self.records.send(CommandRecord {
            command: req.command,
            result: result.clone(),
            latency: req.queued_at.elapsed(),
        });
        let _ = req.reply.send(result);
    }

    fn set_health(&self, h: RconHealth) {
        self.health.send_if_modified(|cur| {
            let changed = *cur != h;
            *cur = h;
            changed
        });
    }

    /// Runs the actor; a panic is contained: reported, the command it held fails as
    /// [`RconError::Crashed`], and the actor starts again (after a pause that grows if it
    /// keeps failing) with its queue intact.
    async fn supervised(mut self) {
        use futures_util::FutureExt;
        let mut pause = Duration::from_millis(100);
        loop {
            match std::panic::AssertUnwindSafe(self.run())
                .catch_unwind()
                .await
            {
                Ok(()) => break,
                Err(panic) => {
                    let fault = crate::supervise::report("rcon", &*panic);
                    self.set_health(RconHealth::Reconnecting {
                        attempt: 0,
                        error: format!("internal error ({}); restarted", fault.message),
                    });
                    tokio::select! {
                        _ = self.cancel.cancelled() => break,
                        _ = tokio::time::sleep(pause) => {}
                    }
                    pause = (pause * 2).min(self.config.backoff_max.max(pause));
                }
            }
        }
        self.close_out();
    }

    async fn run(&mut self) {
        let mut attempt = 0u32;
        let mut backoff = self.config.backoff_initial;
        'outer: loop {
            let conn = loop {
                if self.cancel.is_cancelled() {
                    break 'outer;
                }
                match self.connect().await {
                    Ok(conn) => break conn,
                    Err(ConnectError::Auth) => {
                        self.auth_failed().await;
                        break 'outer;
                    }
                    Err(ConnectError::Io(e)) => {
                        attempt += 1;
                        self.set_health(if attempt >= UNREACHABLE_AFTER {
                            RconHealth::Unreachable {
                                attempt,
                                error: e.clone(),
                            }
                        } else {
                            RconHealth::Reconnecting {
                                attempt,
                                error: e.clone(),
                            }
                        });
                        let until = Instant::now() + backoff;
                        backoff = (backoff * 2).min(self.config.backoff_max);
                        if !self.wait_disconnected(until, &e).await {
                            break 'outer;
                        }
                    }
                }
            };
            attempt = 0;
            backoff = self.config.backoff_initial;
            self.set_health(RconHealth::Connected);
            match self.serve(conn).await {
                Some(reason) => {
                    self.set_health(RconHealth::Reconnecting {
                        attempt: 0,
                        error: reason,
                    });
                }
                None => break 'outer,
            }
        }
    }

    /// Fails what is left as not sent and reports the output stopped.
    fn close_out(&mut self) {
        self.rx.close();
        while let Some(req) = self.pending.pop_front() {
            self.finish(req, Err(RconError::Stopped));
        }
        while let Ok(req) = self.rx.try_recv() {
            self.finish(req, Err(RconError::Stopped));
        }
        self.set_health(RconHealth::Stopped);
    }

    async fn connect(&mut self) -> Result<Conn<C::Io>, ConnectError> {
        let addr = self.config.addr.clone();
        let password = self.config.password.clone();
        let attempt = async {
            let io = self
                .connector
                .connect(&addr)
                .await
                .map_err(|e| ConnectError::Io(e.to_string()))?;
            Conn::login(io, &password).await
        };
        tokio::select! {
            _ = self.cancel.cancelled() => Err(ConnectError::Io("stopped".into())),
            r = timeout(self.config.connect_timeout, attempt) => r.unwrap_or_else(|_| {
                Err(ConnectError::Io(format!("no answer within {:?}", self.config.connect_timeout)))
            }),
        }
    }

    /// While disconnected until `until`: takes in new commands and fails those that waited
    /// longer than `max_queue_wait`. Returns false on shutdown.
    async fn wait_disconnected(&mut self, until: Instant, reason: &str) -> bool {
        loop {
            self.expire(reason);
            let next_expiry = self
                .pending
                .front()
                .map(|r| r.queued_at + self.config.max_queue_wait)
                .unwrap_or(until);
            let room = self.pending.len() < self.config.queue_capacity;
            tokio::select! {
                _ = self.cancel.cancelled() => return false,
                _ = sleep_until(until) => return true,
                _ = sleep_until(next_expiry), if next_expiry < until => {}
                req = self.rx.recv(), if room => match req {
                    Some(req) => self.pending.push_back(req),
                    None => return false,
                },
            }
        }
    }

    fn expire(&mut self, reason: &str) {
        let now = Instant::now();
        while let Some(front) = self.pending.front() {
            if now < front.queued_at + self.config.max_queue_wait {
                break;
            }
            let req = self.pending.pop_front().expect("front exists");
            let err = RconError::Unreachable {
                addr: self.config.addr.clone(),
                reason: reason.to_owned(),
            };
            self.finish(req, Err(err));
        }
    }

    /// A refused password: answer everything with the error, try nothing, until shutdown.
    async fn auth_failed(&mut self) {
        self.set_health(RconHealth::AuthFailed);
        while let Some(req) = self.pending.pop_front() {
            self.finish(req, Err(RconError::AuthFailed));
        }
        loop {
            tokio::select! {
                _ = self.cancel.cancelled() => return,
                req = self.rx.recv() => match req {
                    Some(req) => self.finish(req, Err(RconError::AuthFailed)),
                    None => return,
                },
            }
        }
    }

    /// Runs commands on a live connection. Returns why it was lost, or `None` on shutdown.
    async fn serve(&mut self, mut conn: Conn<C::Io>) -> Option<String> {
        loop {
            let req = match self.pending.pop_front() {
                Some(req) => req,
                None => tokio::select! {
                    biased;
                    _ = self.cancel.cancelled() => return None,
                    idle = conn.framed.idle() => match idle {
                        Ok(Idle::Data) => continue,
                        Ok(Idle::Closed) => return Some("the server closed the connection".into()),
                        Err(e) => return Some(e.to_string()),
                    },
                    req = self.rx.recv() => match req {
                        Some(req) => req,
                        None => return None,
                    },
                },
            };
            if req.reply.is_closed() {
                continue;
            }
            let gap = self.config.command_gap;
            let limit = self.config.command_timeout;
            let mut sent = false;
            let outcome = tokio::select! {
                _ = self.cancel.cancelled() => None,
                r = timeout(limit, conn.exec(gap, &req.command, &mut sent)) => Some(r),
            };
            let Some(outcome) = outcome else {
                let err = if sent {
                    RconError::ConnectionLost("the output was stopped mid-command".into())
                } else {
                    RconError::Stopped
                };
                self.finish(req, Err(err));
                return None;
            };
            match outcome {
                Ok(Ok(reply)) => self.finish(req, Ok(reply)),
                Ok(Err(ExecError::NotSent(reason))) => {
                    // Nothing left: keep its place in line and run it after the reconnect.
                    self.pending.push_front(req);
                    return Some(reason);
                }
                Ok(Err(ExecError::Sent(err))) => {
                    let reason = err.to_string();
                    self.finish(req, Err(err));
                    return Some(reason);
                }
                Err(_) if !sent => {
                    self.pending.push_front(req);
                    return Some("the connection stalled before the command went out".into());
                }
                Err(_) => {
                    // The stream may still deliver the late reply; a new connection is the
                    // only way to be sure the next reply belongs to the next command.
                    self.finish(req, Err(RconError::NoReply(limit)));
                    return Some(format!("no reply within {limit:?}"));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packet(id: i32, kind: i32, body: &[u8]) -> Packet {
        Packet {
            id,
            kind,
            body: body.to_vec(),
        }
    }

    #[test]
    fn login_skips_source_engines_empty_response_and_reads_refusal() {
        assert_eq!(
            auth_reply(1, &packet(1, TYPE_RESPONSE, b"")),
            AuthStep::More
        );
        assert_eq!(
            auth_reply(1, &packet(1, TYPE_AUTH_RESPONSE, b"")),
            AuthStep::Accepted
        );
        assert_eq!(
            auth_reply(1, &packet(-1, TYPE_AUTH_RESPONSE, b"")),
            AuthStep::Refused
        );
        assert_eq!(
            auth_reply(1, &packet(7, TYPE_AUTH_RESPONSE, b"")),
            AuthStep::More
        );
    }

    #[test]
    fn reply_skips_leftovers_and_joins_a_split_reply_until_the_marker() {
        let mut r = ReplyAssembler::new(5);
        assert_eq!(r.push(packet(4, 0, b"late")).unwrap(), ReplyStep::More);
        let full = vec![b'a'; wire::VANILLA_CHUNK];
        assert_eq!(r.push(packet(5, 0, &full)).unwrap(), ReplyStep::SendMarker);
        r.marker_sent(6);
        assert_eq!(r.push(packet(5, 0, b"bc")).unwrap(), ReplyStep::More);
        let ReplyStep::Done(reply) = r.push(packet(6, 0, b"")).unwrap() else {
            panic!("the marker ends the reply");
        };
        assert_eq!(reply.packets, 2);
        assert_eq!(reply.text.len(), wire::VANILLA_CHUNK + 2);
        assert!(reply.text.ends_with("abc"));
        assert!(!reply.lossy);
    }

    #[test]
    fn short_reply_is_done_at_once_and_bad_utf8_is_lossy() {
        let mut r = ReplyAssembler::new(2);
        let ReplyStep::Done(reply) = r.push(packet(2, 0, b"ok \xff")).unwrap() else {
            panic!("a short body is the whole reply");
        };
        assert_eq!(reply.text, "ok \u{FFFD}");
        assert!(reply.lossy);
        assert_eq!(reply.packets, 1);
    }

    #[test]
    fn not_logged_in_and_endless_replies_are_bad_replies_that_may_have_run() {
        let err = ReplyAssembler::new(2).push(packet(-1, 0, b"")).unwrap_err();
        assert_eq!(err.delivery(), Delivery::SentReplyLost);

        let mut r = ReplyAssembler::new(2);
        let chunk = vec![b'a'; wire::VANILLA_CHUNK];
        assert_eq!(r.push(packet(2, 0, &chunk)).unwrap(), ReplyStep::SendMarker);
        r.marker_sent(3);
        let err = loop {
            match r.push(packet(2, 0, &chunk)) {
                Ok(ReplyStep::More) => {}
                Ok(other) => panic!("unexpected {other:?}"),
                Err(e) => break e,
            }
        };
        assert!(matches!(err, RconError::BadReply(_)), "{err:?}");
    }
}
