//! A template (realistic pieces or free text) and hostile viewer values → render. Beyond "no
//! panic", checks what docs/outputs.md promises, by comparing the hostile render with the
//! same template rendered with empty and with plain values (same numbers, same random seed):
//! - the command fits in MAX_COMMAND_BYTES and has no control character;
//! - viewer text adds no `@`, `§`, line/paragraph separator, bidi control or `${`;
//! - viewer text cannot make a render fail;
//! - outside message tails, the command keeps its structure: the same quoted strings,
//!   brackets, separators and words at the top level.
#![no_main]

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use livetrigger_engine::outputs::template::{SlotKind, Template, TemplateEvent};
use livetrigger_engine::outputs::MAX_COMMAND_BYTES;

/// Template pieces seen in real profiles (the starter, docs/outputs.md).
const TEMPLATE_BITS: &[&str] = &[
    "execute at {player} run summon minecraft:creeper ~ ~ ~",
    "tellraw @a [\"\",{\"text\":\"{user}\",\"color\":\"gold\"},{\"text\":\" followed!\"}]",
    "time add {count}000",
    "give {username} minecraft:diamond {count}",
    "say {user} sent {count}x {gift}!",
    "msg {username} thanks {user}: {comment}",
    "summon zombie ~ ~ ~ {CustomName:'{\"text\":\"{user}\"}',CustomNameVisible:1b}",
    "scoreboard players add \"{user}\" gifts {coins}",
    "title @a title {\"text\":\"{gift}\",\"bold\":true}",
    "execute as @a run say {comment}",
    "tag @s add '{username}'",
    "{random:tnt|creeper|zombie}",
    "{user}",
    "{username}",
    "{gift}",
    "{comment}",
    "{args}",
    "{count}",
    "{coins}",
    "{likes}",
    "{viewers}",
    "{player}",
    " ",
    "\"",
    "'",
    "\\",
    "{",
    "}",
    "[",
    "]",
    ":",
    ",",
    "=",
    "$",
    "@a",
    "§",
    "~",
    "{\"text\":",
    "CustomName:",
    "\"text\":\"",
    "give ",
    "say ",
    "me ",
    "tellraw @a ",
    "execute run ",
    "tell ",
    "teammsg ",
    "data merge entity @s ",
    "{Name:",
];

/// Viewer text that has broken chat bots and command templates.
const HOSTILE_BITS: &[&str] = &[
    "\n",
    "\r\n",
    "\t",
    "\0",
    "\"",
    "'",
    "\\",
    "§4",
    "§",
    "@a",
    "@e[type=!player]",
    "@",
    "${jndi:ldap://127.0.0.1/a}",
    "$",
    "{",
    "}",
    "[",
    "]",
    ":",
    ",",
    " ",
    ";",
    "/",
    "\u{202E}",
    "\u{200B}",
    "\u{200D}",
    "\u{FEFF}",
    "\u{2028}",
    "\u{2029}",
    "\u{85}",
    "\u{1b}[31m",
    "😀",
    "👨\u{200D}👩",
    "漢",
    "é",
    "\u{FF20}",
    "\"},{\"text\":\"",
    "'}'{\"selector\":\"@a\"}",
    "; kill @e",
    "run kill @a",
    "%s",
    "\\u00a7",
    "\\n",
    "Anna K",
    "x",
];

#[derive(Arbitrary, Debug)]
enum Text {
    Raw(String),
    Bits(Vec<u8>),
    Long { bit: u8, times: u16 },
}

impl Text {
    fn build(&self, bits: &[&str]) -> String {
        match self {
            Text::Raw(s) => s.clone(),
            Text::Bits(ix) => ix.iter().map(|&i| bits[i as usize % bits.len()]).collect(),
            Text::Long { bit, times } => {
                bits[*bit as usize % bits.len()].repeat(*times as usize % 400)
            }
        }
    }
}

#[derive(Arbitrary, Debug)]
struct Input {
    template: Text,
    player: u8,
    user: Text,
    username: Text,
    gift: Option<Text>,
    comment: Option<Text>,
    count: Option<u64>,
    coins: Option<u64>,
    likes: Option<u64>,
    viewers: Option<u64>,
    seed: u64,
}

const PLAYERS: &[&str] = &["@p", "Steve_123", "@a[tag=streamer,limit=1]", "@s"];

fn with_text(base: &TemplateEvent, f: impl Fn(&str) -> String) -> TemplateEvent {
    TemplateEvent {
        user: f(&base.user),
        username: f(&base.username),
        gift: base.gift.as_deref().map(&f),
        comment: base.comment.as_deref().map(&f),
        ..base.clone()
    }
}

fn count_where(s: &str, p: impl Fn(char) -> bool) -> usize {
    s.chars().filter(|&c| p(c)).count()
}

fn is_bidi_or_invisible(c: char) -> bool {
    matches!(c, '\u{200B}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

/// The command's top-level shape: quoted strings as `S` (`U` if never closed), structure
/// chars as themselves, each whitespace run as one space; words are left out (their content
/// is the values' business). Quotes open a string where the template scanner opens one (start
/// of an argument or value); a quote left over as a char means a template Minecraft would not
/// parse either (a value glued to a string), whose shape is not judged.
fn skeleton(cmd: &str) -> String {
    let chars: Vec<char> = cmd.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let prev = i.checked_sub(1).map(|j| chars[j]);
        let opens = prev.is_none_or(|p| p.is_whitespace() || "{[:,=".contains(p));
        if (c == '"' || c == '\'') && opens {
            let mut j = i + 1;
            while j < chars.len() && chars[j] != c {
                j += if chars[j] == '\\' { 2 } else { 1 };
            }
            out.push(if j < chars.len() { 'S' } else { 'U' });
            i = j + 1;
            continue;
        }
        if c.is_whitespace() {
            if !prev.is_some_and(char::is_whitespace) {
                out.push(' ');
            }
        } else if "{}[]:,=\"'".contains(c) {
            out.push(c);
        }
        i += 1;
    }
    out
}

fuzz_target!(|input: Input| {
    let source = input.template.build(TEMPLATE_BITS);
    // A template is the streamer's own text and fits in one command; longer ones only slow
    // the search down (viewer values stay unbounded).
    if source.len() > 2 * MAX_COMMAND_BYTES {
        return;
    }
    let player = PLAYERS[input.player as usize % PLAYERS.len()];
    let Ok(template) = Template::parse_for(&source, player) else {
        return;
    };
    let hostile = TemplateEvent {
        user: input.user.build(HOSTILE_BITS),
        username: input.username.build(HOSTILE_BITS),
        gift: input.gift.as_ref().map(|t| t.build(HOSTILE_BITS)),
        comment: input.comment.as_ref().map(|t| t.build(HOSTILE_BITS)),
        count: input.count,
        coins: input.coins,
        likes: input.likes,
        viewers: input.viewers,
    };
    let empty = with_text(&hostile, |_| String::new());
    let plain = with_text(&hostile, |_| "x".to_owned());
    let render = |e: &TemplateEvent| {
        template.render(
            e,
            &mut livetrigger_engine::outputs::template::Rng::with_seed(input.seed),
        )
    };
    let (h, e, p) = (render(&hostile), render(&empty), render(&plain));
    let (h, e, p) = match (h, e, p) {
        (Ok(h), Ok(e), Ok(p)) => (h.command, e.command, p.command),
        (Err(a), Err(b), Err(c)) => {
            assert!(a == b && b == c, "errors differ: {a:?} {b:?} {c:?}");
            return;
        }
        other => panic!("viewer text changed whether the template renders: {other:?}"),
    };
    assert_eq!(
        render(&hostile).unwrap().command,
        h,
        "same seed, different command"
    );

    assert!(h.len() <= MAX_COMMAND_BYTES, "{} bytes: {h:?}", h.len());
    assert!(!h.contains(char::is_control), "control char in {h:?}");
    for (what, class) in [
        ("@", &(|c: char| c == '@') as &dyn Fn(char) -> bool),
        ("§", &|c: char| c == '§'),
        ("line separator", &|c: char| {
            matches!(c, '\u{2028}' | '\u{2029}' | '\u{85}')
        }),
        ("bidi/invisible", &is_bidi_or_invisible),
    ] {
        assert_eq!(
            count_where(&h, class),
            count_where(&e, class),
            "viewer text added {what}: {h:?} (template alone: {e:?})"
        );
    }
    assert!(
        h.matches("${").count() <= e.matches("${").count(),
        "viewer text formed ${{: {h:?} (template alone: {e:?})"
    );

    let has_message = template
        .slots()
        .iter()
        .any(|(_, k)| *k == SlotKind::Message);
    let shape = skeleton(&p);
    let well_formed = !shape.contains(['U', '"', '\'']) && skeleton(&e) == shape;
    if !has_message && well_formed {
        assert_eq!(
            skeleton(&h),
            shape,
            "structure changed: {h:?} vs plain {p:?}"
        );
    }
});
