//! How the window is drawn on Linux.
//!
//! WebKitGTK composites the page with OpenGL. Without a GPU (a virtual machine, a remote
//! desktop, Xvfb) that GL is Mesa's software rasteriser, and compositing every frame costs far
//! more than painting the page on the CPU: measured under Xvfb with the simulator at 5,000
//! events/s, the Connect view's WebKit process used 4.5 s of CPU per 5 s composited, 1.5 s
//! painted (docs/performance.md). A streamer's game and encoder need that CPU. So where the
//! machine has no GPU render node, compositing is turned off, unless the streamer has set
//! WebKit's own variable either way.

use std::path::Path;

/// WebKitGTK's switch (read by the web process at start).
pub const COMPOSITING_VAR: &str = "WEBKIT_DISABLE_COMPOSITING_MODE";

/// Whether `dri` (normally `/dev/dri`) offers a GPU render node (`renderD128`, ...).
pub fn has_render_node(dri: &Path) -> bool {
    std::fs::read_dir(dri).is_ok_and(|entries| {
        entries
            .flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with("renderD"))
    })
}

/// Whether to turn compositing off: no render node, and the variable not set by the user.
pub fn paint_without_gpu(dri: &Path, var_set: bool) -> bool {
    !var_set && !has_render_node(dri)
}

/// Called first thing in `run`, before any thread or webview exists.
pub fn choose() {
    if cfg!(target_os = "linux")
        && paint_without_gpu(
            Path::new("/dev/dri"),
            std::env::var_os(COMPOSITING_VAR).is_some(),
        )
    {
        // Single-threaded here: nothing else reads the environment yet.
        std::env::set_var(COMPOSITING_VAR, "1");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compositing_stays_on_with_a_render_node_or_the_users_choice() {
        let dir = std::env::temp_dir().join(format!("lt-dri-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        assert!(paint_without_gpu(&dir, false), "no /dev/dri at all");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("card0"), b"").unwrap();
        assert!(
            paint_without_gpu(&dir, false),
            "a card without a render node"
        );
        std::fs::write(dir.join("renderD128"), b"").unwrap();
        assert!(!paint_without_gpu(&dir, false), "a GPU render node");
        std::fs::remove_file(dir.join("renderD128")).unwrap();
        assert!(!paint_without_gpu(&dir, true), "the user set the variable");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
