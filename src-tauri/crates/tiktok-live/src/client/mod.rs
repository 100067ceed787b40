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
pub mod limit;
pub mod sign;
pub mod ws;

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
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

pub use self::config::{Backoff, ClientConfig, Secret, SignBudget, SignConfig, SignPathStyle};
use self::http::Http;
pub use self::http::{RoomInfo, RoomInfoAnswer, RoomStatus};
use self::limit::{SignLimiter, WaitReason};
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
    /// One line for a status bar or a terminal, e.g. "reconnecting in 12 s (attempt 3)".
    pub fn status_text(&self) -> String {
        match self {
            ConnectionState::Idle => "not connected".into(),
            ConnectionState::Connecting { attempt: 0 } => "connecting".into(),
            ConnectionState::Connecting { attempt } => format!("connecting (attempt {attempt})"),
            ConnectionState::Connected { room_id } => format!("connected to room {room_id}"),
            ConnectionState::Reconnecting {
                attempt,
                retry_in_ms,
                reason,
            } => format!(
                "reconnecting in {} s (attempt {attempt}): {reason}",
                retry_in_ms.div_ceil(1000)
            ),
            ConnectionState::Ended => "the LIVE has ended".into(),
            ConnectionState::Failed { message, .. } => format!("stopped: {message}"),
            ConnectionState::Stopped => "stopped".into(),
        }
    }

    /// The client task is done in these states.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            ConnectionState::Ended | ConnectionState::Failed { .. } | ConnectionState::Stopped
        )
    }
}

/// Events queued inside the client beyond the channel. Past this the socket is no longer read
/// (TCP pushes back) but heartbeats go on, so nothing is dropped and the connection stays up.
/// Kept small: the channel behind it already holds `event_buffer` events, and a deep queue here
/// only turns a slow consumer into resident memory (at 100,000 it was most of the CLI's peak
/// under a like flood) without making anything faster.
const PENDING_HIGH_WATER: usize = 2_048;

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
    /// Shared by every client using the same sign server: the quota is per IP.
    limiter: Arc<Mutex<SignLimiter>>,
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
        let limiter = match &cfg.sign {
            SignConfig::Euler { base_url, .. } => limit::shared(base_url, cfg.sign_budget),
            SignConfig::DirectTtwid { .. } => {
                Arc::new(Mutex::new(SignLimiter::new(cfg.sign_budget)))
            }
        };
        Ok(Self {
            inner: Arc::new(Inner {
                cfg,
                http,
                signer,
                limiter,
            }),
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

    /// The room's title, once a connection has read the room info (`None` before, or when
    /// TikTok gave none).
    pub fn room_title(&self) -> Option<String> {
        self.inner.http.room_title()
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
        let (tx, rx) = mpsc::channel(self.inner.cfg.event_buffer.max(1));
        let (state_tx, state_rx) = watch::channel(ConnectionState::Idle);
        let inner = self.inner.clone();
        let token = cancel.child_token();
        let task_token = token.clone();
        let task = tokio::spawn(async move {
            let mut run = Run::new(inner, tx, state_tx, task_token);
            run.dispatcher.seed_msg_ids(resume.seen_msg_ids);
            run.resumed = resume.mid_stream;
            run.run(target).await;
            // Flush and close the recording before the channel closes, so a consumer that
            // sees the stream's end finds the whole recording on disk.
            drop(run.recorder.take());
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

    /// Asks the client to stop; open streaks are settled, and the stream ends once the caller
    /// has read everything still queued (however slowly it reads).
    pub fn stop(&self) {
        self.cancel.cancel();
    }

    /// Stops, and returns what was still on its way (open streaks settled at the stop
    /// included) once the client task has finished. Reading the stream to its end after
    /// [`Self::stop`] gives the same items.
    pub async fn shutdown(mut self) -> Vec<Result<Event, Error>> {
        self.cancel.cancel();
        let mut rest = Vec::new();
        while let Some(item) = self.rx.recv().await {
            rest.push(item);
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        rest
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
    /// The socket stayed up long enough or delivered messages: the backoff starts over.
    stable: bool,
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        Failure {
            error,
            was_connected: false,
            stable: false,
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
    /// Items the caller has not taken yet. The socket task never waits on the caller: it
    /// queues here and hands items over as the channel has room.
    pending: VecDeque<Result<Event, Error>>,
    /// The room found by the first lookup. Reconnects check it with `check_alive` instead of
    /// scraping the live page again.
    known_room: Option<u64>,
    /// Room info was asked once per run.
    room_info_done: bool,
    /// Room info answered "prompts": maybe age-restricted, maybe only a rate limit. Only a
    /// sign or socket failure after it is reported as age-restricted.
    restricted_hint: bool,
    /// Messages that arrived on the current socket.
    socket_messages: u64,
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
            .record_file
            .as_ref()
            .and_then(|path| match Recorder::open(path) {
                Ok(r) => Some(r),
                Err(e) => {
                    tracing::warn!(error = %e, "cannot record this stream");
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
            pending: VecDeque::new(),
            known_room: None,
            room_info_done: false,
            restricted_hint: false,
            socket_messages: 0,
            resumed: false,
        }
    }

    fn limiter(&self) -> std::sync::MutexGuard<'_, SignLimiter> {
        self.inner
            .limiter
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Hands every queued item to the caller, in order; false when nobody listens any more.
    async fn drain(&mut self) -> bool {
        while let Some(item) = self.pending.pop_front() {
            if self.tx.send(item).await.is_err() {
                return false;
            }
        }
        true
    }

    /// Sends one item after the queued ones; false when nobody listens any more.
    async fn emit(&mut self, item: Result<Event, Error>) -> bool {
        self.pending.push_back(item);
        self.drain().await
    }

    /// Settles open streaks and hands everything still queued to the caller before the
    /// stream ends: a settled gift was paid for, so no deadline drops it. Only a caller that
    /// dropped the stream loses what it would not read.
    async fn flush_streaks(&mut self) {
        let events = self.dispatcher.flush_streaks(Instant::now());
        self.pending.extend(events.into_iter().map(Ok));
        if !self.drain().await {
            let paid = self
                .pending
                .iter()
                .filter(|item| matches!(item, Ok(Event::Gift(g)) if g.settled.is_some()))
                .count();
            tracing::warn!(
                items = self.pending.len(),
                settled_gifts = paid,
                "the stream was dropped before it was read to the end"
            );
            self.pending.clear();
        }
    }

    /// Waits `delay`, settling streaks that time out meanwhile (a reconnect backoff must not
    /// hold back a gift whose final never came).
    async fn pause(&mut self, delay: Duration) -> Result<(), Outcome> {
        let until = Instant::now() + delay;
        loop {
            let deadline = self.dispatcher.streaks().next_deadline();
            let cancel = self.cancel.clone();
            tokio::select! {
                _ = cancel.cancelled() => return Err(Outcome::Stopped),
                _ = tokio::time::sleep_until(until) => return Ok(()),
                _ = sleep_until_opt(deadline), if deadline.is_some() => {
                    for event in self.dispatcher.expire_streaks(Instant::now()) {
                        if !self.emit(Ok(event)).await {
                            return Err(Outcome::ReceiverGone);
                        }
                    }
                }
            }
        }
    }

    /// Reports the end of the run after a stop or a vanished caller.
    async fn stopped(&mut self, outcome: Outcome) {
        if matches!(outcome, Outcome::Stopped) {
            self.flush_streaks().await;
        }
        self.state.send_replace(ConnectionState::Stopped);
    }

    async fn run(&mut self, target: Target) {
        let backoff = self.inner.cfg.backoff;
        if let Target::Room(id) = target {
            self.known_room = Some(id);
        }
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
                r = self.session(&target, attempt) => r,
                _ = cancel.cancelled() => Ok(Outcome::Stopped),
            };
            match result {
                Ok(Outcome::Ended) => {
                    let _ = self.drain().await;
                    self.state.send_replace(ConnectionState::Ended);
                    return;
                }
                Ok(outcome) => return self.stopped(outcome).await,
                Err(Failure {
                    error,
                    was_connected,
                    stable,
                }) => {
                    if stable {
                        attempt = 0;
                    }
                    // A 429 blocks every client of this sign server; one that does not say for
                    // how long blocks it for a conservative minute.
                    let server_wait = match &error {
                        Error::RateLimited { retry_after, .. } => {
                            Some(retry_after.unwrap_or(limit::DEFAULT_RATE_LIMIT_WAIT))
                        }
                        _ => None,
                    };
                    if let Some(wait) = server_wait {
                        self.limiter().block_until(Instant::now() + wait);
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
                        Error::RateLimited { .. } => {
                            delay = delay.max(server_wait.unwrap_or_default())
                        }
                        // Retrying a refused socket at once never helps (protocol.md §3.3),
                        // and a bot check does not clear in a couple of seconds.
                        Error::HandshakeRejected { .. } | Error::BotCheck(_) => {
                            delay = delay.max(backoff.ceiling(attempt + 2))
                        }
                        _ => {}
                    }
                    // Show when the next attempt really happens: the sign budget may say later.
                    let mut reason = message;
                    let (budget_wait, why) = self.limiter().wait(Instant::now());
                    if budget_wait > delay {
                        delay = budget_wait;
                        reason = format!("{reason}; {}", self.budget_reason(why));
                    }
                    tracing::info!(%error, attempt, delay_ms = delay.as_millis() as u64, "reconnecting");
                    if !self.emit(Err(error)).await {
                        return;
                    }
                    attempt += 1;
                    self.state.send_replace(ConnectionState::Reconnecting {
                        attempt,
                        retry_in_ms: delay.as_millis().try_into().unwrap_or(u64::MAX),
                        reason,
                    });
                    if let Err(outcome) = self.pause(delay).await {
                        return self.stopped(outcome).await;
                    }
                }
            }
        }
    }

    /// The room to connect to: the known one if it is still alive, otherwise a lookup.
    async fn room(&mut self, target: &Target) -> Result<u64, Error> {
        let http = &self.inner.http;
        let room_id = match (self.known_room, target) {
            (Some(id), _) => match http.check_alive(id).await {
                Ok(Some(false)) => match target {
                    // The host may have started a new LIVE (a new room): look once more.
                    Target::User(u) => http.resolve_user(u).await?.room_id,
                    Target::Room(_) => return Err(Error::Offline(format!("room {id}"))),
                },
                Ok(_) => id,
                // The live check is advisory: the sign step fails clearly if the room is gone.
                Err(e) => {
                    tracing::debug!(error = %e, "live check failed");
                    id
                }
            },
            (None, Target::User(u)) => http.resolve_user(u).await?.room_id,
            (None, Target::Room(id)) => *id,
        };
        self.known_room = Some(room_id);
        if !self.room_info_done {
            self.room_info_done = true;
            match http.room_info(room_id).await {
                Ok(RoomInfoAnswer::Prompts) => {
                    tracing::info!(
                        room_id,
                        "room info answered 'prompts' (age-restricted, or rate-limited); signing anyway"
                    );
                    self.restricted_hint = true;
                }
                Ok(RoomInfoAnswer::Status(RoomStatus::Offline)) => {
                    return Err(Error::Offline(target.to_string()));
                }
                Ok(_) => {}
                Err(e) => tracing::debug!(error = %e, "room info unavailable"),
            }
        }
        Ok(room_id)
    }

    /// A sign or socket failure after room info hinted at an age restriction is that
    /// restriction; without the hint it is what it says.
    fn explain(&self, e: Error) -> Error {
        let fits = matches!(
            e,
            Error::Protocol { .. } | Error::SignServer { .. } | Error::HandshakeRejected { .. }
        );
        // Once a socket was open the room was clearly watchable: later failures are just
        // failures.
        if self.restricted_hint && fits && !self.connected_once {
            tracing::info!(error = %e, "taking this failure as the room's age restriction");
            Error::AgeRestricted
        } else {
            e
        }
    }

    fn budget_reason(&self, why: Option<WaitReason>) -> String {
        let budget = self.inner.cfg.sign_budget;
        match why {
            Some(WaitReason::Minute) => format!(
                "the sign server allows {} connections a minute",
                budget.per_minute
            ),
            Some(WaitReason::Hour) => format!(
                "the sign server allows {} connections an hour",
                budget.per_hour
            ),
            _ => "the sign server asked us to wait".to_string(),
        }
    }

    /// Waits for the sign budget (showing when the attempt will happen), then counts the
    /// request about to go out.
    async fn sign_turn(&mut self, attempt: u32) -> Result<(), Outcome> {
        loop {
            let (wait, why) = match self.limiter().acquire(Instant::now()) {
                Ok(()) => return Ok(()),
                Err(wait) => wait,
            };
            let reason = self.budget_reason(why);
            tracing::info!(wait_ms = wait.as_millis() as u64, %reason, "waiting to sign");
            self.state.send_replace(ConnectionState::Reconnecting {
                attempt,
                retry_in_ms: wait.as_millis().try_into().unwrap_or(u64::MAX),
                reason,
            });
            self.pause(wait).await?;
        }
    }

    /// One connection: look up, sign, open, then read until something ends it.
    async fn session(&mut self, target: &Target, attempt: u32) -> Result<Outcome, Failure> {
        let inner = self.inner.clone();
        let cfg = &inner.cfg;
        let http = &inner.http;
        let room_id = self.room(target).await?;
        if inner.signer.uses_sign_server() {
            if let Err(outcome) = self.sign_turn(attempt).await {
                return Ok(outcome);
            }
            self.state
                .send_replace(ConnectionState::Connecting { attempt });
        }
        let signed = inner
            .signer
            .sign(http, room_id)
            .await
            .map_err(|e| self.explain(e))?;
        let room_id = signed.room_id.unwrap_or(room_id);
        self.known_room = Some(room_id);
        if let Some(rec) = &mut self.recorder {
            if !signed.raw.is_empty() {
                rec.sign_reply(&signed.raw);
            }
        }
        let url = ws::build_url(cfg, &signed.result, room_id);
        let authenticated = cfg.session_goes_to_sign_server();
        tracing::debug!(room_id, authenticated, "opening the push socket");
        let opened = tokio::time::timeout(
            cfg.connect_timeout,
            ws::open(
                &url,
                &cfg.user_agent,
                &http.socket_cookie_header(authenticated),
            ),
        )
        .await
        .map_err(|_| Error::network("timed out opening the socket"))?
        .map_err(|e| self.explain(e))?;
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
        self.socket_messages = 0;
        let opened_at = Instant::now();
        self.state
            .send_replace(ConnectionState::Connected { room_id });
        tracing::info!(room_id, reconnect, "connected");
        let stable_after = cfg.stable_after;
        let connected = |error: Error, messages: u64| Failure {
            error,
            was_connected: true,
            stable: messages > 0 || opened_at.elapsed() >= stable_after,
        };
        self.pending
            .push_back(Ok(Event::Connected { room_id, reconnect }));
        if cfg.emit_history {
            let mut batch = signed.result.messages;
            for msg in &mut batch {
                // Only the first connection's batch is history. After a reconnect, what the
                // dedupe has not seen happened during the gap: paid gifts among it are acted
                // on (duplicates of what we already had are dropped by msg_id).
                msg.is_history = !reconnect;
            }
            if self.dispatch_batch(batch, Instant::now()) {
                // The stream ended while we were away: settle, say so once, and stop.
                close_normally(&mut socket).await;
                return Ok(Outcome::Ended);
            }
        }

        let hb_every = opened.ping_interval.unwrap_or(cfg.heartbeat_interval);
        let mut heartbeat = tokio::time::interval_at(Instant::now() + hb_every, hb_every);
        heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_rx = Instant::now();
        loop {
            let streak_deadline = self.dispatcher.streaks().next_deadline();
            // Past the high-water mark the socket is left unread (TCP pushes back) until the
            // caller catches up; heartbeats go on meanwhile, and silence is not staleness.
            let reading = self.pending.len() < PENDING_HIGH_WATER;
            if !reading {
                last_rx = Instant::now();
            }
            let stale_at = last_rx + cfg.stale_timeout;
            let has_pending = !self.pending.is_empty();
            let cancel = self.cancel.clone();
            let tx = self.tx.clone();
            // Heartbeats first: a flood of frames must never starve them.
            tokio::select! {
                biased;
                _ = cancel.cancelled() => {
                    close_normally(&mut socket).await;
                    return Ok(Outcome::Stopped);
                }
                _ = heartbeat.tick() => {
                    seq += 1;
                    let hb = frame::heartbeat_frame(room_id, seq);
                    if let Err(e) = socket.send(Message::Binary(hb.into())).await {
                        let n = self.socket_messages;
                        return Err(connected(Error::network(format!("socket: {e}")), n));
                    }
                }
                permit = tx.reserve(), if has_pending => {
                    let Ok(permit) = permit else { return Ok(Outcome::ReceiverGone) };
                    if let Some(item) = self.pending.pop_front() {
                        permit.send(item);
                    }
                    while let Some(item) = self.pending.pop_front() {
                        match tx.try_send(item) {
                            Ok(()) => {}
                            Err(mpsc::error::TrySendError::Full(item)) => {
                                self.pending.push_front(item);
                                break;
                            }
                            Err(mpsc::error::TrySendError::Closed(_)) => {
                                return Ok(Outcome::ReceiverGone)
                            }
                        }
                    }
                    // One huge frame can grow the queue past the mark; give that back once it
                    // has been handed on rather than keeping the burst's size for the stream.
                    if self.pending.is_empty() && self.pending.capacity() > 4 * PENDING_HIGH_WATER {
                        self.pending.shrink_to(PENDING_HIGH_WATER);
                    }
                }
                _ = sleep_until_opt(streak_deadline), if streak_deadline.is_some() => {
                    let events = self.dispatcher.expire_streaks(Instant::now());
                    self.pending.extend(events.into_iter().map(Ok));
                }
                next = socket.next(), if reading => {
                    last_rx = Instant::now();
                    let n = self.socket_messages;
                    match next {
                        Some(Ok(Message::Binary(bytes))) => {
                            match self.on_frame(&mut socket, &bytes).await {
                                Ok(FrameOutcome::Continue) => {}
                                Ok(FrameOutcome::Ended) => {
                                    close_normally(&mut socket).await;
                                    return Ok(Outcome::Ended);
                                }
                                Err(e) => return Err(connected(e, self.socket_messages)),
                            }
                        }
                        Some(Ok(Message::Text(text))) => {
                            self.pending.push_back(Err(Error::Frame {
                                reason: "unexpected text frame".into(),
                                bytes: text.as_bytes().to_vec(),
                            }));
                        }
                        Some(Ok(Message::Close(frame))) => {
                            let why = match frame {
                                Some(f) => format!("closed by the server ({} {})", u16::from(f.code), f.reason),
                                None => "closed by the server".to_string(),
                            };
                            return Err(connected(Error::Network(why), n));
                        }
                        // Pings are answered by tungstenite itself; we never send our own.
                        Some(Ok(_)) => {}
                        Some(Err(e)) => return Err(connected(Error::network(format!("socket: {e}")), n)),
                        None => return Err(connected(Error::network("the socket closed"), n)),
                    }
                }
                _ = tokio::time::sleep_until(stale_at), if reading => {
                    let n = self.socket_messages;
                    return Err(connected(Error::Network(format!(
                        "no data from TikTok for {} s", cfg.stale_timeout.as_secs()
                    )), n));
                }
            }
        }
    }

    /// Dispatches a batch of messages into the queue. True when it ended the stream: open
    /// streaks are then settled first and exactly one `StreamEnded` is queued, last.
    fn dispatch_batch(&mut self, messages: Vec<crate::proto::BaseMessage>, now: Instant) -> bool {
        for msg in messages {
            let Some(item) = self.dispatcher.dispatch(msg, now) else {
                continue;
            };
            if matches!(item, Ok(Event::StreamEnded { .. })) {
                let settled = self.dispatcher.flush_streaks(now);
                self.pending.extend(settled.into_iter().map(Ok));
                self.pending.push_back(item);
                return true;
            }
            self.pending.push_back(item);
        }
        false
    }

    /// Queues a frame that could not be read (with its bytes) and goes on.
    fn unreadable(&mut self, e: crate::frame::FrameError, bytes: &[u8]) -> FrameOutcome {
        self.pending.push_back(Err(Error::Frame {
            reason: e.to_string(),
            bytes: bytes.to_vec(),
        }));
        FrameOutcome::Continue
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
            Err(e) => return Ok(self.unreadable(e, bytes)),
        };
        if frame.payload_type != payload_type::MSG {
            return Ok(FrameOutcome::Continue);
        }
        let result = match self.decoder.fetch_result(&frame) {
            Ok(r) => r,
            Err(e) => return Ok(self.unreadable(e, bytes)),
        };
        // The ack goes out before anything is dispatched: it must never wait on the caller.
        if result.need_ack && !result.internal_ext.is_empty() {
            let ack = frame::ack_frame(frame.log_id, &result.internal_ext);
            socket
                .send(Message::Binary(ack.into()))
                .await
                .map_err(|e| Error::network(format!("socket: {e}")))?;
        }
        self.socket_messages += result.messages.len() as u64;
        Ok(if self.dispatch_batch(result.messages, Instant::now()) {
            FrameOutcome::Ended
        } else {
            FrameOutcome::Continue
        })
    }
}

enum FrameOutcome {
    Continue,
    Ended,
}

/// Closes with 1000, waiting a little for the server's answer.
async fn close_normally(socket: &mut ws::Socket) {
    let close = socket.close(Some(CloseFrame {
        code: CloseCode::Normal,
        reason: "".into(),
    }));
    let _ = tokio::time::timeout(Duration::from_secs(2), close).await;
}

async fn sleep_until_opt(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}
