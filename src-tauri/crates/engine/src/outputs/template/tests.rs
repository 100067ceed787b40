use super::*;

fn ev(user: &str) -> TemplateEvent {
    TemplateEvent {
        user: user.into(),
        username: "anna_k".into(),
        gift: Some("Rose".into()),
        count: Some(5),
        coins: Some(1),
        comment: Some("hello".into()),
        likes: Some(10),
        viewers: Some(3),
    }
}

fn render(src: &str, e: &TemplateEvent) -> String {
    Template::parse(src)
        .unwrap()
        .render(e, &mut fastrand::Rng::with_seed(1))
        .unwrap()
        .command
}

#[test]
fn slot_kinds_are_read_from_the_template() {
    let kinds = |src: &str| Template::parse(src).unwrap().slots();
    assert_eq!(
        kinds("give {username} diamond {count}"),
        vec![
            (Field::Username, SlotKind::Argument),
            (Field::Count, SlotKind::Argument)
        ]
    );
    assert_eq!(
        kinds("say {user} sent {gift}"),
        vec![
            (Field::User, SlotKind::Message),
            (Field::Gift, SlotKind::Message)
        ]
    );
    assert_eq!(
        kinds("msg {username} thanks {user}"),
        vec![
            (Field::Username, SlotKind::Argument),
            (Field::User, SlotKind::Message)
        ]
    );
    assert_eq!(
        kinds("execute as @a run say {user}"),
        vec![(Field::User, SlotKind::Message)]
    );
    assert_eq!(
        kinds(r#"tellraw @a {"text":"{user}","color":"gold"}"#),
        vec![(Field::User, SlotKind::JsonText)]
    );
    assert_eq!(
        kinds(r#"tag @s add "{user}""#),
        vec![(Field::User, SlotKind::QuotedString)]
    );
    assert_eq!(
        kinds(r#"summon zombie ~ ~ ~ {CustomName:'{"text":"{user}"}'}"#),
        vec![(Field::User, SlotKind::JsonText)]
    );
}

#[test]
fn numbers_and_plain_values_render_verbatim() {
    assert_eq!(
        render("give {username} diamond {count}", &ev("Anna")),
        "give anna_k diamond 5"
    );
    assert_eq!(
        render("say {user} sent {count}x {gift}!", &ev("Anna K")),
        "say Anna K sent 5x Rose!"
    );
}

#[test]
fn json_strings_escape_quotes_and_backslashes() {
    assert_eq!(
        render(r#"tellraw @a {"text":"{user}"}"#, &ev(r#"a"b\c"#)),
        r#"tellraw @a {"text":"a\"b\\c"}"#
    );
}

#[test]
fn json_inside_snbt_single_quotes_is_escaped_for_both_layers() {
    let out = render(
        r#"summon zombie ~ ~ ~ {CustomName:'{"text":"{user}"}'}"#,
        &ev(r#"it's "x"\"#),
    );
    assert_eq!(
        out,
        r#"summon zombie ~ ~ ~ {CustomName:'{"text":"it\'s \\"x\\"\\\\"}'}"#
    );
}

#[test]
fn bare_text_in_structure_gets_its_own_quotes() {
    assert_eq!(
        render(r#"tellraw @a {"text":{user}}"#, &ev("a\"b")),
        r#"tellraw @a {"text":"a\"b"}"#
    );
    assert_eq!(
        render("kill @e[name={user}]", &ev("x] @a[")),
        "kill @e[name=\"x] \u{FF20}a[\"]"
    );
}

#[test]
fn apostrophe_inside_a_word_is_not_a_quote() {
    assert_eq!(
        render("say don't spam {user}", &ev("it's")),
        "say don't spam it's"
    );
}

#[test]
fn viewer_text_is_refused_where_minecraft_would_run_it() {
    let err = Template::parse(
        r#"tellraw @a {"text":"hi","clickEvent":{"action":"run_command","value":"/say {comment}"}}"#,
    )
    .unwrap_err();
    assert_eq!(
        err,
        TemplateError::InterpretedKey {
            placeholder: "comment".into(),
            key: "value".into()
        }
    );
    assert!(matches!(
        Template::parse(r#"setblock ~ ~ ~ command_block{Command:"say {user}"}"#),
        Err(TemplateError::InterpretedKey { .. })
    ));
    assert!(matches!(
        Template::parse(r#"tellraw @a {"selector":"{user}"}"#),
        Err(TemplateError::InterpretedKey { .. })
    ));
    // Numbers are harmless anywhere.
    Template::parse(r#"tellraw @a {"score":{"name":"x","objective":"{count}"}}"#).unwrap();
}

#[test]
fn template_errors_are_specific() {
    assert_eq!(
        Template::parse("say {usr}").unwrap_err(),
        TemplateError::UnknownPlaceholder { name: "usr".into() }
    );
    assert_eq!(
        Template::parse("say a\nop me").unwrap_err(),
        TemplateError::ControlChar { at: 5 }
    );
    assert_eq!(
        Template::parse(r#"tellraw @a {"text":"{user}}"#).unwrap_err(),
        TemplateError::UnclosedQuote { quote: '"' }
    );
    assert_eq!(
        Template::parse("say {random:a}").unwrap_err(),
        TemplateError::RandomNeedsChoices
    );
    assert!(matches!(
        Template::parse("say {random:a|b\"}").unwrap_err(),
        TemplateError::RandomChoiceUnsafe { .. }
    ));
    assert_eq!(Template::parse("  ").unwrap_err(), TemplateError::Empty);
}

#[test]
fn missing_values_are_named() {
    let follow = TemplateEvent {
        user: "a".into(),
        ..Default::default()
    };
    assert_eq!(
        Template::parse("give {username} diamond {count}")
            .unwrap()
            .render(&follow, &mut fastrand::Rng::with_seed(0))
            .unwrap_err(),
        RenderError::Missing("count")
    );
}

#[test]
fn random_picks_each_choice_and_nothing_else() {
    let t = Template::parse("summon {random:creeper|zombie|pig} ~ ~ ~").unwrap();
    let mut rng = fastrand::Rng::with_seed(7);
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..200 {
        seen.insert(t.render(&ev("a"), &mut rng).unwrap().command);
    }
    let expected: std::collections::BTreeSet<String> = ["creeper", "zombie", "pig"]
        .iter()
        .map(|m| format!("summon {m} ~ ~ ~"))
        .collect();
    assert_eq!(seen, expected);
}

#[test]
fn a_template_too_long_by_itself_is_refused() {
    let long = format!("say {}", "x".repeat(MAX_COMMAND_BYTES));
    assert_eq!(
        Template::parse(&long)
            .unwrap()
            .render(&ev("a"), &mut fastrand::Rng::with_seed(0))
            .unwrap_err(),
        RenderError::TooLong {
            len: MAX_COMMAND_BYTES + 4
        }
    );
}

#[test]
fn long_values_share_the_budget_and_short_ones_survive() {
    let mut e = ev("Anna");
    e.comment = Some("W".repeat(1600));
    let filler = "x".repeat(1200);
    let t = Template::parse(&format!("say {filler} {{user}}: {{comment}}")).unwrap();
    let r = t.render(&e, &mut fastrand::Rng::with_seed(0)).unwrap();
    assert!(r.truncated);
    assert!(r.command.len() <= MAX_COMMAND_BYTES);
    assert!(r.command.contains(" Anna: W"), "{}", r.command);
    // The cut uses the whole budget: adding one more W would overflow.
    assert!(r.command.len() > MAX_COMMAND_BYTES - 1);
}

#[test]
fn preview_reports_bytes_and_slots() {
    let p = preview(r#"tellraw @a {"text":"{user} x{count}"}"#, &ev("Bo"), 0).unwrap();
    assert_eq!(p.command, r#"tellraw @a {"text":"Bo x5"}"#);
    assert_eq!(p.bytes, p.command.len());
    assert_eq!(
        p.slots,
        vec![
            (Field::User, SlotKind::JsonText),
            (Field::Count, SlotKind::JsonText)
        ]
    );
    assert!(matches!(
        preview("say {nope}", &ev("a"), 0),
        Err(PreviewError::Template(_))
    ));
}

#[test]
fn player_is_the_streamers_setting_and_never_viewer_text() {
    let src = "execute at {player} run summon minecraft:creeper ~ ~ ~";
    let e = ev("@a[x] } ; stop");
    let t = Template::parse(src).unwrap();
    assert_eq!(
        t.render(&e, &mut Rng::with_seed(1)).unwrap().command,
        "execute at @p run summon minecraft:creeper ~ ~ ~"
    );
    let t = Template::parse_for(src, "Steve_01").unwrap();
    assert_eq!(
        t.render(&e, &mut Rng::with_seed(1)).unwrap().command,
        "execute at Steve_01 run summon minecraft:creeper ~ ~ ~"
    );
    // It is not a field: no event value can fill it, and a slot kind is never reported.
    assert!(t.slots().is_empty());
    let t = Template::parse_for("execute at {player} run say {comment}", "@a[tag=me]").unwrap();
    let mut e = ev("x");
    e.comment = Some("hi there".into());
    assert_eq!(
        t.render(&e, &mut Rng::with_seed(1)).unwrap().command,
        "execute at @a[tag=me] run say hi there"
    );
    assert_eq!(t.slots(), vec![(Field::Comment, SlotKind::Message)]);
}

#[test]
fn player_settings_are_names_or_selectors() {
    for ok in [
        "@p",
        "@a",
        "@s",
        "@e[type=player,limit=1,sort=nearest]",
        "@a[tag=streamer]",
        "Steve",
        "abc",
        "A_very_long_name",
    ] {
        assert!(is_valid_player(ok), "{ok}");
    }
    for bad in [
        "",
        "ab",
        "A_very_long_name1",
        "Steve Jobs",
        "@x",
        "@p[",
        "@p[]",
        "@p[name=\"a\"]",
        "@p[nbt={a:1}]",
        "@p run say",
        "Stéve",
        "@",
        "@pp",
    ] {
        assert!(!is_valid_player(bad), "{bad}");
    }
}

#[test]
fn a_viewer_dollar_cannot_pair_with_a_template_brace() {
    // The template's `{jndi:...}` is plain text (not an identifier); a value ending in `$`
    // right before it would complete a log4j lookup.
    let out = render("say {user}{jndi:ldap://127.0.0.1/a}", &ev("price 5$"));
    assert!(!out.contains("${"), "{out:?}");
    assert_eq!(out, "say price 5\u{FF04}{jndi:ldap://127.0.0.1/a}");
    // A cut can leave a `$` last too.
    let mut long = "$".repeat(70);
    long.insert(0, 'a');
    let out = render("say {user}{jndi:x}", &ev(&long));
    assert!(!out.contains("${"), "{out:?}");
    // A `$` inside the value stays a `$`.
    assert_eq!(render("say {user}!", &ev("5$ off")), "say 5$ off!");
}
