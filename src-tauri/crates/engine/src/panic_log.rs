//! The process-wide panic hook: every panic's message, place and backtrace go to the log (and
//! to a `panic.log` file beside it), so a fault in a supervised task that restarted is still
//! explained afterwards. The previous hook (stderr) runs too.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Once;

/// The file the hook appends to, inside the log folder.
pub const PANIC_LOG: &str = "panic.log";

static INSTALLED: Once = Once::new();

/// Installs the hook once per process; later calls do nothing. `log_dir`: where `panic.log`
/// is appended to (created if missing).
pub fn install(log_dir: &Path) {
    let file = log_dir.join(PANIC_LOG);
    let _ = std::fs::create_dir_all(log_dir);
    INSTALLED.call_once(move || {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            write(&file, info);
            previous(info);
        }));
    });
}

fn write(file: &PathBuf, info: &std::panic::PanicHookInfo<'_>) {
    let message = info
        .payload()
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| info.payload().downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".into());
    let place = info
        .location()
        .map(|l| format!("{}:{}", l.file(), l.line()))
        .unwrap_or_default();
    let thread = std::thread::current();
    let thread = thread.name().unwrap_or("unnamed");
    let backtrace = std::backtrace::Backtrace::force_capture();
    tracing::error!(thread, place = %place, "panic: {message}\n{backtrace}");
    let at = crate::engine::item::wall_ms();
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(file)
    {
        let _ = writeln!(
            f,
            "--- panic at unix ms {at} in thread {thread} at {place}: {message}\n{backtrace}"
        );
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_panic_is_written_with_its_message_and_backtrace() {
        let dir = tempfile::tempdir().unwrap();
        super::install(dir.path());
        let joined = std::thread::Builder::new()
            .name("doomed".into())
            .spawn(|| panic!("the injected fault {}", 42))
            .unwrap()
            .join();
        assert!(joined.is_err());
        let text = std::fs::read_to_string(dir.path().join(super::PANIC_LOG)).unwrap();
        assert!(text.contains("the injected fault 42"), "{text}");
        assert!(text.contains("thread doomed"), "{text}");
        assert!(text.contains("panic_log.rs"), "the place: {text}");
        // force_capture: frames even without RUST_BACKTRACE.
        assert!(text.lines().count() > 3, "{text}");
    }
}
