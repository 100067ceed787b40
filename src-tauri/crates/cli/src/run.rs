//! `run`: the whole pipeline headless. A profile, a TikTok target and a Minecraft server in;
//! the event and queue lifecycle out as JSON lines (or human lines with `--pretty`).
//!
//! Exit codes: 0 when the stream ended and the queue drained (or after Ctrl-C, with waiting
//! items kept for the next start); 1 on a fatal error (bad profile, RCON password refused,
//! the connection given up), with the reason on stderr.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context};
use clap::Subcommand;
use livetrigger_engine::engine::rules::Step;
use livetrigger_engine::engine::{
    pump, Engine, EngineConfig, EngineUpdate, ItemStatus, OutputsExecutor, Profile, Shutdown,
    StartReport, StoreOptions,
};
use livetrigger_engine::outputs::rcon::{RconConfig, RconHealth, RconOutput};
use livetrigger_engine::outputs::sound::{SoundConfig, SoundOutput};
use livetrigger_engine::secrets::{Secret, SecretKey, SecretStore};
use tiktok_live::client::{ConnectionState, LiveClient};
use tiktok_live::target::Target;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

/// The engine's store inside the data folder (the app's layout).
pub const ENGINE_DIR: &str = "engine";
/// How long to wait for the first RCON login before going on without it.
const RCON_LOGIN_WAIT: Duration = Duration::from_secs(5);
/// With `--stay`, the pause before looking for the next live.
const STAY_RETRY: Duration = Duration::from_secs(30);

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a profile against a live stream: events → rules → Minecraft commands and sounds.
    Run {
        /// The profile (JSON), e.g. examples/minecraft-starter.json.
        #[arg(long)]
        profile: PathBuf,
        /// TikTok @username (or a live link).
        #[arg(long, conflicts_with = "room_id", required_unless_present = "room_id")]
        user: Option<String>,
        /// Numeric room id (skips the username lookup).
        #[arg(long)]
        room_id: Option<u64>,
        #[command(flatten)]
        conn: crate::live::ConnectionArgs,
        /// RCON `host:port`; default: the profile's. Password: `LIVETRIGGER_RCON_PASSWORD`,
        /// else the secrets file in the data folder.
        #[arg(long)]
        rcon_addr: Option<String>,
        /// Human-readable lines instead of JSON.
        #[arg(long)]
        pretty: bool,
        /// When the stream ends, wait for the next live instead of exiting.
        #[arg(long)]
        stay: bool,
        /// With `--stay`: seconds between looks for the next live.
        #[arg(long, default_value_t = STAY_RETRY.as_secs(), hide = true)]
        stay_retry_secs: u64,
        /// The data folder (the app's: secrets, and the event/queue database under
        /// `engine/`). Default: `LIVETRIGGER_DATA_DIR`, else the platform's data folder.
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Events older than this many days are deleted from the store at start.
        #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..))]
        keep_events_days: u32,
    },
}

pub async fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    let Command::Run {
        profile,
        user,
        room_id,
        conn,
        rcon_addr,
        pretty,
        stay,
        stay_retry_secs,
        data_dir,
        keep_events_days,
    } = cmd;
    let target = match (user, room_id) {
        (Some(u), _) => Target::parse(&u)?,
        (None, Some(id)) => Target::Room(id),
        (None, None) => bail!("give --user NAME or --room-id ID"),
    };
    // Read-only: a headless run leaves the profile's folder as it found it (the app keeps
    // last-good copies and backups through `ProfileFile`).
    let text = std::fs::read_to_string(&profile)
        .with_context(|| format!("reading the profile {}", profile.display()))?;
    let profile_data =
        Profile::from_json(&text).with_context(|| format!("profile {}", profile.display()))?;

    let data_dir = match data_dir {
        Some(d) => d,
        None => crate::paths::data_dir()?,
    };
    crate::paths::install_panic_hook(&data_dir);
    let secrets = SecretStore::open(&data_dir)
        .with_context(|| format!("the secrets file in {}", data_dir.display()))?;
    let rcon = start_rcon(&profile_data, rcon_addr, &secrets).await?;
    let sound = needs_sound(&profile_data).then(|| SoundOutput::start(SoundConfig::default()));
    let sound_dir = profile_data.sound.folder.as_ref().map(|f| {
        let base = profile.parent().unwrap_or(Path::new("."));
        base.join(f)
    });
    let exec = OutputsExecutor {
        rcon: rcon.as_ref().map(RconOutput::handle),
        sound: sound.as_ref().map(SoundOutput::handle),
        sound_dir,
    };
    let (engine, report) = Engine::start(
        &profile_data,
        exec,
        EngineConfig {
            data_dir: Some(data_dir.join(ENGINE_DIR)),
            store: StoreOptions {
                event_retention: Duration::from_secs(u64::from(keep_events_days) * 86_400),
            },
            target: target.to_string(),
            ..EngineConfig::default()
        },
    )
    .with_context(|| format!("starting the engine with data in {}", data_dir.display()))?;
    let handle = engine.handle();
    let out = Printer { pretty };
    out.start(&report);
    let printer = tokio::spawn(print_updates(handle.subscribe(), out));

    let cancel = CancellationToken::new();
    let ctrl_c = cancel.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            ctrl_c.cancel();
        }
    });

    // The sign key: the flag (or its env var), else the secrets file, else an old profile's.
    let fallback_key = if conn.sign_api_key.as_ref().is_none_or(Secret::is_empty) {
        stored_or_profile(
            &secrets,
            SecretKey::SignApiKey,
            profile_data.sign.api_key.clone(),
            "sign.apiKey",
            "--sign-api-key or LIVETRIGGER_SIGN_API_KEY",
        )
    } else {
        None
    };
    let mut cfg = conn.client_config(profile_data.sign.url.clone(), fallback_key);
    if cfg.session_id.is_none() {
        cfg.session_id = secrets
            .get(SecretKey::TiktokSessionId)
            .filter(|s| !s.is_empty());
    }
    let client = LiveClient::new(cfg)?;
    let mut failure = None;
    let stay_retry = Duration::from_secs(stay_retry_secs);
    // The first connection takes over from the last run: what it handled is not handled again.
    let mut resume = Some(handle.take_resume());
    loop {
        let stream = match resume.take() {
            Some(r) => client.connect_resuming(target.clone(), cancel.clone(), r),
            None => client.connect(target.clone(), cancel.clone()),
        };
        let states = stream.state();
        // Waits go to stderr ("reconnecting in 12 s (attempt 3)"); the reason for giving up
        // is printed once at the end.
        let mut waits = stream.state();
        let reporter = tokio::spawn(async move {
            while waits.changed().await.is_ok() {
                let state = waits.borrow_and_update().clone();
                if matches!(state, ConnectionState::Reconnecting { .. }) {
                    crate::live::report_state(&state);
                }
            }
        });
        pump(stream, &handle, &cancel).await;
        reporter.abort();
        if cancel.is_cancelled() {
            break;
        }
        let state = states.borrow().clone();
        // Let the queue finish what this stream paid for before anything else.
        let _ = handle.drain().await;
        match state {
            ConnectionState::Failed { code, message } if !stay => {
                failure = Some(format!("connection failed ({code}): {message}"));
                break;
            }
            _ if !stay => break,
            _ => {
                out.note(&format!(
                    "stream over; looking for the next live in {} s",
                    stay_retry.as_secs()
                ));
                tokio::select! {
                    _ = tokio::time::sleep(stay_retry) => {}
                    _ = cancel.cancelled() => break,
                }
            }
        }
    }
    let how = if cancel.is_cancelled() {
        Shutdown::Persist
    } else {
        Shutdown::Drain
    };
    let waiting: usize = handle.lanes().iter().map(|l| l.waiting).sum();
    engine.shutdown(how).await;
    if how == Shutdown::Persist && waiting > 0 {
        out.note(&format!(
            "stopped; {waiting} waiting item(s) kept for the next start"
        ));
    }
    drop(handle);
    let _ = tokio::time::timeout(Duration::from_secs(2), printer).await;
    if let Some(rcon) = rcon {
        rcon.shutdown().await;
    }
    if let Some(sound) = sound {
        let _ = tokio::task::spawn_blocking(move || sound.shutdown()).await;
    }
    match failure {
        Some(f) => {
            eprintln!("error: {f}");
            Ok(ExitCode::FAILURE)
        }
        None => Ok(ExitCode::SUCCESS),
    }
}

fn needs_sound(p: &Profile) -> bool {
    p.actions
        .iter()
        .any(|a| a.steps.iter().any(|s| matches!(s, Step::Sound { .. })))
}

/// Starts the RCON output and waits briefly for the first login: a refused password is fatal,
/// an unreachable server is not (it may start later; commands wait for it).
async fn start_rcon(
    profile: &Profile,
    addr: Option<String>,
    secrets: &SecretStore,
) -> anyhow::Result<Option<RconOutput>> {
    let addr = match (addr, &profile.rcon) {
        (Some(a), _) => a,
        (None, Some(r)) => r.addr(),
        (None, None) => return Ok(None),
    };
    let old_profile = profile.rcon.as_ref().and_then(|r| r.password.clone());
    let password = secret(
        "LIVETRIGGER_RCON_PASSWORD",
        secrets,
        SecretKey::RconPassword,
        old_profile,
        "rcon.password",
    );
    let Some(password) = password else {
        bail!(
            "no RCON password: set it in the app's settings (kept in {}) or in LIVETRIGGER_RCON_PASSWORD",
            secrets.path().display()
        );
    };
    let password = password.expose().to_owned();
    let output = RconOutput::spawn(RconConfig::new(addr.clone(), password));
    let mut health = output.handle().health();
    let first = tokio::time::timeout(RCON_LOGIN_WAIT, async {
        loop {
            let h = health.borrow_and_update().clone();
            if !matches!(h, RconHealth::Connecting) {
                return h;
            }
            if health.changed().await.is_err() {
                return RconHealth::Stopped;
            }
        }
    })
    .await;
    match first {
        Ok(RconHealth::AuthFailed) => {
            output.shutdown().await;
            bail!("the RCON server at {addr} refused the password");
        }
        Ok(RconHealth::Connected) => {}
        Ok(other) => eprintln!("warning: RCON at {addr} not reachable yet ({other:?}); commands wait for it"),
        Err(_) => eprintln!("warning: RCON at {addr} did not answer within {RCON_LOGIN_WAIT:?}; commands wait for it"),
    }
    Ok(Some(output))
}

/// A secret from the environment, else the secrets file, else (deprecated) the profile.
fn secret(
    env: &str,
    secrets: &SecretStore,
    key: SecretKey,
    in_profile: Option<Secret>,
    field: &str,
) -> Option<Secret> {
    if let Some(v) = std::env::var(env).ok().filter(|v| !v.is_empty()) {
        return Some(Secret::new(v));
    }
    stored_or_profile(secrets, key, in_profile, field, env)
}

/// A secret from the secrets file, else (deprecated) the profile. A headless run leaves the
/// profile file as it is, so an old one is only warned about; `instead` says where else the
/// secret may come from.
fn stored_or_profile(
    secrets: &SecretStore,
    key: SecretKey,
    in_profile: Option<Secret>,
    field: &str,
    instead: &str,
) -> Option<Secret> {
    if let Some(v) = secrets.get(key) {
        return Some(v);
    }
    let v = in_profile.filter(|v| !v.is_empty())?;
    eprintln!(
        "warning: the profile holds \"{field}\"; secrets belong in {} (the app moves it there) or in {instead}",
        secrets.path().display()
    );
    Some(v)
}
#[derive(Clone, Copy)]
struct Printer {
    pretty: bool,
}

impl Printer {
    fn line(&self, json: serde_json::Value, human: impl FnOnce() -> String) {
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        let _ = if self.pretty {
            writeln!(out, "{}", human())
        } else {
            writeln!(out, "{json}")
        };
        let _ = out.flush();
    }

    fn note(&self, text: &str) {
        self.line(serde_json::json!({"type": "note", "message": text}), || {
            text.to_owned()
        });
    }

    fn start(&self, report: &StartReport) {
        self.line(
            serde_json::json!({
                "type": "started",
                "resumed": report.resumed,
                "interrupted": report.interrupted.iter().map(|i| i.id).collect::<Vec<_>>(),
                "expired": report.expired.iter().map(|(i, _)| i.id).collect::<Vec<_>>(),
                "dropped": report.dropped.iter().map(|(i, _)| i.id).collect::<Vec<_>>(),
                "eventsDeleted": report.events_deleted,
            }),
            || {
                format!(
                    "started: {} item(s) resumed, {} interrupted (may have run; not re-run), {} expired, {} dropped",
                    report.resumed,
                    report.interrupted.len(),
                    report.expired.len(),
                    report.dropped.len()
                )
            },
        );
        // The engine also sends these as warnings, but before anyone subscribed.
        for message in &report.warnings {
            self.line(
                serde_json::json!({"type": "warning", "message": message}),
                || format!("warn   {message}"),
            );
        }
        for (kind, list) in [("expired", &report.expired), ("dropped", &report.dropped)] {
            for (item, reason) in list {
                self.line(
                    serde_json::json!({"type": kind, "item": item, "reason": reason}),
                    || format!("  {kind} #{} [{}]: {reason}", item.id, item.rule_id),
                );
            }
        }
        for item in &report.interrupted {
            self.line(
                serde_json::json!({"type": "interrupted", "item": item}),
                || {
                    format!(
                        "  interrupted #{} [{}] {:?}",
                        item.id,
                        item.rule_id,
                        item.commands()
                    )
                },
            );
        }
    }
}

async fn print_updates(mut rx: broadcast::Receiver<EngineUpdate>, out: Printer) {
    loop {
        match rx.recv().await {
            Ok(update) => {
                let json = serde_json::to_value(&update).unwrap_or_default();
                out.line(json, || human(&update));
            }
            Err(broadcast::error::RecvError::Lagged(n)) => {
                out.note(&format!(
                    "{n} log lines skipped (output too slow); no action was affected"
                ));
            }
            Err(broadcast::error::RecvError::Closed) => return,
        }
    }
}

fn human(u: &EngineUpdate) -> String {
    match u {
        EngineUpdate::Event { summary, .. } => format!("event  {summary}"),
        EngineUpdate::Matched { rule, runs, .. } => format!("rule   {rule} x{runs}"),
        EngineUpdate::Item(i) => {
            let what = i.item.commands().join(" ; ");
            let status = match &i.status {
                ItemStatus::Failed {
                    reason,
                    may_have_run,
                } => {
                    format!(
                        "failed ({reason}{})",
                        if *may_have_run { ", may have run" } else { "" }
                    )
                }
                s => match s.reason() {
                    Some(reason) => format!("{} ({reason})", s.name()),
                    None => s.name().to_owned(),
                },
            };
            format!("item   #{} [{}] {status}: {what}", i.item.id, i.item.lane)
        }
        EngineUpdate::Lane(l) => format!(
            "lane   {} {} ({} waiting)",
            l.name,
            if l.paused { "paused" } else { "running" },
            l.waiting
        ),
        EngineUpdate::Warning { message, .. } => format!("warn   {message}"),
        EngineUpdate::Fault {
            component, message, ..
        } => format!("FAULT  {component}: {message}"),
        EngineUpdate::Skipped {
            msg_id,
            rule,
            reason,
            ..
        } => format!(
            "skip   {} msg {msg_id}: {reason}",
            rule.as_deref().unwrap_or("event")
        ),
        EngineUpdate::Step {
            item, step, text, ..
        } => format!("step   #{item}.{step}: {text}"),
    }
}
