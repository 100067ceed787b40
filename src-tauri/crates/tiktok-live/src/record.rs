//! Recording a stream's raw bytes so it can be replayed offline (`simulate --replay PATH`) or
//! decoded (`livetrigger-cli decode PATH`).
//!
//! A recording is one append-only file (format in docs/tiktok-live.md, "Recording format"):
//! an 8-byte header (`LTREC\n` + version as u16 LE), then records of
//! `kind: u8`, `arrival: u64 LE` (Unix time in ms), `len: u32 LE` and `len` bytes. One file
//! instead of one file per frame: a two-hour stream is ~100,000 frames, and opening that many
//! files costs more than decoding them.
//!
//! [`Reader`] also reads the older folder format (`DIR/initial_fetch.bin`,
//! `DIR/frames/NNNNNNNN.bin`), which has no arrival times.

use std::fs::File;
use std::io::{BufReader, BufWriter, ErrorKind, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// First bytes of every recording file.
pub const MAGIC: &[u8; 6] = b"LTREC\n";
/// The format version this crate writes and reads.
pub const VERSION: u16 = 1;
/// Header length: magic + version.
pub const HEADER_LEN: u64 = 8;
/// Bytes before each record's body: kind (1) + arrival ms (8) + length (4).
pub const RECORD_HEAD_LEN: usize = 13;
/// A record longer than this is corruption, not a frame (the client refuses frames far
/// smaller than this): stop instead of allocating it.
pub const MAX_RECORD_LEN: u32 = 64 * 1024 * 1024;
/// Buffered records reach the disk at least this often.
pub const FLUSH_EVERY: Duration = Duration::from_secs(1);

/// What a record holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordKind {
    /// The sign server's reply body (a fetch result, maybe gzip'd): the stream's start.
    SignReply,
    /// One inbound websocket binary frame, byte for byte.
    Frame,
}

impl RecordKind {
    fn code(self) -> u8 {
        match self {
            RecordKind::SignReply => 1,
            RecordKind::Frame => 2,
        }
    }

    fn from_code(code: u8) -> Option<Self> {
        match code {
            1 => Some(RecordKind::SignReply),
            2 => Some(RecordKind::Frame),
            _ => None,
        }
    }
}

/// One recorded item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub kind: RecordKind,
    /// Arrival time, Unix ms; `None` in the old folder format.
    pub at_ms: Option<u64>,
    pub bytes: Vec<u8>,
}

/// Why a recording cannot be read or written.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}: not a LiveTrigger recording (no LTREC header); give a recording file, a recording folder or frame files")]
    NotARecording(PathBuf),
    #[error("{path}: recording format version {version} is not supported (this build reads version {VERSION})")]
    UnsupportedVersion { path: PathBuf, version: u16 },
    #[error("{path}: record at byte {offset} claims {len} bytes (more than {MAX_RECORD_LEN}): the file is damaged")]
    Oversized {
        path: PathBuf,
        offset: u64,
        len: u32,
    },
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> RecordError + '_ {
    move |source| RecordError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// An incomplete last record (the writer stopped mid-write): everything before `offset` is
/// intact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TornTail {
    /// Where the incomplete record starts.
    pub offset: u64,
    /// Bytes present after `offset`.
    pub present: u64,
}

impl std::fmt::Display for TornTail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the last record (at byte {}) is incomplete ({} bytes): it was ignored, everything before it was kept",
            self.offset, self.present
        )
    }
}

/// Does `path` start with the recording header? (`false` for folders and short files.)
pub fn is_recording_file(path: &Path) -> std::io::Result<bool> {
    if path.is_dir() {
        return Ok(false);
    }
    let mut head = [0u8; MAGIC.len()];
    let mut f = File::open(path)?;
    match f.read_exact(&mut head) {
        Ok(()) => Ok(&head == MAGIC),
        Err(e) if e.kind() == ErrorKind::UnexpectedEof => Ok(false),
        Err(e) => Err(e),
    }
}

/// Reads a recording one record at a time (never the whole file), in either format.
#[derive(Debug)]
pub struct Reader {
    path: PathBuf,
    source: Source,
    torn: Option<TornTail>,
}

#[derive(Debug)]
enum Source {
    File {
        r: BufReader<File>,
        offset: u64,
        done: bool,
    },
    Folder {
        initial: Option<PathBuf>,
        frames: std::vec::IntoIter<PathBuf>,
    },
}

impl Reader {
    /// Opens a recording file, or an old-format recording folder.
    pub fn open(path: &Path) -> Result<Self, RecordError> {
        let meta = std::fs::metadata(path).map_err(io_err(path))?;
        let source = if meta.is_dir() {
            Self::folder(path)?
        } else {
            let mut r = BufReader::new(File::open(path).map_err(io_err(path))?);
            let mut head = [0u8; HEADER_LEN as usize];
            match read_full(&mut r, &mut head).map_err(io_err(path))? {
                n if n == head.len() && &head[..MAGIC.len()] == MAGIC => {}
                _ => return Err(RecordError::NotARecording(path.to_path_buf())),
            }
            let version = u16::from_le_bytes([head[6], head[7]]);
            if version != VERSION {
                return Err(RecordError::UnsupportedVersion {
                    path: path.to_path_buf(),
                    version,
                });
            }
            Source::File {
                r,
                offset: HEADER_LEN,
                done: false,
            }
        };
        Ok(Self {
            path: path.to_path_buf(),
            source,
            torn: None,
        })
    }

    fn folder(dir: &Path) -> Result<Source, RecordError> {
        let initial = dir.join("initial_fetch.bin");
        let initial = initial.is_file().then_some(initial);
        let frames_dir = dir.join("frames");
        let mut frames: Vec<PathBuf> = match std::fs::read_dir(&frames_dir) {
            Ok(entries) => entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file())
                .collect(),
            Err(e) if e.kind() == ErrorKind::NotFound && initial.is_some() => Vec::new(),
            Err(e) if e.kind() == ErrorKind::NotFound => {
                return Err(RecordError::NotARecording(dir.to_path_buf()))
            }
            Err(e) => return Err(io_err(&frames_dir)(e)),
        };
        // Zero-padded names: name order is arrival order.
        frames.sort();
        Ok(Source::Folder {
            initial,
            frames: frames.into_iter(),
        })
    }

    /// The path this reader was opened on.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the source has arrival times (the file format does, the old folders do not).
    pub fn has_times(&self) -> bool {
        matches!(self.source, Source::File { .. })
    }

    /// Set once the reader met an incomplete last record; callers report it as a warning.
    pub fn torn(&self) -> Option<TornTail> {
        self.torn
    }

    /// The next record, `None` at the end (or at a torn tail, see [`Reader::torn`]).
    /// Records of a kind this version does not know are skipped, so a newer writer can add
    /// kinds without breaking older readers.
    pub fn next_record(&mut self) -> Result<Option<Record>, RecordError> {
        let path = &self.path;
        match &mut self.source {
            Source::Folder { initial, frames } => {
                if let Some(p) = initial.take() {
                    let bytes = std::fs::read(&p).map_err(io_err(&p))?;
                    return Ok(Some(Record {
                        kind: RecordKind::SignReply,
                        at_ms: None,
                        bytes,
                    }));
                }
                match frames.next() {
                    Some(p) => {
                        let bytes = std::fs::read(&p).map_err(io_err(&p))?;
                        Ok(Some(Record {
                            kind: RecordKind::Frame,
                            at_ms: None,
                            bytes,
                        }))
                    }
                    None => Ok(None),
                }
            }
            Source::File { r, offset, done } => loop {
                if *done {
                    return Ok(None);
                }
                let start = *offset;
                let mut head = [0u8; RECORD_HEAD_LEN];
                let n = read_full(r, &mut head).map_err(io_err(path))?;
                if n == 0 {
                    *done = true;
                    return Ok(None);
                }
                if n < head.len() {
                    *done = true;
                    self.torn = Some(TornTail {
                        offset: start,
                        present: n as u64,
                    });
                    return Ok(None);
                }
                let kind = head[0];
                let at_ms = u64::from_le_bytes(head[1..9].try_into().expect("8 bytes"));
                let len = u32::from_le_bytes(head[9..13].try_into().expect("4 bytes"));
                if len > MAX_RECORD_LEN {
                    *done = true;
                    return Err(RecordError::Oversized {
                        path: path.clone(),
                        offset: start,
                        len,
                    });
                }
                let mut bytes = vec![0u8; len as usize];
                let got = read_full(r, &mut bytes).map_err(io_err(path))?;
                if got < bytes.len() {
                    *done = true;
                    self.torn = Some(TornTail {
                        offset: start,
                        present: (RECORD_HEAD_LEN + got) as u64,
                    });
                    return Ok(None);
                }
                *offset = start + RECORD_HEAD_LEN as u64 + u64::from(len);
                let Some(kind) = RecordKind::from_code(kind) else {
                    continue;
                };
                return Ok(Some(Record {
                    kind,
                    at_ms: Some(at_ms),
                    bytes,
                }));
            },
        }
    }
}

/// Reads until `buf` is full or the input ends; returns how many bytes were read.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match r.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// What an existing file holds, found by walking its record heads (bodies are skipped).
struct Scan {
    /// End of the last complete record.
    valid_len: u64,
    has_sign_reply: bool,
}

fn scan(path: &Path, file: &mut File) -> Result<Scan, RecordError> {
    let len = file.metadata().map_err(io_err(path))?.len();
    let mut r = BufReader::new(&mut *file);
    let mut head = [0u8; HEADER_LEN as usize];
    if read_full(&mut r, &mut head).map_err(io_err(path))? < head.len()
        || &head[..MAGIC.len()] != MAGIC
    {
        return Err(RecordError::NotARecording(path.to_path_buf()));
    }
    let version = u16::from_le_bytes([head[6], head[7]]);
    if version != VERSION {
        return Err(RecordError::UnsupportedVersion {
            path: path.to_path_buf(),
            version,
        });
    }
    let mut offset = HEADER_LEN;
    let mut has_sign_reply = false;
    loop {
        let mut rh = [0u8; RECORD_HEAD_LEN];
        if read_full(&mut r, &mut rh).map_err(io_err(path))? < rh.len() {
            break;
        }
        let body = u64::from(u32::from_le_bytes(rh[9..13].try_into().expect("4 bytes")));
        let end = offset + RECORD_HEAD_LEN as u64 + body;
        if end > len {
            break;
        }
        has_sign_reply |= rh[0] == RecordKind::SignReply.code();
        r.seek_relative(body as i64).map_err(io_err(path))?;
        offset = end;
    }
    Ok(Scan {
        valid_len: offset,
        has_sign_reply,
    })
}

/// Appends to a recording file. Writes happen on a background thread (the socket task never
/// waits on the disk) through a buffer flushed at least every [`FLUSH_EVERY`] and on drop.
/// A write failure is logged and recording stops; the stream never does.
#[derive(Debug)]
pub struct Recorder {
    tx: Option<mpsc::Sender<Vec<u8>>>,
    writer: Option<std::thread::JoinHandle<()>>,
    broken: Arc<AtomicBool>,
    has_sign_reply: bool,
}

impl Recorder {
    /// Opens `path` for appending, creating it (and its folder) if needed. An existing file
    /// must be a recording; an incomplete last record left by a crash is cut off first, so
    /// new records follow the last complete one.
    pub fn open(path: &Path) -> Result<Self, RecordError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(io_err(parent))?;
        }
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(io_err(path))?;
        let len = file.metadata().map_err(io_err(path))?.len();
        let has_sign_reply = if len == 0 {
            let mut head = MAGIC.to_vec();
            head.extend_from_slice(&VERSION.to_le_bytes());
            file.write_all(&head).map_err(io_err(path))?;
            false
        } else {
            let scan = scan(path, &mut file)?;
            if scan.valid_len < len {
                tracing::warn!(
                    path = %path.display(),
                    offset = scan.valid_len,
                    "recording: cutting off an incomplete last record before appending"
                );
                file.set_len(scan.valid_len).map_err(io_err(path))?;
            }
            scan.has_sign_reply
        };
        file.seek(SeekFrom::End(0)).map_err(io_err(path))?;
        Self::with_writer(path, file, has_sign_reply)
    }

    /// Starts the writer thread on `out`, positioned where records go.
    fn with_writer(
        path: &Path,
        out: impl Write + Send + 'static,
        has_sign_reply: bool,
    ) -> Result<Self, RecordError> {
        let broken = Arc::new(AtomicBool::new(false));
        let (tx, rx) = mpsc::channel::<Vec<u8>>();
        let writer = {
            let broken = broken.clone();
            let owned = path.to_path_buf();
            std::thread::Builder::new()
                .name("recorder".into())
                .spawn(move || write_loop(owned, out, rx, broken))
                .map_err(io_err(path))?
        };
        Ok(Self {
            tx: Some(tx),
            writer: Some(writer),
            broken,
            has_sign_reply,
        })
    }

    /// Records the sign reply body, only the first one of a recording: it is the stream's
    /// start, later ones are reconnects.
    pub fn sign_reply(&mut self, bytes: &[u8]) {
        if self.has_sign_reply {
            return;
        }
        self.has_sign_reply = true;
        self.push(RecordKind::SignReply, now_ms(), bytes);
    }

    /// Records one inbound websocket frame, stamped now.
    pub fn frame(&mut self, bytes: &[u8]) {
        self.push(RecordKind::Frame, now_ms(), bytes);
    }

    /// Records one item with a given arrival time (converters, tests).
    pub fn push(&mut self, kind: RecordKind, at_ms: u64, bytes: &[u8]) {
        if self.broken.load(Ordering::Relaxed) {
            self.tx = None;
            return;
        }
        let Some(tx) = &self.tx else { return };
        let Ok(len) = u32::try_from(bytes.len()) else {
            tracing::warn!(len = bytes.len(), "recording: item too large, skipped");
            return;
        };
        let mut rec = Vec::with_capacity(RECORD_HEAD_LEN + bytes.len());
        rec.push(kind.code());
        rec.extend_from_slice(&at_ms.to_le_bytes());
        rec.extend_from_slice(&len.to_le_bytes());
        rec.extend_from_slice(bytes);
        if tx.send(rec).is_err() {
            self.tx = None;
        }
    }

    /// Flushes everything and closes the file; `false` if recording had stopped on an error.
    pub fn finish(mut self) -> bool {
        self.close();
        !self.broken.load(Ordering::Relaxed)
    }

    fn close(&mut self) {
        self.tx = None;
        if let Some(w) = self.writer.take() {
            let _ = w.join();
        }
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.close();
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn write_loop(
    path: PathBuf,
    sink: impl Write,
    rx: mpsc::Receiver<Vec<u8>>,
    broken: Arc<AtomicBool>,
) {
    let mut out = BufWriter::with_capacity(256 * 1024, sink);
    let mut dirty = false;
    let fail = |e: std::io::Error| {
        tracing::warn!(path = %path.display(), error = %e, "recording stopped");
        broken.store(true, Ordering::Relaxed);
    };
    let mut last_flush = std::time::Instant::now();
    loop {
        let wait = if dirty {
            FLUSH_EVERY.saturating_sub(last_flush.elapsed())
        } else {
            // Nothing buffered: sleep until the next record.
            Duration::from_secs(3600)
        };
        match rx.recv_timeout(wait) {
            Ok(rec) => {
                if let Err(e) = out.write_all(&rec) {
                    return fail(e);
                }
                if !dirty {
                    dirty = true;
                    last_flush = std::time::Instant::now();
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                if let Err(e) = out.flush() {
                    fail(e);
                }
                return;
            }
        }
        if dirty && last_flush.elapsed() >= FLUSH_EVERY {
            if let Err(e) = out.flush() {
                return fail(e);
            }
            dirty = false;
            last_flush = std::time::Instant::now();
        }
    }
}

/// Copies an old-format folder into a new recording file (appending if it exists). The folder
/// has no arrival times: records get `at_ms` 0, so a replay sends them without pauses.
pub fn convert_folder(dir: &Path, file: &Path) -> Result<u64, RecordError> {
    let mut reader = Reader::open(dir)?;
    if reader.has_times() {
        return Err(RecordError::NotARecording(dir.to_path_buf()));
    }
    let mut rec = Recorder::open(file)?;
    let mut n = 0;
    while let Some(r) = reader.next_record()? {
        if r.kind == RecordKind::SignReply {
            rec.sign_reply(&r.bytes);
        } else {
            rec.push(r.kind, 0, &r.bytes);
        }
        n += 1;
    }
    if !rec.finish() {
        return Err(io_err(file)(std::io::Error::other("write failed")));
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(path: &Path) -> (Vec<Record>, Option<TornTail>) {
        let mut r = Reader::open(path).unwrap();
        let mut out = Vec::new();
        while let Some(rec) = r.next_record().unwrap() {
            out.push(rec);
        }
        (out, r.torn())
    }

    #[test]
    fn records_round_trip_and_append_after_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("rec.ltrec");
        let mut r = Recorder::open(&path).unwrap();
        r.sign_reply(b"first");
        r.push(RecordKind::Frame, 1_000, b"a");
        r.push(RecordKind::Frame, 1_250, b"");
        r.sign_reply(b"second");
        assert!(r.finish());
        let mut r2 = Recorder::open(&path).unwrap();
        r2.sign_reply(b"after restart");
        r2.push(RecordKind::Frame, 90_000, b"c");
        drop(r2);
        let (recs, torn) = read_all(&path);
        assert_eq!(torn, None);
        let got: Vec<_> = recs.iter().map(|r| (r.kind, r.bytes.as_slice())).collect();
        assert_eq!(
            got,
            vec![
                (RecordKind::SignReply, &b"first"[..]),
                (RecordKind::Frame, b"a"),
                (RecordKind::Frame, b""),
                (RecordKind::Frame, b"c"),
            ]
        );
        assert_eq!(recs[2].at_ms, Some(1_250));
        assert_eq!(recs[3].at_ms, Some(90_000));
        assert!(recs[0].at_ms.unwrap() > 1_600_000_000_000, "wall clock ms");
    }

    #[test]
    fn a_torn_tail_is_reported_and_cut_before_appending() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rec");
        let mut r = Recorder::open(&path).unwrap();
        r.push(RecordKind::Frame, 1, b"whole");
        r.push(RecordKind::Frame, 2, b"cut short");
        drop(r);
        let full = std::fs::metadata(&path).unwrap().len();
        let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        f.set_len(full - 3).unwrap();
        drop(f);
        let (recs, torn) = read_all(&path);
        assert_eq!(recs.len(), 1);
        assert_eq!(recs[0].bytes, b"whole");
        let second = HEADER_LEN + RECORD_HEAD_LEN as u64 + 5;
        assert_eq!(
            torn,
            Some(TornTail {
                offset: second,
                present: full - 3 - second
            })
        );
        // A torn head (fewer bytes than a record head) too.
        let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        f.set_len(second + 4).unwrap();
        drop(f);
        assert_eq!(read_all(&path).1.unwrap().present, 4);
        // Appending after a crash continues from the last complete record.
        let mut r = Recorder::open(&path).unwrap();
        r.push(RecordKind::Frame, 3, b"next");
        drop(r);
        let (recs, torn) = read_all(&path);
        assert_eq!(torn, None);
        let bodies: Vec<_> = recs.iter().map(|r| r.bytes.as_slice()).collect();
        assert_eq!(bodies, vec![&b"whole"[..], b"next"]);
    }

    #[test]
    fn a_file_without_the_header_is_a_clear_error_and_is_not_touched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notes.txt");
        std::fs::write(&path, b"hello world, not a recording").unwrap();
        let e = Reader::open(&path).unwrap_err();
        assert!(matches!(e, RecordError::NotARecording(_)), "{e}");
        assert!(e.to_string().contains("not a LiveTrigger recording"));
        let e = Recorder::open(&path).unwrap_err();
        assert!(matches!(e, RecordError::NotARecording(_)), "{e}");
        assert_eq!(
            std::fs::read(&path).unwrap(),
            b"hello world, not a recording"
        );
        std::fs::write(&path, b"LTREC\n\x09\x00").unwrap();
        assert!(matches!(
            Reader::open(&path).unwrap_err(),
            RecordError::UnsupportedVersion { version: 9, .. }
        ));
        assert!(!is_recording_file(&path.with_extension("none")).unwrap_or(false));
        assert!(is_recording_file(&path).unwrap());
    }

    #[test]
    fn unknown_kinds_are_skipped_and_huge_lengths_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rec");
        let mut bytes = MAGIC.to_vec();
        bytes.extend_from_slice(&VERSION.to_le_bytes());
        let mut rec = |kind: u8, len: u32, body: &[u8]| {
            bytes.push(kind);
            bytes.extend_from_slice(&7u64.to_le_bytes());
            bytes.extend_from_slice(&len.to_le_bytes());
            bytes.extend_from_slice(body);
        };
        rec(9, 3, b"new");
        rec(2, 2, b"ok");
        rec(2, u32::MAX, b"");
        std::fs::write(&path, &bytes).unwrap();
        let mut r = Reader::open(&path).unwrap();
        assert_eq!(r.next_record().unwrap().unwrap().bytes, b"ok");
        assert!(matches!(
            r.next_record().unwrap_err(),
            RecordError::Oversized { .. }
        ));
    }

    #[test]
    fn the_old_folder_format_still_reads_and_converts() {
        let dir = tempfile::tempdir().unwrap();
        let old = dir.path().join("old");
        std::fs::create_dir_all(old.join("frames")).unwrap();
        std::fs::write(old.join("initial_fetch.bin"), b"sign").unwrap();
        std::fs::write(old.join("frames/00000001.bin"), b"f1").unwrap();
        std::fs::write(old.join("frames/00000000.bin"), b"f0").unwrap();
        let (recs, _) = read_all(&old);
        let got: Vec<_> = recs.iter().map(|r| (r.kind, r.bytes.clone())).collect();
        assert_eq!(
            got,
            vec![
                (RecordKind::SignReply, b"sign".to_vec()),
                (RecordKind::Frame, b"f0".to_vec()),
                (RecordKind::Frame, b"f1".to_vec()),
            ]
        );
        assert!(recs.iter().all(|r| r.at_ms.is_none()));
        let file = dir.path().join("new.ltrec");
        assert_eq!(convert_folder(&old, &file).unwrap(), 3);
        let (conv, _) = read_all(&file);
        let conv: Vec<_> = conv.iter().map(|r| (r.kind, r.bytes.clone())).collect();
        assert_eq!(conv, got);
        // An empty folder is not a recording.
        let empty = dir.path().join("empty");
        std::fs::create_dir_all(&empty).unwrap();
        assert!(matches!(
            Reader::open(&empty).unwrap_err(),
            RecordError::NotARecording(_)
        ));
    }

    /// Accepts `room` bytes, then fails like a full disk.
    struct FullAfter {
        room: usize,
        written: Arc<std::sync::Mutex<Vec<u8>>>,
    }

    impl Write for FullAfter {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            let mut w = self.written.lock().unwrap();
            let n = buf.len().min(self.room - w.len());
            if n == 0 && !buf.is_empty() {
                return Err(std::io::Error::other("no space left on device"));
            }
            w.extend_from_slice(&buf[..n]);
            Ok(n)
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_write_error_stops_the_recording_quietly() {
        let written = Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = FullAfter {
            room: 100,
            written: written.clone(),
        };
        let mut r = Recorder::with_writer(Path::new("full.ltrec"), sink, false).unwrap();
        // Three records of 13 + 64 bytes sit in the buffer; the flush on finish writes 100
        // bytes and then fails.
        for i in 0..3 {
            r.push(RecordKind::Frame, i, &[7u8; 64]);
        }
        assert!(!r.finish(), "the failure is reported");
        assert_eq!(written.lock().unwrap().len(), 100);

        // After the failure, records are dropped without blocking or panicking.
        let written = Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = FullAfter {
            room: 0,
            written: written.clone(),
        };
        let mut r = Recorder::with_writer(Path::new("full.ltrec"), sink, false).unwrap();
        r.push(RecordKind::Frame, 1, b"x");
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        // The buffer is flushed within a second; the failure then closes the channel.
        while !r.broken.load(Ordering::Relaxed) {
            assert!(std::time::Instant::now() < deadline, "failure never seen");
            std::thread::sleep(Duration::from_millis(20));
        }
        r.frame(b"after");
        assert!(r.tx.is_none(), "recording stopped");
        assert!(!r.finish());
    }

    #[test]
    fn buffered_records_reach_the_disk_while_recording() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rec");
        let mut r = Recorder::open(&path).unwrap();
        r.push(RecordKind::Frame, 5, b"early");
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        // The recorder stays open: only the periodic flush can put the record on disk.
        while std::fs::metadata(&path).unwrap().len() == HEADER_LEN {
            assert!(std::time::Instant::now() < deadline, "never flushed");
            std::thread::sleep(Duration::from_millis(50));
        }
        let (recs, _) = read_all(&path);
        assert_eq!(recs.len(), 1);
        drop(r);
    }
}
