//! Settings → Minecraft, Sound and TikTok: what the streamer sets once, stored in the data
//! folder. The RCON address lives in the profile (the engine and the CLI read it there); the
//! secrets (RCON password, sign-server API key, session id) live in the secrets file and are
//! never sent back to the window: it only learns whether each one is set.

use std::path::Path;
use std::time::Duration;

use livetrigger_engine::engine::{Profile, ProfileFile};
use livetrigger_engine::outputs::rcon::{RconConfig, RconError, RconOutput};
use livetrigger_engine::outputs::template::{is_valid_player, DEFAULT_PLAYER};
use serde::{Deserialize, Serialize};
use tauri::{AppHandle, Manager, Runtime, State};
use ts_rs::TS;

use super::secrets::{SecretKey, SecretStore};
use crate::error::{ErrorCode, IpcError};
use crate::paths::AppPaths;

/// The non-secret settings file in the data folder.
pub const SETTINGS_FILE: &str = "settings.json";

/// What `settings.json` holds. Unknown fields are ignored so an older app can read a newer
/// file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct StoredSettings {
    /// A custom sign server; empty: the default one.
    pub sign_url: String,
    /// The streamer agreed to send their TikTok session id to that sign server.
    pub trust_sign_server: bool,
    /// The last @user the Connect form connected to.
    pub last_target: String,
    /// The output device's name; empty: the system default.
    pub sound_device: String,
}

impl StoredSettings {
    pub fn load(data_dir: &Path) -> StoredSettings {
        std::fs::read_to_string(data_dir.join(SETTINGS_FILE))
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default()
    }

    pub fn save(&self, data_dir: &Path) -> Result<(), IpcError> {
        let path = data_dir.join(SETTINGS_FILE);
        let tmp = data_dir.join(format!("{SETTINGS_FILE}.tmp"));
        let text = serde_json::to_string_pretty(self).unwrap_or_default();
        std::fs::write(&tmp, text)
            .and_then(|()| std::fs::rename(&tmp, &path))
            .map_err(|e| {
                IpcError::new(
                    ErrorCode::Path,
                    format!("cannot save {}: {e}", path.display()),
                )
            })
    }
}

/// Settings as the window sees them: secrets only as "set" or not.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SettingsView {
    pub rcon_host: String,
    pub rcon_port: u16,
    pub rcon_password_set: bool,
    pub minecraft_player: String,
    pub master_volume: f32,
    pub sound_device: String,
    pub sign_url: String,
    pub sign_api_key_set: bool,
    pub session_id_set: bool,
    pub trust_sign_server: bool,
    pub last_target: String,
}

/// What Settings → Save sends. A secret left out (or `null`) keeps the saved one; an empty
/// string forgets it.
#[derive(Debug, Clone, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SettingsUpdate {
    pub rcon_host: String,
    pub rcon_port: u16,
    #[serde(default)]
    #[ts(optional)]
    pub rcon_password: Option<String>,
    pub minecraft_player: String,
    pub master_volume: f32,
    pub sound_device: String,
    pub sign_url: String,
    #[serde(default)]
    #[ts(optional)]
    pub sign_api_key: Option<String>,
    #[serde(default)]
    #[ts(optional)]
    pub session_id: Option<String>,
    pub trust_sign_server: bool,
}

/// The answer of Settings → Minecraft → Test, in plain words.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct RconTestResult {
    pub ok: bool,
    pub message: String,
    /// The server's raw reply to `list`, when it answered.
    pub reply: Option<String>,
}

fn profile_file(data_dir: &Path) -> ProfileFile {
    ProfileFile::new(data_dir.join(crate::engine::PROFILE_FILE))
}

fn secrets(data_dir: &Path) -> Result<SecretStore, IpcError> {
    SecretStore::open(data_dir).map_err(|e| IpcError::new(ErrorCode::Path, e.to_string()))
}

/// A password still in the profile (an old or hand-edited one the move could not take out).
fn profile_password(rcon: &livetrigger_engine::engine::profile::RconSettings) -> Option<String> {
    rcon.password
        .as_ref()
        .map(|p| p.expose().to_string())
        .filter(|p| !p.is_empty())
}

/// The RCON target the engine should use: the profile's address with the saved password (or
/// one still in an older profile, or the environment). `None`: no password anywhere, so the
/// Minecraft lane runs dry.
pub fn rcon_config(data_dir: &Path, profile: &Profile) -> Option<RconConfig> {
    let rcon = profile.rcon.clone().unwrap_or_else(default_rcon);
    let password = secrets(data_dir)
        .ok()
        .and_then(|s| s.get(SecretKey::RconPassword))
        .map(|s| s.expose().to_string())
        .or_else(|| profile_password(&rcon))
        .or_else(|| {
            std::env::var("LIVETRIGGER_RCON_PASSWORD")
                .ok()
                .filter(|p| !p.is_empty())
        })?;
    Some(RconConfig::new(rcon.addr(), password))
}

fn default_rcon() -> livetrigger_engine::engine::profile::RconSettings {
    serde_json::from_str("{}").expect("RCON settings have defaults")
}

pub fn view(data_dir: &Path) -> Result<SettingsView, IpcError> {
    let (profile, _) = crate::engine::load_profile(data_dir)?;
    let stored = StoredSettings::load(data_dir);
    let secrets = secrets(data_dir)?;
    let rcon = profile.rcon.clone().unwrap_or_else(default_rcon);
    Ok(SettingsView {
        rcon_password_set: secrets.is_set(SecretKey::RconPassword)
            || profile_password(&rcon).is_some(),
        rcon_host: rcon.host,
        rcon_port: rcon.port,
        minecraft_player: profile.minecraft.player.clone(),
        master_volume: profile.sound.master_volume,
        sound_device: stored.sound_device,
        sign_url: stored.sign_url,
        sign_api_key_set: secrets.is_set(SecretKey::SignApiKey),
        session_id_set: secrets.is_set(SecretKey::TiktokSessionId),
        trust_sign_server: stored.trust_sign_server,
        last_target: stored.last_target,
    })
}

fn invalid(message: impl Into<String>) -> IpcError {
    IpcError::new(ErrorCode::InvalidInput, message)
}

fn check(update: &SettingsUpdate) -> Result<(), IpcError> {
    let host = update.rcon_host.trim();
    if host.is_empty() || host.contains(char::is_whitespace) || host.contains('/') {
        return Err(invalid(
            "RCON host: enter the server's address, e.g. 127.0.0.1",
        ));
    }
    if update.rcon_port == 0 {
        return Err(invalid(
            "RCON port: enter the rcon.port from server.properties (usually 25575)",
        ));
    }
    if !(0.0..=2.0).contains(&update.master_volume) {
        return Err(invalid("Master volume must be between 0 and 200 %"));
    }
    let sign = update.sign_url.trim();
    if !(sign.is_empty() || sign.starts_with("http://") || sign.starts_with("https://")) {
        return Err(invalid(
            "Sign server URL must start with http:// or https://",
        ));
    }
    let player = update.minecraft_player.trim();
    if !(player.is_empty() || is_valid_player(player)) {
        return Err(invalid(
            "Minecraft player: your in-game name (3 to 16 letters, digits or _) or a selector such as @p",
        ));
    }
    Ok(())
}

/// Saves the settings; the caller applies the new RCON target.
pub fn save(data_dir: &Path, update: &SettingsUpdate) -> Result<SettingsView, IpcError> {
    check(update)?;
    let secrets = secrets(data_dir)?;
    let secret_err = |e: super::secrets::SecretError| IpcError::new(ErrorCode::Path, e.to_string());
    for (key, value) in [
        (SecretKey::RconPassword, &update.rcon_password),
        (SecretKey::SignApiKey, &update.sign_api_key),
        (SecretKey::TiktokSessionId, &update.session_id),
    ] {
        if let Some(v) = value {
            secrets.set(key, Some(v.as_str())).map_err(secret_err)?;
        }
    }

    let (mut profile, _) = crate::engine::load_profile(data_dir)?;
    let mut rcon = profile.rcon.clone().unwrap_or_else(default_rcon);
    rcon.host = update.rcon_host.trim().to_string();
    rcon.port = update.rcon_port;
    if update.rcon_password.is_some() {
        // The secrets file holds it now; a copy in the profile would be exported.
        rcon.password = None;
    }
    profile.rcon = Some(rcon);
    profile.sound.master_volume = update.master_volume;
    // The profile is the one place `{player}` comes from (the engine and the CLI read it).
    let player = update.minecraft_player.trim();
    profile.minecraft.player = if player.is_empty() {
        DEFAULT_PLAYER.to_string()
    } else {
        player.to_string()
    };
    if profile != crate::engine::load_profile(data_dir)?.0 {
        profile_file(data_dir)
            .save(&profile)
            .map_err(|e| invalid(e.to_string()))?;
    }

    let mut stored = StoredSettings::load(data_dir);
    stored.sign_url = update.sign_url.trim().to_string();
    stored.trust_sign_server = update.trust_sign_server;
    stored.sound_device = update.sound_device.clone();
    stored.save(data_dir)?;
    view(data_dir)
}

/// Turns a `list` reply into plain words: vanilla answers
/// `There are 1 of a max of 20 players online: Steve`.
pub fn describe_list(reply: &str) -> String {
    let reply = reply.trim();
    let parsed = reply.strip_prefix("There are ").and_then(|rest| {
        let (n, rest) = rest.split_once(" of a max of ")?;
        let n: u32 = n.trim().parse().ok()?;
        let names = rest.split_once(':').map(|(_, names)| names.trim())?;
        Some((n, names))
    });
    match parsed {
        Some((0, _)) => "Connected — nobody is online".into(),
        Some((1, names)) => format!("Connected — 1 player online: {names}"),
        Some((n, names)) => format!("Connected — {n} players online: {names}"),
        None if reply.is_empty() => "Connected".into(),
        None => format!("Connected — the server says: {reply}"),
    }
}

/// Connects, logs in and runs `list` once with these values.
pub async fn test_rcon(host: &str, port: u16, password: &str) -> RconTestResult {
    let addr = format!("{}:{port}", host.trim());
    if password.is_empty() {
        return RconTestResult {
            ok: false,
            message: "Enter the rcon.password from server.properties first".into(),
            reply: None,
        };
    }
    let mut config = RconConfig::new(addr.clone(), password);
    config.connect_timeout = Duration::from_secs(3);
    config.max_queue_wait = Duration::from_secs(3);
    config.backoff_initial = Duration::from_millis(300);
    config.backoff_max = Duration::from_secs(1);
    let output = RconOutput::spawn(config);
    let outcome = tokio::time::timeout(Duration::from_secs(8), output.handle().send("list")).await;
    output.shutdown().await;
    let nothing = || RconTestResult {
        ok: false,
        message: format!("Nothing answers on {addr} — is `enable-rcon=true` in server.properties?"),
        reply: None,
    };
    match outcome {
        Ok(Ok(reply)) => RconTestResult {
            ok: true,
            message: describe_list(&reply.text),
            reply: Some(reply.text),
        },
        Ok(Err(RconError::AuthFailed)) => RconTestResult {
            ok: false,
            message: "The server refused the password".into(),
            reply: None,
        },
        Ok(Err(RconError::Unreachable { .. } | RconError::Stopped)) | Err(_) => nothing(),
        Ok(Err(e)) => RconTestResult {
            ok: false,
            message: format!("The server answered oddly: {e}"),
            reply: None,
        },
    }
}

#[tauri::command]
pub fn settings_get(paths: State<'_, AppPaths>) -> Result<SettingsView, IpcError> {
    view(&paths.data_dir)
}

#[tauri::command]
pub async fn settings_save<R: Runtime>(
    app: AppHandle<R>,
    update: SettingsUpdate,
) -> Result<SettingsView, IpcError> {
    let data_dir = app.state::<AppPaths>().data_dir.clone();
    let device_before = StoredSettings::load(&data_dir).sound_device;
    let view = save(&data_dir, &update)?;
    if view.sound_device != device_before {
        // The sound thread reopens on the new device (or falls back and says why).
        if let Some(sound) = app
            .state::<crate::engine::EngineState>()
            .sound_handle(&app)
            .await?
        {
            sound.use_device(Some(view.sound_device.clone()).filter(|d| !d.is_empty()));
        }
        tracing::info!(device = %view.sound_device, "sound device changed");
    }
    let (profile, _) = crate::engine::load_profile(&data_dir)?;
    let slot = app.state::<super::outputs::RconSlot>().inner().clone();
    slot.apply(&app, rcon_config(&data_dir, &profile)).await;
    // The engine applies masterVolume (and `{player}`) from its profile when it plans a step.
    super::profile::apply(&app, profile).await?;
    tracing::info!(
        rcon = %format!("{}:{}", view.rcon_host, view.rcon_port),
        password_set = view.rcon_password_set,
        "settings saved"
    );
    Ok(view)
}

/// Tests the form's values; a password left empty means the saved one.
#[tauri::command]
pub async fn rcon_test(
    paths: State<'_, AppPaths>,
    host: String,
    port: u16,
    password: Option<String>,
) -> Result<RconTestResult, IpcError> {
    let password = match password.filter(|p| !p.is_empty()) {
        Some(p) => p,
        None => {
            let (profile, _) = crate::engine::load_profile(&paths.data_dir)?;
            match rcon_config(&paths.data_dir, &profile) {
                Some(cfg) => cfg.password,
                None => String::new(),
            }
        }
    };
    Ok(test_rcon(&host, port, &password).await)
}

/// The Connect form's request with what Settings → TikTok saved filled in where the form left
/// it empty: the sign server and its API key (the key never travels through the window), and
/// the saved session id only when the streamer opted in to trusting that sign server with it.
pub fn with_saved_sign_settings(
    data_dir: &Path,
    mut req: crate::live::ConnectRequest,
) -> crate::live::ConnectRequest {
    let blank = |v: &Option<String>| v.as_deref().is_none_or(|s| s.trim().is_empty());
    let stored = StoredSettings::load(data_dir);
    if blank(&req.sign_url) && !stored.sign_url.is_empty() {
        req.sign_url = Some(stored.sign_url);
    }
    if blank(&req.api_key) {
        req.api_key = secrets(data_dir)
            .ok()
            .and_then(|s| s.get(SecretKey::SignApiKey))
            .map(|k| k.expose().to_string());
    }
    if stored.trust_sign_server && blank(&req.session_id) {
        if let Some(session) = secrets(data_dir)
            .ok()
            .and_then(|s| s.get(SecretKey::TiktokSessionId))
        {
            req.session_id = Some(session.expose().to_string());
            req.trust_sign_server_with_session = true;
        }
    }
    req
}

/// Remembers the last @user the Connect form used.
pub fn remember_target(data_dir: &Path, target: &str) {
    let mut stored = StoredSettings::load(data_dir);
    if stored.last_target != target {
        stored.last_target = target.to_string();
        if let Err(e) = stored.save(data_dir) {
            tracing::debug!(error = %e, "cannot remember the last target");
        }
    }
}

#[cfg(test)]
mod tests {
    use livetrigger_engine::outputs::rcon::test_server::McRconServer;

    use super::*;

    #[test]
    fn list_replies_read_as_plain_words() {
        assert_eq!(
            describe_list("There are 1 of a max of 20 players online: Steve"),
            "Connected — 1 player online: Steve"
        );
        assert_eq!(
            describe_list("There are 0 of a max of 20 players online: "),
            "Connected — nobody is online"
        );
        assert_eq!(
            describe_list("There are 2 of a max of 20 players online: Steve, Alex"),
            "Connected — 2 players online: Steve, Alex"
        );
        assert_eq!(
            describe_list("Online: 3"),
            "Connected — the server says: Online: 3"
        );
    }

    #[tokio::test]
    async fn the_rcon_test_connects_refuses_and_finds_nothing() {
        let server = McRconServer::start("s3cret").await.unwrap();
        let addr = server.addr();
        let ok = test_rcon("127.0.0.1", addr.port(), "s3cret").await;
        assert!(ok.ok, "{ok:?}");
        assert_eq!(ok.message, "Connected — nobody is online");
        let bad = test_rcon("127.0.0.1", addr.port(), "wrong").await;
        assert_eq!(
            (bad.ok, bad.message.as_str()),
            (false, "The server refused the password")
        );
        server.stop().await;
        let gone = test_rcon("127.0.0.1", addr.port(), "s3cret").await;
        assert!(!gone.ok);
        assert_eq!(
            gone.message,
            format!(
                "Nothing answers on 127.0.0.1:{} — is `enable-rcon=true` in server.properties?",
                addr.port()
            )
        );
    }

    #[test]
    fn saving_keeps_secrets_out_of_the_profile_and_the_view() {
        let dir = tempfile_dir("save");
        let update = SettingsUpdate {
            rcon_host: "127.0.0.1".into(),
            rcon_port: 25580,
            rcon_password: Some("pw-123".into()),
            minecraft_player: "Steve".into(),
            master_volume: 0.5,
            sound_device: String::new(),
            sign_url: String::new(),
            sign_api_key: Some("key-9".into()),
            session_id: None,
            trust_sign_server: false,
        };
        let view = save(&dir, &update).unwrap();
        assert!(view.rcon_password_set && view.sign_api_key_set && !view.session_id_set);
        assert_eq!(
            (view.rcon_port, view.minecraft_player.as_str()),
            (25580, "Steve")
        );
        let profile_text = std::fs::read_to_string(dir.join("profile.json")).unwrap();
        assert!(!profile_text.contains("pw-123"));
        let shown = serde_json::to_string(&view).unwrap();
        assert!(!shown.contains("pw-123") && !shown.contains("key-9"));
        let (profile, _) = crate::engine::load_profile(&dir).unwrap();
        let cfg = rcon_config(&dir, &profile).unwrap();
        assert_eq!(
            (cfg.addr.as_str(), cfg.password.as_str()),
            ("127.0.0.1:25580", "pw-123")
        );
        // Saving again without a password keeps the saved one.
        let view = save(
            &dir,
            &SettingsUpdate {
                rcon_password: None,
                ..update.clone()
            },
        )
        .unwrap();
        assert!(view.rcon_password_set);
        let bad = save(
            &dir,
            &SettingsUpdate {
                minecraft_player: "a b".into(),
                ..update
            },
        )
        .unwrap_err();
        assert!(
            bad.message.starts_with("Minecraft player"),
            "{}",
            bad.message
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_connect_uses_the_saved_sign_server_and_key_unless_the_form_has_its_own() {
        let dir = tempfile_dir("connect");
        let stored = StoredSettings {
            sign_url: "https://sign.example".into(),
            ..StoredSettings::default()
        };
        stored.save(&dir).unwrap();
        secrets(&dir)
            .unwrap()
            .set(SecretKey::SignApiKey, Some("saved-key"))
            .unwrap();
        let req = |sign: Option<&str>, key: Option<&str>| crate::live::ConnectRequest {
            target: "@a".into(),
            sign_url: sign.map(str::to_string),
            api_key: key.map(str::to_string),
            web_url: None,
            session_id: None,
            trust_sign_server_with_session: false,
        };
        let filled = with_saved_sign_settings(&dir, req(None, Some(" ")));
        assert_eq!(filled.sign_url.as_deref(), Some("https://sign.example"));
        assert_eq!(filled.api_key.as_deref(), Some("saved-key"));
        // A saved session id stays home until the streamer trusts the sign server with it.
        secrets(&dir)
            .unwrap()
            .set(SecretKey::TiktokSessionId, Some("sess-1"))
            .unwrap();
        let untrusted = with_saved_sign_settings(&dir, req(None, None));
        assert!(untrusted.session_id.is_none() && !untrusted.trust_sign_server_with_session);
        StoredSettings {
            trust_sign_server: true,
            ..stored.clone()
        }
        .save(&dir)
        .unwrap();
        let trusted = with_saved_sign_settings(&dir, req(None, None));
        assert_eq!(trusted.session_id.as_deref(), Some("sess-1"));
        assert!(trusted.trust_sign_server_with_session);
        let own = with_saved_sign_settings(&dir, req(Some("http://127.0.0.1:9"), Some("k2")));
        assert_eq!(own.sign_url.as_deref(), Some("http://127.0.0.1:9"));
        assert_eq!(own.api_key.as_deref(), Some("k2"));
        let _ = std::fs::remove_dir_all(&dir);
    }

    fn tempfile_dir(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("lt-settings-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}
