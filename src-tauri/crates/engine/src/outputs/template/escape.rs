//! Turning one viewer-supplied value into text that is inert in its slot of a command.
//!
//! Two steps, always in this order: `sanitize` removes what is dangerous in *every* context
//! (line breaks, NUL and other controls, `§` formatting codes, selector `@`, invisible bidi
//! tricks, log4j-style `${`, also across the value's end), then `escape_char` adds
//! backslashes for each enclosing quote layer. Cutting to length happens between the two, so an escape sequence is never split.

/// Characters dropped everywhere: they are invisible and only serve to spoof what a chat line
/// looks like (bidi overrides, zero-width space, BOM, soft hyphen). ZWJ (U+200D) and ZWNJ
/// (U+200C) stay because emoji sequences and several scripts need them.
fn is_invisible_spoof(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{061C}' | '\u{180E}' | '\u{200B}' | '\u{200E}' | '\u{200F}'
        | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{206F}'
        | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}')
}

/// How a sanitized value may look in its slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Shape {
    /// One bare command argument: only letters, digits, `_`, `-`, `.`; anything else becomes
    /// `_`, so a value can never add an argument, a selector, or coordinates.
    Token,
    /// Free text (a greedy `say` message or a quoted string): spaces allowed.
    Text,
}

/// Appends the sanitized form of `value` to `out`, as chars (for later length budgeting).
pub(crate) fn sanitize(value: &str, shape: Shape, out: &mut Vec<char>) {
    let start = out.len();
    for c in value.chars() {
        // Judged on the output so far, not the input: a dropped char between `$` and `{`
        // must not let the pair form. A leading `{` could pair with a `$` in the template.
        let after_dollar = out.len() == start || out.last() == Some(&'$');
        let mapped = match c {
            // A line break would end the command; vanilla runs only the first line, other
            // servers and proxies may run both.
            '\n' | '\r' | '\t' | '\u{0085}' | '\u{2028}' | '\u{2029}' => Some(' '),
            c if c.is_control() => None,
            '§' => None,
            c if is_invisible_spoof(c) => None,
            // Fullwidth look-alikes keep the text readable in chat while the command parser
            // sees no selector and no `${` lookup (servers before 1.18.1 log RCON commands
            // through a log4j that expands `${jndi:...}`).
            '@' => Some('\u{FF20}'),
            '{' if after_dollar => Some('\u{FF5B}'),
            c => Some(c),
        };
        let Some(m) = mapped else { continue };
        let m = match shape {
            Shape::Text => m,
            Shape::Token if m.is_alphanumeric() || matches!(m, '_' | '-' | '.') => m,
            Shape::Token => '_',
        };
        out.push(m);
    }
    if out.len() > start && out.last() == Some(&'$') {
        // What follows the value is not known here: a template `{` right after it would
        // complete a `${` the viewer started.
        *out.last_mut().expect("not empty") = '\u{FF04}';
    }
    if shape == Shape::Token && out.len() == start {
        // An empty bare argument would shift every argument after it.
        out.push('_');
    }
}

/// Bytes `c` takes once escaped for `layers` (quote chars, outermost first).
pub(crate) fn escaped_len(c: char, layers: &[char]) -> usize {
    // Each layer, innermost first, doubles the backslashes already in front of `c` and adds
    // one more if `c` is a backslash or that layer's quote.
    let mut backslashes = 0usize;
    for &q in layers.iter().rev() {
        backslashes = 2 * backslashes + usize::from(c == '\\' || c == q);
    }
    c.len_utf8() + backslashes
}

/// Appends `c` escaped for `layers` (quote chars, outermost first).
pub(crate) fn push_escaped(out: &mut String, c: char, layers: &[char]) {
    if c != '\\' && !layers.contains(&c) {
        out.push(c);
        return;
    }
    let mut s = c.to_string();
    for &q in layers.iter().rev() {
        let mut next = String::with_capacity(s.len() * 2);
        for ch in s.chars() {
            if ch == '\\' || ch == q {
                next.push('\\');
            }
            next.push(ch);
        }
        s = next;
    }
    out.push_str(&s);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn esc(c: char, layers: &[char]) -> String {
        let mut s = String::new();
        push_escaped(&mut s, c, layers);
        s
    }

    #[test]
    fn escaped_len_matches_push_escaped_for_every_layering() {
        let layer_sets: &[&[char]] = &[
            &[],
            &['"'],
            &['\''],
            &['"', '"'],
            &['\'', '"'],
            &['"', '\''],
            &['"', '\'', '"'],
        ];
        for layers in layer_sets {
            for c in ['a', '"', '\'', '\\', 'é', '😀'] {
                assert_eq!(
                    escaped_len(c, layers),
                    esc(c, layers).len(),
                    "{c:?} in {layers:?}"
                );
            }
        }
    }

    #[test]
    fn nested_layers_escape_inner_first() {
        // A `"` inside a JSON string that sits in an SNBT '...' string: JSON needs \" and the
        // outer single-quoted layer then escapes that backslash.
        assert_eq!(esc('"', &['\'', '"']), r#"\\""#);
        assert_eq!(esc('\'', &['\'', '"']), r"\'");
        assert_eq!(esc('\\', &['"']), r"\\");
    }

    #[test]
    fn token_shape_keeps_only_argument_safe_chars() {
        let mut out = Vec::new();
        sanitize("a b@c;d\n§4x", Shape::Token, &mut out);
        assert_eq!(out.iter().collect::<String>(), "a_b_c_d_4x");
        out.clear();
        sanitize("\u{202E}\0", Shape::Token, &mut out);
        assert_eq!(out.iter().collect::<String>(), "_");
    }
}
