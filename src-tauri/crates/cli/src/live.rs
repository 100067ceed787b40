//! TikTok LIVE subcommands: read how a target is parsed, decode raw frames.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;
use tiktok_live::frame::{payload_type, FrameDecoder};
use tiktok_live::proto::FetchResult;
use tiktok_live::target::Target;
use tiktok_live::{json, message};

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check how a TikTok @username, live link or room id will be read.
    Target {
        /// `@user`, `https://www.tiktok.com/@user/live` or a numeric room id.
        input: String,
    },
    /// Decode raw push-frame files and print one JSON line per contained message, in order.
    Decode {
        /// Read the files as a fetch-result body (the sign server's reply) instead of frames.
        #[arg(long)]
        initial: bool,
        /// Files to decode, in order; `-` reads standard input.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

pub async fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::Target { input } => {
            let target = Target::parse(&input)?;
            println!("{target}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Decode { initial, files } => decode(initial, &files),
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

fn decode(initial: bool, files: &[PathBuf]) -> anyhow::Result<ExitCode> {
    let mut decoder = FrameDecoder::new();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut failed = false;
    for path in files {
        let result = read_input(path).and_then(|bytes| {
            decode_one(&mut decoder, initial, &bytes).map_err(anyhow::Error::from)
        });
        match result {
            Ok(Some(fetch)) => {
                for base in fetch.messages {
                    let line = match message::decode(base) {
                        Ok(msg) => json::message(&msg),
                        Err(err) => json::decode_error(&err),
                    };
                    writeln!(out, "{line}")?;
                }
            }
            Ok(None) => {}
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
