//! `livetrigger-cli run` as a process: against the webcast simulator and the Minecraft-faithful
//! RCON server, both started here on 127.0.0.1 port 0. Includes the crash test: `kill -9` in
//! the middle of a flood of gifts, a restart, and the proof from the database and the server's
//! log that waiting items resumed and none ran twice.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use livetrigger_engine::outputs::rcon::test_server::McRconServer;
use tokio::process::Command;
use webcast_sim::{Msg, Script, SimConfig, SimHandle, SimUser, Simulator, Step};

const PASSWORD: &str = "run-test";
const BIN: &str = env!("CARGO_BIN_EXE_livetrigger-cli");

fn starter_text() -> String {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../examples/minecraft-starter.json");
    std::fs::read_to_string(path).expect("starter profile")
}

/// The starter profile with the minecraft lane's gap set (tests need no 50 ms pacing).
fn write_profile(dir: &Path, gap_ms: u64) -> PathBuf {
    let mut json: serde_json::Value = serde_json::from_str(&starter_text()).expect("json");
    for lane in json["lanes"].as_array_mut().expect("lanes") {
        if lane["name"] == "minecraft" {
            lane["minGapMs"] = gap_ms.into();
        }
    }
    let path = dir.join("profile.json");
    std::fs::write(&path, json.to_string()).expect("write profile");
    path
}

async fn sim(script: Script) -> SimHandle {
    Simulator::start(
        SimConfig::with_script(script),
        "127.0.0.1:0".parse().expect("addr"),
    )
    .await
    .expect("simulator")
}

fn run_cmd(profile: &Path, sim: &SimHandle, rcon: &McRconServer, data: &Path) -> Command {
    let mut c = Command::new(BIN);
    c.arg("run")
        .arg("--profile")
        .arg(profile)
        .args(["--user", webcast_sim::DEFAULT_USER])
        .args(["--web-url", &sim.base_url()])
        .args(["--rcon-addr", &rcon.addr().to_string()])
        .arg("--data-dir")
        .arg(data)
        .env("LIVETRIGGER_RCON_PASSWORD", PASSWORD)
        .stdin(Stdio::null())
        .kill_on_drop(true);
    c
}

fn rose(user: &SimUser, group: u64) -> Msg {
    Msg::Gift {
        user: user.clone(),
        gift_id: 5655,
        name: "Rose".into(),
        diamond_count: 1,
        gift_type: 1,
        repeat_count: 1,
        repeat_end: true,
        group_id: group,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_profile_exits_1_naming_the_json_path() {
    let dir = tempfile::tempdir().expect("tempdir");
    let profile = dir.path().join("bad.json");
    std::fs::write(
        &profile,
        r#"{"schemaVersion": 1, "rules": [{"id": "r", "trigger": {"type": "gift"}, "actions": []}]}"#,
    )
    .expect("write");
    let out = Command::new(BIN)
        .args(["run", "--user", "someone", "--profile"])
        .arg(&profile)
        .output()
        .await
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("rules[0].trigger.name"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_rcon_password_is_fatal() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rcon = McRconServer::start("another-password").await.expect("rcon");
    let sim = sim(Script::default()).await;
    let profile = write_profile(dir.path(), 0);
    let out = run_cmd(&profile, &sim, &rcon, &dir.path().join("data"))
        .output()
        .await
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("refused the password"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_the_starter_profile_and_exits_0_when_the_stream_ends() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rcon = McRconServer::start(PASSWORD).await.expect("rcon");
    let anna = SimUser::new(11, "anna", "Anna \"quotes\" @a");
    let script = Script {
        history: vec![],
        steps: vec![
            Step::Frame {
                messages: vec![rose(&anna, 1), rose(&anna, 2)],
            },
            Step::Frame {
                messages: vec![Msg::Follow { user: anna.clone() }],
            },
            Step::EndStream,
        ],
    };
    let sim = sim(script).await;
    let profile = write_profile(dir.path(), 0);
    let out = tokio::time::timeout(
        Duration::from_secs(60),
        run_cmd(&profile, &sim, &rcon, &dir.path().join("data")).output(),
    )
    .await
    .expect("exits by itself when the stream ends")
    .expect("run");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let executed = rcon.state().executed();
    assert_eq!(
        executed
            .iter()
            .filter(|c| *c == "execute at @p run summon minecraft:creeper ~ ~ ~")
            .count(),
        2
    );
    assert_eq!(executed.len(), 3, "{executed:?}");
    // Every line is JSON; the lifecycle of each item is there.
    let mut done = 0;
    for line in stdout.lines() {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{line}: {e}"));
        if v["type"] == "item" && v["status"]["state"] == "done" {
            done += 1;
        }
    }
    assert_eq!(done, 3, "{stdout}");
}

fn count_statuses(db: &Path) -> (i64, i64, i64, i64, i64) {
    let conn = rusqlite::Connection::open(db).expect("db");
    let n = |status: &str| -> i64 {
        conn.query_row(
            "SELECT COUNT(*) FROM items WHERE status = ?1",
            [status],
            |r| r.get(0),
        )
        .expect("count")
    };
    let units: i64 = conn
        .query_row(
            "SELECT COALESCE(SUM(units), 0) FROM events WHERE kind = 'gift'",
            [],
            |r| r.get(0),
        )
        .expect("units");
    (
        n("done"),
        n("interrupted"),
        n("queued") + n("running"),
        n("failed") + n("dropped"),
        units,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_flood_then_restart_resumes_and_nothing_runs_twice() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let rcon = McRconServer::start(PASSWORD).await.expect("rcon");
    // 600 single Roses from 60 viewers, 100 per frame: far more than RCON runs per second.
    let users: Vec<SimUser> = (0..60)
        .map(|i| SimUser::new(1000 + i, &format!("viewer{i}"), &format!("Viewer {i}")))
        .collect();
    let mut steps = Vec::new();
    for f in 0..6u64 {
        steps.push(Step::Frame {
            messages: (0..100u64)
                .map(|i| rose(&users[((f * 100 + i) % 60) as usize], 10_000 + f * 100 + i))
                .collect(),
        });
    }
    // Keep the stream open; the process is killed long before.
    steps.push(Step::Wait { ms: 120_000 });
    let flood = sim(Script {
        history: vec![],
        steps,
    })
    .await;
    let profile = write_profile(dir.path(), 0);
    let mut child = run_cmd(&profile, &flood, &rcon, &data)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    tokio::time::timeout(Duration::from_secs(60), rcon.state().wait_executed(100))
        .await
        .expect("commands flow");
    child.kill().await.expect("kill -9");
    let before = rcon.state().executed().len();
    let db = data.join("engine").join("livetrigger.sqlite3");
    let (done1, _, waiting1, _, units1) = count_statuses(&db);
    assert!(waiting1 > 0, "the kill left items waiting (done {done1})");
    assert_eq!(units1, 600, "every paid unit was recorded before the kill");

    // Restart against a stream that is already over: resume, drain, exit 0.
    let over = sim(Script {
        history: vec![],
        steps: vec![Step::EndStream],
    })
    .await;
    let out = tokio::time::timeout(
        Duration::from_secs(120),
        run_cmd(&profile, &over, &rcon, &data).output(),
    )
    .await
    .expect("the restart finishes")
    .expect("run");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let started: serde_json::Value = stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["type"] == "started")
        .expect("a started line");
    assert!(started["resumed"].as_u64().unwrap_or(0) > 0, "{started}");

    let executed = rcon.state().executed();
    assert!(executed.len() > before, "resumed items ran");
    let creepers = executed
        .iter()
        .filter(|c| *c == "execute at @p run summon minecraft:creeper ~ ~ ~")
        .count() as i64;
    let (done, interrupted, waiting, lost, units) = count_statuses(&db);
    assert_eq!(waiting, 0, "nothing left waiting");
    assert_eq!(lost, 0, "nothing failed or dropped");
    assert!(
        interrupted <= 1,
        "one lane, one item in flight: {interrupted}"
    );
    assert_eq!(done + interrupted, units, "every paid unit has an item");
    // Each done item ran exactly once; an interrupted one ran at most once.
    assert!(
        done <= creepers && creepers <= done + interrupted,
        "done {done}, interrupted {interrupted}, executed {creepers}"
    );
}

/// Two processes on one data folder would both resume its queue and run paid items twice: the
/// second `run` is refused at once with a message that says why, and the first goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_run_on_the_same_data_folder_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let rcon = McRconServer::start(PASSWORD).await.expect("rcon");
    let fan = SimUser::new(5, "fan", "Fan");
    let stream = sim(Script {
        history: vec![],
        steps: vec![
            Step::Frame {
                messages: vec![rose(&fan, 700)],
            },
            Step::Wait { ms: 120_000 },
            Step::Frame {
                messages: vec![rose(&fan, 701)],
            },
        ],
    })
    .await;
    let profile = write_profile(dir.path(), 0);
    let mut first = run_cmd(&profile, &stream, &rcon, &data)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn the first");
    tokio::time::timeout(Duration::from_secs(60), rcon.state().wait_executed(1))
        .await
        .expect("the first run works");
    let second = run_cmd(&profile, &stream, &rcon, &data)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output();
    let out = tokio::time::timeout(Duration::from_secs(30), second)
        .await
        .expect("the second run exits at once")
        .expect("output");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("already using the data folder"), "{stderr}");
    assert!(
        first.try_wait().expect("try_wait").is_none(),
        "the first run goes on"
    );
    assert_eq!(rcon.state().executed().len(), 1, "nothing ran twice");
    first.kill().await.expect("kill");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_keeps_waiting_items_and_exits_0() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let rcon = McRconServer::start(PASSWORD).await.expect("rcon");
    let fan = SimUser::new(5, "fan", "Fan");
    let flood = sim(Script {
        history: vec![],
        steps: vec![
            Step::Frame {
                messages: (0..50).map(|i| rose(&fan, 500 + i)).collect(),
            },
            Step::Wait { ms: 120_000 },
        ],
    })
    .await;
    // 50 ms between commands: most of the 50 are still waiting when Ctrl-C comes.
    let profile = write_profile(dir.path(), 50);
    let child = run_cmd(&profile, &flood, &rcon, &data)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let pid = child.id().expect("pid");
    tokio::time::timeout(Duration::from_secs(60), rcon.state().wait_executed(3))
        .await
        .expect("commands flow");
    let sent = std::process::Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .expect("kill -INT");
    assert!(sent.success());
    let out = tokio::time::timeout(Duration::from_secs(30), child.wait_with_output())
        .await
        .expect("exits after Ctrl-C")
        .expect("output");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("kept for the next start"), "{stdout}");
    let (done, interrupted, waiting, lost, units) =
        count_statuses(&data.join("engine").join("livetrigger.sqlite3"));
    assert_eq!(interrupted, 0, "the running item finished before exit");
    assert_eq!(lost, 0);
    assert!(waiting > 0, "waiting items kept");
    assert_eq!(done + waiting, units, "every unit is done or kept");
    assert_eq!(done as usize, rcon.state().executed().len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stay_looks_for_the_next_live_after_the_stream_ends() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let rcon = McRconServer::start(PASSWORD).await.expect("rcon");
    let fan = SimUser::new(6, "fan", "Fan");
    let sim = sim(Script {
        history: vec![],
        steps: vec![
            Step::Frame {
                messages: vec![rose(&fan, 900)],
            },
            Step::EndStream,
        ],
    })
    .await;
    let profile = write_profile(dir.path(), 0);
    let mut child = run_cmd(&profile, &sim, &rcon, &data)
        .args(["--stay", "--stay-retry-secs", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    tokio::time::timeout(Duration::from_secs(60), rcon.state().wait_executed(1))
        .await
        .expect("the rose ran");
    // After the end it signs again for the next live instead of exiting.
    sim.wait_for(|r| r.sign_requests.len() >= 2, Duration::from_secs(60))
        .await
        .expect("looked for the next live");
    assert!(child.try_wait().expect("status").is_none(), "still running");
    let pid = child.id().expect("pid");
    let sent = std::process::Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .expect("kill -INT");
    assert!(sent.success());
    let out = tokio::time::timeout(Duration::from_secs(30), child.wait_with_output())
        .await
        .expect("exits after Ctrl-C")
        .expect("output");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        rcon.state().executed().len(),
        1,
        "the rose ran once, not again on reconnect"
    );
}

/// The reported bug: `run` killed with SIGKILL mid-stream, restarted with the same data
/// folder, and the stream overlaps the last seconds before the kill (the server sends the
/// last frames again). Every Rose's creeper runs exactly once, including a streak that was
/// going on across the kill.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_then_restart_with_the_stream_overlapping_runs_every_creeper_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let rcon = McRconServer::start(PASSWORD).await.expect("rcon");
    let fans: Vec<SimUser> = (0..20)
        .map(|i| SimUser::new(3000 + i, &format!("fan{i}"), &format!("Fan {i}")))
        .collect();
    let streaker = SimUser::new(4000, "streaker", "Streaker");
    let streak = |count: u32, end: bool| Msg::Gift {
        user: streaker.clone(),
        gift_id: 5655,
        name: "Rose".into(),
        diamond_count: 1,
        gift_type: 1,
        repeat_count: count,
        repeat_end: end,
        group_id: 99,
    };
    let mut steps = Vec::new();
    for i in 0..20u64 {
        let mut messages = vec![rose(&fans[i as usize], 50_000 + i)];
        // A streak of 5 from frame 8 to 12: 3 units before the kill, the rest after.
        match i {
            7..=10 => messages.push(streak(i as u32 - 6, false)),
            11 => messages.push(streak(5, true)),
            _ => {}
        }
        steps.push(Step::Frame { messages });
        steps.push(Step::Wait { ms: 100 });
        if i == 9 {
            // The kill comes in this pause, after the first 10 single Roses ran.
            steps.push(Step::Wait { ms: 60_000 });
        }
    }
    steps.push(Step::EndStream);
    let config = SimConfig {
        resend_on_reconnect: 5,
        ..SimConfig::with_script(Script {
            history: vec![],
            steps,
        })
    };
    let sim = Simulator::start(config, "127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("simulator");
    let profile = write_profile(dir.path(), 0);
    let mut child = run_cmd(&profile, &sim, &rcon, &data)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    tokio::time::timeout(Duration::from_secs(60), rcon.state().wait_executed(10))
        .await
        .expect("the first ten Roses ran");
    // Let the store commit the streak messages of frames 8-10 (no item: nothing settled).
    tokio::time::sleep(Duration::from_millis(300)).await;
    child.kill().await.expect("kill -9");
    let creeper = "execute at @p run summon minecraft:creeper ~ ~ ~";
    let count = |v: &[String]| v.iter().filter(|c| *c == creeper).count();
    assert_eq!(
        count(&rcon.state().executed()),
        10,
        "nothing else ran before the kill"
    );

    let out = tokio::time::timeout(
        Duration::from_secs(120),
        run_cmd(&profile, &sim, &rcon, &data).output(),
    )
    .await
    .expect("the restart finishes when the stream ends")
    .expect("run");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen = sim
        .wait_for(|r| r.connections >= 2, Duration::from_secs(5))
        .await
        .expect("two connections");
    assert!(
        seen.pushed.iter().any(|p| p.conn == 2 && p.resent),
        "the server overlapped the last frames"
    );
    let executed = rcon.state().executed();
    assert_eq!(
        count(&executed),
        20 + 5,
        "20 single Roses and a streak of 5, each creeper once: {executed:?}"
    );
}
