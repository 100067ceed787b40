//! The TikTok LIVE client: a pull stream of typed events with an explicit connection state.
//!
//! One task owns each connection (room lookup, sign, socket, heartbeats, acks, reconnects);
//! the caller pulls [`Event`]s from [`LiveStream`] and watches [`ConnectionState`]. A message or
//! frame that cannot be decoded is an error *item*; the stream goes on. Shutdown is passed in
//! as a [`CancellationToken`]; dropping the stream stops the task too.
//!
//! ```no_run
//! # async fn demo() -> Result<(), tiktok_live::error::Error> {
//! use futures_util::StreamExt;
//! use tiktok_live::client::{ClientConfig, LiveClient};
//! use tiktok_live::target::Target;
//!
//! let client = LiveClient::new(ClientConfig::default())?;
//! let mut stream = client.connect(Target::parse("@someone")?, Default::default());
//! while let Some(item) = stream.next().await {
//!     match item {
//!         Ok(event) => println!("{}", event.kind()),
//!         Err(e) => eprintln!("{e}"),
//!     }
//! }
//! # Ok(()) }
//! ```

pub mod config;
pub mod http;
pub mod sign;
pub mod ws;

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::{SinkExt, Stream, StreamExt};
use serde::Serialize;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;
use tokio_util::sync::CancellationToken;

pub use self::config::{Backoff, ClientConfig, SignConfig, SignPathStyle};
use self::http::Http;
pub use self::http::{RoomInfo, RoomStatus};
use self::sign::Signer;
use crate::dispatch::Dispatcher;
use crate::error::Error;
use crate::event::Event;
use crate::frame::{self, payload_type, FrameDecoder};
use crate::gifts::CatalogGift;
use crate::record::Recorder;
use crate::streak::StreakTracker;
use crate::target::Target;

/// Where the connection is. The app shows this; it also tells why the stream stopped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ConnectionState {
    /// Not started yet.
    Idle,
    /// Looking up the room, signing, opening the socket.
    Connecting {
        attempt: u32,
    },
    Connected {
        room_id: u64,
    },
    /// Waiting before the next attempt.
    Reconnecting {
        attempt: u32,
        retry_in_ms: u64,
        reason: String,
    },
    /// The stream ended (by the host or TikTok). The client stopped.
    Ended,
    /// Gave up: the error says why (not found, offline, age-restricted, too many attempts…).
    Failed {
        code: String,
        message: String,
    },
    /// Stopped by the caller.
    Stopped,
}

impl ConnectionState {
    /// The client task is done in these states.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            ConnectionState::Ended | ConnectionState::Failed { .. } | ConnectionState::Stopped
        )
    }
}

/// Events waiting for the caller. Large enough to ride out a burst while the consumer is busy;
/// beyond it the socket reader waits (TCP pushes back) instead of dropping anything.
const EVENT_BUFFER: usize = 8192;

/// A TikTok LIVE client. Cheap to clone; each [`LiveClient::connect`] starts one connection.
#[derive(Debug, Clone)]
pub struct LiveClient {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    cfg: Arc<ClientConfig>,
    http: Http,
    signer: Box<dyn Signer>,
}

impl LiveClient {
    pub fn new(cfg: ClientConfig) -> Result<Self, Error> {
        let signer = sign::from_config(&cfg.sign);
        Self::with_signer(cfg, signer)
    }

    /// A client with a custom sign strategy.
    pub fn with_signer(cfg: ClientConfig, signer: Box<dyn Signer>) -> Result<Self, Error> {
        let cfg = Arc::new(cfg);
        let http = Http::new(cfg.clone())?;
        Ok(Self {
            inner: Arc::new(Inner { cfg, http, signer }),
        })
    }

    pub fn config(&self) -> &ClientConfig {
        &self.inner.cfg
    }

    /// Finds the room of a target and whether it is live.
    pub async fn resolve(&self, target: &Target) -> Result<RoomInfo, Error> {
        match target {
            Target::User(u) => self.inner.http.resolve_user(u).await,
            Target::Room(id) => {
                let status = match self.inner.http.check_alive(*id).await? {
                    Some(true) => RoomStatus::Live,
                    Some(false) => RoomStatus::Offline,
                    None => RoomStatus::Unknown,
                };
                Ok(RoomInfo {
                    room_id: *id,
                    unique_id: None,
                    status,
                })
            }
        }
    }

    /// The room's gift catalogue.
    pub async fn gift_list(&self, room_id: u64) -> Result<Vec<CatalogGift>, Error> {
        self.inner.http.gift_list(room_id).await
    }

    /// Starts connecting to `target` and returns the event stream at once.
    pub fn connect(&self, target: Target, cancel: CancellationToken) -> LiveStream {
        self.connect_resuming(target, cancel, Resume::default())
    }

    /// Like [`LiveClient::connect`], for a run that takes over from an earlier one (the app
    /// restarted): see [`Resume`].
    pub fn connect_resuming(
        &self,
        target: Target,
        cancel: CancellationToken,
        resume: Resume,
    ) -> LiveStream {
        let (tx, rx) = mpsc::channel(EVENT_BUFFER);
        let (state_tx, state_rx) = watch::channel(ConnectionState::Idle);
        let inner = self.inner.clone();
        let token = cancel.child_token();
        let task_token = token.clone();
        let task = tokio::spawn(async move {
            let mut run = Run::new(inner, tx, state_tx, task_token);
            run.dispatcher.seed_msg_ids(resume.seen_msg_ids);
            run.resumed = resume.mid_stream;
            run.run(target).await;
        });
        LiveStream {
            rx,
            state: state_rx,
            cancel: token,
            task: Some(task),
        }
    }
}

/// What a restarted run knows from the one before it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resume {
    /// Message ids the earlier run already handled (oldest first): dropped as duplicates when
    /// the server sends them again.
    pub seen_msg_ids: Vec<u64>,
    /// The earlier run was watching this stream moments ago: the first connection counts as
    /// a reconnect, so its initial batch (sent during the gap) is acted on, not treated as
    /// history, and no new stream start is reported.
    pub mid_stream: bool,
}

/// The events of one connection. Ends when the client stops (see [`LiveStream::state`]).
#[derive(Debug)]
pub struct LiveStream {
    rx: mpsc::Receiver<Result<Event, Error>>,
    state: watch::Receiver<ConnectionState>,
    cancel: CancellationToken,
    task: Option<JoinHandle<()>>,
}

impl LiveStream {
    /// The connection state, updated as it changes.
    pub fn state(&self) -> watch::Receiver<ConnectionState> {
        self.state.clone()
    }

    /// Asks the client to stop; pending streaks are settled and the stream then ends.
    pub fn stop(&self) {
        self.cancel.cancel();
    }

    /// Stops and waits for the client task to finish.
    pub async fn shutdown(mut self) {
        self.cancel.cancel();
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Stream for LiveStream {
    type Item = Result<Event, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.rx.poll_recv(cx)
    }
}

impl Drop for LiveStream {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

/// How a session ended without an error.
enum Outcome {
    Ended,
    Stopped,
    ReceiverGone,
}

struct Failure {
    error: Error,
    was_connected: bool,
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        Failure {
            error,
            was_connected: false,
        }
    }
}

/// The state of the task that owns a connection.
struct Run {
    inner: Arc<Inner>,
    tx: mpsc::Sender<Result<Event, Error>>,
    state: watch::Sender<ConnectionState>,
    cancel: CancellationToken,
    dispatcher: Dispatcher,
    decoder: FrameDecoder,
    recorder: Option<Recorder>,
    connected_once: bool,
    /// Started with [`Resume::mid_stream`].
    resumed: bool,
}

impl Run {
    fn new(
        inner: Arc<Inner>,
        tx: mpsc::Sender<Result<Event, Error>>,
        state: watch::Sender<ConnectionState>,
        cancel: CancellationToken,
    ) -> Self {
        let recorder = inner
            .cfg
            .record_dir
            .as_ref()
            .and_then(|dir| match Recorder::new(dir) {
                Ok(r) => Some(r),
                Err(e) => {
                    tracing::warn!(dir = %dir.display(), error = %e, "cannot record this stream");
                    None
                }
            });
        let streaks = StreakTracker::new(inner.cfg.streak_timeout);
        Self {
            inner,
            tx,
            state,
            cancel,
            dispatcher: Dispatcher::new(streaks),
            decoder: FrameDecoder::new(),
            recorder,
            connected_once: false,
            resumed: false,
        }
    }

    /// Sends one item; false when nobody listens any more.
    async fn emit(&self, item: Result<Event, Error>) -> bool {
        self.tx.send(item).await.is_ok()
    }

    /// Settles open streaks so that nothing paid for is lost when the stream stops. Bounded
    /// wait: a consumer that stopped reading must not keep the task alive.
    async fn flush_streaks(&mut self) {
        for event in self.dispatcher.flush_streaks(Instant::now()) {
            let send = self.tx.send(Ok(event));
            if tokio::time::timeout(Duration::from_secs(1), send)
                .await
                .is_err()
            {
                tracing::warn!("a settled streak could not be delivered at shutdown");
            }
        }
    }

    async fn run(&mut self, target: Target) {
        let backoff = self.inner.cfg.backoff;
        let mut attempt: u32 = 0;
        loop {
            self.state
                .send_replace(ConnectionState::Connecting { attempt });
            for event in self.dispatcher.expire_streaks(Instant::now()) {
                if !self.emit(Ok(event)).await {
                    return;
                }
            }
            let cancel = self.cancel.clone();
            let result = tokio::select! {
                r = self.session(&target) => r,
                _ = cancel.cancelled() => Ok(Outcome::Stopped),
            };
            match result {
                Ok(Outcome::Ended) => {
                    self.state.send_replace(ConnectionState::Ended);
                    return;
                }
                Ok(Outcome::Stopped) => {
                    self.flush_streaks().await;
                    self.state.send_replace(ConnectionState::Stopped);
                    return;
                }
                Ok(Outcome::ReceiverGone) => {
                    self.state.send_replace(ConnectionState::Stopped);
                    return;
                }
                Err(Failure {
                    error,
                    was_connected,
                }) => {
                    if was_connected {
                        attempt = 0;
                    }
                    let retry = error.is_retryable();
                    if was_connected {
                        let ev = Event::Disconnected {
                            reason: error.to_string(),
                            will_reconnect: retry,
                        };
                        if !self.emit(Ok(ev)).await {
                            return;
                        }
                    }
                    // Offline after we were live: the end was missed, but the stream is over.
                    if matches!(error, Error::Offline(_)) && self.connected_once {
                        self.flush_streaks().await;
                        let _ = self.emit(Ok(Event::StreamEnded { suspended: false })).await;
                        self.state.send_replace(ConnectionState::Ended);
                        return;
                    }
                    let code = error.code().to_string();
                    let message = error.to_string();
                    if !retry || backoff.max_attempts.is_some_and(|max| attempt + 1 >= max) {
                        tracing::warn!(%error, "giving up on the connection");
                        self.flush_streaks().await;
                        let _ = self.emit(Err(error)).await;
                        self.state
                            .send_replace(ConnectionState::Failed { code, message });
                        return;
                    }
                    let mut delay = backoff.delay(attempt, rand::random::<f64>());
                    match &error {
                        Error::RateLimited {
                            retry_after: Some(wait),
                            ..
                        } => delay = delay.max(*wait),
                        // Retrying a refused socket at once never helps (protocol.md §3.3).
                        Error::HandshakeRejected { .. } | Error::Blocked(_) => {
                            delay = delay.max(backoff.ceiling(attempt + 2))
                        }
                        _ => {}
                    }
                    tracing::info!(%error, attempt, delay_ms = delay.as_millis() as u64, "reconnecting");
                    if !self.emit(Err(error)).await {
                        return;
                    }
                    attempt += 1;
                    self.state.send_replace(ConnectionState::Reconnecting {
                        attempt,
                        retry_in_ms: delay.as_millis().try_into().unwrap_or(u64::MAX),
                        reason: message,
                    });
                    tokio::select! {
                        _ = tokio::time::sleep(delay) => {}
                        _ = self.cancel.cancelled() => {
                            self.flush_streaks().await;
                            self.state.send_replace(ConnectionState::Stopped);
                            return;
                        }
                    }
                }
            }
        }
    }

    /// One connection: look up, sign, open, then read until something ends it.
    async fn session(&mut self, target: &Target) -> Result<Outcome, Failure> {
        let inner = self.inner.clone();
        let cfg = &inner.cfg;
        let http = &inner.http;
        let room_id = match target {
            Target::User(u) => http.resolve_user(u).await?.room_id,
            Target::Room(id) => {
                match http.check_alive(*id).await {
                    Ok(Some(false)) => return Err(Error::Offline(format!("room {id}")).into()),
                    Ok(_) => {}
                    // The live check is advisory: the sign step fails clearly if the room is gone.
                    Err(e) => tracing::debug!(error = %e, "live check failed"),
                }
                *id
            }
        };
        match http.room_info(room_id).await {
            Err(e @ Error::AgeRestricted) => return Err(e.into()),
            Ok(RoomStatus::Offline) => {
                return Err(Error::Offline(target.to_string()).into());
            }
            Ok(_) => {}
            Err(e) => tracing::debug!(error = %e, "room info unavailable"),
        }
        let signed = inner.signer.sign(http, room_id).await?;
        let room_id = signed.room_id.unwrap_or(room_id);
        if let Some(rec) = &mut self.recorder {
            if !signed.raw.is_empty() {
                rec.initial_fetch(&signed.raw);
            }
        }
        let url = ws::build_url(cfg, &signed.result, room_id);
        tracing::debug!(room_id, "opening the push socket");
        let opened = tokio::time::timeout(
            cfg.connect_timeout,
            ws::open(&url, &cfg.user_agent, &http.cookie_header()),
        )
        .await
        .map_err(|_| Error::network("timed out opening the socket"))??;
        let (mut socket, opened) = opened;

        let enter = frame::enter_room_frame(room_id, http::random_id());
        let mut seq: u64 = 1;
        let hb = frame::heartbeat_frame(room_id, seq);
        for bytes in [enter, hb] {
            socket
                .send(Message::Binary(bytes.into()))
                .await
                .map_err(|e| Error::network(format!("socket: {e}")))?;
        }
        let reconnect = self.connected_once || self.resumed;
        self.connected_once = true;
        self.state
            .send_replace(ConnectionState::Connected { room_id });
        tracing::info!(room_id, reconnect, "connected");
        let connected = |error: Error| Failure {
            error,
            was_connected: true,
        };
        if !self.emit(Ok(Event::Connected { room_id, reconnect })).await {
            return Ok(Outcome::ReceiverGone);
        }
        if cfg.emit_history {
            let now = Instant::now();
            for mut msg in signed.result.messages {
                // Only the first connection's batch is history. After a reconnect, what the
                // dedupe has not seen happened during the gap: paid gifts among it are acted
                // on (duplicates of what we already had are dropped by msg_id).
                msg.is_history = !reconnect;
                if let Some(item) = self.dispatcher.dispatch(msg, now) {
                    if !self.emit(item).await {
                        return Ok(Outcome::ReceiverGone);
                    }
                }
            }
        }

        let hb_every = opened.ping_interval.unwrap_or(cfg.heartbeat_interval);
        let mut heartbeat = tokio::time::interval_at(Instant::now() + hb_every, hb_every);
        heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_rx = Instant::now();
        loop {
            let streak_deadline = self.dispatcher.streaks().next_deadline();
            let stale_at = last_rx + cfg.stale_timeout;
            tokio::select! {
                biased;
                _ = self.cancel.cancelled() => {
                    let close = socket.close(Some(CloseFrame { code: CloseCode::Normal, reason: "".into() }));
                    let _ = tokio::time::timeout(Duration::from_secs(2), close).await;
                    return Ok(Outcome::Stopped);
                }
                next = socket.next() => {
                    last_rx = Instant::now();
                    match next {
                        Some(Ok(Message::Binary(bytes))) => {
                            match self.on_frame(&mut socket, &bytes).await {
                                Ok(FrameOutcome::Continue) => {}
                                Ok(FrameOutcome::Ended) => {
                                    let close = socket.close(Some(CloseFrame { code: CloseCode::Normal, reason: "".into() }));
                                    let _ = tokio::time::timeout(Duration::from_secs(2), close).await;
                                    return Ok(Outcome::Ended);
                                }
                                Ok(FrameOutcome::ReceiverGone) => return Ok(Outcome::ReceiverGone),
                                Err(e) => return Err(connected(e)),
                            }
                        }
                        Some(Ok(Message::Text(text))) => {
                            let item = Err(Error::Frame {
                                reason: "unexpected text frame".into(),
                                bytes: text.as_bytes().to_vec(),
                            });
                            if !self.emit(item).await {
                                return Ok(Outcome::ReceiverGone);
                            }
                        }
                        Some(Ok(Message::Close(frame))) => {
                            let why = match frame {
                                Some(f) => format!("closed by the server ({} {})", u16::from(f.code), f.reason),
                                None => "closed by the server".to_string(),
                            };
                            return Err(connected(Error::Network(why)));
                        }
                        // Pings are answered by tungstenite itself; we never send our own.
                        Some(Ok(_)) => {}
                        Some(Err(e)) => return Err(connected(Error::network(format!("socket: {e}")))),
                        None => return Err(connected(Error::network("the socket closed"))),
                    }
                }
                _ = heartbeat.tick() => {
                    seq += 1;
                    let hb = frame::heartbeat_frame(room_id, seq);
                    if let Err(e) = socket.send(Message::Binary(hb.into())).await {
                        return Err(connected(Error::network(format!("socket: {e}"))));
                    }
                }
                _ = sleep_until_opt(streak_deadline), if streak_deadline.is_some() => {
                    for event in self.dispatcher.expire_streaks(Instant::now()) {
                        if !self.emit(Ok(event)).await {
                            return Ok(Outcome::ReceiverGone);
                        }
                    }
                }
                _ = tokio::time::sleep_until(stale_at) => {
                    return Err(connected(Error::Network(format!(
                        "no data from TikTok for {} s", cfg.stale_timeout.as_secs()
                    ))));
                }
            }
        }
    }

    /// Reports a frame that could not be read (with its bytes) and goes on.
    async fn unreadable(&self, e: crate::frame::FrameError, bytes: &[u8]) -> FrameOutcome {
        let item = Err(Error::Frame {
            reason: e.to_string(),
            bytes: bytes.to_vec(),
        });
        if self.emit(item).await {
            FrameOutcome::Continue
        } else {
            FrameOutcome::ReceiverGone
        }
    }

    async fn on_frame(
        &mut self,
        socket: &mut ws::Socket,
        bytes: &[u8],
    ) -> Result<FrameOutcome, Error> {
        if let Some(rec) = &mut self.recorder {
            rec.frame(bytes);
        }
        let frame = match self.decoder.push_frame(bytes) {
            Ok(f) => f,
            Err(e) => return Ok(self.unreadable(e, bytes).await),
        };
        if frame.payload_type != payload_type::MSG {
            return Ok(FrameOutcome::Continue);
        }
        let result = match self.decoder.fetch_result(&frame) {
            Ok(r) => r,
            Err(e) => return Ok(self.unreadable(e, bytes).await),
        };
        if result.need_ack && !result.internal_ext.is_empty() {
            let ack = frame::ack_frame(frame.log_id, &result.internal_ext);
            socket
                .send(Message::Binary(ack.into()))
                .await
                .map_err(|e| Error::network(format!("socket: {e}")))?;
        }
        let now = Instant::now();
        let mut ended = false;
        for msg in result.messages {
            let Some(item) = self.dispatcher.dispatch(msg, now) else {
                continue;
            };
            if matches!(item, Ok(Event::StreamEnded { .. })) {
                // Settle open streaks before saying the stream is over.
                for event in self.dispatcher.flush_streaks(now) {
                    if !self.emit(Ok(event)).await {
                        return Ok(FrameOutcome::ReceiverGone);
                    }
                }
                ended = true;
            }
            if !self.emit(item).await {
                return Ok(FrameOutcome::ReceiverGone);
            }
        }
        Ok(if ended {
            FrameOutcome::Ended
        } else {
            FrameOutcome::Continue
        })
    }
}

enum FrameOutcome {
    Continue,
    Ended,
    ReceiverGone,
}

async fn sleep_until_opt(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}
