//! Rendering cost per command, for the budget of a gift burst (100s of commands per second).
//! Run: `cargo bench -p livetrigger-engine --bench template`.

use criterion::{criterion_group, criterion_main, Criterion};
use livetrigger_engine::outputs::template::{Rng, Template, TemplateEvent};
use std::hint::black_box;

fn event(comment: &str) -> TemplateEvent {
    TemplateEvent {
        user: "Anna 🌹 \"K\"".into(),
        username: "anna_k".into(),
        gift: Some("Rose".into()),
        count: Some(99),
        coins: Some(1),
        comment: Some(comment.into()),
        likes: Some(1000),
        viewers: Some(250),
    }
}

fn bench(c: &mut Criterion) {
    let cases = [
        ("argument", "give {username} minecraft:diamond {count}"),
        (
            "json",
            r#"tellraw @a {"text":"{user} sent {count}x {gift}","color":"gold"}"#,
        ),
        (
            "json_in_snbt",
            r#"summon zombie ~ ~ ~ {CustomName:'{"text":"{user}"}',CustomNameVisible:1b}"#,
        ),
    ];
    let short = event("hello");
    let long = event(&"W\"\\".repeat(600));
    for (name, src) in cases {
        let t = Template::parse(src).unwrap();
        let mut rng = Rng::with_seed(1);
        c.bench_function(&format!("render/{name}"), |b| {
            b.iter(|| t.render(black_box(&short), &mut rng).unwrap())
        });
    }
    let t = Template::parse(r#"tellraw @a {"text":"{user}: {comment}"}"#).unwrap();
    let mut rng = Rng::with_seed(1);
    c.bench_function("render/json_long_hostile_comment", |b| {
        b.iter(|| t.render(black_box(&long), &mut rng).unwrap())
    });
    c.bench_function("parse/json_in_snbt", |b| {
        b.iter(|| Template::parse(black_box(cases[2].1)).unwrap())
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
