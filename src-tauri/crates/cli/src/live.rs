//! TikTok LIVE subcommands: read how a target is parsed, decode raw frames.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};
use futures_util::StreamExt;
use tiktok_live::client::{
    ClientConfig, ConnectionState, LiveClient, Secret, SignConfig, SignPathStyle,
};
use tiktok_live::frame::{payload_type, FrameDecoder};
use tiktok_live::proto::FetchResult;
use tiktok_live::record::{self, RecordKind};
use tiktok_live::target::Target;
use tiktok_live::{json, message};
use tokio_util::sync::CancellationToken;

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check how a TikTok @username, live link or room id will be read.
    Target {
        /// `@user`, `https://www.tiktok.com/@user/live` or a numeric room id.
        input: String,
    },
    /// Decode recordings or raw push-frame files and print one JSON line per contained
    /// message, in order.
    Decode {
        /// Read the frame files as a fetch-result body (the sign server's reply) instead of
        /// frames. Recordings say what each item is and ignore this.
        #[arg(long)]
        initial: bool,
        /// What to decode, in order: a recording file (`watch --record`), an old recording
        /// folder (`initial_fetch.bin` + `frames/`), or raw frame files; `-` reads standard
        /// input.
        #[arg(required = true, value_name = "PATH")]
        files: Vec<PathBuf>,
    },
    /// Copy an old recording folder (`initial_fetch.bin` + `frames/`) into a recording file
    /// (appended to if it exists). Old folders have no arrival times: the file replays
    /// without pauses.
    RecordConvert {
        /// The old recording folder.
        old_dir: PathBuf,
        /// The recording file to write.
        new_file: PathBuf,
    },
    /// Connect to a live stream and print its events as JSON lines.
    Watch {
        /// TikTok @username (or a live link).
        #[arg(long, conflicts_with = "room_id", required_unless_present = "room_id")]
        user: Option<String>,
        /// Numeric room id (skips the username lookup).
        #[arg(long)]
        room_id: Option<u64>,
        #[command(flatten)]
        conn: ConnectionArgs,
        /// Append every raw frame (and the first sign reply) to this recording file, for
        /// `decode` and `simulate --replay`. An existing recording is continued.
        #[arg(long, value_name = "FILE")]
        record: Option<PathBuf>,
    },
}

/// How to reach TikTok and the sign server: shared by `watch` and `run`.
#[derive(Debug, Clone, Args)]
pub struct ConnectionArgs {
    /// Sign server base URL (Euler-compatible); default: Euler Stream (for `run`: the
    /// profile's first).
    #[arg(long)]
    pub sign_url: Option<String>,
    /// Sign server path style.
    #[arg(long, value_enum, default_value = "room-connect")]
    pub sign_path: SignPath,
    /// API key of the sign server. Sent to the sign server only, never to TikTok.
    #[arg(long, env = "LIVETRIGGER_SIGN_API_KEY", hide_env_values = true)]
    pub sign_api_key: Option<Secret>,
    /// `sessionid` cookie of a signed-in TikTok account (age-restricted LIVEs need one).
    /// Sent to TikTok; to the sign server only with --trust-sign-server-with-session.
    #[arg(long, env = "LIVETRIGGER_TIKTOK_SESSION_ID", hide_env_values = true)]
    pub session_id: Option<Secret>,
    /// Also give the session id to the sign server (which can then act as that account):
    /// trusts the host of the configured sign URL only. Only for a sign server you trust
    /// with your TikTok login.
    #[arg(long, requires = "session_id")]
    pub trust_sign_server_with_session: bool,
    /// TikTok web base URL (live page, api-live); the webcast API is `<URL>/webcast`.
    #[arg(long)]
    pub web_url: Option<String>,
    /// Stop after this many connection attempts fail in a row.
    #[arg(long)]
    pub max_attempts: Option<u32>,
    /// Sign requests allowed per minute (0: no limit). Default: the client's (the public sign
    /// server's limit). Hidden: for local sign servers and the fault soak, which reconnects
    /// far more often than a public sign server would allow.
    #[arg(long, hide = true)]
    pub sign_budget_per_minute: Option<u32>,
    /// Sign requests allowed per hour (0: no limit); see `--sign-budget-per-minute`.
    #[arg(long, hide = true)]
    pub sign_budget_per_hour: Option<u32>,
}

impl ConnectionArgs {
    /// The client configuration these flags ask for; `fallback_*` fill in what the flags
    /// leave open (a profile's sign settings).
    pub fn client_config(
        &self,
        fallback_sign_url: Option<String>,
        fallback_api_key: Option<Secret>,
    ) -> ClientConfig {
        let mut cfg = match &self.web_url {
            Some(url) => ClientConfig::local(url),
            None => ClientConfig::default(),
        };
        let api_key = self
            .sign_api_key
            .clone()
            .filter(|k| !k.is_empty())
            .or(fallback_api_key.filter(|k| !k.is_empty()));
        let base_url = match (self.sign_url.clone().or(fallback_sign_url), &cfg.sign) {
            (Some(url), _) => url,
            (None, SignConfig::Euler { base_url, .. }) => base_url.clone(),
            (None, SignConfig::DirectTtwid { .. }) => {
                tiktok_live::client::config::DEFAULT_SIGN_URL.into()
            }
        };
        cfg.sign = SignConfig::Euler {
            base_url,
            path_style: match self.sign_path {
                SignPath::Fetch => SignPathStyle::Fetch,
                SignPath::RoomConnect => SignPathStyle::RoomConnect,
            },
            api_key,
            client_name: "ttlive-rust".into(),
        };
        cfg.session_id = self.session_id.clone().filter(|s| !s.is_empty());
        if self.trust_sign_server_with_session {
            cfg.trust_sign_host_with_session();
        }
        cfg.backoff.max_attempts = self.max_attempts;
        if let Some(n) = self.sign_budget_per_minute {
            cfg.sign_budget.per_minute = n;
        }
        if let Some(n) = self.sign_budget_per_hour {
            cfg.sign_budget.per_hour = n;
        }
        cfg
    }
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum SignPath {
    /// `/webcast/fetch?room_id=…`
    Fetch,
    /// `/webcast/rooms/{room_id}/connect`
    RoomConnect,
}

pub async fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::Target { input } => {
            let target = Target::parse(&input)?;
            println!("{target}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Decode { initial, files } => decode(initial, &files),
        Command::RecordConvert { old_dir, new_file } => {
            if !old_dir.is_dir() {
                anyhow::bail!("{}: not a folder", old_dir.display());
            }
            let n = record::convert_folder(&old_dir, &new_file)?;
            eprintln!("{n} items written to {}", new_file.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Watch {
            user,
            room_id,
            conn,
            record,
        } => {
            let target = match (user, room_id) {
                (Some(u), _) => Target::parse(&u)?,
                (None, Some(id)) => Target::Room(id),
                (None, None) => anyhow::bail!("give --user NAME or --room-id ID"),
            };
            let mut cfg = conn.client_config(None, None);
            if let Some(path) = &record {
                check_record_target(path)?;
            }
            cfg.record_file = record;
            watch(cfg, target).await
        }
    }
}

/// Prints events and errors as JSON lines until the stream ends or Ctrl-C.
async fn watch(cfg: ClientConfig, target: Target) -> anyhow::Result<ExitCode> {
    let client = LiveClient::new(cfg)?;
    let cancel = CancellationToken::new();
    let ctrl_c = cancel.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            ctrl_c.cancel();
        }
    });
    let mut stream = client.connect(target, cancel);
    let mut states = stream.state();
    let mut last_state: Option<ConnectionState> = None;
    let mut states_open = true;
    let stdout = std::io::stdout();
    loop {
        tokio::select! {
            item = stream.next() => {
                let Some(item) = item else { break };
                let line = match item {
                    Ok(event) => serde_json::to_value(&event)?,
                    Err(e) => serde_json::json!({"type": "error", "code": e.code(), "message": e.to_string()}),
                };
                let mut out = stdout.lock();
                writeln!(out, "{line}")?;
                out.flush()?;
            }
            changed = states.changed(), if states_open => {
                if changed.is_err() {
                    states_open = false;
                    continue;
                }
                let state = states.borrow_and_update().clone();
                report_state(&state);
                let mut out = stdout.lock();
                writeln!(out, "{}", serde_json::json!({"type": "state", "state": state}))?;
                out.flush()?;
                last_state = Some(state);
            }
        }
    }
    let state = stream.state().borrow().clone();
    // The stream can end before the last state change was read: always say how it ended.
    if last_state.as_ref() != Some(&state) {
        report_state(&state);
        let mut out = stdout.lock();
        writeln!(
            out,
            "{}",
            serde_json::json!({"type": "state", "state": state})
        )?;
        out.flush()?;
    }
    Ok(match state {
        ConnectionState::Failed { .. } => ExitCode::FAILURE,
        _ => ExitCode::SUCCESS,
    })
}

/// The human side of a state change, on stderr: waits ("reconnecting in 12 s (attempt 3)")
/// and the reason the client gave up.
pub fn report_state(state: &ConnectionState) {
    if matches!(
        state,
        ConnectionState::Reconnecting { .. } | ConnectionState::Failed { .. }
    ) {
        eprintln!("{}", state.status_text());
    }
}

fn read_input(path: &PathBuf) -> anyhow::Result<Vec<u8>> {
    if path.as_os_str() == "-" {
        let mut buf = Vec::new();
        std::io::stdin()
            .read_to_end(&mut buf)
            .context("reading standard input")?;
        Ok(buf)
    } else {
        std::fs::read(path).with_context(|| format!("reading {}", path.display()))
    }
}

/// Refuses a `--record` target that cannot become a recording before connecting, so a typo
/// does not cost the stream's recording. (Write errors later stop only the recording.)
fn check_record_target(path: &Path) -> anyhow::Result<()> {
    if path.is_dir() {
        anyhow::bail!(
            "--record {}: is a folder; recordings are now one file (old folders can be turned \
             into one with `livetrigger-cli record-convert`)",
            path.display()
        );
    }
    if path.exists() && !record::is_recording_file(path).unwrap_or(false) {
        let len = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        if len > 0 {
            anyhow::bail!(
                "--record {}: exists and is not a LiveTrigger recording; not touching it",
                path.display()
            );
        }
    }
    Ok(())
}

fn decode(initial: bool, files: &[PathBuf]) -> anyhow::Result<ExitCode> {
    let mut decoder = FrameDecoder::new();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut failed = false;
    for path in files {
        let is_recording = path.as_os_str() != "-"
            && (path.is_dir() || record::is_recording_file(path).unwrap_or(false));
        if is_recording {
            failed |= !decode_recording(&mut decoder, path, &mut out)?;
            continue;
        }
        let result = read_input(path).and_then(|bytes| {
            decode_one(&mut decoder, initial, &bytes).map_err(anyhow::Error::from)
        });
        match result {
            Ok(fetch) => print_fetch(&mut out, fetch)?,
            Err(e) => {
                out.flush()?;
                eprintln!("error: {}: {e:#}", path.display());
                failed = true;
            }
        }
    }
    out.flush()?;
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn print_fetch(out: &mut impl Write, fetch: Option<FetchResult>) -> std::io::Result<()> {
    for base in fetch.into_iter().flat_map(|f| f.messages) {
        let line = match message::decode(base) {
            Ok(msg) => json::message(&msg),
            Err(err) => json::decode_error(&err),
        };
        // Straight into the writer: `Display` for a `Value` goes through `fmt::Write` one
        // piece at a time, which cost a tenth of `decode` (same bytes either way).
        serde_json::to_writer(&mut *out, &line)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

/// Decodes every item of a recording (file or old folder) in order, one record in memory at a
/// time. `false` when something could not be read or decoded (reported on stderr).
fn decode_recording(
    decoder: &mut FrameDecoder,
    path: &Path,
    out: &mut impl Write,
) -> anyhow::Result<bool> {
    let mut reader = match record::Reader::open(path) {
        Ok(r) => r,
        Err(e) => {
            out.flush()?;
            eprintln!("error: {e}");
            return Ok(false);
        }
    };
    let mut ok = true;
    let mut index = 0u64;
    loop {
        let item = match reader.next_record() {
            Ok(Some(item)) => item,
            Ok(None) => break,
            Err(e) => {
                out.flush()?;
                eprintln!("error: {e}");
                return Ok(false);
            }
        };
        let initial = item.kind == RecordKind::SignReply;
        match decode_one(decoder, initial, &item.bytes) {
            Ok(fetch) => print_fetch(out, fetch)?,
            Err(e) => {
                out.flush()?;
                let what = if initial { "sign reply" } else { "frame" };
                eprintln!("error: {} (item {index}, {what}): {e}", path.display());
                ok = false;
            }
        }
        index += 1;
    }
    if let Some(torn) = reader.torn() {
        out.flush()?;
        eprintln!("warning: {}: {torn}", path.display());
    }
    Ok(ok)
}

/// The fetch result in one input, or `None` for frames that carry no messages (hb, ack, …).
fn decode_one(
    decoder: &mut FrameDecoder,
    initial: bool,
    bytes: &[u8],
) -> Result<Option<FetchResult>, tiktok_live::frame::FrameError> {
    if initial {
        return decoder.fetch_initial(bytes).map(Some);
    }
    let frame = decoder.push_frame(bytes)?;
    if frame.payload_type != payload_type::MSG {
        return Ok(None);
    }
    decoder.fetch_result(&frame).map(Some)
}
