//! The authoritative session log: a ring of rows (default 100,000) the window pages through,
//! each with the trace of what the trigger engine did with it.
//!
//! Rows come from the live connection (the client's events, with the gift's image and count)
//! before the engine sees the event, so the engine's later updates can always find their row:
//! the engine's `Event` links the oldest unlinked row of the same message id and kind, and its
//! `Matched`, `Skipped`, item and step updates follow that link.

use std::borrow::Borrow;
use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::{Hash, Hasher};
use std::ops::Deref;
use std::sync::Arc;

use livetrigger_engine::engine::item::PlannedStep;
use livetrigger_engine::engine::{EventKind, ItemStatus, ItemUpdate};
use serde::{Deserialize, Serialize};
use thin_vec::ThinVec;
use tiktok_live::event::Event;
use ts_rs::TS;

/// How far (in rows) the engine may be past a row before the row's links are forgotten. The
/// engine handles events in the order their rows were added (the live task adds the row, then
/// submits the event) and reports an event's matches and queued items right after the event
/// itself, so this only has to cover other sources' rows in between (the simulator panel, the
/// demo). Items keep their row in `item_rows` until they are final, however long they wait.
/// Each row within it costs the link tables ~50 bytes: 20,000 held 3.9 MB in a flood.
const LINK_SLACK: u32 = 4_096;
/// Rows kept when nothing else is configured.
pub const DEFAULT_CAPACITY: usize = 100_000;
/// The most rows one page request returns.
pub const MAX_PAGE: u32 = 1_000;

/// The gift of a gift row.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct GiftInfo {
    pub id: u32,
    /// Untrusted text from the stream.
    pub name: String,
    pub image_url: Option<String>,
    /// Units settled by this streak.
    pub count: u32,
    /// Coins for all of them.
    pub coins: u32,
}

/// One line of the log.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct LogRow {
    /// Increases by one per row of this app run.
    pub id: u32,
    #[ts(type = "number")]
    pub at_ms: i64,
    /// `gift`, `chat`, `like`, `follow`, `share`, `join`, `subscribe`, `viewers`, `stream`,
    /// `connection`, `error` or `warning`.
    pub kind: String,
    /// The viewer's display name (untrusted text: the UI shows it as text only).
    pub user: Option<String>,
    /// The viewer's @handle.
    pub handle: Option<String>,
    pub text: String,
    pub gift: Option<GiftInfo>,
    /// What a chat message said.
    pub comment: Option<String>,
    /// Replayed at connect from before this session: shown, never acted on.
    pub history: bool,
    /// Whether the row has a trace (the engine handles this kind of event).
    pub traced: bool,
    /// Rules that fired for it so far.
    pub fired: u32,
}

/// Which rows a page holds.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct LogQuery {
    /// Row kinds to show; empty: all.
    #[serde(default)]
    pub kinds: Vec<String>,
    /// Part of the viewer's name or @handle, any case; empty: everyone.
    #[serde(default)]
    pub search: String,
    /// Index into the matching rows, oldest first.
    pub offset: u32,
    pub limit: u32,
    /// Count the matching rows newer than this id (the "N new" pill).
    #[serde(default)]
    #[ts(optional)]
    pub after_id: Option<u32>,
    /// The newest `limit` matching rows, whatever `offset` says (the page says where they
    /// start): a view following the live end gets its count and rows in one request.
    #[serde(default)]
    #[ts(optional)]
    pub tail: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct LogPage {
    /// Matching rows in the ring.
    pub total: u32,
    pub offset: u32,
    pub rows: Vec<LogRow>,
    /// Matching rows newer than `afterId` (0 without it).
    pub newer: u32,
    /// The newest row id in the ring (0 when empty).
    pub last_id: u32,
}

/// Where the ring stands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct LogCursor {
    pub count: u32,
    pub first_id: u32,
    pub last_id: u32,
    /// Rows added since the previous batch.
    pub added: u32,
}

/// A rule that fired.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct TraceMatch {
    pub rule: String,
    pub runs: u32,
}

/// A rule (or the whole event) that did not fire, and why.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct TraceSkip {
    pub rule: Option<String>,
    pub reason: String,
}

/// A queue item the event produced, with its outcome.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct TraceItem {
    pub id: u32,
    pub lane: String,
    pub rule: String,
    pub status: String,
    /// Why it failed or was dropped.
    pub detail: Option<String>,
    pub commands: Vec<String>,
    pub sounds: Vec<String>,
    /// The RCON server's replies and sounds played, in step order.
    pub outputs: Vec<String>,
}

/// Event → rules → queue items → outcome, for one row.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct TraceView {
    pub row: LogRow,
    /// One sentence: what happened overall.
    pub verdict: String,
    pub matches: Vec<TraceMatch>,
    pub skips: Vec<TraceSkip>,
    pub items: Vec<TraceItem>,
}

/// What the engine did with a row's event, beyond seeing it (most rows never get one). A
/// flood leaves tens of thousands of these in the ring, so they are kept compact: rule and
/// lane names shared, lists sized to their contents, and `TraceView` built only on request.
///
/// One list of steps in the order they happened, kept in the row itself as one pointer: a
/// row without a trace allocates nothing, a trace with one skip (the commonest: a cooldown)
/// is one allocation of 40 bytes, and the texts that repeat from row to row (rule and lane
/// names, skip reasons, failure details, RCON replies) are shared.
#[derive(Debug, Default)]
struct Trace {
    steps: ThinVec<Step>,
}

/// 24 bytes: every text behind a thin pointer.
#[derive(Debug)]
enum Step {
    /// A rule fired, this many runs.
    Match(Name, u32),
    /// A rule's filter held it back (or, without a rule, the whole event was set aside).
    Skip(Option<Name>, Name),
    /// A queued item (boxed: the other steps are far smaller).
    Item(Box<ItemTrace>),
}

/// A text shared between traces behind one thin pointer (an `Arc<str>` is two words, and
/// tens of thousands of trace steps hold one or two each). Hashes and compares as its text.
#[derive(Debug, Clone)]
struct Name(Arc<Box<str>>);

impl Name {
    fn new(text: &str) -> Self {
        Name(Arc::new(Box::from(text)))
    }
}

impl Deref for Name {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for Name {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl PartialEq for Name {
    fn eq(&self, other: &Self) -> bool {
        **self.0 == **other.0
    }
}

impl Eq for Name {}

impl Hash for Name {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // The same as `str`'s, as `Borrow<str>` requires.
        (**self.0).hash(state);
    }
}

impl Trace {
    fn matches(&self) -> impl Iterator<Item = (&Name, u32)> {
        self.steps.iter().filter_map(|s| match s {
            Step::Match(rule, runs) => Some((rule, *runs)),
            _ => None,
        })
    }

    fn skips(&self) -> impl Iterator<Item = (Option<&Name>, &Name)> {
        self.steps.iter().filter_map(|s| match s {
            Step::Skip(rule, reason) => Some((rule.as_ref(), reason)),
            _ => None,
        })
    }

    fn items(&self) -> impl Iterator<Item = &ItemTrace> {
        self.steps.iter().filter_map(|s| match s {
            Step::Item(i) => Some(i.as_ref()),
            _ => None,
        })
    }

    fn item_mut(&mut self, id: u64) -> Option<&mut ItemTrace> {
        self.steps.iter_mut().find_map(|s| match s {
            Step::Item(i) if u64::from(i.id) == id => Some(i.as_mut()),
            _ => None,
        })
    }
}

/// A list of texts boxed to its size.
type Strs = Box<[Box<str>]>;

/// A queue item as a trace keeps it.
#[derive(Debug)]
struct ItemTrace {
    id: u32,
    status: &'static str,
    lane: Name,
    rule: Name,
    detail: Option<Name>,
    commands: Strs,
    sounds: Strs,
    outputs: Box<[Name]>,
}

impl ItemTrace {
    fn same_steps(&self, steps: &[PlannedStep]) -> bool {
        let mut commands = self.commands.iter();
        let mut sounds = self.sounds.iter();
        steps.iter().all(|s| match s {
            PlannedStep::Command { command } => commands.next().is_some_and(|c| **c == **command),
            PlannedStep::Sound { file, .. } => sounds.next().is_some_and(|f| **f == **file),
            PlannedStep::Delay { .. } => true,
        }) && commands.next().is_none()
            && sounds.next().is_none()
    }

    fn view(&self) -> TraceItem {
        let strings = |list: &[Box<str>]| list.iter().map(|s| s.to_string()).collect();
        TraceItem {
            id: self.id,
            lane: self.lane.to_string(),
            rule: self.rule.to_string(),
            status: self.status.to_owned(),
            detail: self.detail.as_deref().map(str::to_owned),
            commands: strings(&self.commands),
            sounds: strings(&self.sounds),
            outputs: self.outputs.iter().map(|s| s.to_string()).collect(),
        }
    }
}

/// Pushes one step, growing the list by exactly one: traces hold a handful of steps, and the
/// usual doubling would leave most of each list empty.
fn push_step(list: &mut ThinVec<Step>, step: Step) {
    list.reserve_exact(1);
    list.push(step);
}

/// Texts kept for sharing between traces (rule and lane names, skip reasons, failure details,
/// RCON replies); past this the set starts over (traces keep theirs).
const SHARED_NAMES: usize = 1_024;
/// Texts longer than this are not kept for sharing.
const SHARED_TEXT_MAX: usize = 256;

const HISTORY: u8 = 1;
/// The engine reported the event.
const SEEN: u8 = 2;
const DUPLICATE: u8 = 4;

/// One row as the ring keeps it: 48 bytes (size test), its texts in the ring's arena, its
/// viewer and gift shared with other rows, its trace one pointer (a flood fills 100,000 of
/// them; a `LogRow` is built per page).
struct Entry {
    id: u32,
    at_ms: i64,
    /// Index in [`ROW_KINDS`].
    kind: u8,
    /// The engine's kind for it; `None`: the engine never sees this row's event.
    engine_kind: Option<EventKind>,
    flags: u8,
    texts: Texts,
    viewer: Option<Arc<ViewerName>>,
    /// The gift's description, shared; this row's count and coins are in its texts.
    gift: Option<Arc<GiftName>>,
    trace: Trace,
}

/// What every row of one gift shares.
struct GiftName {
    id: u32,
    name: Box<str>,
    image_url: Option<Box<str>>,
}

/// Gift descriptions kept for sharing; past this the map starts over (rows keep theirs).
const GIFT_NAMES: usize = 4_096;

/// Where a row's texts are in the ring's [`TextArena`], one after the other from `at`: a gift
/// row's count and coins (8 bytes), its text, its comment. A chat row's comment is its text,
/// kept once. Chunks are numbered modulo 2^16 (far fewer are ever alive at once) and are
/// [`TEXT_CHUNK`] bytes long, so 16 bits say where.
struct Texts {
    chunk: u16,
    at: u16,
    /// The text's length, with [`FIGURES`] set when a gift's count and coins come first.
    text_len: u16,
    /// The comment's length, or [`NO_COMMENT`] / [`COMMENT_IS_TEXT`].
    comment: u16,
}

const NO_COMMENT: u16 = u16::MAX;
const COMMENT_IS_TEXT: u16 = u16::MAX - 1;
/// In `Texts::text_len`: the row's texts start with a gift's count and coins.
const FIGURES: u16 = 1 << 15;
const FIGURES_LEN: usize = 8;

/// A viewer's display name and @handle, shared by all of their rows: viewers come back again
/// and again (a like storm is a few thousand people liking over and over), and a display name
/// can be 1,600 characters long.
#[derive(PartialEq, Eq)]
struct ViewerName {
    user: Option<Box<str>>,
    handle: Option<Box<str>>,
}

/// Viewers kept for sharing; past this the map starts over (rows keep theirs).
const VIEWER_NAMES: usize = 16_384;

/// The longest part of a row's texts the log keeps (bytes; cut at a character boundary).
/// TikTok's own limits are far lower; a row's parts this long still fit one chunk, and a
/// length fits 15 bits.
const PART_MAX: usize = 16_000;
/// The arena's chunk size: offsets in a chunk fit 16 bits.
const TEXT_CHUNK: usize = 64 * 1024;
const _: () = assert!(FIGURES_LEN + 2 * PART_MAX < TEXT_CHUNK && PART_MAX < FIGURES as usize);

fn clip(s: &str) -> &str {
    if s.len() <= PART_MAX {
        return s;
    }
    let mut end = PART_MAX;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// The texts of the ring's rows, in row order, in chunks of [`TEXT_CHUNK`] bytes: no
/// allocation (and no allocator overhead) per row, and a chunk is freed once every row in it
/// has left the ring. 100,000 rows held their texts in 100,000 allocations before: ~10 MB,
/// a fifth of it the allocator's headers and rounding.
#[derive(Default)]
struct TextArena {
    chunks: VecDeque<Vec<u8>>,
    /// The number of `chunks[0]` (chunks are numbered in the order they were made).
    first: u16,
}

impl TextArena {
    /// `figures`: a gift row's count and coins.
    fn push(&mut self, figures: Option<(u32, u32)>, text: &str, comment: Option<&str>) -> Texts {
        let text = clip(text);
        let comment = comment.map(clip);
        let extra = match comment {
            Some(c) if c != text => c.len(),
            _ => 0,
        };
        let lead = if figures.is_some() { FIGURES_LEN } else { 0 };
        let len = lead + text.len() + extra;
        // Strictly less: a row never starts at the chunk's very end (its offset fits 16 bits).
        let fits = self
            .chunks
            .back()
            .is_some_and(|c| c.capacity() - c.len() > len);
        if !fits {
            self.chunks.push_back(Vec::with_capacity(TEXT_CHUNK));
        }
        let chunk = self
            .first
            .wrapping_add(u16::try_from(self.chunks.len() - 1).unwrap_or(u16::MAX));
        let buf = self.chunks.back_mut().expect("a chunk was just made");
        let at = buf.len();
        if let Some((count, coins)) = figures {
            buf.extend_from_slice(&count.to_le_bytes());
            buf.extend_from_slice(&coins.to_le_bytes());
        }
        buf.extend_from_slice(text.as_bytes());
        let small = |n: usize| u16::try_from(n).unwrap_or(0);
        let comment = match comment {
            None => NO_COMMENT,
            Some(c) if c == text => COMMENT_IS_TEXT,
            Some(c) => {
                buf.extend_from_slice(c.as_bytes());
                small(c.len())
            }
        };
        Texts {
            chunk,
            at: small(at),
            text_len: small(text.len()) | if figures.is_some() { FIGURES } else { 0 },
            comment,
        }
    }

    /// Frees the chunks before `chunk` (the oldest row left in the ring is in `chunk`).
    fn release_before(&mut self, chunk: u16) {
        while self.first != chunk && self.chunks.len() > 1 {
            self.chunks.pop_front();
            self.first = self.first.wrapping_add(1);
        }
    }

    fn bytes(&self, t: &Texts, from: usize, len: usize) -> &[u8] {
        let Some(buf) = self
            .chunks
            .get(usize::from(t.chunk.wrapping_sub(self.first)))
        else {
            return &[];
        };
        let at = usize::from(t.at) + from;
        buf.get(at..at + len).unwrap_or(&[])
    }

    fn part(&self, t: &Texts, from: usize, len: usize) -> &str {
        std::str::from_utf8(self.bytes(t, from, len)).unwrap_or("")
    }

    fn lead(t: &Texts) -> usize {
        if t.text_len & FIGURES != 0 {
            FIGURES_LEN
        } else {
            0
        }
    }

    fn text_len(t: &Texts) -> usize {
        usize::from(t.text_len & !FIGURES)
    }

    /// A gift row's count and coins.
    fn figures(&self, t: &Texts) -> Option<(u32, u32)> {
        if Self::lead(t) == 0 {
            return None;
        }
        let b = self.bytes(t, 0, FIGURES_LEN);
        let word = |i: usize| {
            b.get(i..i + 4)
                .and_then(|w| <[u8; 4]>::try_from(w).ok())
                .map_or(0, u32::from_le_bytes)
        };
        Some((word(0), word(4)))
    }

    fn text(&self, t: &Texts) -> &str {
        self.part(t, Self::lead(t), Self::text_len(t))
    }

    fn comment(&self, t: &Texts) -> Option<&str> {
        match t.comment {
            NO_COMMENT => None,
            COMMENT_IS_TEXT => Some(self.text(t)),
            n => Some(self.part(t, Self::lead(t) + Self::text_len(t), usize::from(n))),
        }
    }

    /// Bytes held (chunks at their capacity).
    #[cfg(test)]
    fn held(&self) -> usize {
        self.chunks.iter().map(Vec::capacity).sum()
    }
}

/// Row kinds (the ring keeps a `&'static str`, not a string per row).
const ROW_KINDS: [&str; 12] = [
    "gift",
    "chat",
    "like",
    "follow",
    "share",
    "join",
    "subscribe",
    "viewers",
    "stream",
    "connection",
    "error",
    "warning",
];

/// A row kind's index in [`ROW_KINDS`].
fn row_kind(kind: &str) -> u8 {
    let i = ROW_KINDS
        .iter()
        .position(|k| *k == kind)
        .unwrap_or_else(|| {
            debug_assert!(false, "unknown log row kind {kind}");
            ROW_KINDS.len() - 1
        });
    u8::try_from(i).unwrap_or(u8::MAX)
}

fn kind_name(kind: u8) -> &'static str {
    ROW_KINDS
        .get(usize::from(kind))
        .copied()
        .unwrap_or("warning")
}

impl Entry {
    fn row(&self, arena: &TextArena) -> LogRow {
        LogRow {
            id: self.id,
            at_ms: self.at_ms,
            kind: kind_name(self.kind).to_owned(),
            user: self
                .viewer
                .as_ref()
                .and_then(|v| v.user.as_deref().map(str::to_owned)),
            handle: self
                .viewer
                .as_ref()
                .and_then(|v| v.handle.as_deref().map(str::to_owned)),
            text: arena.text(&self.texts).to_owned(),
            gift: self.gift.as_ref().map(|g| {
                let (count, coins) = arena.figures(&self.texts).unwrap_or_default();
                GiftInfo {
                    id: g.id,
                    name: g.name.to_string(),
                    image_url: g.image_url.as_deref().map(str::to_owned),
                    count,
                    coins,
                }
            }),
            comment: arena.comment(&self.texts).map(str::to_owned),
            history: self.flags & HISTORY != 0,
            traced: self.engine_kind.is_some(),
            fired: small(self.trace.matches().count() as u64),
        }
    }
}

/// What a client event becomes in the log.
pub struct NewRow {
    pub kind: String,
    pub user: Option<String>,
    pub handle: Option<String>,
    pub text: String,
    pub gift: Option<GiftInfo>,
    pub comment: Option<String>,
    pub history: bool,
    pub msg_id: u64,
    pub engine_kind: Option<EventKind>,
}

/// The engine's kind for a client event (mirrors `Input::from_event`).
pub fn engine_kind(event: &Event) -> Option<EventKind> {
    Some(match event {
        Event::Gift(_) => EventKind::Gift,
        Event::Follow(_) => EventKind::Follow,
        Event::Share(_) => EventKind::Share,
        Event::Join(_) => EventKind::Join,
        Event::Subscribe(_) => EventKind::Subscribe,
        Event::Like(_) => EventKind::Like,
        Event::Chat(_) => EventKind::Chat,
        Event::ViewerCount(_) => EventKind::ViewerCount,
        Event::Connected { .. } => EventKind::StreamStart,
        Event::StreamEnded { .. } => EventKind::StreamEnd,
        _ => return None,
    })
}

fn small(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The rows of one message id waiting for the engine: almost always one, kept inline (tens of
/// thousands wait at once in a flood: events the engine never reports, such as coalesced likes).
type Rows = smallvec::SmallVec<[u32; 2]>;

/// The log ring and the links from engine updates to its rows.
pub struct LogRing {
    capacity: usize,
    entries: VecDeque<Entry>,
    /// The rows' texts.
    texts: TextArena,
    next_id: u32,
    added: u32,
    /// Rows waiting for the engine's `Event`, by message id.
    unlinked: HashMap<u64, Rows>,
    /// (row, message id) of the rows put in `unlinked` and `by_msg`, oldest first, to forget
    /// them once the engine is [`LINK_SLACK`] rows past them.
    unlinked_order: VecDeque<(u32, u64)>,
    by_msg_order: VecDeque<(u32, u64)>,
    /// The newest linked row per message id (matches and items follow it).
    by_msg: HashMap<u64, u32>,
    /// The row of each item that is not final yet.
    item_rows: HashMap<u64, u32>,
    /// Rows up to this id may have lost engine updates (the feed fell behind).
    lag_until: Option<u32>,
    /// Whether the engine runs at all (else traces say actions are off).
    engine_on: bool,
    traces_changed: bool,
    /// Gift descriptions shared by rows, by gift id.
    gift_names: HashMap<u32, Arc<GiftName>>,
    /// Viewer names shared by rows, by a hash of the name and handle.
    viewers: HashMap<u64, Arc<ViewerName>>,
    /// Rule and lane names shared by traces.
    names: HashSet<Name>,
}

impl LogRing {
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        LogRing {
            capacity,
            // Reserved once at its final size: pages are only touched as rows arrive, and a
            // ring grown by doubling would end up to 30 % larger than it needs.
            entries: VecDeque::with_capacity(capacity),
            texts: TextArena::default(),
            next_id: 1,
            added: 0,
            unlinked: HashMap::new(),
            by_msg: HashMap::new(),
            unlinked_order: VecDeque::new(),
            by_msg_order: VecDeque::new(),
            item_rows: HashMap::new(),
            lag_until: None,
            engine_on: false,
            traces_changed: false,
            gift_names: HashMap::new(),
            viewers: HashMap::new(),
            names: HashSet::new(),
        }
    }

    fn shared_name(&mut self, name: &str) -> Name {
        if name.len() > SHARED_TEXT_MAX {
            // Long texts are rarely repeated: the set does not keep them alive.
            return Name::new(name);
        }
        if let Some(n) = self.names.get(name) {
            return n.clone();
        }
        if self.names.len() >= SHARED_NAMES {
            self.names.clear();
        }
        let n = Name::new(name);
        self.names.insert(n.clone());
        n
    }

    pub fn set_capacity(&mut self, capacity: usize) {
        self.capacity = capacity.max(1);
        self.evict();
        if self.entries.capacity() > self.capacity {
            self.entries.shrink_to(self.capacity);
        } else {
            self.entries
                .reserve_exact(self.capacity - self.entries.len());
        }
    }

    pub fn set_engine_on(&mut self, on: bool) {
        self.engine_on = on;
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn first_id(&self) -> u32 {
        self.entries.front().map_or(self.next_id, |e| e.id)
    }

    pub fn cursor(&self) -> LogCursor {
        LogCursor {
            count: small(self.entries.len() as u64),
            first_id: self.first_id(),
            last_id: self.entries.back().map_or(0, |e| e.id),
            added: self.added,
        }
    }

    /// The cursor for a batch; resets the added count and the traces flag.
    pub fn take_changes(&mut self) -> (LogCursor, bool) {
        let c = self.cursor();
        self.added = 0;
        (c, std::mem::take(&mut self.traces_changed))
    }

    pub fn has_changes(&self) -> bool {
        self.added > 0 || self.traces_changed
    }

    /// Whether rows were added since the last batch.
    pub fn rows_added(&self) -> bool {
        self.added > 0
    }

    pub fn push(&mut self, at_ms: i64, new: NewRow) -> u32 {
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1).max(1);
        let traced = new.engine_kind.is_some();
        if traced && !new.history {
            self.unlinked.entry(new.msg_id).or_default().push(id);
            self.unlinked_order.push_back((id, new.msg_id));
        }
        let figures = new.gift.as_ref().map(|g| (g.count, g.coins));
        let gift = new.gift.map(|g| self.row_gift(g));
        let viewer = self.viewer_name(new.user.as_deref(), new.handle.as_deref());
        // Room is made before the push, so the ring never grows past its reserved size.
        while self.entries.len() >= self.capacity {
            self.pop_oldest();
        }
        self.entries.push_back(Entry {
            id,
            at_ms,
            kind: row_kind(&new.kind),
            engine_kind: new.engine_kind,
            flags: if new.history { HISTORY } else { 0 },
            texts: self.texts.push(figures, &new.text, new.comment.as_deref()),
            viewer,
            gift,
            trace: Trace::default(),
        });
        self.added = self.added.saturating_add(1);
        self.evict();
        id
    }

    fn viewer_name(&mut self, user: Option<&str>, handle: Option<&str>) -> Option<Arc<ViewerName>> {
        if user.is_none() && handle.is_none() {
            return None;
        }
        let (user, handle) = (user.map(clip), handle.map(clip));
        let key = {
            use std::hash::{Hash, Hasher};
            let mut h = std::hash::DefaultHasher::new();
            (user, handle).hash(&mut h);
            h.finish()
        };
        if let Some(v) = self.viewers.get(&key) {
            if v.user.as_deref() == user && v.handle.as_deref() == handle {
                return Some(v.clone());
            }
        }
        if self.viewers.len() >= VIEWER_NAMES {
            self.viewers.clear();
        }
        let v = Arc::new(ViewerName {
            user: user.map(Box::from),
            handle: handle.map(Box::from),
        });
        // A colliding key replaces the other viewer: sharing is best effort, rows are exact.
        self.viewers.insert(key, v.clone());
        Some(v)
    }

    fn row_gift(&mut self, g: GiftInfo) -> Arc<GiftName> {
        let same =
            |n: &GiftName| *n.name == *g.name && n.image_url.as_deref() == g.image_url.as_deref();
        match self.gift_names.get(&g.id) {
            Some(n) if same(n) => n.clone(),
            _ => {
                if self.gift_names.len() >= GIFT_NAMES {
                    self.gift_names.clear();
                }
                let n = Arc::new(GiftName {
                    id: g.id,
                    name: g.name.into_boxed_str(),
                    image_url: g.image_url.map(String::into_boxed_str),
                });
                self.gift_names.insert(g.id, n.clone());
                n
            }
        }
    }

    /// Forgets link entries of rows before `row`: the engine handles events in the order
    /// their rows were added, so it has passed them for good (their updates have come, or it
    /// never reports them, as with coalesced likes). Without this the maps hold an entry per
    /// such row until the ring's own limit, 17 MB in a flood.
    fn forget_links_before(&mut self, row: u32) {
        while let Some(&(r, msg)) = self.unlinked_order.front() {
            if r >= row {
                break;
            }
            self.unlinked_order.pop_front();
            if let Some(rows) = self.unlinked.get_mut(&msg) {
                rows.retain(|x| *x != r);
                if rows.is_empty() {
                    self.unlinked.remove(&msg);
                }
            }
        }
        while let Some(&(r, msg)) = self.by_msg_order.front() {
            if r >= row {
                break;
            }
            self.by_msg_order.pop_front();
            if self.by_msg.get(&msg) == Some(&r) {
                self.by_msg.remove(&msg);
            }
        }
    }

    fn pop_oldest(&mut self) {
        self.entries.pop_front();
        if let Some(e) = self.entries.front() {
            self.texts.release_before(e.texts.chunk);
        }
    }

    fn evict(&mut self) {
        while self.entries.len() > self.capacity {
            self.pop_oldest();
        }
        // The link maps point at rows by id; drop what fell out of the ring once they grow
        // (the engine answers within moments, so old unlinked rows never get linked).
        let first = self.first_id();
        let limit = self.capacity.max(1024) * 2;
        if self.unlinked.len() > limit {
            self.unlinked.retain(|_, rows| {
                rows.retain(|r| *r >= first);
                !rows.is_empty()
            });
        }
        if self.by_msg.len() > limit {
            self.by_msg.retain(|_, r| *r >= first);
        }
        if self.item_rows.len() > limit {
            self.item_rows.retain(|_, r| *r >= first);
        }
    }

    fn entry_mut(&mut self, id: u32) -> Option<&mut Entry> {
        let first = self.first_id();
        let idx = usize::try_from(id.checked_sub(first)?).ok()?;
        self.entries.get_mut(idx)
    }

    fn entry(&self, id: u32) -> Option<&Entry> {
        let first = self.first_id();
        let idx = usize::try_from(id.checked_sub(first)?).ok()?;
        self.entries.get(idx)
    }

    fn trace_mut(&mut self, id: u32) -> Option<&mut Trace> {
        self.traces_changed = true;
        Some(&mut self.entry_mut(id)?.trace)
    }

    /// The engine handled an event: links it to its row.
    pub fn engine_event(&mut self, kind: EventKind, msg_id: u64) {
        let Some(rows) = self.unlinked.get_mut(&msg_id) else {
            return;
        };
        let first = self.entries.front().map_or(u32::MAX, |e| e.id);
        let pos = rows.iter().position(|&r| {
            r >= first
                && self
                    .entries
                    .get(usize::try_from(r - first).unwrap_or(usize::MAX))
                    .is_some_and(|e| e.engine_kind == Some(kind))
        });
        let Some(pos) = pos else { return };
        let row = rows.remove(pos);
        if rows.is_empty() {
            self.unlinked.remove(&msg_id);
        }
        self.by_msg.insert(msg_id, row);
        self.by_msg_order.push_back((row, msg_id));
        self.forget_links_before(row.saturating_sub(LINK_SLACK));
        self.traces_changed = true;
        if let Some(e) = self.entry_mut(row) {
            e.flags |= SEEN;
        }
    }

    pub fn matched(&mut self, rule: &str, msg_id: u64, runs: u32) {
        let Some(&row) = self.by_msg.get(&msg_id) else {
            return;
        };
        let rule = self.shared_name(rule);
        if let Some(t) = self.trace_mut(row) {
            push_step(&mut t.steps, Step::Match(rule, runs));
        }
    }

    pub fn skipped(&mut self, msg_id: u64, rule: Option<String>, reason: String) {
        let row = match &rule {
            Some(_) => self.by_msg.get(&msg_id).copied(),
            // A duplicate never gets an `Event`: it takes its row from the unlinked ones.
            None => self
                .unlinked
                .get_mut(&msg_id)
                .filter(|rows| !rows.is_empty())
                .map(|rows| rows.remove(0)),
        };
        let Some(row) = row else { return };
        if rule.is_none() {
            if let Some(e) = self.entry_mut(row) {
                e.flags |= DUPLICATE;
            }
        }
        let rule = rule.map(|r| self.shared_name(&r));
        let reason = self.shared_name(&reason);
        if let Some(t) = self.trace_mut(row) {
            push_step(&mut t.steps, Step::Skip(rule, reason));
        }
    }

    pub fn item(&mut self, u: &ItemUpdate) {
        let id = u.item.id;
        let row = match self.item_rows.get(&id) {
            Some(&r) => r,
            None => match self.by_msg.get(&u.item.msg_id) {
                Some(&r) if u.item.rerun_of.is_none() => {
                    self.item_rows.insert(id, r);
                    r
                }
                _ => return,
            },
        };
        if u.status.is_final() {
            self.item_rows.remove(&id);
        }
        let (lane, rule) = (
            self.shared_name(&u.item.lane),
            self.shared_name(&u.item.rule_id),
        );
        let detail = status_detail(&u.status).map(|d| self.shared_name(&d));
        let Some(t) = self.trace_mut(row) else { return };
        match t.item_mut(id) {
            Some(existing) => {
                existing.status = u.status.name();
                existing.detail = detail;
                // Coalescing re-renders a waiting item's commands (`{count}` grows).
                if !existing.same_steps(&u.item.steps) {
                    (existing.commands, existing.sounds) = boxed_steps(&u.item.steps);
                }
            }
            None => {
                let (commands, sounds) = boxed_steps(&u.item.steps);
                push_step(
                    &mut t.steps,
                    Step::Item(Box::new(ItemTrace {
                        id: small(id),
                        status: u.status.name(),
                        lane,
                        rule,
                        detail,
                        commands,
                        sounds,
                        outputs: Box::default(),
                    })),
                );
            }
        }
    }

    pub fn step(&mut self, item: u64, text: String) {
        let Some(&row) = self.item_rows.get(&item) else {
            return;
        };
        let text = self.shared_name(&text);
        if let Some(t) = self.trace_mut(row) {
            if let Some(i) = t.item_mut(item) {
                let mut outputs = std::mem::take(&mut i.outputs).into_vec();
                outputs.reserve_exact(1);
                outputs.push(text);
                i.outputs = outputs.into_boxed_slice();
            }
        }
    }

    /// Engine updates were lost: rows so far may have incomplete traces.
    pub fn lagged(&mut self) {
        self.lag_until = self.entries.back().map(|e| e.id);
        self.traces_changed = true;
    }

    fn matches(e: &Entry, kinds: &[String], search: &str) -> bool {
        if !kinds.is_empty() && !kinds.iter().any(|k| k == kind_name(e.kind)) {
            return false;
        }
        if search.is_empty() {
            return true;
        }
        let hit = |s: Option<&str>| s.is_some_and(|s| s.to_lowercase().contains(search));
        let viewer = e.viewer.as_deref();
        hit(viewer.and_then(|v| v.user.as_deref())) || hit(viewer.and_then(|v| v.handle.as_deref()))
    }

    pub fn page(&self, q: &LogQuery) -> LogPage {
        let search = q.search.trim().to_lowercase();
        let search = search.trim_start_matches('@');
        let limit = q.limit.min(MAX_PAGE) as usize;
        let offset = q.offset as usize;
        let last_id = self.entries.back().map_or(0, |e| e.id);
        let after = q.after_id.unwrap_or(u32::MAX);
        let tail = q.tail == Some(true);
        if q.kinds.is_empty() && search.is_empty() {
            let start = if tail {
                self.entries.len().saturating_sub(limit)
            } else {
                offset.min(self.entries.len())
            };
            let end = start.saturating_add(limit).min(self.entries.len());
            let rows = self
                .entries
                .range(start..end)
                .map(|e| e.row(&self.texts))
                .collect();
            let newer = q.after_id.map_or(0, |a| last_id.saturating_sub(a));
            return LogPage {
                total: small(self.entries.len() as u64),
                offset: small(start as u64),
                rows,
                newer: newer.min(small(self.entries.len() as u64)),
                last_id,
            };
        }
        let mut total = 0usize;
        let mut newer = 0u32;
        let mut rows = Vec::new();
        if tail {
            // Newest first until the page is full, then only counted.
            for e in self.entries.iter().rev() {
                if !Self::matches(e, &q.kinds, search) {
                    continue;
                }
                if rows.len() < limit {
                    rows.push(e.row(&self.texts));
                }
                if e.id > after {
                    newer += 1;
                }
                total += 1;
            }
            rows.reverse();
            return LogPage {
                total: small(total as u64),
                offset: small((total - rows.len()) as u64),
                rows,
                newer,
                last_id,
            };
        }
        for e in &self.entries {
            if !Self::matches(e, &q.kinds, search) {
                continue;
            }
            if total >= offset && rows.len() < limit {
                rows.push(e.row(&self.texts));
            }
            if e.id > after {
                newer += 1;
            }
            total += 1;
        }
        LogPage {
            total: small(total as u64),
            offset: small(offset.min(total) as u64),
            rows,
            newer,
            last_id,
        }
    }

    pub fn trace(&self, id: u32) -> Option<TraceView> {
        let e = self.entry(id)?;
        let t = &e.trace;
        let verdict = self.verdict(e, t);
        Some(TraceView {
            row: e.row(&self.texts),
            verdict,
            matches: t
                .matches()
                .map(|(rule, runs)| TraceMatch {
                    rule: rule.to_string(),
                    runs,
                })
                .collect(),
            skips: t
                .skips()
                .map(|(rule, reason)| TraceSkip {
                    rule: rule.map(|r| r.to_string()),
                    reason: reason.to_string(),
                })
                .collect(),
            items: t.items().map(ItemTrace::view).collect(),
        })
    }

    fn verdict(&self, e: &Entry, t: &Trace) -> String {
        let Some(kind) = e.engine_kind else {
            return "Not an event rules react to.".into();
        };
        if e.flags & HISTORY != 0 {
            return "Replayed from before you connected: shown, never acted on.".into();
        }
        if e.flags & DUPLICATE != 0 {
            return "A duplicate of a message already handled: ignored.".into();
        }
        if e.flags & SEEN == 0 {
            if self.lag_until.is_some_and(|l| e.id <= l) {
                return "Its trace is incomplete: the window fell behind and updates were dropped."
                    .into();
            }
            if !self.engine_on {
                return "The trigger engine is not running: no actions.".into();
            }
            return "Waiting for the trigger engine…".into();
        }
        if t.matches().next().is_none() {
            if t.skips().next().is_none() {
                return format!("No rule matched this {} event.", kind.as_str());
            }
            return "Rules matched, but their filters held them back.".into();
        }
        let runs: u32 = t.matches().map(|(_, runs)| runs).sum();
        let done = t.items().filter(|i| i.status == "done").count();
        let failed = t
            .items()
            .filter(|i| matches!(i.status, "failed" | "dropped" | "interrupted"))
            .count();
        format!(
            "{} rule(s) fired ({} run(s)); {} item(s) queued, {done} done, {failed} failed or dropped.",
            t.matches().count(),
            runs,
            t.items().count()
        )
    }

    /// Every row, oldest first (for export).
    pub fn rows(&self) -> impl Iterator<Item = LogRow> + '_ {
        self.entries.iter().map(|e| e.row(&self.texts))
    }
}

/// Rendered commands and sound files of an item, boxed to size for a trace.
fn boxed_steps(steps: &[PlannedStep]) -> (Strs, Strs) {
    let command = |s: &PlannedStep| match s {
        PlannedStep::Command { command } => Some(Box::from(command.as_str())),
        _ => None,
    };
    let sound = |s: &PlannedStep| match s {
        PlannedStep::Sound { file, .. } => Some(Box::from(file.as_str())),
        _ => None,
    };
    (
        steps.iter().filter_map(command).collect(),
        steps.iter().filter_map(sound).collect(),
    )
}

/// Rendered commands and sound files of an item.
pub fn steps(steps: &[PlannedStep]) -> (Vec<String>, Vec<String>) {
    let mut commands = Vec::new();
    let mut sounds = Vec::new();
    for s in steps {
        match s {
            PlannedStep::Command { command } => commands.push(command.clone()),
            PlannedStep::Sound { file, .. } => sounds.push(file.clone()),
            PlannedStep::Delay { .. } => {}
        }
    }
    (commands, sounds)
}

/// Why an item failed or was dropped; "may have run" when that is possible.
pub fn status_detail(status: &ItemStatus) -> Option<String> {
    match status {
        ItemStatus::Failed {
            reason,
            may_have_run,
        } => Some(if *may_have_run {
            format!("{reason} (may have run)")
        } else {
            reason.clone()
        }),
        ItemStatus::Dropped { reason } | ItemStatus::Expired { reason } => Some(reason.clone()),
        ItemStatus::Skipped { reason } if !reason.is_empty() => Some(reason.clone()),
        ItemStatus::Interrupted => Some("interrupted; may have run".into()),
        _ => None,
    }
}

#[cfg(test)]
mod compact_tests {
    use super::*;

    fn new_row(
        kind: &str,
        user: Option<&str>,
        handle: Option<&str>,
        text: &str,
        comment: Option<&str>,
        gift: Option<GiftInfo>,
    ) -> NewRow {
        NewRow {
            kind: kind.into(),
            user: user.map(Into::into),
            handle: handle.map(Into::into),
            text: text.into(),
            gift,
            comment: comment.map(Into::into),
            history: false,
            msg_id: 1,
            engine_kind: None,
        }
    }

    #[test]
    fn a_compact_row_gives_back_exactly_what_was_pushed() {
        let long = "é".repeat(1_600);
        let cases: Vec<NewRow> = vec![
            new_row("chat", Some("Anna"), Some("anna"), "hi", Some("hi"), None),
            new_row("chat", Some(""), Some(""), "", Some(""), None),
            new_row("chat", None, None, "text", Some("other"), None),
            new_row("join", Some("\"quotes\"\n§c@a"), None, "joined", None, None),
            new_row(
                "chat",
                Some("\u{202e}rtl\0nul"),
                Some("h"),
                &long,
                Some(&long),
                None,
            ),
            new_row("viewers", None, None, "12 watching", None, None),
            new_row(
                "gift",
                Some("{\"json\":1}"),
                Some("x"),
                "sent Rose ×3",
                None,
                Some(GiftInfo {
                    id: 5655,
                    name: "Rose".into(),
                    image_url: Some("http://127.0.0.1/rose.webp".into()),
                    count: 3,
                    coins: 3,
                }),
            ),
        ];
        let mut ring = LogRing::new(100);
        type Texts4 = (Option<String>, Option<String>, String, Option<String>);
        let expected: Vec<Texts4> = cases
            .iter()
            .map(|c| {
                (
                    c.user.clone(),
                    c.handle.clone(),
                    c.text.clone(),
                    c.comment.clone(),
                )
            })
            .collect();
        for c in cases {
            ring.push(7, c);
        }
        let rows: Vec<LogRow> = ring.rows().collect();
        assert_eq!(rows.len(), expected.len());
        for (row, (user, handle, text, comment)) in rows.iter().zip(expected) {
            assert_eq!(row.user, user);
            assert_eq!(row.handle, handle);
            assert_eq!(row.text, text);
            assert_eq!(row.comment, comment);
            assert_eq!(row.at_ms, 7);
        }
        let gift = rows[6].gift.as_ref().unwrap();
        assert_eq!((gift.id, gift.name.as_str(), gift.count), (5655, "Rose", 3));
        assert_eq!(
            gift.image_url.as_deref(),
            Some("http://127.0.0.1/rose.webp")
        );
    }

    #[test]
    fn gift_figures_and_texts_survive_chunk_ends_and_chunk_numbers_wrapping() {
        let mut ring = LogRing::new(40);
        // Chunk numbers are 16 bits: start just before they wrap.
        ring.texts.first = u16::MAX - 1;
        let big = "ß".repeat(7_000); // 14,000 bytes: a few rows fill a chunk
        let mut expected = Vec::new();
        for i in 0..200u32 {
            let gift = (i % 3 == 0).then(|| GiftInfo {
                id: 7,
                name: "Rose".into(),
                image_url: None,
                count: u32::MAX - i,
                coins: i * 1_000_003,
            });
            let text = if i % 2 == 0 {
                big.clone()
            } else {
                format!("row {i}")
            };
            let comment = (i % 5 == 0).then(|| format!("{big}{i}"));
            ring.push(
                i64::from(i),
                new_row(
                    "gift",
                    Some("v"),
                    None,
                    &text,
                    comment.as_deref(),
                    gift.clone(),
                ),
            );
            expected.push((text, comment, gift.map(|g| (g.count, g.coins))));
        }
        let kept = &expected[expected.len() - 40..];
        let rows: Vec<LogRow> = ring.rows().collect();
        assert_eq!(rows.len(), 40);
        for (row, (text, comment, figures)) in rows.iter().zip(kept) {
            assert_eq!(&row.text, text);
            assert_eq!(&row.comment, comment);
            assert_eq!(row.gift.as_ref().map(|g| (g.count, g.coins)), *figures);
        }
        assert!(
            ring.texts.first < 100,
            "the numbers wrapped: {}",
            ring.texts.first
        );
        let bytes: usize = kept
            .iter()
            .map(|(t, c, _)| t.len() + c.as_ref().map_or(0, String::len) + FIGURES_LEN)
            .sum();
        assert!(
            ring.texts.held() <= 2 * bytes + 2 * TEXT_CHUNK,
            "chunks are given back"
        );
        // An empty row when the chunk is exactly full still gets a valid place.
        let mut arena = TextArena::default();
        let fill = "x".repeat(PART_MAX);
        let mut last = None;
        while arena.chunks.len() < 3 {
            last = Some(arena.push(None, &fill, None));
        }
        let empty = arena.push(None, "", None);
        assert_eq!(arena.text(&empty), "");
        assert_eq!(arena.text(last.as_ref().unwrap()), fill);
    }

    #[test]
    fn texts_live_in_chunks_freed_as_rows_leave_and_a_huge_part_is_clipped() {
        let mut ring = LogRing::new(10_000);
        let name = |i: u64| format!("Viewer {i} ✨");
        for i in 0..50_000u64 {
            let n = name(i);
            ring.push(
                0,
                new_row(
                    "chat",
                    Some(&n),
                    Some("h"),
                    "hello there",
                    Some("hello there"),
                    None,
                ),
            );
        }
        let rows: Vec<LogRow> = ring.rows().collect();
        assert_eq!(rows.len(), 10_000);
        assert_eq!(rows[0].user.as_deref(), Some(name(40_000).as_str()));
        assert_eq!(rows[9_999].user.as_deref(), Some(name(49_999).as_str()));
        assert!(rows
            .iter()
            .all(|r| r.comment.as_deref() == Some("hello there")));
        // What the rows hold (a comment equal to the text once), plus at most the two partly
        // used chunks at the ends.
        let bytes: usize = rows.iter().map(|r| r.text.len()).sum();
        assert!(
            ring.texts.held() <= bytes + 2 * TEXT_CHUNK,
            "{} held for {bytes}",
            ring.texts.held()
        );
        // A part longer than the log keeps is cut at a character boundary, never split.
        let huge = "€".repeat(6_000);
        let id = ring.push(
            0,
            new_row("chat", Some(&huge), None, &huge, Some("x"), None),
        );
        let row = ring.entry(id).unwrap().row(&ring.texts);
        let user = row.user.unwrap();
        assert!(user.len() <= PART_MAX && user.len() > PART_MAX - 4);
        assert!(huge.starts_with(&user) && row.text == user);
        assert_eq!(row.comment.as_deref(), Some("x"));
        // Shrinking the ring frees the chunks of the rows that left.
        ring.set_capacity(1);
        assert!(ring.texts.held() <= 2 * TEXT_CHUNK);
        assert_eq!(ring.rows().next().unwrap().comment.as_deref(), Some("x"));
    }

    #[test]
    fn rows_of_one_viewer_share_their_name_and_handle() {
        let mut ring = LogRing::new(100);
        let long = "Ω".repeat(1_600);
        let a = ring.push(
            0,
            new_row("like", Some(&long), Some("very_long"), "liked", None, None),
        );
        let b = ring.push(
            0,
            new_row(
                "chat",
                Some(&long),
                Some("very_long"),
                "hi",
                Some("hi"),
                None,
            ),
        );
        let c = ring.push(
            0,
            new_row("chat", Some(&long), Some("other"), "hi", Some("hi"), None),
        );
        let d = ring.push(0, new_row("stream", None, None, "ended", None, None));
        let viewer = |id| ring.entry(id).unwrap().viewer.clone();
        assert!(Arc::ptr_eq(&viewer(a).unwrap(), &viewer(b).unwrap()));
        assert!(!Arc::ptr_eq(&viewer(a).unwrap(), &viewer(c).unwrap()));
        assert!(viewer(d).is_none());
        let rows: Vec<LogRow> = ring.rows().collect();
        assert_eq!(rows[2].handle.as_deref(), Some("other"));
        assert_eq!(rows[2].user.as_deref(), Some(long.as_str()));
        assert_eq!(
            (rows[3].user.as_deref(), rows[3].handle.as_deref()),
            (None, None)
        );
    }

    #[test]
    fn rows_of_one_gift_share_its_name_and_image_and_a_changed_gift_keeps_old_rows() {
        let gift = |name: &str, count| GiftInfo {
            id: 1,
            name: name.into(),
            image_url: Some("http://127.0.0.1/g.webp".into()),
            count,
            coins: count,
        };
        let mut ring = LogRing::new(100);
        for n in 1..=3 {
            ring.push(
                0,
                new_row("gift", None, None, "", None, Some(gift("Rose", n))),
            );
        }
        ring.push(
            0,
            new_row("gift", None, None, "", None, Some(gift("Rosa", 9))),
        );
        let shared = |i: usize| ring.entries[i].gift.clone().unwrap();
        assert!(Arc::ptr_eq(&shared(0), &shared(2)));
        assert!(!Arc::ptr_eq(&shared(0), &shared(3)));
        let rows: Vec<LogRow> = ring.rows().collect();
        let names: Vec<(&str, u32)> = rows
            .iter()
            .map(|r| {
                let g = r.gift.as_ref().unwrap();
                (g.name.as_str(), g.count)
            })
            .collect();
        assert_eq!(names, [("Rose", 1), ("Rose", 2), ("Rose", 3), ("Rosa", 9)]);
    }

    #[test]
    fn links_of_rows_the_engine_passed_are_forgotten_and_recent_ones_still_work() {
        let mut ring = LogRing::new(200_000);
        let traced = |msg: u64| NewRow {
            engine_kind: Some(EventKind::Like),
            msg_id: msg,
            ..new_row("like", Some("v"), Some("v"), "liked", None, None)
        };
        // 100,000 likes; the engine reports one in ten (it coalesces the rest).
        for msg in 1..=100_000u64 {
            ring.push(0, traced(msg));
            if msg % 10 == 0 {
                ring.engine_event(EventKind::Like, msg);
            }
        }
        let bound = LINK_SLACK as usize + 10;
        assert!(ring.unlinked.len() <= bound, "{}", ring.unlinked.len());
        assert!(ring.by_msg.len() <= bound / 10 + 1, "{}", ring.by_msg.len());
        assert!(ring.unlinked_order.len() <= bound);
        // A row the engine reports late, but within the slack, is still linked and traced.
        let late = 100_000 - u64::from(LINK_SLACK) / 20 * 10 + 1;
        assert_eq!(late % 10, 1, "not reported yet");
        ring.engine_event(EventKind::Like, late);
        let row = u32::try_from(late).unwrap();
        assert!(ring.entry(row).unwrap().flags & SEEN != 0);
        ring.matched("like-rule", late, 1);
        assert_eq!(ring.entry(row).unwrap().trace.matches().count(), 1);
        assert_eq!(ring.rows().nth(row as usize - 1).unwrap().fired, 1);
    }

    #[test]
    fn the_ring_stays_at_its_reserved_size_and_rows_stay_small() {
        // The ring's array holds 100,000 of these; it was 230+ bytes a row.
        assert!(
            std::mem::size_of::<Entry>() <= 48,
            "{}",
            std::mem::size_of::<Entry>()
        );
        // Tens of thousands of traces hold a few steps each.
        assert!(std::mem::size_of::<Step>() <= 24);
        assert_eq!(std::mem::size_of::<Trace>(), std::mem::size_of::<usize>());
        let mut ring = LogRing::new(1_000);
        let reserved = ring.entries.capacity();
        assert!(reserved >= 1_000);
        for i in 0..3_000u64 {
            ring.push(
                0,
                NewRow {
                    msg_id: i,
                    ..new_row("chat", Some("v"), Some("v"), "hi", None, None)
                },
            );
        }
        assert_eq!(ring.len(), 1_000);
        assert_eq!(
            ring.entries.capacity(),
            reserved,
            "grew past its reserved size"
        );
        ring.set_capacity(10);
        assert_eq!(ring.len(), 10);
        assert!(
            ring.entries.capacity() < 1_000,
            "a smaller ring gives memory back"
        );
        ring.set_capacity(2_000);
        assert!(ring.entries.capacity() >= 2_000);
        assert_eq!(ring.cursor().last_id, 3_000);
    }

    fn item(
        id: u64,
        msg_id: u64,
        steps: Vec<PlannedStep>,
    ) -> Arc<livetrigger_engine::engine::item::QueueItem> {
        crate::feed::tests::item_with_steps(id, msg_id, "minecraft", steps)
    }

    fn update(
        item: &Arc<livetrigger_engine::engine::item::QueueItem>,
        status: ItemStatus,
    ) -> ItemUpdate {
        ItemUpdate {
            item: item.clone(),
            status,
            at_ms: 2,
        }
    }

    #[test]
    fn a_compact_trace_gives_back_the_whole_story_and_shares_names() {
        let mut ring = LogRing::new(100);
        ring.set_engine_on(true);
        let gift_row = |msg: u64| NewRow {
            engine_kind: Some(EventKind::Gift),
            msg_id: msg,
            ..new_row("gift", Some("Anna"), Some("anna"), "Rose", None, None)
        };
        let a = ring.push(0, gift_row(1));
        let b = ring.push(0, gift_row(2));
        for msg in [1, 2] {
            ring.engine_event(EventKind::Gift, msg);
            ring.matched("rose-creeper", msg, 2);
        }
        ring.skipped(
            1,
            Some("big-gift-fanfare".into()),
            "cooldown: 4 s left".into(),
        );
        ring.skipped(
            2,
            Some("big-gift-fanfare".into()),
            "cooldown: 4 s left".into(),
        );
        let cmd = |c: &str| PlannedStep::Command { command: c.into() };
        let sound = PlannedStep::Sound {
            file: "boom.ogg".into(),
            volume: 0.5,
        };
        let first = item(
            7,
            1,
            vec![
                cmd("say 1 rose"),
                PlannedStep::Delay { ms: 5 },
                sound.clone(),
            ],
        );
        ring.item(&update(&first, ItemStatus::Queued));
        // Coalesced: the waiting item's command is rendered again with the new count.
        let grown = item(
            7,
            1,
            vec![cmd("say 2 roses"), PlannedStep::Delay { ms: 5 }, sound],
        );
        ring.item(&update(&grown, ItemStatus::Queued));
        ring.item(&update(&grown, ItemStatus::Running));
        ring.step(7, "Said 2 roses".into());
        ring.item(&update(
            &grown,
            ItemStatus::Failed {
                reason: "server closed".into(),
                may_have_run: true,
            },
        ));
        ring.item(&update(&item(8, 2, vec![cmd("say b")]), ItemStatus::Queued));

        let t = ring.trace(a).unwrap();
        assert_eq!(
            t.matches,
            vec![TraceMatch {
                rule: "rose-creeper".into(),
                runs: 2
            }]
        );
        assert_eq!(
            t.skips,
            vec![TraceSkip {
                rule: Some("big-gift-fanfare".into()),
                reason: "cooldown: 4 s left".into()
            }]
        );
        assert_eq!(
            t.items,
            vec![TraceItem {
                id: 7,
                lane: "minecraft".into(),
                rule: "rose-creeper".into(),
                status: "failed".into(),
                detail: Some("server closed (may have run)".into()),
                commands: vec!["say 2 roses".into()],
                sounds: vec!["boom.ogg".into()],
                outputs: vec!["Said 2 roses".into()],
            }]
        );
        assert!(t.verdict.contains("1 failed"), "{}", t.verdict);
        assert_eq!(
            ring.trace(b).unwrap().items[0].commands,
            vec!["say b".to_owned()]
        );

        // The rule and lane names are one allocation for every trace.
        let ta = &ring.entry(a).unwrap().trace;
        let tb = &ring.entry(b).unwrap().trace;
        let first_match = |t: &Trace| t.matches().next().unwrap().0.clone();
        assert!(Arc::ptr_eq(&first_match(ta).0, &first_match(tb).0));
        let first_item = |t: &Trace| t.items().next().unwrap().lane.clone();
        assert!(Arc::ptr_eq(&first_item(ta).0, &first_item(tb).0));
        // So is a skip reason that repeats (a cooldown over a flood of chat commands).
        let first_skip = |t: &Trace| t.skips().next().unwrap().1.clone();
        assert!(Arc::ptr_eq(&first_skip(ta).0, &first_skip(tb).0));
        assert_eq!(
            ta.steps.capacity(),
            ta.steps.len(),
            "lists hold what they have, no spare room"
        );
        // A long text is not kept for sharing.
        let long = "x".repeat(SHARED_TEXT_MAX + 1);
        let once = ring.shared_name(&long);
        assert!(!Arc::ptr_eq(&once.0, &ring.shared_name(&long).0));
    }
}
