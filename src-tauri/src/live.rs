//! The live connection as the window sees it: connect/disconnect commands, the connection
//! state in the status bar, and a feed of readable log entries.
//!
//! The protocol work is all in `tiktok-live`; this module only owns the running session (one at
//! a time), and hands every event to the log feed ([`crate::feed`]) and the trigger engine.

use std::sync::Mutex;

use futures_util::StreamExt;
use serde::Deserialize;
use tauri::{AppHandle, Runtime, State};
use tiktok_live::client::{
    ClientConfig, ConnectionState as ClientState, LiveClient, Secret, SignConfig, SignPathStyle,
};
use tiktok_live::event::Event;
use tiktok_live::message::User;
use tiktok_live::target::Target;
use tokio_util::sync::CancellationToken;
use ts_rs::TS;

use crate::error::{ErrorCode, IpcError};
use crate::feed::FeedHub;
use crate::status::{ConnectionState, StatusHub};

/// What the Connect form sends.
#[derive(Clone, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ConnectRequest {
    /// `@user`, a live link or a room id.
    pub target: String,
    /// An Euler-compatible sign server (empty: the default one).
    #[serde(default)]
    #[ts(optional)]
    pub sign_url: Option<String>,
    /// The sign server's API key, if it needs one.
    #[serde(default)]
    #[ts(optional)]
    pub api_key: Option<String>,
    /// TikTok's web base URL (empty: tiktok.com). Pointing it at a local simulator is how the
    /// app is tested without the internet.
    #[serde(default)]
    #[ts(optional)]
    pub web_url: Option<String>,
    /// A signed-in TikTok `sessionid` (age-restricted LIVEs need one). The window never sends
    /// it: the backend fills it from Settings → TikTok (see `with_saved_sign_settings`), hence
    /// not in the TS bindings.
    #[serde(default)]
    #[ts(skip)]
    pub session_id: Option<String>,
    /// Give the session id to the sign server too (only for a sign host the user trusts).
    #[serde(default)]
    #[ts(skip)]
    pub trust_sign_server_with_session: bool,
}

/// Secrets stay out of logs.
impl std::fmt::Debug for ConnectRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let redacted = |s: &Option<String>| s.as_ref().map(|_| "<redacted>");
        f.debug_struct("ConnectRequest")
            .field("target", &self.target)
            .field("sign_url", &self.sign_url)
            .field("api_key", &redacted(&self.api_key))
            .field("web_url", &self.web_url)
            .field("session_id", &redacted(&self.session_id))
            .field(
                "trust_sign_server_with_session",
                &self.trust_sign_server_with_session,
            )
            .finish()
    }
}

#[derive(Default)]
pub struct LiveSessions {
    current: Mutex<Option<CancellationToken>>,
}

fn config_for(req: &ConnectRequest) -> Result<ClientConfig, IpcError> {
    let nonempty = |s: &Option<String>| {
        s.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    for (label, url) in [
        ("sign server URL", &req.sign_url),
        ("TikTok web URL", &req.web_url),
    ] {
        if let Some(url) = nonempty(url) {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(IpcError::new(
                    ErrorCode::InvalidInput,
                    format!("the {label} must start with http:// or https://"),
                ));
            }
        }
    }
    let mut cfg = match nonempty(&req.web_url) {
        Some(web) => ClientConfig::local(&web),
        None => ClientConfig::default(),
    };
    if let Some(sign) = nonempty(&req.sign_url) {
        cfg.sign = SignConfig::Euler {
            base_url: sign,
            path_style: SignPathStyle::RoomConnect,
            api_key: nonempty(&req.api_key).map(Secret::from),
            client_name: "ttlive-rust".into(),
        };
    } else if let (Some(key), SignConfig::Euler { api_key, .. }) =
        (nonempty(&req.api_key), &mut cfg.sign)
    {
        *api_key = Some(Secret::from(key));
    }
    cfg.session_id = nonempty(&req.session_id).map(Secret::from);
    if req.trust_sign_server_with_session {
        cfg.trust_sign_host_with_session();
    }
    Ok(cfg)
}

fn who(user: &Option<User>) -> (Option<String>, Option<String>) {
    match user {
        Some(u) => (Some(u.nickname.clone()), Some(u.unique_id.clone())),
        None => (None, None),
    }
}

/// A readable line for an event; `None` for events the log does not show.
pub fn describe(event: &Event) -> Option<(String, Option<String>, Option<String>, String)> {
    let entry = |kind: &str, user: &Option<User>, text: String| {
        let (name, handle) = who(user);
        Some((kind.to_string(), name, handle, text))
    };
    match event {
        Event::Connected { room_id, reconnect } => {
            let verb = if *reconnect {
                "Reconnected"
            } else {
                "Connected"
            };
            Some((
                "connection".into(),
                None,
                None,
                format!("{verb} to room {room_id}"),
            ))
        }
        Event::Gift(g) => {
            let s = g.settled.as_ref()?;
            let name = g.gift.gift_name();
            let diamonds = g.settled_diamonds().unwrap_or(0);
            let late = if g.settled_by_timeout() {
                " (streak timed out)"
            } else {
                ""
            };
            entry(
                "gift",
                &g.gift.user,
                format!("sent {name} ×{} · {diamonds} coins{late}", s.count),
            )
        }
        Event::Chat(c) => entry("chat", &c.user, c.content.clone()),
        Event::Like(l) => entry(
            "like",
            &l.user,
            format!("liked ×{} · room total {}", l.count, l.total),
        ),
        Event::Follow(f) => entry("follow", &f.user, "followed".into()),
        Event::Share(s) => entry("share", &s.user, "shared the stream".into()),
        Event::Join(j) => entry("join", &j.user, "joined".into()),
        Event::Subscribe(s) => entry(
            "subscribe",
            &s.user,
            format!("subscribed (month {})", s.sub_month),
        ),
        Event::ViewerCount(v) => Some((
            "viewers".into(),
            None,
            None,
            format!("{} watching", v.total),
        )),
        Event::StreamPaused => Some(("stream".into(), None, None, "Stream paused".into())),
        Event::StreamUnpaused => Some(("stream".into(), None, None, "Stream resumed".into())),
        Event::StreamEnded { suspended } => Some((
            "stream".into(),
            None,
            None,
            if *suspended {
                "Stream suspended by TikTok".into()
            } else {
                "Stream ended".into()
            },
        )),
        Event::Disconnected {
            reason,
            will_reconnect,
        } => Some((
            "connection".into(),
            None,
            None,
            if *will_reconnect {
                format!("Disconnected ({reason}); reconnecting")
            } else {
                format!("Disconnected ({reason})")
            },
        )),
        Event::Unknown { .. } => None,
    }
}

/// A log line that is not a viewer's event.
fn note<R: Runtime>(app: &AppHandle<R>, kind: &str, text: String) {
    use tauri::Manager;
    app.state::<FeedHub>().note(kind, text);
}

fn map_state(state: &ClientState) -> (ConnectionState, Option<String>) {
    match state {
        ClientState::Idle => (ConnectionState::Connecting, None),
        ClientState::Connecting { attempt } => (
            ConnectionState::Connecting,
            (*attempt > 1).then(|| format!("attempt {attempt}")),
        ),
        ClientState::Connected { room_id } => {
            (ConnectionState::Connected, Some(format!("room {room_id}")))
        }
        // "reconnecting in 12 s (attempt 3): why"
        ClientState::Reconnecting { .. } => {
            (ConnectionState::Reconnecting, Some(state.status_text()))
        }
        ClientState::Ended => (ConnectionState::Ended, None),
        ClientState::Failed { message, .. } => {
            (ConnectionState::Disconnected, Some(message.clone()))
        }
        ClientState::Stopped => (ConnectionState::Disconnected, None),
    }
}

/// Starts a session (stopping any running one first).
pub fn connect<R: Runtime>(
    app: &AppHandle<R>,
    sessions: &LiveSessions,
    hub: &StatusHub,
    req: ConnectRequest,
) -> Result<(), IpcError> {
    let target = Target::parse(&req.target)
        .map_err(|e| IpcError::new(ErrorCode::InvalidInput, e.to_string()))?;
    let client = LiveClient::new(config_for(&req)?)
        .map_err(|e| IpcError::new(ErrorCode::Internal, e.to_string()))?;
    let cancel = CancellationToken::new();
    if let Some(old) = sessions
        .current
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .replace(cancel.clone())
    {
        old.cancel();
    }
    hub.update(app, |s| {
        s.connection = ConnectionState::Connecting;
        s.connection_detail = Some(target.to_string());
    });
    tracing::info!(%target, "connecting");
    {
        use tauri::Manager;
        let data_dir = app.state::<crate::paths::AppPaths>().data_dir.clone();
        crate::setup::settings::remember_target(&data_dir, req.target.trim());
    }
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        use tauri::Manager;
        let engine = match app.state::<crate::engine::EngineState>().handle(&app).await {
            Ok(h) => Some(h),
            Err(e) => {
                tracing::warn!(error = %e, "running without the trigger engine");
                note(&app, "error", format!("Actions are off: {e}"));
                None
            }
        };
        // The first connection after a restart takes over from the last run (msg_ids it
        // handled are not handled again).
        let resume = engine.as_ref().map(|e| e.take_resume()).unwrap_or_default();
        let mut stream = client.connect_resuming(target, cancel, resume);
        let mut states = stream.state();
        let mut states_open = true;
        let feed = app.state::<FeedHub>();
        let hub = app.state::<StatusHub>();
        loop {
            tokio::select! {
                item = stream.next() => match item {
                    Some(Ok(event)) => {
                        if let Event::Connected { room_id, reconnect: false } = &event {
                            // The room's own gift list, for mapping (cached for offline use).
                            let client = client.clone();
                            let room_id = *room_id;
                            let data_dir = app.state::<crate::paths::AppPaths>().data_dir.clone();
                            tauri::async_runtime::spawn(async move {
                                crate::gifts::refresh(&client, room_id, &data_dir).await;
                            });
                        }
                        // The row goes first: the engine's trace of this event links to it.
                        feed.client_event(&event);
                        if let Event::Connected { reconnect: false, .. } = &event {
                            // Room info was read before the socket opened.
                            feed.set_room_title(client.room_title());
                        }
                        if let Some(engine) = &engine {
                            if let Err(e) = engine.submit(&event).await {
                                tracing::warn!(error = %e, "the trigger engine refused an event");
                            }
                        }
                    }
                    Some(Err(e)) => {
                        tracing::warn!(code = e.code(), error = %e, "live stream error");
                        feed.note("error", e.to_string());
                    }
                    None => break,
                },
                changed = states.changed(), if states_open => {
                    if changed.is_err() {
                        states_open = false;
                        continue;
                    }
                    let (state, detail) = map_state(&states.borrow_and_update());
                    hub.update(&app, |s| { s.connection = state; s.connection_detail = detail; });
                }
            }
        }
        let (state, detail) = map_state(&stream.state().borrow());
        hub.update(&app, |s| {
            s.connection = state;
            s.connection_detail = detail;
        });
    });
    Ok(())
}

/// Stops the running session, if any.
pub fn disconnect(sessions: &LiveSessions) {
    if let Some(cancel) = sessions
        .current
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .take()
    {
        cancel.cancel();
    }
}

#[tauri::command]
pub fn live_connect<R: Runtime>(
    app: AppHandle<R>,
    sessions: State<'_, LiveSessions>,
    hub: State<'_, StatusHub>,
    paths: State<'_, crate::paths::AppPaths>,
    request: ConnectRequest,
) -> Result<(), IpcError> {
    let request = crate::setup::settings::with_saved_sign_settings(&paths.data_dir, request);
    connect(&app, &sessions, &hub, request)
}

#[tauri::command]
pub fn live_disconnect(sessions: State<'_, LiveSessions>) -> Result<(), IpcError> {
    disconnect(&sessions);
    Ok(())
}

#[cfg(test)]
mod tests {
    use tiktok_live::event::{GiftEvent, Meta, UserEvent};
    use tiktok_live::message::{GiftDetails, GiftMessage};
    use tiktok_live::streak::{SettleReason, Settled, StreakKey};

    use super::*;

    fn req(target: &str, sign: Option<&str>, web: Option<&str>) -> ConnectRequest {
        ConnectRequest {
            target: target.into(),
            sign_url: sign.map(str::to_string),
            api_key: Some("k".into()),
            web_url: web.map(str::to_string),
            session_id: Some("s".into()),
            trust_sign_server_with_session: false,
        }
    }

    #[test]
    fn reconnecting_says_when_and_which_attempt_and_secrets_stay_out_of_logs() {
        let (state, detail) = map_state(&ClientState::Reconnecting {
            attempt: 3,
            retry_in_ms: 11_200,
            reason: "closed by the server".into(),
        });
        assert!(matches!(state, ConnectionState::Reconnecting));
        assert_eq!(
            detail.as_deref(),
            Some("reconnecting in 12 s (attempt 3): closed by the server")
        );
        let mut r = req("@a", None, None);
        r.session_id = Some("sess-secret".into());
        r.api_key = Some("key-secret".into());
        let shown = format!("{r:?}");
        assert!(
            !shown.contains("sess-secret") && !shown.contains("key-secret"),
            "{shown}"
        );
        let cfg = config_for(&r).unwrap();
        assert_eq!(
            cfg.session_id.as_ref().map(Secret::expose),
            Some("sess-secret")
        );
        assert!(cfg.session_sign_host.is_none());
    }

    #[test]
    fn urls_from_the_form_become_the_client_config() {
        let cfg = config_for(&req(
            "@a",
            Some(" http://127.0.0.1:7/ "),
            Some("http://127.0.0.1:8"),
        ))
        .unwrap();
        assert_eq!(cfg.web_base, "http://127.0.0.1:8");
        assert_eq!(cfg.webcast_base, "http://127.0.0.1:8/webcast");
        match cfg.sign {
            SignConfig::Euler {
                base_url, api_key, ..
            } => {
                assert_eq!(base_url, "http://127.0.0.1:7/");
                assert_eq!(api_key.as_ref().map(Secret::expose), Some("k"));
            }
            other => panic!("{other:?}"),
        }
        let cfg = config_for(&req("@a", None, Some(""))).unwrap();
        assert_eq!(cfg.web_base, "https://www.tiktok.com");
        let err = config_for(&req("@a", Some("ftp://x"), None)).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidInput);
    }

    #[test]
    fn log_lines_describe_settled_gifts_only() {
        let user = User {
            id: 1,
            unique_id: "anna".into(),
            nickname: "Anna \"§4\"".into(),
            ..Default::default()
        };
        let key = StreakKey {
            user_id: 1,
            gift_id: 5655,
            group_id: 9,
            generation: 0,
        };
        let gift = |settled: Option<Settled>| {
            Event::Gift(Box::new(GiftEvent {
                meta: Meta {
                    msg_id: 1,
                    is_history: false,
                    create_time: 0,
                },
                gift: GiftMessage {
                    gift_id: 5655,
                    gift: Some(GiftDetails {
                        id: 5655,
                        name: "Rose".into(),
                        diamond_count: 1,
                        gift_type: 1,
                        ..Default::default()
                    }),
                    user: Some(user.clone()),
                    to_user: None,
                    repeat_count: 5,
                    repeat_end: 1,
                    group_id: 9,
                },
                in_streak: true,
                streak: key,
                delta: 2,
                settled,
            }))
        };
        assert!(
            describe(&gift(None)).is_none(),
            "a streak in progress is not logged"
        );
        let (kind, name, handle, text) = describe(&gift(Some(Settled {
            key,
            count: 5,
            reason: SettleReason::Final,
        })))
        .unwrap();
        assert_eq!(kind, "gift");
        assert_eq!(name.as_deref(), Some("Anna \"§4\""));
        assert_eq!(handle.as_deref(), Some("anna"));
        assert_eq!(text, "sent Rose ×5 · 5 coins");
        let follow = Event::Follow(UserEvent {
            meta: Meta {
                msg_id: 2,
                is_history: false,
                create_time: 0,
            },
            user: Some(user),
        });
        assert_eq!(describe(&follow).unwrap().3, "followed");
        assert_eq!(
            describe(&Event::StreamEnded { suspended: false })
                .unwrap()
                .3,
            "Stream ended"
        );
    }
}
