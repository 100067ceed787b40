//! Shared server state, the router, and the websocket endpoint.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use prost::Message as _;
use tiktok_live::frame::{self, payload_type};
use tiktok_live::proto::{BaseMessage, FetchResult, HeartBeat, ImEnterRoom, PushFrame};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::config::{ConnFault, HandshakeFault, SimConfig};
use crate::http::{self, header_pairs, parse_query, unix_ms};
use crate::random;
use crate::record::{push_capped, Ack, Closed, EnterRoom, Handshake, Heartbeat, Pushed, Recorder};
use crate::replay::Recording;
use crate::script::SimUser;
use crate::script::{to_wire, Compiled, CompiledStep, WireContext};

/// The websocket path (what `push_server` points at).
pub const WS_PATH: &str = "/webcast/im/ws_proxy/ws_reuse_supplement/";

/// `log_id`s are `LOG_ID_BASE + n`: large like TikTok's, to catch lossy id handling.
pub const LOG_ID_BASE: u64 = 7_300_000_000_000_000_000;

/// Incoming websocket messages larger than this are refused (clients only send small frames).
const MAX_CLIENT_MESSAGE: usize = 1 << 20;

/// What the socket plays, ready to go.
pub(crate) enum Play {
    Script(Compiled),
    Random {
        seed: u64,
        pace: random::Pace,
    },
    Replay {
        rec: Recording,
        interval: Duration,
        speed: f64,
        max_gap: Duration,
    },
}

pub(crate) struct Shared {
    pub cfg: SimConfig,
    pub rec: Recorder,
    pub cancel: CancellationToken,
    pub base_url: String,
    pub ws_url: String,
    pub host: SimUser,
    pub ctx: WireContext,
    pub play: Play,
    pub sign_calls: AtomicUsize,
    /// Requests for the live page so far (for `LivePage::BlockedFor`).
    pub live_page_calls: AtomicUsize,
    handshakes: AtomicUsize,
    connections: AtomicUsize,
    ext_seq: AtomicU64,
    frame_seq: AtomicU64,
    /// Next script step (or random frame index), shared so a reconnecting client continues.
    position: Mutex<u64>,
    /// The last frames' messages, for `resend_on_reconnect`.
    recent: Mutex<VecDeque<Vec<BaseMessage>>>,
    /// Recent sign replies, for the strict handshake checks.
    issued: Mutex<VecDeque<Issued>>,
}

/// What one sign reply handed out: a socket must come back with it, soon, as the same UA.
#[derive(Debug, Clone)]
pub(crate) struct Issued {
    pub cursor: String,
    pub internal_ext: String,
    pub user_agent: Option<String>,
    /// Signed for a signed-in session: the socket must carry the session cookie.
    pub with_session: bool,
    pub at: Instant,
}

/// Sign replies remembered for the handshake checks.
const ISSUED_MEMORY: usize = 64;

impl Shared {
    pub fn new(
        cfg: SimConfig,
        base_url: String,
        ws_url: String,
        ctx: WireContext,
        play: Play,
        cancel: CancellationToken,
    ) -> Self {
        let limit = cfg.record_limit;
        Self {
            host: cfg.host(),
            cfg,
            rec: Recorder::new(limit),
            cancel,
            base_url,
            ws_url,
            ctx,
            play,
            sign_calls: AtomicUsize::new(0),
            live_page_calls: AtomicUsize::new(0),
            handshakes: AtomicUsize::new(0),
            connections: AtomicUsize::new(0),
            ext_seq: AtomicU64::new(0),
            frame_seq: AtomicU64::new(0),
            position: Mutex::new(0),
            recent: Mutex::new(VecDeque::new()),
            issued: Mutex::new(VecDeque::new()),
        }
    }

    /// Remembers a sign reply's cursor and ext for the handshake checks.
    pub fn issue(&self, issued: Issued) {
        let mut list = self.issued.lock().unwrap_or_else(PoisonError::into_inner);
        list.push_back(issued);
        while list.len() > ISSUED_MEMORY {
            list.pop_front();
        }
    }

    /// Why a strict simulator refuses this handshake (TikTok answers such sockets with a 200
    /// and a `Handshake-Msg`), or `None` when it is fine.
    fn refuse(&self, hs: &Handshake) -> Option<String> {
        if !self.cfg.strict_handshake {
            return None;
        }
        let room = self.cfg.room_id.to_string();
        match hs.query("room_id") {
            None | Some("") => return Some("missing room_id".into()),
            Some(r) if r != room => return Some(format!("wrong room_id {r}")),
            Some(_) => {}
        }
        let Some(ua) = hs.header("user-agent").filter(|u| !u.trim().is_empty()) else {
            return Some("missing User-Agent".into());
        };
        if hs.cookie("ttwid") != Some(crate::config::TTWID) {
            return Some("missing ttwid cookie".into());
        }
        let cursor = hs.query("cursor");
        let ext = hs.query("internal_ext");
        if cursor.is_none() && ext.is_none() && hs.query("ws_direct") == Some("1") {
            // The sign-free method: TikTok's own page cookie is all it has.
            return None;
        }
        let (Some(cursor), Some(ext)) = (cursor, ext) else {
            return Some("missing cursor or internal_ext".into());
        };
        if cursor.is_empty() || ext.is_empty() {
            return Some("empty cursor or internal_ext".into());
        }
        let issued = {
            let list = self.issued.lock().unwrap_or_else(PoisonError::into_inner);
            list.iter()
                .rev()
                .find(|i| i.cursor == cursor && i.internal_ext == ext)
                .cloned()
        };
        let Some(issued) = issued else {
            return Some("cursor and internal_ext match no sign reply".into());
        };
        if issued.at.elapsed() > self.cfg.signed_url_ttl {
            return Some("signature expired".into());
        }
        if let Some(signed_ua) = &issued.user_agent {
            if signed_ua != ua {
                return Some("DEVICE_BLOCKED: User-Agent differs from the signing one".into());
            }
        }
        if issued.with_session && hs.cookie("sessionid").is_none() {
            // What TL7 notes for a socket signed with a session but opened without it.
            return Some("illegal secret key".into());
        }
        None
    }

    /// A fresh number for a cursor/`internal_ext` pair (sign replies and frames share it, so
    /// every value the simulator hands out is unique).
    pub fn next_ext(&self) -> u64 {
        self.ext_seq.fetch_add(1, Ordering::SeqCst) + 1
    }

    /// Sleeps unless the simulator shuts down first; false when it did.
    pub async fn sleep(&self, d: Duration) -> bool {
        tokio::select! {
            _ = self.cancel.cancelled() => false,
            _ = tokio::time::sleep(d) => true,
        }
    }

    fn position(&self) -> std::sync::MutexGuard<'_, u64> {
        self.position.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn recent(&self) -> std::sync::MutexGuard<'_, VecDeque<Vec<BaseMessage>>> {
        self.recent.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/api-live/user/room/", get(http::api_live))
        .route("/api-live/user/room", get(http::api_live))
        .route("/webcast/room/check_alive/", get(http::check_alive))
        .route("/webcast/room/check_alive", get(http::check_alive))
        .route("/webcast/room/info/", get(http::room_info))
        .route("/webcast/room/info", get(http::room_info))
        .route("/webcast/gift/list/", get(http::gift_list))
        .route("/webcast/gift/list", get(http::gift_list))
        .route("/gift-images/{file}", get(http::gift_image))
        .route("/avatar/{file}", get(http::avatar))
        .route("/webcast/fetch", get(http::sign_main))
        .route("/webcast/fetch/", get(http::sign_main))
        .route("/webcast/rooms/{room_id}/connect", get(http::sign_main))
        .route("/webcast/anchors/{unique_id}/connect", get(http::sign_main))
        .route(WS_PATH, get(ws_handler))
        .route(WS_PATH.trim_end_matches('/'), get(ws_handler))
        .fallback(http::fallback)
        .layer(axum::middleware::from_fn_with_state(
            shared.clone(),
            http::record_layer,
        ))
        .with_state(shared)
}

/// The sign routes alone, for a sign server on its own origin.
pub(crate) fn sign_router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/webcast/fetch", get(http::sign))
        .route("/webcast/fetch/", get(http::sign))
        .route("/webcast/rooms/{room_id}/connect", get(http::sign))
        .route("/webcast/anchors/{unique_id}/connect", get(http::sign))
        .layer(axum::middleware::from_fn_with_state(
            shared.clone(),
            http::record_layer,
        ))
        .with_state(shared)
}

fn header_value(s: &str) -> HeaderValue {
    HeaderValue::from_str(s).unwrap_or_else(|_| HeaderValue::from_static("invalid"))
}

async fn ws_handler(
    State(s): State<Arc<Shared>>,
    uri: Uri,
    headers: HeaderMap,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let raw_query = uri.query().unwrap_or("").to_string();
    let mut record = Handshake {
        query: parse_query(&raw_query),
        raw_query,
        headers: header_pairs(&headers),
        accepted: false,
        conn: None,
        refused: None,
        at_ms: s.rec.elapsed_ms(),
    };
    let attempt = s.handshakes.fetch_add(1, Ordering::SeqCst);
    let limit = s.rec.limit();
    let fault = s.cfg.handshake_faults.get(attempt).cloned();
    record.refused = s.refuse(&record);
    let mut rejection = match &fault {
        Some(HandshakeFault::Blocked { status, msg }) => {
            Some((StatusCode::OK, *status, msg.clone()))
        }
        Some(HandshakeFault::BadRequest { msg }) => {
            Some((StatusCode::BAD_REQUEST, 400, msg.clone()))
        }
        _ => None,
    };
    if rejection.is_none() {
        if let Some(why) = &record.refused {
            rejection = Some((StatusCode::OK, 403, why.clone()));
        }
    }
    if let Some((code, status, msg)) = rejection {
        s.rec
            .update(|r| push_capped(&mut r.handshakes, record, limit));
        return (
            code,
            [
                ("handshake-status", header_value(&status.to_string())),
                ("handshake-msg", header_value(&msg)),
            ],
        )
            .into_response();
    }
    if let Some(HandshakeFault::Slow(delay)) = fault {
        if !s.sleep(delay).await {
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    }
    let ws = match ws {
        Ok(ws) => ws,
        Err(rejection) => {
            s.rec
                .update(|r| push_capped(&mut r.handshakes, record, limit));
            return rejection.into_response();
        }
    };
    let conn = s.connections.fetch_add(1, Ordering::SeqCst) + 1;
    let gzip = record.query("compress") == Some("gzip");
    record.accepted = true;
    record.conn = Some(conn);
    s.rec
        .update(|r| push_capped(&mut r.handshakes, record, limit));
    // TL7 asks for `echo-protocol`; TikTok accepts it, so echo it back when offered.
    let ws = ws
        .protocols(["echo-protocol"])
        .max_message_size(MAX_CLIENT_MESSAGE)
        .max_frame_size(MAX_CLIENT_MESSAGE);
    let fault = s
        .cfg
        .conn_faults
        .get(conn - 1)
        .cloned()
        .unwrap_or(ConnFault::None);
    let shared = s.clone();
    let mut resp = ws.on_upgrade(move |socket| async move {
        Connection::new(shared, conn, gzip, fault).run(socket).await;
    });
    if let Some(secs) = s.cfg.ping_interval_secs {
        resp.headers_mut().insert(
            "handshake-options",
            header_value(&format!("ping-interval={secs}")),
        );
    }
    resp
}

/// What ended a connection loop.
enum End {
    /// Close frame sent or received, or the client went away.
    Done(String),
    /// Drop the TCP connection without a close frame.
    Drop(String),
}

struct Connection {
    s: Arc<Shared>,
    conn: usize,
    gzip: bool,
    fault: ConnFault,
    fault_done: bool,
    frames_sent: usize,
    silent: bool,
    started: bool,
    idle: bool,
    push_at: Instant,
    hb_deadline: Option<Instant>,
    resend: VecDeque<Vec<BaseMessage>>,
    replay_index: usize,
}

async fn until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

fn close(code: u16, reason: &str) -> Message {
    Message::Close(Some(CloseFrame {
        code,
        reason: reason.to_string().into(),
    }))
}

impl Connection {
    fn new(s: Arc<Shared>, conn: usize, gzip: bool, fault: ConnFault) -> Self {
        let now = Instant::now();
        let resend = if conn > 1 && s.cfg.resend_on_reconnect > 0 {
            s.recent().iter().cloned().collect()
        } else {
            VecDeque::new()
        };
        Self {
            push_at: now + s.cfg.enter_room_grace,
            hb_deadline: s.cfg.heartbeat_timeout.map(|d| now + d),
            s,
            conn,
            gzip,
            fault,
            fault_done: false,
            frames_sent: 0,
            silent: false,
            started: false,
            idle: false,
            resend,
            replay_index: 0,
        }
    }

    async fn run(mut self, mut socket: WebSocket) {
        self.s.rec.update(|r| {
            r.connections = r.connections.max(self.conn);
            r.open_connections += 1;
        });
        let end = self.serve(&mut socket).await;
        let reason = match end {
            End::Done(reason) => {
                // Let tungstenite finish the close handshake (it answers a client's close on
                // the next read) without waiting on a client that never answers. Acks and
                // heartbeats still in flight are recorded, not answered.
                self.silent = true;
                let _ = tokio::time::timeout(Duration::from_secs(1), async {
                    while let Some(Ok(msg)) = socket.recv().await {
                        if let Message::Binary(bytes) = msg {
                            let _ = self.client_frame(&mut socket, &bytes).await;
                        }
                    }
                })
                .await;
                reason
            }
            End::Drop(reason) => {
                // A real drop loses whatever is in flight, and so would this one: closing a
                // socket with unread client data makes the kernel send a reset, which can
                // discard frames the client has not read yet. A reconnect test must know what
                // the client got, so wait (bounded) until it acked every frame sent here,
                // reading its frames meanwhile, and only then cut the connection without a
                // close frame.
                self.silent = true;
                let conn = self.conn;
                let acked_all = |s: &Shared| {
                    s.rec.update(|r| {
                        let sent = r
                            .pushed
                            .iter()
                            .filter(|p| p.conn == conn && p.need_ack)
                            .count();
                        let acked = r.acks.iter().filter(|a| a.conn == conn).count();
                        acked >= sent
                    })
                };
                let _ = tokio::time::timeout(Duration::from_secs(2), async {
                    while !acked_all(&self.s) {
                        match socket.recv().await {
                            Some(Ok(Message::Binary(bytes))) => {
                                let _ = self.client_frame(&mut socket, &bytes).await;
                            }
                            Some(Ok(_)) => {}
                            _ => break,
                        }
                    }
                })
                .await;
                reason
            }
        };
        drop(socket);
        let conn = self.conn;
        self.s.rec.update(|r| {
            r.open_connections = r.open_connections.saturating_sub(1);
            r.closed.push(Closed { conn, reason });
        });
    }

    async fn serve(&mut self, socket: &mut WebSocket) -> End {
        let cancel = self.s.cancel.clone();
        loop {
            let pushing = !self.silent && !self.idle;
            tokio::select! {
                _ = cancel.cancelled() => {
                    let _ = socket.send(close(1001, "simulator shutting down")).await;
                    return End::Done("shutdown".into());
                }
                incoming = socket.recv() => match incoming {
                    None => return End::Done("client went away".into()),
                    Some(Err(e)) => return End::Done(format!("read error: {e}")),
                    Some(Ok(Message::Binary(bytes))) => {
                        if let Err(e) = self.client_frame(socket, &bytes).await {
                            return End::Done(format!("write error: {e}"));
                        }
                    }
                    Some(Ok(Message::Close(frame))) => {
                        let code = frame.map(|f| f.code.to_string()).unwrap_or_else(|| "none".into());
                        return End::Done(format!("client closed {code}"));
                    }
                    Some(Ok(Message::Text(_))) => self.s.rec.update(|r| r.bad_client_frames += 1),
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                },
                _ = tokio::time::sleep_until(self.push_at), if pushing => {
                    self.started = true;
                    if let Some(end) = self.push_step(socket).await {
                        return end;
                    }
                }
                _ = until(self.hb_deadline) => {
                    let _ = socket.send(close(4000, "no heartbeat")).await;
                    return End::Done("fault: no heartbeat".into());
                }
            }
        }
    }

    /// Handles one binary frame from the client.
    async fn client_frame(
        &mut self,
        socket: &mut WebSocket,
        bytes: &[u8],
    ) -> Result<(), axum::Error> {
        let Ok(frame) = PushFrame::decode(bytes) else {
            self.s.rec.update(|r| r.bad_client_frames += 1);
            return Ok(());
        };
        let conn = self.conn;
        let limit = self.s.rec.limit();
        let reply = match frame.payload_type.as_str() {
            payload_type::ENTER_ROOM => {
                let Ok(msg) = ImEnterRoom::decode(frame.payload.as_slice()) else {
                    self.s.rec.update(|r| r.bad_client_frames += 1);
                    return Ok(());
                };
                self.s.rec.update(|r| {
                    push_capped(
                        &mut r.enter_rooms,
                        EnterRoom {
                            conn,
                            room_id: msg.room_id,
                            live_id: msg.live_id,
                            identity: msg.identity,
                            cursor: msg.cursor,
                            enter_unique_id: msg.enter_unique_id,
                        },
                        limit,
                    )
                });
                self.start_now();
                Some(frame::server_frame(
                    payload_type::ENTER_ROOM_RESP,
                    frame.log_id,
                    Vec::new(),
                ))
            }
            payload_type::HEARTBEAT => {
                let (room_id, seq) = if frame.payload.is_empty() {
                    (None, None)
                } else {
                    match HeartBeat::decode(frame.payload.as_slice()) {
                        Ok(hb) => (Some(hb.room_id), Some(hb.send_packet_seq_id)),
                        Err(_) => {
                            self.s.rec.update(|r| r.bad_client_frames += 1);
                            return Ok(());
                        }
                    }
                };
                let at_ms = self.s.rec.elapsed_ms();
                self.s.rec.update(|r| {
                    push_capped(
                        &mut r.heartbeats,
                        Heartbeat {
                            conn,
                            room_id,
                            seq,
                            at_ms,
                        },
                        limit,
                    )
                });
                if let Some(timeout) = self.s.cfg.heartbeat_timeout {
                    self.hb_deadline = Some(Instant::now() + timeout);
                }
                self.start_now();
                Some(frame::server_frame(
                    payload_type::HEARTBEAT,
                    0,
                    frame.payload.clone(),
                ))
            }
            payload_type::ACK => {
                let payload = String::from_utf8_lossy(&frame.payload).into_owned();
                self.s.rec.update(|r| {
                    push_capped(
                        &mut r.acks,
                        Ack {
                            conn,
                            log_id: frame.log_id,
                            payload,
                        },
                        limit,
                    )
                });
                None
            }
            _ => {
                self.s.rec.update(|r| r.bad_client_frames += 1);
                None
            }
        };
        match reply {
            Some(bytes) if !self.silent => socket.send(Message::Binary(Bytes::from(bytes))).await,
            _ => Ok(()),
        }
    }

    fn start_now(&mut self) {
        if !self.started {
            self.started = true;
            self.push_at = Instant::now();
        }
    }

    /// Sends the next thing the scenario has; `Some` ends the connection.
    async fn push_step(&mut self, socket: &mut WebSocket) -> Option<End> {
        if !self.fault_done && self.fault.frames() == Some(self.frames_sent) {
            self.fault_done = true;
            match self.fault.clone() {
                ConnFault::None => {}
                ConnFault::DropAfter { .. } => return Some(End::Drop("fault: drop".into())),
                ConnFault::CloseAfter { code, reason, .. } => {
                    let _ = socket.send(close(code, &reason)).await;
                    return Some(End::Done(format!("fault: close {code}")));
                }
                ConnFault::SilentAfter { .. } => {
                    self.silent = true;
                    return None;
                }
                ConnFault::TextAfter { .. } => {
                    let text = "this is not a push frame".to_string();
                    if let Err(e) = socket.send(Message::Text(text.into())).await {
                        return Some(End::Done(format!("write error: {e}")));
                    }
                    return None;
                }
                ConnFault::OversizedAfter { bytes, .. } => {
                    // A well-formed push frame around a huge payload, so only the size is
                    // wrong.
                    let big = Bytes::from(frame::server_frame(
                        payload_type::MSG,
                        LOG_ID_BASE,
                        vec![0u8; bytes],
                    ));
                    if let Err(e) = socket.send(Message::Binary(big)).await {
                        return Some(End::Done(format!("write error: {e}")));
                    }
                    return None;
                }
            }
        }
        if let Some(messages) = self.resend.pop_front() {
            return self.send_frame(socket, messages, true).await.err();
        }
        let s = self.s.clone();
        match &s.play {
            Play::Replay {
                rec,
                interval,
                speed,
                max_gap,
            } => {
                let Some(bytes) = rec.frames.get(self.replay_index) else {
                    self.idle = true;
                    return None;
                };
                self.replay_index += 1;
                if let Err(e) = socket
                    .send(Message::Binary(Bytes::from(bytes.clone())))
                    .await
                {
                    return Some(End::Done(format!("write error: {e}")));
                }
                self.frames_sent += 1;
                self.record_replayed(bytes);
                let pause = rec
                    .gap_before(self.replay_index, *speed, *max_gap)
                    .unwrap_or(*interval);
                self.push_at = Instant::now() + pause;
                None
            }
            Play::Random { seed, pace } => {
                let (seed, pace) = (*seed, *pace);
                let index = {
                    let mut pos = self.s.position();
                    let i = *pos;
                    *pos += 1;
                    i
                };
                let messages = random::frame(seed, index, pace.batch)
                    .iter()
                    .enumerate()
                    .map(|(j, m)| {
                        let serial = index * pace.batch as u64 + j as u64;
                        to_wire(m, self.s.ctx.msg_id_base + serial + 1, &self.s.ctx)
                    })
                    .collect();
                self.push_at = Instant::now() + pace.interval;
                self.send_frame(socket, messages, false).await.err()
            }
            Play::Script(compiled) => {
                let (index, step) = {
                    let mut pos = self.s.position();
                    let i = *pos;
                    match usize::try_from(i).ok().and_then(|i| compiled.steps.get(i)) {
                        Some(step) => {
                            *pos += 1;
                            (i, step.clone())
                        }
                        None => {
                            drop(pos);
                            self.idle = true;
                            self.s.rec.update(|r| r.script_finished = true);
                            return None;
                        }
                    }
                };
                match step {
                    CompiledStep::Wait(d) => {
                        self.push_at = Instant::now() + d;
                        None
                    }
                    CompiledStep::Frame(messages) => {
                        self.push_at = Instant::now();
                        let result = self.send_frame(socket, messages.clone(), false).await;
                        if result.is_err() {
                            // Not delivered: the next connection plays this step again.
                            let mut pos = self.s.position();
                            if *pos == index + 1 {
                                *pos = index;
                            }
                        } else if self.s.cfg.resend_on_reconnect > 0 {
                            let mut recent = self.s.recent();
                            recent.push_back(messages);
                            while recent.len() > self.s.cfg.resend_on_reconnect {
                                recent.pop_front();
                            }
                        }
                        result.err()
                    }
                    CompiledStep::EndStream(control) => {
                        if let Err(end) = self.send_frame(socket, vec![control], false).await {
                            return Some(end);
                        }
                        self.s.rec.update(|r| r.script_finished = true);
                        Some(self.end_stream(socket).await)
                    }
                }
            }
        }
    }

    /// After Control 3 the client gets `end_grace` to close by itself (as the reference
    /// clients do on stream end) before the server closes with 1000. Closing at once would
    /// make TL7 drop frames it had received but not yet handled.
    async fn end_stream(&mut self, socket: &mut WebSocket) -> End {
        let deadline = Instant::now() + self.s.cfg.end_grace;
        let cancel = self.s.cancel.clone();
        loop {
            let incoming = tokio::select! {
                _ = cancel.cancelled() => None,
                r = tokio::time::timeout_at(deadline, socket.recv()) => Some(r),
            };
            match incoming {
                None | Some(Err(_)) => {
                    let _ = socket.send(close(1000, "stream ended")).await;
                    return End::Done("stream ended".into());
                }
                Some(Ok(None | Some(Err(_)))) => {
                    return End::Done("stream ended; client went away".into())
                }
                Some(Ok(Some(Ok(Message::Close(frame))))) => {
                    let code = frame
                        .map(|f| f.code.to_string())
                        .unwrap_or_else(|| "none".into());
                    return End::Done(format!("stream ended; client closed {code}"));
                }
                Some(Ok(Some(Ok(Message::Binary(bytes))))) => {
                    if self.client_frame(socket, &bytes).await.is_err() {
                        return End::Done("stream ended; client went away".into());
                    }
                }
                Some(Ok(Some(Ok(_)))) => {}
            }
        }
    }

    fn record_replayed(&self, bytes: &[u8]) {
        let conn = self.conn;
        let limit = self.s.rec.limit();
        let frame = PushFrame::decode(bytes).ok();
        let mut pushed = Pushed {
            conn,
            ..Default::default()
        };
        if let Some(f) = &frame {
            pushed.seq_id = f.seq_id;
            pushed.log_id = f.log_id;
            pushed.gzip = frame::is_gzip(f);
            let mut dec = frame::FrameDecoder::new();
            if let Ok(result) = dec.fetch_result(f) {
                pushed.internal_ext = result.internal_ext;
                pushed.need_ack = result.need_ack;
                pushed.msg_ids = result.messages.iter().map(|m| m.msg_id).collect();
                pushed.methods = result.messages.into_iter().map(|m| m.method).collect();
            }
        }
        let count = pushed.msg_ids.len() as u64;
        self.s.rec.update(|r| {
            r.frames_pushed += 1;
            r.messages_pushed += count;
            push_capped(&mut r.pushed, pushed, limit);
        });
    }

    async fn send_frame(
        &mut self,
        socket: &mut WebSocket,
        messages: Vec<BaseMessage>,
        resent: bool,
    ) -> Result<(), End> {
        let seq = self.s.frame_seq.fetch_add(1, Ordering::SeqCst) + 1;
        let log_id = LOG_ID_BASE + seq;
        let n = self.s.next_ext();
        let internal_ext = format!("ext-{n}");
        let pushed = Pushed {
            conn: self.conn,
            seq_id: i64::try_from(seq).unwrap_or(i64::MAX),
            log_id,
            internal_ext: internal_ext.clone(),
            need_ack: self.s.cfg.need_ack,
            msg_ids: messages.iter().map(|m| m.msg_id).collect(),
            methods: messages.iter().map(|m| m.method.clone()).collect(),
            gzip: self.gzip,
            resent,
            written_at: None,
        };
        let result = FetchResult {
            messages,
            cursor: format!("c-{n}"),
            fetch_interval: 1000,
            now: unix_ms(),
            internal_ext,
            fetch_type: 1,
            heartbeat_duration: 10_000,
            need_ack: self.s.cfg.need_ack,
            ..Default::default()
        };
        let bytes = frame::msg_frame(pushed.seq_id, log_id, &result, self.gzip);
        if let Err(e) = socket.send(Message::Binary(Bytes::from(bytes))).await {
            return Err(End::Done(format!("write error: {e}")));
        }
        let pushed = Pushed {
            written_at: Some(Instant::now()),
            ..pushed
        };
        self.frames_sent += 1;
        // Silence starts with the last frame, not at the next push step: a heartbeat that
        // arrives in between must not be answered.
        if let ConnFault::SilentAfter { frames } = self.fault {
            if !self.fault_done && self.frames_sent == frames {
                self.fault_done = true;
                self.silent = true;
            }
        }
        let count = pushed.msg_ids.len() as u64;
        let limit = self.s.rec.limit();
        self.s.rec.update(|r| {
            r.frames_pushed += 1;
            r.messages_pushed += count;
            push_capped(&mut r.pushed, pushed, limit);
        });
        Ok(())
    }
}
