//! The window before the backlog. During a flood the app's background work (decoding, the
//! engine, the durable store, the feed) wants more CPU than the machine has, and it shares it
//! with the window: the GTK main thread that takes the streamer's clicks and the WebKit
//! processes that draw. Background threads run at a lower priority (a higher nice value on
//! Linux), so a click is answered first and the backlog, which is buffered and loses
//! nothing, catches up a moment later. Measured in docs/performance.md (flood benchmark).
//!
//! Threads inherit their creator's nice value, so threads started from the runtime are
//! lowered too. What must stay on time is started from the main thread instead: the sound
//! output (engine.rs).

/// How much nicer than the window the background threads are (Linux nice steps; each step is
/// ~1.25× less CPU when both want it).
pub const BACKGROUND_NICE: i32 = 10;

/// Sets the calling thread's nice value to `nice`, if that lowers it (Linux; elsewhere
/// nothing). A failure is logged and ignored: priority is a nicety, never a reason to stop.
pub fn lower_current_thread_to(nice: i32) {
    #[cfg(target_os = "linux")]
    {
        let tid = rustix::thread::gettid();
        if current_nice() >= nice {
            return;
        }
        if let Err(e) = rustix::process::setpriority_process(Some(tid), nice.min(19)) {
            tracing::debug!("could not lower this thread's priority: {e}");
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = nice;
}

/// The calling thread's nice value (Linux; elsewhere 0).
pub fn current_nice() -> i32 {
    #[cfg(target_os = "linux")]
    {
        rustix::process::getpriority_process(Some(rustix::thread::gettid())).unwrap_or(0)
    }
    #[cfg(not(target_os = "linux"))]
    {
        0
    }
}

/// The async runtime the app's commands, client, engine and feed run on: tokio's defaults
/// (as Tauri's own), every thread of it lowered.
pub fn background_runtime() -> std::io::Result<tokio::runtime::Runtime> {
    // Relative to the thread that makes it (a blocking thread started by a worker already
    // inherits the lowered value; it must not be lowered twice).
    let background = (current_nice() + BACKGROUND_NICE).min(19);
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .on_thread_start(move || lower_current_thread_to(background))
        .build()
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn the_runtimes_threads_run_below_the_thread_that_made_it() {
        let base = current_nice();
        let expected = (base + BACKGROUND_NICE).min(19);
        let rt = background_runtime().unwrap();
        let (worker, blocking, spawned) = rt.block_on(async {
            let worker = tokio::spawn(async { current_nice() }).await.unwrap();
            // Started by a worker (already lowered): lowered once, not twice.
            let blocking = tokio::spawn(async {
                let mut seen = Vec::new();
                for _ in 0..4 {
                    seen.push(tokio::task::spawn_blocking(current_nice).await.unwrap());
                }
                seen
            })
            .await
            .unwrap();
            assert!(blocking.iter().all(|n| *n == blocking[0]), "{blocking:?}");
            let blocking = blocking[0];
            // A thread a runtime thread starts (the engine's store thread) inherits it.
            let spawned =
                tokio::task::spawn_blocking(|| std::thread::spawn(current_nice).join().unwrap())
                    .await
                    .unwrap();
            (worker, blocking, spawned)
        });
        assert_eq!((worker, blocking, spawned), (expected, expected, expected));
        assert_eq!(current_nice(), base, "the caller keeps its own priority");
    }
}
