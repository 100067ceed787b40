//! Hostile viewer text against every kind of slot. Each check reads the rendered command back
//! the way Minecraft would (brigadier arguments, quoted strings, JSON, SNBT-in-JSON) and
//! asserts the command still has the template's structure with the viewer text only as text.

use livetrigger_engine::outputs::template::{SlotKind, Template, TemplateEvent};
use livetrigger_engine::outputs::MAX_COMMAND_BYTES;
use proptest::prelude::*;

fn hostile() -> Vec<String> {
    vec![
        r#"Bob"s"#.into(),
        r"back\slash\".into(),
        "two\nlines".into(),
        "\r\n/op @a".into(),
        "§4§lRED".into(),
        "@a".into(),
        "@e[type=!player]".into(),
        r#""},{"text":""#.into(),
        r#"'}'{"selector":"@a"}"#.into(),
        "nul\0byte".into(),
        "\u{202E}desrever".into(),
        "zero\u{200B}width\u{FEFF}".into(),
        "family 👨\u{200D}👩\u{200D}👧".into(),
        "W".repeat(1600),
        "漢".repeat(500),
        "${jndi:ldap://127.0.0.1/a}".into(),
        "; kill @e".into(),
        "a\u{2028}b\u{0085}c".into(),
        String::new(),
    ]
}

fn event(text: &str) -> TemplateEvent {
    TemplateEvent {
        user: text.into(),
        username: text.into(),
        gift: Some(text.into()),
        count: Some(3),
        coins: Some(1),
        comment: Some(text.into()),
        likes: Some(1),
        viewers: Some(1),
    }
}

fn render(src: &str, text: &str) -> String {
    let t = Template::parse(src).unwrap();
    let r = t
        .render(&event(text), &mut fastrand::Rng::with_seed(0))
        .unwrap();
    assert!(
        r.command.len() <= MAX_COMMAND_BYTES,
        "{} bytes",
        r.command.len()
    );
    r.command
}

/// What must never appear in viewer text once rendered, whatever the slot.
fn assert_inert(value: &str, raw: &str) {
    for bad in [
        '\n', '\r', '\0', '§', '@', '\u{202E}', '\u{200B}', '\u{2028}', '\u{85}',
    ] {
        assert!(
            !value.contains(bad),
            "{bad:?} survived in {value:?} (from {raw:?})"
        );
    }
    assert!(!value.contains("${"), "log4j lookup survived in {value:?}");
}

/// Reads a brigadier/SNBT quoted string starting at `s[0]` (the quote). Returns the unescaped
/// content and the rest after the closing quote, or panics if the string is malformed, just
/// as Minecraft's `StringReader::readQuotedString` would reject it.
fn read_quoted(s: &str) -> (String, &str) {
    let mut it = s.char_indices();
    let (_, q) = it.next().unwrap();
    assert!(q == '"' || q == '\'', "expected a quote at {s:?}");
    let mut out = String::new();
    let mut escaped = false;
    for (i, c) in it {
        if escaped {
            assert!(c == '\\' || c == q, "invalid escape \\{c} in {s:?}");
            out.push(c);
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == q {
            return (out, &s[i + 1..]);
        } else {
            out.push(c);
        }
    }
    panic!("unterminated string in {s:?}");
}

fn check_argument(raw: &str) {
    let cmd = render("give {username} minecraft:diamond 1", raw);
    let words: Vec<&str> = cmd.split(' ').collect();
    assert_eq!(words.len(), 4, "argument count changed: {cmd:?}");
    assert_eq!(words[0], "give");
    assert_eq!(&words[2..], ["minecraft:diamond", "1"]);
    assert!(!words[1].is_empty());
    assert!(
        words[1]
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.')),
        "{cmd:?}"
    );
    assert_inert(words[1], raw);
}

fn check_message(raw: &str) {
    let cmd = render("say {user} sent a gift", raw);
    let msg = cmd.strip_prefix("say ").unwrap();
    let value = msg.strip_suffix(" sent a gift").unwrap();
    assert_inert(value, raw);
    assert_eq!(cmd.lines().count(), 1);
}

fn check_quoted(raw: &str) {
    let cmd = render(r#"scoreboard players set "{user}" gifts 1"#, raw);
    let rest = cmd.strip_prefix("scoreboard players set ").unwrap();
    let (value, after) = read_quoted(rest);
    assert_eq!(after, " gifts 1", "string broke out in {cmd:?}");
    assert_inert(&value, raw);
}

fn check_json(raw: &str) {
    let cmd = render(r#"tellraw @a {"text":"{comment}","color":"gold"}"#, raw);
    let json = cmd.strip_prefix("tellraw @a ").unwrap();
    let v: serde_json::Value = serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {json}"));
    let obj = v.as_object().unwrap();
    assert_eq!(obj.len(), 2, "keys added: {json}");
    assert_eq!(obj["color"], "gold");
    assert_inert(obj["text"].as_str().unwrap(), raw);

    let cmd = render(r#"title @a title ["",{"text":"{user}","bold":true}]"#, raw);
    let json = cmd.strip_prefix("title @a title ").unwrap();
    let v: serde_json::Value = serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {json}"));
    let arr = v.as_array().unwrap();
    assert_eq!(arr.len(), 2, "{json}");
    assert_eq!(arr[1].as_object().unwrap().len(), 2, "{json}");
    assert_eq!(arr[1]["bold"], true);
    assert_inert(arr[1]["text"].as_str().unwrap(), raw);
}

fn check_json_in_snbt(raw: &str) {
    let cmd = render(
        r#"summon zombie ~ ~ ~ {CustomName:'{"text":"{user}"}',CustomNameVisible:1b}"#,
        raw,
    );
    let rest = cmd
        .strip_prefix("summon zombie ~ ~ ~ {CustomName:")
        .unwrap();
    let (inner, after) = read_quoted(rest);
    assert_eq!(after, ",CustomNameVisible:1b}", "SNBT broke in {cmd:?}");
    let v: serde_json::Value =
        serde_json::from_str(&inner).unwrap_or_else(|e| panic!("{e}: {inner}"));
    assert_eq!(v.as_object().unwrap().len(), 1, "{inner}");
    assert_inert(v["text"].as_str().unwrap(), raw);
}

fn check_all(raw: &str) {
    check_argument(raw);
    check_message(raw);
    check_quoted(raw);
    check_json(raw);
    check_json_in_snbt(raw);
}

#[test]
fn hostile_table_keeps_every_command_structure() {
    for raw in hostile() {
        check_all(&raw);
    }
}

#[test]
fn break_out_attempts_stay_visible_as_text() {
    // Escaping must keep the viewer's text, not delete it: the JSON text reads back exactly.
    let cmd = render(r#"tellraw @a {"text":"{comment}"}"#, r#""},{"text":""#);
    let v: serde_json::Value =
        serde_json::from_str(cmd.strip_prefix("tellraw @a ").unwrap()).unwrap();
    assert_eq!(v["text"], r#""},{"text":""#);

    let cmd = render(
        r#"tellraw @a {"text":"{user}"}"#,
        "family 👨\u{200D}👩\u{200D}👧",
    );
    let v: serde_json::Value =
        serde_json::from_str(cmd.strip_prefix("tellraw @a ").unwrap()).unwrap();
    assert_eq!(v["text"], "family 👨\u{200D}👩\u{200D}👧");

    let cmd = render(r#"tellraw @a {"text":"{user}"}"#, "@a");
    let v: serde_json::Value =
        serde_json::from_str(cmd.strip_prefix("tellraw @a ").unwrap()).unwrap();
    assert_eq!(v["text"], "\u{FF20}a");
}

#[test]
fn long_values_are_cut_on_char_boundaries_within_the_limit() {
    let cjk = "漢".repeat(500);
    let t = Template::parse(r#"tellraw @a {"text":"{comment}"}"#).unwrap();
    let r = t
        .render(&event(&cjk), &mut fastrand::Rng::with_seed(0))
        .unwrap();
    assert!(r.truncated);
    let v: serde_json::Value =
        serde_json::from_str(r.command.strip_prefix("tellraw @a ").unwrap()).unwrap();
    let text = v["text"].as_str().unwrap();
    assert!(!text.is_empty() && text.chars().all(|c| c == '漢'));

    // A long fixed part leaves little room: the 1,600 Ws are cut to fit exactly.
    let prefix = "x".repeat(1400);
    let t = Template::parse(&format!("say {prefix} {{comment}}")).unwrap();
    let r = t
        .render(&event(&"W".repeat(1600)), &mut fastrand::Rng::with_seed(0))
        .unwrap();
    assert_eq!(r.command.len(), MAX_COMMAND_BYTES);
}

#[test]
fn slot_kinds_of_the_tested_templates() {
    let kind = |src: &str| Template::parse(src).unwrap().slots()[0].1;
    assert_eq!(
        kind("give {username} minecraft:diamond 1"),
        SlotKind::Argument
    );
    assert_eq!(kind("say {user} sent a gift"), SlotKind::Message);
    assert_eq!(
        kind(r#"scoreboard players set "{user}" gifts 1"#),
        SlotKind::QuotedString
    );
    assert_eq!(
        kind(r#"tellraw @a {"text":"{comment}"}"#),
        SlotKind::JsonText
    );
}

/// Text that leans on what the escaper handles: quotes, backslashes, braces, selectors,
/// controls, formatting codes, bidi and joiners, mixed with arbitrary Unicode.
fn nasty_string() -> impl Strategy<Value = String> {
    let nasty = prop::sample::select(vec![
        '"', '\'', '\\', '{', '}', '[', ']', '@', '§', '\n', '\r', '\0', '\u{202E}', '\u{200D}',
        '\u{2028}', '$', ':', ',', ' ', '/', 'a', 'e', '漢', '😀',
    ]);
    let ch = prop_oneof![3 => nasty, 1 => any::<char>()];
    prop::collection::vec(ch, 0..200).prop_map(|v| v.into_iter().collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_text_never_changes_structure(raw in nasty_string()) {
        check_all(&raw);
    }

    #[test]
    fn arbitrary_strings_never_change_structure(raw in any::<String>()) {
        check_all(&raw);
    }
}
