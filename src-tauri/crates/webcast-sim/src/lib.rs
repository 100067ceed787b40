//! A local TikTok LIVE webcast simulator: the Euler-style sign server, the TikTok web routes
//! and the push websocket on one 127.0.0.1 port, speaking the real protocol (protobuf push
//! frames, gzip, acks, heartbeats, enter-room) closely enough that third-party clients can
//! connect to it. Facts come from `shared/protocol.md` (§8 is the spec of this crate).
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use std::time::Duration;
//! use webcast_sim::{ConnFault, SimConfig, Simulator};
//!
//! let config = SimConfig {
//!     conn_faults: vec![ConnFault::DropAfter { frames: 5 }],
//!     ..SimConfig::default() // room 7140000000000000001, user `simstreamer`, demo script
//! };
//! let sim = Simulator::start(config, "127.0.0.1:0".parse()?).await?;
//! // Point a client at sim.base_url() (www + sign) and sim.webcast_url() (webcast).
//! let expected = sim.expected().expect("a scripted scenario");
//! let seen = sim.wait_for(|r| r.script_finished, Duration::from_secs(10)).await?;
//! assert_eq!(seen.connections, 2);
//! # let _ = expected;
//! sim.shutdown().await;
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

mod config;
pub mod gifts;
mod http;
pub mod random;
mod record;
pub mod replay;
pub mod script;
mod server;
mod tls;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use config::{
    ConnFault, GiftList, HandshakeFault, LivePage, RoomState, Scenario, SignFault, SimConfig,
    DEFAULT_MAX_GAP, DEFAULT_ROOM_ID, DEFAULT_USER, TTWID,
};
pub use record::{
    Ack, Closed, EnterRoom, Handshake, Heartbeat, HttpRequest, Pushed, Recorded, WaitTimeout,
};
pub use script::{Expected, Msg, Script, ScriptError, SimUser, Step};
pub use server::{LOG_ID_BASE, WS_PATH};

use server::{Play, Shared};

/// Why a simulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The script is invalid.
    #[error(transparent)]
    Script(#[from] ScriptError),
    /// The recording cannot be replayed.
    #[error(transparent)]
    Replay(#[from] replay::ReplayError),
}

/// Starts simulators.
#[derive(Debug, Clone, Copy)]
pub struct Simulator;

impl Simulator {
    /// Binds `addr` (use port 0 in tests) and serves until [`SimHandle::shutdown`] or until the
    /// handle is dropped.
    pub async fn start(config: SimConfig, addr: SocketAddr) -> Result<SimHandle, SimError> {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| SimError::Bind { addr, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| SimError::Bind { addr, source })?;
        let base_url = format!("http://{addr}");
        let ws_url = config
            .push_server
            .clone()
            .unwrap_or_else(|| format!("ws://{addr}{WS_PATH}"));
        let ctx = script::WireContext {
            room_id: config.room_id,
            base_url: base_url.clone(),
            host: config.host(),
            start_ms: http::unix_ms(),
            msg_id_base: script::MSG_ID_BASE.saturating_add(config.msg_id_offset),
        };
        let (play, expected) = match &config.scenario {
            Scenario::Script(s) => {
                s.check()?;
                (
                    Play::Script(s.compile(&ctx, config.time_scale)),
                    Some(s.expected()),
                )
            }
            Scenario::Random {
                rate,
                seed,
                limit: Some(limit),
            } => {
                let s = random::script(*rate, *seed, *limit);
                (
                    Play::Script(s.compile(&ctx, config.time_scale)),
                    Some(s.expected()),
                )
            }
            Scenario::Random {
                rate,
                seed,
                limit: None,
            } => (
                Play::Random {
                    seed: *seed,
                    pace: random::pace(*rate),
                },
                None,
            ),
            Scenario::Replay {
                path,
                interval,
                speed,
                max_gap,
            } => (
                Play::Replay {
                    rec: replay::load(path, &ws_url)?,
                    interval: *interval,
                    speed: *speed,
                    max_gap: *max_gap,
                },
                None,
            ),
        };
        let cancel = CancellationToken::new();
        let sign_listener = if config.sign_separate_origin {
            let bind = SocketAddr::new(addr.ip(), 0);
            let l = tokio::net::TcpListener::bind(bind)
                .await
                .map_err(|source| SimError::Bind { addr: bind, source })?;
            let sign_addr = l
                .local_addr()
                .map_err(|source| SimError::Bind { addr: bind, source })?;
            Some((l, format!("http://{sign_addr}")))
        } else {
            None
        };
        let sign_url = sign_listener
            .as_ref()
            .map(|(_, url)| url.clone())
            .unwrap_or_else(|| base_url.clone());
        let shared = Arc::new(Shared::new(
            config,
            base_url,
            ws_url,
            ctx,
            play,
            cancel.clone(),
        ));
        let app = server::router(shared.clone());
        let sign_task = sign_listener.map(|(listener, _)| {
            let app = server::sign_router(shared.clone());
            let stop = cancel.clone();
            tokio::spawn(async move {
                let served = axum::serve(listener, app)
                    .with_graceful_shutdown(stop.cancelled_owned())
                    .await;
                if let Err(e) = served {
                    tracing::warn!("webcast simulator's sign server stopped: {e}");
                }
            })
        });
        let stop = cancel.clone();
        let tls = tls::acceptor().map_err(|reason| SimError::Bind {
            addr,
            source: std::io::Error::other(reason),
        })?;
        let listener = tls::DualListener::new(listener, tls, cancel.clone())
            .map_err(|source| SimError::Bind { addr, source })?;
        let task = tokio::spawn(async move {
            let served = axum::serve(listener, app)
                .with_graceful_shutdown(stop.cancelled_owned())
                .await;
            if let Err(e) = served {
                tracing::warn!("webcast simulator stopped: {e}");
            }
        });
        Ok(SimHandle {
            addr,
            shared,
            sign_url,
            expected,
            task: Some(task),
            sign_task,
        })
    }
}

/// A running simulator. Dropping it stops the server.
pub struct SimHandle {
    addr: SocketAddr,
    shared: Arc<Shared>,
    sign_url: String,
    expected: Option<Expected>,
    task: Option<JoinHandle<()>>,
    sign_task: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for SimHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimHandle")
            .field("addr", &self.addr)
            .finish()
    }
}

impl SimHandle {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:P`: the www base URL and the sign-server base URL.
    pub fn base_url(&self) -> String {
        self.shared.base_url.clone()
    }

    /// The sign server's base URL: its own origin with [`SimConfig::sign_separate_origin`],
    /// otherwise [`SimHandle::base_url`].
    pub fn sign_url(&self) -> String {
        self.sign_url.clone()
    }

    /// `http://127.0.0.1:P/webcast`: the webcast base URL.
    pub fn webcast_url(&self) -> String {
        format!("{}/webcast", self.shared.base_url)
    }

    /// `ws://127.0.0.1:P/webcast/im/ws_proxy/ws_reuse_supplement/`: the `push_server` handed out.
    pub fn ws_url(&self) -> String {
        self.shared.ws_url.clone()
    }

    /// The configuration it runs with.
    pub fn config(&self) -> &SimConfig {
        &self.shared.cfg
    }

    /// What a correct client ends up with, for scripted (and bounded random) scenarios.
    pub fn expected(&self) -> Option<&Expected> {
        self.expected.as_ref()
    }

    /// A snapshot of everything recorded so far.
    pub fn recorded(&self) -> Recorded {
        self.shared.rec.snapshot()
    }

    /// Waits until `cond` holds for the recording (re-checked on every change), up to `timeout`.
    pub async fn wait_for(
        &self,
        cond: impl FnMut(&Recorded) -> bool,
        timeout: Duration,
    ) -> Result<Recorded, WaitTimeout> {
        self.shared.rec.wait_for(cond, timeout).await
    }

    /// The token that stops the server; cancel it to stop from elsewhere.
    pub fn cancel_token(&self) -> CancellationToken {
        self.shared.cancel.clone()
    }

    /// Stops the server: open sockets get a close frame (1001), then the listener stops.
    pub async fn shutdown(mut self) {
        self.shared.cancel.cancel();
        if let Some(task) = self.task.take() {
            let _ = tokio::time::timeout(Duration::from_secs(5), task).await;
        }
        if let Some(task) = self.sign_task.take() {
            let _ = tokio::time::timeout(Duration::from_secs(5), task).await;
        }
    }

    /// Resolves when the server has stopped (after a cancel from elsewhere).
    pub async fn stopped(&mut self) {
        if let Some(task) = self.task.as_mut() {
            let _ = task.await;
            self.task = None;
        }
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        self.shared.cancel.cancel();
    }
}
