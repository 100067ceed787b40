//! Recording a stream's raw bytes so it can be replayed offline (`simulate --replay DIR`,
//! `decode`): `DIR/initial_fetch.bin` is the sign server's reply body, `DIR/frames/NNNNNNNN.bin`
//! each inbound websocket frame in arrival order, byte for byte.

use std::path::{Path, PathBuf};

/// Writes a recording. Failures are logged and recording stops; the stream never does.
#[derive(Debug)]
pub struct Recorder {
    dir: PathBuf,
    next: u64,
    broken: bool,
}

impl Recorder {
    pub fn new(dir: &Path) -> std::io::Result<Self> {
        std::fs::create_dir_all(dir.join("frames"))?;
        // Continue numbering after an existing recording instead of overwriting it.
        let next = std::fs::read_dir(dir.join("frames"))?
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                e.file_name()
                    .to_str()?
                    .strip_suffix(".bin")?
                    .parse::<u64>()
                    .ok()
            })
            .max()
            .map(|n| n + 1)
            .unwrap_or(0);
        Ok(Self {
            dir: dir.to_path_buf(),
            next,
            broken: false,
        })
    }

    pub fn initial_fetch(&mut self, bytes: &[u8]) {
        let path = self.dir.join("initial_fetch.bin");
        // Only the first sign reply is the stream's start; later ones are reconnects.
        if !path.exists() {
            self.write(&path, bytes);
        }
    }

    pub fn frame(&mut self, bytes: &[u8]) {
        let path = self
            .dir
            .join("frames")
            .join(format!("{:08}.bin", self.next));
        self.next += 1;
        self.write(&path, bytes);
    }

    fn write(&mut self, path: &Path, bytes: &[u8]) {
        if self.broken {
            return;
        }
        if let Err(e) = std::fs::write(path, bytes) {
            tracing::warn!(path = %path.display(), error = %e, "recording stopped");
            self.broken = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_numbered_in_order_and_continue() {
        let dir = tempfile::tempdir().unwrap();
        let mut r = Recorder::new(dir.path()).unwrap();
        r.initial_fetch(b"first");
        r.frame(b"a");
        r.frame(b"b");
        r.initial_fetch(b"second");
        let mut r2 = Recorder::new(dir.path()).unwrap();
        r2.frame(b"c");
        let read = |n: &str| std::fs::read(dir.path().join("frames").join(n)).unwrap();
        assert_eq!(read("00000000.bin"), b"a");
        assert_eq!(read("00000001.bin"), b"b");
        assert_eq!(read("00000002.bin"), b"c");
        assert_eq!(
            std::fs::read(dir.path().join("initial_fetch.bin")).unwrap(),
            b"first"
        );
    }
}
