//! Logging: readable lines on stderr plus a daily-rotated file in the log folder.
//! The level comes from `RUST_LOG` (default `info`).

use std::path::Path;

use tracing_appender::non_blocking::{NonBlockingBuilder, WorkerGuard};
use tracing_appender::rolling::{RollingFileAppender, Rotation};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{fmt, EnvFilter, Layer};

/// Lines waiting for the log file's writer thread. The library's default (128,000) is a 4 MB
/// channel allocated up front; a burst past this drops lines instead of blocking the app.
const BUFFERED_LOG_LINES: usize = 8_192;

/// How many rotated log files to keep (one a day).
const KEPT_LOG_FILES: usize = 14;

/// Installs the global subscriber. The returned guard flushes the file writer on drop, so the
/// caller keeps it alive for the life of the app. Returns `None` if a subscriber was already
/// installed (tests) — logging then goes wherever that one sends it.
pub fn init(log_dir: &Path) -> Option<WorkerGuard> {
    let filter = || EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let file_layer = RollingFileAppender::builder()
        .rotation(Rotation::DAILY)
        .filename_prefix("livetrigger")
        .filename_suffix("log")
        .max_log_files(KEPT_LOG_FILES)
        .build(log_dir);
    match file_layer {
        Ok(appender) => {
            let (writer, guard) = NonBlockingBuilder::default()
                .buffered_lines_limit(BUFFERED_LOG_LINES)
                .lossy(true)
                .finish(appender);
            let ok = tracing_subscriber::registry()
                .with(
                    fmt::layer()
                        .with_writer(std::io::stderr)
                        .with_filter(filter()),
                )
                .with(
                    fmt::layer()
                        .with_ansi(false)
                        .with_writer(writer)
                        .with_filter(filter()),
                )
                .try_init()
                .is_ok();
            ok.then_some(guard)
        }
        Err(e) => {
            // No log file is not a reason to refuse to start: say so on stderr and go on.
            let _ = tracing_subscriber::registry()
                .with(
                    fmt::layer()
                        .with_writer(std::io::stderr)
                        .with_filter(filter()),
                )
                .try_init();
            tracing::warn!(dir = %log_dir.display(), error = %e, "cannot open the log file; logging to stderr only");
            None
        }
    }
}
