//! Output subcommands: `rcon`, `render`, `play`. Each goes through the same engine code the
//! app uses, so what works here works in the app.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context};
use clap::Subcommand;
use livetrigger_engine::outputs::rcon::{
    validate_command, Delivery, RconConfig, RconError, RconOutput,
};
use livetrigger_engine::outputs::sound::{SoundConfig, SoundHealth, SoundOutput};
use livetrigger_engine::outputs::template::{Rng, Template, TemplateEvent};

const PASSWORD_ENV: &str = "LIVETRIGGER_RCON_PASSWORD";

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Send commands to a Minecraft server over RCON, in order, printing each reply.
    /// The password is read from LIVETRIGGER_RCON_PASSWORD.
    Rcon {
        /// The server's RCON address (server.properties: rcon.port).
        #[arg(long, default_value = "127.0.0.1:25575")]
        addr: String,
        /// Seconds to wait for the server to answer before giving up.
        #[arg(long, default_value_t = 5)]
        timeout: u64,
        /// Commands, one per argument, without the leading slash.
        #[arg(required = true)]
        commands: Vec<String>,
    },
    /// Render a command template for a sample event and print it exactly as it would be sent.
    Render {
        template: String,
        #[arg(long, default_value = "Viewer")]
        user: String,
        #[arg(long, default_value = "viewer")]
        username: String,
        #[arg(long)]
        gift: Option<String>,
        #[arg(long)]
        count: Option<u64>,
        #[arg(long)]
        coins: Option<u64>,
        #[arg(long)]
        comment: Option<String>,
        #[arg(long)]
        likes: Option<u64>,
        #[arg(long)]
        viewers: Option<u64>,
        /// Seed for {random:...} picks.
        #[arg(long, default_value_t = 0)]
        seed: u64,
    },
    /// Play a sound file (mp3, wav, ogg, flac) through the sound output.
    Play {
        file: PathBuf,
        /// 0 to 2; 1 is the file's own loudness.
        #[arg(long, default_value_t = 1.0)]
        volume: f32,
    },
}

pub async fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::Rcon {
            addr,
            timeout,
            commands,
        } => rcon(addr, timeout, commands).await,
        Command::Render {
            template,
            user,
            username,
            gift,
            count,
            coins,
            comment,
            likes,
            viewers,
            seed,
        } => {
            let event = TemplateEvent {
                user,
                username,
                gift,
                count,
                coins,
                comment,
                likes,
                viewers,
            };
            let template = Template::parse(&template).context("invalid template")?;
            let rendered = template
                .render(&event, &mut Rng::with_seed(seed))
                .context("cannot render the template for this event")?;
            println!("{}", rendered.command);
            if rendered.truncated {
                eprintln!("note: viewer text was cut to fit the length limits");
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Play { file, volume } => play(file, volume).await,
    }
}

async fn rcon(addr: String, timeout: u64, commands: Vec<String>) -> anyhow::Result<ExitCode> {
    let password = std::env::var(PASSWORD_ENV)
        .ok()
        .filter(|p| !p.is_empty())
        .with_context(|| format!("set {PASSWORD_ENV} to the server's rcon.password"))?;
    // Refuse the whole batch before anything runs: half a batch is harder to reason about
    // than none.
    for (i, c) in commands.iter().enumerate() {
        validate_command(c).with_context(|| format!("command {} not sent", i + 1))?;
    }
    let wait = Duration::from_secs(timeout.max(1));
    let mut config = RconConfig::new(addr, password);
    config.connect_timeout = wait;
    config.command_timeout = wait;
    config.max_queue_wait = wait;
    let output = RconOutput::spawn(config);
    let handle = output.handle();
    let mut failed = false;
    for command in &commands {
        match handle.send(command.as_str()).await {
            Ok(reply) => println!("{}", reply.text),
            Err(e) => {
                failed = true;
                let hint = match e.delivery() {
                    Delivery::NotSent => "not sent",
                    Delivery::SentReplyLost => "sent; it may have run",
                };
                eprintln!("error: {command:?}: {e} ({hint})");
                if matches!(
                    e,
                    RconError::AuthFailed | RconError::Unreachable { .. } | RconError::Stopped
                ) {
                    break;
                }
            }
        }
    }
    output.shutdown().await;
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

async fn play(file: PathBuf, volume: f32) -> anyhow::Result<ExitCode> {
    let output = SoundOutput::start(SoundConfig::default());
    let handle = output.handle();
    let health = handle
        .health()
        .wait_for(|h| *h != SoundHealth::Starting)
        .await
        .map(|h| h.clone());
    if let Ok(SoundHealth::NoAudioDevice { reason }) = &health {
        // Still check the file, so a bad path is reported as such.
        if let Err(e) = handle.preload(&file).await {
            output.shutdown();
            bail!("{e}");
        }
        output.shutdown();
        bail!("no audio device: {reason}");
    }
    let playing = match handle.play(&file, volume, "cli").await {
        Ok(p) => p,
        Err(e) => {
            output.shutdown();
            bail!("{e}");
        }
    };
    let duration = playing.duration;
    let done = tokio::time::timeout(duration + Duration::from_secs(5), playing.finished()).await;
    output.shutdown();
    if done.is_err() {
        bail!("the audio device stopped consuming sound");
    }
    println!(
        "played {} ({:.2} s)",
        file.display(),
        duration.as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}
