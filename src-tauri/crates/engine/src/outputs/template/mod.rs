//! Command templates: `give {username} diamond {count}` plus a viewer's event → one RCON
//! command in which viewer text can only ever be text.
//!
//! # Syntax
//! - `{user}` display name, `{username}` @handle (without the `@`), `{gift}`, `{count}`,
//!   `{coins}`, `{comment}` (alias `{args}`), `{likes}`, `{viewers}`.
//! - `{player}` is the streamer's own Minecraft player (a name or a selector, `@p` by default),
//!   from the profile. It is put in when the template is parsed, as if the streamer had typed
//!   it, so no event value can ever reach it.
//! - `{random:a|b|c}` picks one choice per render. Choices are the streamer's own text, so
//!   they may not contain quotes, braces, brackets or backslashes (they would change the
//!   structure the escaping was planned for).
//! - Any other `{` is literal, so JSON and SNBT need no escaping: only `{name}` where `name` is
//!   a bare identifier is read as a placeholder, and an unknown one is an error, not text.
//!
//! # Where a value lands decides how it is escaped
//! [`SlotKind`] is decided once, at parse time, from the template itself; see `context.rs`.
//! Numbers are always plain digits. Text values are first sanitized (no line breaks, NUL,
//! `§` codes, selector `@`, bidi spoofing, `${`), cut to a per-field length on a char
//! boundary, then escaped for every quote layer around them. Finally the whole command is
//! fitted under [`MAX_COMMAND_BYTES`] by trimming the longest values first.

mod context;
mod escape;

use context::{Slot, Tok};
use escape::Shape;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::MAX_COMMAND_BYTES;

/// The random source for `{random:...}` picks; seed it for a stable preview.
pub use fastrand::Rng;

/// A value a template can refer to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Field {
    User,
    Username,
    Gift,
    Count,
    Coins,
    Comment,
    Likes,
    Viewers,
}

impl Field {
    fn from_name(name: &str) -> Option<Field> {
        Some(match name {
            "user" => Field::User,
            "username" => Field::Username,
            "gift" => Field::Gift,
            "count" => Field::Count,
            "coins" => Field::Coins,
            "comment" | "args" => Field::Comment,
            "likes" => Field::Likes,
            "viewers" => Field::Viewers,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Field::User => "user",
            Field::Username => "username",
            Field::Gift => "gift",
            Field::Count => "count",
            Field::Coins => "coins",
            Field::Comment => "comment",
            Field::Likes => "likes",
            Field::Viewers => "viewers",
        }
    }

    fn is_text(self) -> bool {
        matches!(
            self,
            Field::User | Field::Username | Field::Gift | Field::Comment
        )
    }

    /// Longest value kept, in chars. TikTok caps nicknames at 30 and comments at 150; the
    /// slack covers future changes without letting a 1,600-char value crowd out the command.
    fn max_chars(self) -> usize {
        match self {
            Field::Comment => 300,
            _ => 64,
        }
    }
}

/// The values of one event, as the templates see them. Text is raw viewer input.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TemplateEvent {
    pub user: String,
    pub username: String,
    pub gift: Option<String>,
    pub count: Option<u64>,
    pub coins: Option<u64>,
    pub comment: Option<String>,
    pub likes: Option<u64>,
    pub viewers: Option<u64>,
}

enum Value<'a> {
    Text(&'a str),
    Number(u64),
}

impl TemplateEvent {
    fn get(&self, field: Field) -> Option<Value<'_>> {
        match field {
            Field::User => Some(Value::Text(&self.user)),
            Field::Username => Some(Value::Text(&self.username)),
            Field::Gift => self.gift.as_deref().map(Value::Text),
            Field::Comment => self.comment.as_deref().map(Value::Text),
            Field::Count => self.count.map(Value::Number),
            Field::Coins => self.coins.map(Value::Number),
            Field::Likes => self.likes.map(Value::Number),
            Field::Viewers => self.viewers.map(Value::Number),
        }
    }
}

/// The kind of slot a placeholder sits in, as shown in the preview.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum SlotKind {
    /// A bare command argument (`give {username} ...`): one token of letters, digits, `_-.`.
    Argument,
    /// The free-text tail of `say`, `me`, `msg`/`tell`/`w`, `teammsg`/`tm`: spaces kept.
    Message,
    /// A quoted brigadier or SNBT string.
    QuotedString,
    /// A string in a JSON text component (`tellraw`, `title`, `CustomName:'{...}'`).
    JsonText,
}

#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum TemplateError {
    #[error("the template is empty")]
    Empty,
    #[error(
        "the template has a line break or control character at char {at}; one template is one command"
    )]
    ControlChar { at: usize },
    #[error(
        "unknown placeholder {{{name}}}; use {{user}}, {{username}}, {{gift}}, {{count}}, {{coins}}, {{comment}}, {{args}}, {{likes}}, {{viewers}}, {{player}} or {{random:a|b}}"
    )]
    UnknownPlaceholder { name: String },
    #[error("{{random:...}} needs at least two choices separated by |")]
    RandomNeedsChoices,
    #[error(
        "the {{random:...}} choice {choice:?} may not contain quotes, braces, brackets or backslashes"
    )]
    RandomChoiceUnsafe { choice: String },
    #[error("a string opened with {quote} is never closed")]
    UnclosedQuote { quote: char },
    #[error(
        "{{{placeholder}}} sits in the value of \"{key}\", which Minecraft runs or looks up; viewer text is not allowed there"
    )]
    InterpretedKey { placeholder: String, key: String },
}

#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum RenderError {
    #[error("this event has no {{{0}}} value")]
    Missing(&'static str),
    #[error(
        "the command is {len} bytes without any viewer text; Minecraft RCON accepts at most {MAX_COMMAND_BYTES}"
    )]
    TooLong { len: usize },
}

#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum PreviewError {
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error(transparent)]
    Render(#[from] RenderError),
}

#[derive(Clone, Debug)]
struct How {
    kind: SlotKind,
    shape: Shape,
    layers: Vec<char>,
    /// A text value placed bare inside JSON/SNBT structure gets its own `"..."`.
    auto_quote: bool,
}

#[derive(Clone, Debug)]
enum Piece {
    Lit(String),
    Random(Vec<String>),
    Value { field: Field, how: How },
}

/// A parsed template, ready to render many times.
#[derive(Clone, Debug)]
pub struct Template {
    source: String,
    pieces: Vec<Piece>,
}

/// One rendered command, exactly as it would be sent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Rendered {
    pub command: String,
    /// Some viewer text was cut to fit a field's or the command's length limit.
    pub truncated: bool,
}

/// What the UI's live preview shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Preview {
    pub command: String,
    pub bytes: usize,
    pub truncated: bool,
    /// Each placeholder, in template order, with the kind of slot it was found in.
    pub slots: Vec<(Field, SlotKind)>,
}

enum Placeholder {
    Field(Field),
    Random(Vec<String>),
}

/// What `{player}` stands for when the profile does not say: the player nearest to where the
/// command runs (with one player online, the streamer).
pub const DEFAULT_PLAYER: &str = "@p";

/// True for what the streamer may set as `{player}`: a Minecraft name (3–16 letters, digits or
/// `_`) or a target selector (`@p`, `@a[tag=streamer]`). Checked when the profile loads, since
/// the value goes into commands unescaped.
pub fn is_valid_player(s: &str) -> bool {
    let name =
        (3..=16).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    name || is_selector(s)
}

fn is_selector(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 2 || b[0] != b'@' || !b"parsen".contains(&b[1]) || s.len() > 128 {
        return false;
    }
    let rest = &s[2..];
    if rest.is_empty() {
        return true;
    }
    // Arguments such as `[tag=streamer,limit=1,sort=nearest]`; no quotes, braces or spaces,
    // which could end the selector and start another argument of the command.
    let Some(args) = rest.strip_prefix('[').and_then(|r| r.strip_suffix(']')) else {
        return false;
    };
    !args.is_empty()
        && args
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || b"_=,.!~:+-#".contains(&c))
}

impl Template {
    /// Parses with `{player}` = [`DEFAULT_PLAYER`].
    pub fn parse(source: &str) -> Result<Template, TemplateError> {
        Self::parse_for(source, DEFAULT_PLAYER)
    }

    /// Parses with `{player}` = `player` (the profile's setting, see [`is_valid_player`]).
    pub fn parse_for(source: &str, player: &str) -> Result<Template, TemplateError> {
        if source.trim().is_empty() {
            return Err(TemplateError::Empty);
        }
        if let Some(at) = source.chars().position(char::is_control) {
            return Err(TemplateError::ControlChar { at });
        }
        let (toks, placeholders) = lex(source, player)?;
        let mut slots: Vec<Option<Slot>> = vec![None; placeholders.len()];
        context::scan(&toks, &[], false, None, &mut slots)?;

        let mut pieces = Vec::new();
        let mut lit = String::new();
        for tok in &toks {
            let id = match *tok {
                Tok::Ch(c) => {
                    lit.push(c);
                    continue;
                }
                Tok::Slot(id) => id,
            };
            let slot = slots[id].clone().unwrap_or(Slot {
                layers: Vec::new(),
                in_structure: false,
                key: None,
                json: false,
                quoted_here: false,
            });
            let piece = match &placeholders[id] {
                Placeholder::Random(choices) => Piece::Random(choices.clone()),
                Placeholder::Field(field) => {
                    let interpreted = slot
                        .key
                        .as_deref()
                        .filter(|k| field.is_text() && context::is_interpreted_key(k));
                    if let Some(key) = interpreted {
                        return Err(TemplateError::InterpretedKey {
                            placeholder: field.name().to_owned(),
                            key: key.to_owned(),
                        });
                    }
                    Piece::Value {
                        field: *field,
                        how: how_for(&slot, &lit, &pieces),
                    }
                }
            };
            if !lit.is_empty() {
                pieces.push(Piece::Lit(std::mem::take(&mut lit)));
            }
            pieces.push(piece);
        }
        if !lit.is_empty() {
            pieces.push(Piece::Lit(lit));
        }
        Ok(Template {
            source: source.to_owned(),
            pieces,
        })
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    /// Each field placeholder in template order with the kind of slot it sits in.
    pub fn slots(&self) -> Vec<(Field, SlotKind)> {
        self.pieces
            .iter()
            .filter_map(|p| match p {
                Piece::Value { field, how } => Some((*field, how.kind)),
                _ => None,
            })
            .collect()
    }

    /// Renders the command for `event`. `rng` picks `{random:...}` choices.
    pub fn render(
        &self,
        event: &TemplateEvent,
        rng: &mut fastrand::Rng,
    ) -> Result<Rendered, RenderError> {
        enum Part<'t> {
            Fixed(std::borrow::Cow<'t, str>),
            Text { chars: Vec<char>, how: &'t How },
        }
        let mut truncated = false;
        let mut parts = Vec::with_capacity(self.pieces.len());
        for piece in &self.pieces {
            match piece {
                Piece::Lit(s) => parts.push(Part::Fixed(s.as_str().into())),
                Piece::Random(choices) => {
                    let pick = &choices[rng.usize(..choices.len())];
                    parts.push(Part::Fixed(pick.as_str().into()));
                }
                Piece::Value { field, how } => match event.get(*field) {
                    None => return Err(RenderError::Missing(field.name())),
                    Some(Value::Number(n)) => parts.push(Part::Fixed(n.to_string().into())),
                    Some(Value::Text(raw)) => {
                        let mut chars = Vec::new();
                        escape::sanitize(raw, how.shape, &mut chars);
                        if chars.len() > field.max_chars() {
                            chars.truncate(field.max_chars());
                            trim_dangling_joiner(&mut chars, how.shape);
                            truncated = true;
                        }
                        parts.push(Part::Text { chars, how });
                    }
                },
            }
        }

        // Bytes that do not depend on viewer text: literals, numbers, auto-quotes, and the one
        // `_` a bare argument keeps when its value is cut to nothing.
        let mut fixed = 0usize;
        let mut costs: Vec<(usize, usize)> = Vec::new(); // (part index, escaped bytes)
        for (i, part) in parts.iter().enumerate() {
            match part {
                Part::Fixed(s) => fixed += s.len(),
                Part::Text { chars, how } => {
                    if how.auto_quote {
                        fixed += 2 * escape::escaped_len('"', &how.layers);
                    }
                    if how.shape == Shape::Token {
                        fixed += 1;
                    }
                    let cost: usize = chars
                        .iter()
                        .map(|&c| escape::escaped_len(c, &how.layers))
                        .sum();
                    costs.push((i, cost));
                }
            }
        }
        if fixed > MAX_COMMAND_BYTES {
            return Err(RenderError::TooLong { len: fixed });
        }
        let budget = MAX_COMMAND_BYTES - fixed;
        let token_bonus = |how: &How| usize::from(how.shape == Shape::Token);
        let total: usize = costs.iter().map(|&(_, c)| c).sum();
        let mut allowance = vec![usize::MAX; parts.len()];
        if total > budget {
            // Water-filling: short values keep all of their text, the longest ones share what
            // is left equally, so one 1,600-char comment cannot erase a 10-char name.
            truncated = true;
            costs.sort_by_key(|&(_, c)| c);
            let mut remaining = budget;
            let n = costs.len();
            for (k, &(i, cost)) in costs.iter().enumerate() {
                let share = remaining / (n - k);
                let Part::Text { chars, how } = &parts[i] else {
                    continue;
                };
                let bonus = token_bonus(how);
                let allowed = cost.min(share) + bonus;
                let used = fit(chars, &how.layers, allowed);
                allowance[i] = allowed;
                remaining -= used.saturating_sub(bonus).min(remaining);
            }
        }

        let mut command = String::with_capacity(fixed + total.min(budget));
        for (i, part) in parts.iter_mut().enumerate() {
            match part {
                Part::Fixed(s) => command.push_str(s),
                Part::Text { chars, how } => {
                    if allowance[i] != usize::MAX {
                        let mut used = 0;
                        let keep = chars
                            .iter()
                            .take_while(|&&c| {
                                used += escape::escaped_len(c, &how.layers);
                                used <= allowance[i]
                            })
                            .count();
                        chars.truncate(keep);
                        trim_dangling_joiner(chars, how.shape);
                        if chars.is_empty() && how.shape == Shape::Token {
                            chars.push('_');
                        }
                    }
                    if how.auto_quote {
                        escape::push_escaped(
                            &mut command,
                            '"',
                            &how.layers[..how.layers.len() - 1],
                        );
                    }
                    for &c in chars.iter() {
                        escape::push_escaped(&mut command, c, &how.layers);
                    }
                    if how.auto_quote {
                        escape::push_escaped(
                            &mut command,
                            '"',
                            &how.layers[..how.layers.len() - 1],
                        );
                    }
                }
            }
        }
        debug_assert!(command.len() <= MAX_COMMAND_BYTES, "{}", command.len());
        Ok(Rendered { command, truncated })
    }
}

/// Bytes that the longest char-boundary prefix of `chars` within `allowed` bytes takes.
fn fit(chars: &[char], layers: &[char], allowed: usize) -> usize {
    let mut used = 0;
    for &c in chars {
        let n = escape::escaped_len(c, layers);
        if used + n > allowed {
            break;
        }
        used += n;
    }
    used
}

/// A cut can leave a zero-width joiner with nothing to join, or a `$` that a `{` after the
/// value would turn into a log4j lookup; dropping them never makes the value longer.
fn trim_dangling_joiner(chars: &mut Vec<char>, shape: Shape) {
    while matches!(chars.last(), Some('\u{200D}' | '$')) {
        chars.pop();
    }
    if shape == Shape::Token && chars.is_empty() {
        chars.push('_');
    }
}

/// Decides the escaping for a placeholder. `lit` and `pieces` are the template text before it,
/// used to spot the free-text tail of chat commands.
fn how_for(slot: &Slot, lit: &str, pieces: &[Piece]) -> How {
    if slot.layers.is_empty() && !slot.in_structure {
        let kind = if in_message_tail(pieces, lit) {
            SlotKind::Message
        } else {
            SlotKind::Argument
        };
        let shape = if kind == SlotKind::Message {
            Shape::Text
        } else {
            Shape::Token
        };
        return How {
            kind,
            shape,
            layers: Vec::new(),
            auto_quote: false,
        };
    }
    let bare = slot.in_structure && !slot.quoted_here;
    let mut layers = slot.layers.clone();
    if bare {
        layers.push('"');
    }
    How {
        kind: if slot.json {
            SlotKind::JsonText
        } else {
            SlotKind::QuotedString
        },
        shape: Shape::Text,
        layers,
        auto_quote: bare,
    }
}

/// True when the placeholder falls in the greedy message of `say`/`me`/`msg`/..., where
/// brigadier takes the rest of the line verbatim (so spaces are harmless).
fn in_message_tail(pieces: &[Piece], lit: &str) -> bool {
    let mut before = String::new();
    for p in pieces {
        match p {
            Piece::Lit(s) => before.push_str(s),
            _ => before.push('x'),
        }
    }
    before.push_str(lit);
    let words: Vec<&str> = before.split_whitespace().collect();
    let starts_new_word = before.ends_with(char::is_whitespace) || before.is_empty();
    let mut start = 0;
    if words
        .first()
        .is_some_and(|w| w.trim_start_matches('/') == "execute")
    {
        match words.iter().rposition(|w| *w == "run") {
            Some(r) => start = r + 1,
            None => return false,
        }
    }
    let Some(cmd) = words.get(start) else {
        return false;
    };
    let fixed_args = match cmd.trim_start_matches('/') {
        "say" | "me" | "teammsg" | "tm" => 0,
        "msg" | "tell" | "w" => 1,
        _ => return false,
    };
    // Index of the argument the placeholder starts or continues.
    let args_before = words.len() - start - 1;
    let arg_index = if starts_new_word {
        args_before
    } else {
        args_before.saturating_sub(1)
    };
    arg_index >= fixed_args
}

/// Splits `source` into literal chars and placeholder slots.
fn lex(source: &str, player: &str) -> Result<(Vec<Tok>, Vec<Placeholder>), TemplateError> {
    let chars: Vec<char> = source.chars().collect();
    let mut toks = Vec::with_capacity(chars.len());
    let mut placeholders = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '{' {
            if let Some(close) = chars[i + 1..].iter().position(|&c| c == '}') {
                let inner: String = chars[i + 1..i + 1 + close].iter().collect();
                if let Some(spec) = inner.strip_prefix("random:") {
                    let choices: Vec<String> = spec.split('|').map(str::to_owned).collect();
                    if choices.len() < 2 {
                        return Err(TemplateError::RandomNeedsChoices);
                    }
                    if let Some(bad) = choices
                        .iter()
                        .find(|c| c.contains(['"', '\'', '\\', '{', '}', '[', ']']))
                    {
                        return Err(TemplateError::RandomChoiceUnsafe {
                            choice: bad.clone(),
                        });
                    }
                    toks.push(Tok::Slot(placeholders.len()));
                    placeholders.push(Placeholder::Random(choices));
                    i += close + 2;
                    continue;
                }
                let is_ident = inner
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                    && inner.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
                if inner == "player" {
                    // The streamer's own setting: literal text, scanned like the rest.
                    toks.extend(player.chars().map(Tok::Ch));
                    i += close + 2;
                    continue;
                }
                if is_ident {
                    let field = Field::from_name(&inner)
                        .ok_or(TemplateError::UnknownPlaceholder { name: inner })?;
                    toks.push(Tok::Slot(placeholders.len()));
                    placeholders.push(Placeholder::Field(field));
                    i += close + 2;
                    continue;
                }
            }
        }
        toks.push(Tok::Ch(chars[i]));
        i += 1;
    }
    Ok((toks, placeholders))
}

/// The live preview: `source` rendered for `sample`, or why it cannot be. `seed` makes
/// `{random:...}` stable while the user types.
pub fn preview(source: &str, sample: &TemplateEvent, seed: u64) -> Result<Preview, PreviewError> {
    preview_for(source, sample, seed, DEFAULT_PLAYER)
}

/// [`preview`] with the profile's `{player}`.
pub fn preview_for(
    source: &str,
    sample: &TemplateEvent,
    seed: u64,
    player: &str,
) -> Result<Preview, PreviewError> {
    let template = Template::parse_for(source, player)?;
    let rendered = template.render(sample, &mut fastrand::Rng::with_seed(seed))?;
    Ok(Preview {
        bytes: rendered.command.len(),
        command: rendered.command,
        truncated: rendered.truncated,
        slots: template.slots(),
    })
}

#[cfg(test)]
mod tests;
