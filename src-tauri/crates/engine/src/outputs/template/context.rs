//! Finding, from the template alone, what kind of slot each placeholder sits in.
//!
//! The scanner reads the template the way Minecraft's parsers would: brigadier arguments at the
//! top level, then JSON text components and SNBT inside `{...}`/`[...]`, with quoted strings
//! that may themselves hold JSON (`CustomName:'{"text":"..."}'`). A quoted string whose
//! content starts with `{` or `[` is unescaped and scanned again one layer deeper, so a value
//! in the inner JSON string gets escaped for both layers.

use super::TemplateError;

/// A template after placeholder lexing: literal chars and placeholder slots.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Tok {
    Ch(char),
    Slot(usize),
}

/// Where one placeholder sits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Slot {
    /// Enclosing quote chars, outermost first. Empty means not inside any string.
    pub layers: Vec<char>,
    /// Inside `{...}` or `[...]` (JSON, SNBT or a selector's argument list) at the innermost
    /// level.
    pub in_structure: bool,
    /// The JSON/SNBT key whose value holds the slot, if any.
    pub key: Option<String>,
    /// Innermost string (or bare structure value) is itself JSON/SNBT, i.e. a text component.
    pub json: bool,
    /// Inside a string opened at the innermost level; false for a bare value such as
    /// `{"text":{user}}`, which then needs quotes of its own.
    pub quoted_here: bool,
}

/// Keys whose string value Minecraft runs, resolves or looks up rather than shows: viewer text
/// there could run a command on click, name a selector, read NBT, or pick a translation.
const INTERPRETED_KEYS: &[&str] = &[
    "value",
    "command",
    "url",
    "selector",
    "nbt",
    "block",
    "entity",
    "storage",
    "keybind",
    "translate",
    "action",
    "id",
    "name",
    "objective",
    "source",
    "type",
    // Command blocks and minecarts run their `Command` NBT string.
    "Command",
];

pub(crate) fn is_interpreted_key(key: &str) -> bool {
    // Case matters: JSON's `name` (a score holder) is interpreted, SNBT's `Name` (an item's
    // display name) is shown.
    INTERPRETED_KEYS.contains(&key)
}

/// A quote opens a string only where an argument or a value starts; the apostrophe in
/// `say don't` is text.
fn opens_string(prev: Option<Tok>) -> bool {
    match prev {
        None => true,
        Some(Tok::Ch(c)) => c.is_whitespace() || matches!(c, '{' | '[' | ':' | ',' | '='),
        Some(Tok::Slot(_)) => false,
    }
}

struct Level {
    is_array: bool,
    /// Key the array (or object) itself is the value of.
    outer_key: Option<String>,
}

/// Records the [`Slot`] of every placeholder in `toks` into `out`.
pub(crate) fn scan(
    toks: &[Tok],
    layers: &[char],
    json: bool,
    inherited_key: Option<&str>,
    out: &mut [Option<Slot>],
) -> Result<(), TemplateError> {
    let mut stack: Vec<Level> = Vec::new();
    let mut key: Option<String> = inherited_key.map(str::to_owned);
    let mut last_token = String::new();
    let mut prev: Option<Tok> = None;
    let mut i = 0;
    while i < toks.len() {
        let tok = toks[i];
        match tok {
            Tok::Slot(id) => {
                out[id] = Some(Slot {
                    layers: layers.to_vec(),
                    in_structure: !stack.is_empty(),
                    key: if stack.is_empty() { None } else { key.clone() },
                    json: json || !stack.is_empty(),
                    quoted_here: false,
                });
                last_token.clear();
            }
            Tok::Ch(q @ ('"' | '\'')) if opens_string(prev) => {
                let (inner, end) = quoted(toks, i, q)?;
                let mut inner_layers = layers.to_vec();
                inner_layers.push(q);
                let here_key = if stack.is_empty() {
                    inherited_key.map(str::to_owned)
                } else {
                    key.clone()
                };
                // JSON inside the string: an object, an array, or a JSON *string* (the
                // pre-1.21.5 `CustomName:'"text"'` form). Each needs the JSON layer of
                // escaping under the string's own, or a viewer's `\` and `"` survive into
                // the JSON (a `\u00a7` code, a break-out).
                let starts_structured = matches!(
                    inner
                        .iter()
                        .find(|t| !matches!(t, Tok::Ch(c) if c.is_whitespace())),
                    Some(Tok::Ch('{' | '[' | '"'))
                );
                if starts_structured {
                    scan(&inner, &inner_layers, true, here_key.as_deref(), out)?;
                } else {
                    for t in &inner {
                        if let Tok::Slot(id) = *t {
                            out[id] = Some(Slot {
                                layers: inner_layers.clone(),
                                in_structure: !stack.is_empty(),
                                key: here_key.clone(),
                                json: json || !stack.is_empty(),
                                quoted_here: true,
                            });
                        }
                    }
                }
                last_token = inner
                    .iter()
                    .filter_map(|t| match t {
                        Tok::Ch(c) => Some(*c),
                        Tok::Slot(_) => None,
                    })
                    .collect();
                prev = Some(Tok::Ch(q));
                i = end + 1;
                continue;
            }
            Tok::Ch(c @ ('{' | '[')) => {
                let is_array = c == '[';
                stack.push(Level {
                    is_array,
                    outer_key: key.clone(),
                });
                if !is_array {
                    key = None;
                }
                last_token.clear();
            }
            Tok::Ch('}' | ']') => {
                if let Some(level) = stack.pop() {
                    key = level.outer_key;
                }
                last_token.clear();
            }
            Tok::Ch(':') if !stack.is_empty() => {
                key = Some(std::mem::take(&mut last_token));
            }
            Tok::Ch(',') if !stack.is_empty() => {
                key = match stack.last() {
                    Some(Level {
                        is_array: true,
                        outer_key,
                    }) => outer_key.clone(),
                    _ => None,
                };
                last_token.clear();
            }
            Tok::Ch(c) if c.is_alphanumeric() || c == '_' => {
                if !matches!(prev, Some(Tok::Ch(p)) if p.is_alphanumeric() || p == '_') {
                    last_token.clear();
                }
                last_token.push(c);
            }
            Tok::Ch(c) if c.is_whitespace() => {}
            Tok::Ch(_) => last_token.clear(),
        }
        prev = Some(tok);
        i += 1;
    }
    Ok(())
}

/// Content of the string opened by the quote at `start` (backslash escapes removed) and the
/// index of its closing quote.
fn quoted(toks: &[Tok], start: usize, q: char) -> Result<(Vec<Tok>, usize), TemplateError> {
    let mut inner = Vec::new();
    let mut j = start + 1;
    while j < toks.len() {
        match toks[j] {
            Tok::Ch('\\') => {
                if let Some(&next) = toks.get(j + 1) {
                    inner.push(next);
                }
                j += 2;
            }
            Tok::Ch(c) if c == q => return Ok((inner, j)),
            t => {
                inner.push(t);
                j += 1;
            }
        }
    }
    Err(TemplateError::UnclosedQuote { quote: q })
}
