//! The IPC contract: the committed TypeScript matches the Rust list, and the commands answer
//! through Tauri's real invoke path (mock runtime, no window needed).

use std::path::PathBuf;

use livetrigger_app::ipc;
use tauri::test::{get_ipc_response, mock_builder, mock_context, noop_assets, INVOKE_KEY};
use tauri::webview::InvokeRequest;
use tauri::WebviewWindowBuilder;

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn typescript_bindings_match_the_rust_list() {
    let path = repo_root().join(ipc::BINDINGS_PATH);
    let generated = ipc::typescript();
    if std::env::var_os("UPDATE_BINDINGS").is_some() {
        std::fs::write(&path, &generated).expect("write bindings");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "{} is out of date with src-tauri/src/ipc.rs; run `UPDATE_BINDINGS=1 cargo test --test ipc` and commit it",
        ipc::BINDINGS_PATH
    );
}

fn invoke(cmd: &str) -> serde_json::Value {
    invoke_with(cmd, serde_json::json!({}))
}

fn invoke_with(cmd: &str, args: serde_json::Value) -> serde_json::Value {
    let data = tempfile_dir();
    // SAFETY of env use: this test binary sets the variable before any app is built and every
    // test that builds an app points it to its own folder under the same root.
    std::env::set_var(livetrigger_app::paths::DATA_DIR_ENV, &data);
    let app = livetrigger_app::app_builder(mock_builder())
        .build(mock_context(noop_assets()))
        .expect("build mock app");
    livetrigger_app::init_state(app.handle()).expect("init state");
    let webview = WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .expect("mock window");
    let response = get_ipc_response(
        &webview,
        InvokeRequest {
            cmd: cmd.into(),
            callback: tauri::ipc::CallbackFn(0),
            error: tauri::ipc::CallbackFn(1),
            // On Linux the app origin is tauri://localhost; anything else counts as remote.
            url: "tauri://localhost".parse().unwrap(),
            body: tauri::ipc::InvokeBody::Json(args),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        },
    )
    .unwrap_or_else(|e| panic!("{cmd} failed: {e:?}"));
    response.deserialize::<serde_json::Value>().expect("json")
}

fn tempfile_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("livetrigger-ipc-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn app_info_reports_version_and_folders() {
    let info = invoke("app_info");
    assert_eq!(info["name"], "LiveTrigger");
    assert_eq!(info["version"], env!("CARGO_PKG_VERSION"));
    let data_dir = PathBuf::from(info["dataDir"].as_str().unwrap());
    let log_dir = PathBuf::from(info["logDir"].as_str().unwrap());
    assert_eq!(data_dir, tempfile_dir());
    assert!(log_dir.starts_with(&data_dir), "{log_dir:?}");
    assert!(log_dir.is_dir(), "the log folder is created at start");
}

#[test]
fn status_starts_disconnected_with_an_empty_queue() {
    let status = invoke("status");
    assert_eq!(status["connection"], "disconnected");
    assert_eq!(status["rcon"], "not_configured");
    assert_eq!(status["queueDepth"], 0);
}

#[test]
fn the_profile_comes_without_secrets_and_previews_render_for_a_hostile_viewer() {
    let doc = invoke("profile_get");
    let profile: serde_json::Value =
        serde_json::from_str(doc["json"].as_str().unwrap()).expect("profile JSON");
    assert!(profile["rules"].as_array().is_some_and(|r| !r.is_empty()));
    assert!(profile["rcon"].get("password").is_none());
    assert!(doc["path"].as_str().unwrap().ends_with("profile.json"));

    let preview = invoke_with(
        "template_preview",
        serde_json::json!({"template": "say {user} sent {count}"}),
    );
    let command = preview["command"].as_str().unwrap();
    assert!(command.starts_with("say "), "{command}");
    assert!(!command.contains('§'), "{command}");
    assert_eq!(
        preview["placeholders"],
        serde_json::json!(["user", "count"])
    );

    let settings = invoke("settings_get");
    assert_eq!(settings["rconPasswordSet"], false);
    assert_eq!(settings["rconPort"], 25575);
}
