//! The profile as the Mapping and Settings views edit it: read, save (checked by the engine's
//! own loader, with a backup of the previous file), import, export, backups, and the live
//! reload of the running engine.
//!
//! The window gets and sends the profile as JSON text rather than typed structs: the engine's
//! format grows (new fields, new trigger kinds) and the editor must carry what it does not
//! know yet through a save unchanged.

use std::path::{Path, PathBuf};

use livetrigger_engine::engine::{Profile, ProfileFile};
use livetrigger_engine::outputs::template::{self, TemplateEvent};
use serde::Serialize;
use serde_json::Value;
use tauri::{AppHandle, Manager, Runtime, State};
use ts_rs::TS;

use crate::error::{ErrorCode, IpcError};
use crate::paths::AppPaths;

/// The profile as the window edits it.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ProfileDoc {
    /// The profile, pretty JSON, secrets removed.
    pub json: String,
    /// Where the file is.
    pub path: String,
    /// Set when the file on disk is broken and the last good copy is shown instead.
    pub problem: Option<String>,
}

/// One automatic backup of the profile.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct BackupView {
    /// 1 = the newest.
    pub n: u32,
    pub path: String,
    /// When it was written, in milliseconds since the Unix epoch.
    pub modified_ms: f64,
    pub rules: u32,
    pub actions: u32,
}

/// The live preview of one command template.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct TemplatePreview {
    /// The command exactly as it would be sent for the sample viewer.
    pub command: Option<String>,
    pub bytes: u32,
    pub truncated: bool,
    /// The placeholders it uses, in order.
    pub placeholders: Vec<String>,
    /// Why it cannot be used, in plain words.
    pub error: Option<String>,
    /// The sample viewer's display name (hostile on purpose).
    pub sample_user: String,
}

fn file(data_dir: &Path) -> ProfileFile {
    ProfileFile::new(data_dir.join(crate::engine::PROFILE_FILE))
}

fn invalid(message: impl Into<String>) -> IpcError {
    IpcError::new(ErrorCode::InvalidInput, message)
}

/// Removes what must never leave the machine: passwords and keys.
pub fn strip_secrets(value: &mut Value) {
    if let Some(rcon) = value.get_mut("rcon").and_then(Value::as_object_mut) {
        rcon.remove("password");
    }
    if let Some(sign) = value.get_mut("sign").and_then(Value::as_object_mut) {
        sign.remove("apiKey");
    }
}

fn public_json(profile: &Profile) -> String {
    let mut value = serde_json::to_value(profile).unwrap_or(Value::Null);
    strip_secrets(&mut value);
    serde_json::to_string_pretty(&value).unwrap_or_default()
}

pub fn get(data_dir: &Path) -> Result<ProfileDoc, IpcError> {
    let f = file(data_dir);
    let (profile, problem) = crate::engine::load_profile(data_dir).map(|(p, _)| {
        let problem = f.load().err().map(|e| e.to_string());
        (p, problem)
    })?;
    Ok(ProfileDoc {
        json: public_json(&profile),
        path: f.path().display().to_string(),
        problem,
    })
}

/// Checks `json` with the engine's loader; the error names the field (`at rules[0]...`).
fn parse(json: &str) -> Result<(Profile, Value), IpcError> {
    let profile = Profile::from_json(json).map_err(|e| invalid(format!("Not saved: {e}")))?;
    let value: Value = serde_json::from_str(json).map_err(|e| invalid(e.to_string()))?;
    Ok((profile, value))
}

/// Saves a profile from the Mapping view. The parts Settings owns (RCON target, sound and
/// sign-server settings) are kept from the file, so a Mapping view opened before a settings
/// change cannot undo it.
pub fn save_mapping(data_dir: &Path, json: &str) -> Result<Profile, IpcError> {
    let (current, _) = crate::engine::load_profile(data_dir)?;
    let mut incoming: Value = serde_json::from_str(json)
        .map_err(|e| invalid(format!("Not saved: the profile is not valid JSON: {e}")))?;
    let current_value = serde_json::to_value(&current).unwrap_or(Value::Null);
    if let Some(obj) = incoming.as_object_mut() {
        for key in ["rcon", "sound", "sign"] {
            match current_value.get(key) {
                Some(v) => obj.insert(key.to_string(), v.clone()),
                None => obj.remove(key),
            };
        }
    }
    write(data_dir, &incoming.to_string())
}

fn write(data_dir: &Path, json: &str) -> Result<Profile, IpcError> {
    let (profile, _) = parse(json)?;
    file(data_dir)
        .save(&profile)
        .map_err(|e| invalid(format!("Not saved: {e}")))?;
    Ok(profile)
}

/// Imports a profile file's text: everything but secrets (an imported password is dropped;
/// the saved one stays in use).
pub fn import(data_dir: &Path, json: &str) -> Result<Profile, IpcError> {
    let mut value: Value = serde_json::from_str(json).map_err(|e| {
        invalid(format!(
            "Not imported: this file is not a LiveTrigger profile ({e})"
        ))
    })?;
    strip_secrets(&mut value);
    // The streamer's own secrets stay in the secrets file, which an import never touches.
    let (profile, _) = parse(&value.to_string())
        .map_err(|e| invalid(e.message.replacen("Not saved", "Not imported", 1)))?;
    file(data_dir)
        .save(&profile)
        .map_err(|e| invalid(format!("Not imported: {e}")))?;
    Ok(profile)
}

/// Imports the profile file at `path` (what the open dialog picked). Profiles are small; a
/// file much bigger than any profile is refused before it is read.
pub fn import_file(data_dir: &Path, path: &str) -> Result<Profile, IpcError> {
    const MAX_BYTES: u64 = 8 * 1024 * 1024;
    let path = Path::new(path.trim());
    if !path.is_absolute() {
        return Err(invalid(format!(
            "Not imported: give the full path of the file to read, not {:?}",
            path.display().to_string()
        )));
    }
    let unreadable =
        |e: std::io::Error| invalid(format!("Not imported: cannot read {}: {e}", path.display()));
    let size = std::fs::metadata(path).map_err(unreadable)?.len();
    if size > MAX_BYTES {
        return Err(invalid(format!(
            "Not imported: {} is {size} bytes, too big for a LiveTrigger profile",
            path.display()
        )));
    }
    let text = std::fs::read_to_string(path).map_err(unreadable)?;
    import(data_dir, &text)
}

/// Writes the profile without secrets to `path` (or a new file in the data folder's
/// `exports` folder) and returns where.
pub fn export(data_dir: &Path, path: Option<&str>) -> Result<PathBuf, IpcError> {
    let (profile, _) = crate::engine::load_profile(data_dir)?;
    let target = match path.map(str::trim).filter(|p| !p.is_empty()) {
        Some(p) if Path::new(p).is_absolute() => PathBuf::from(p),
        Some(p) => {
            return Err(invalid(format!(
                "Not exported: give the full path of the file to write, not {p:?}"
            )))
        }
        None => {
            let dir = data_dir.join("exports");
            std::fs::create_dir_all(&dir).map_err(|e| {
                IpcError::new(
                    ErrorCode::Path,
                    format!("cannot create {}: {e}", dir.display()),
                )
            })?;
            let stamp = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0);
            dir.join(format!("profile-{stamp}.json"))
        }
    };
    std::fs::write(&target, public_json(&profile)).map_err(|e| {
        IpcError::new(
            ErrorCode::Path,
            format!("cannot write {}: {e}", target.display()),
        )
    })?;
    Ok(target)
}

pub fn backups(data_dir: &Path) -> Vec<BackupView> {
    let f = file(data_dir);
    (1..=3u32)
        .filter_map(|n| {
            let path = f.backup_path(n as usize);
            let text = std::fs::read_to_string(&path).ok()?;
            let modified_ms = std::fs::metadata(&path)
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map(|d| d.as_millis() as f64)
                .unwrap_or(0.0);
            let (rules, actions) = match Profile::from_json(&text) {
                Ok(p) => (p.rules.len() as u32, p.actions.len() as u32),
                Err(_) => (0, 0),
            };
            Some(BackupView {
                n,
                path: path.display().to_string(),
                modified_ms,
                rules,
                actions,
            })
        })
        .collect()
}

pub fn restore(data_dir: &Path, n: u32) -> Result<Profile, IpcError> {
    let path = file(data_dir).backup_path(n as usize);
    let text =
        std::fs::read_to_string(&path).map_err(|_| invalid(format!("There is no backup {n}")))?;
    write(data_dir, &text)
}

/// The sample viewer of the live preview: every trick a nickname can play.
pub fn hostile_sample() -> TemplateEvent {
    TemplateEvent {
        user: "§4Bob \"the\" @a {\"text\":\"x\"}".into(),
        username: "bob_the_builder".into(),
        gift: Some("Rose".into()),
        count: Some(5),
        coins: Some(5),
        comment: Some("/op me; \"quoted\" \\ back".into()),
        likes: Some(100),
        viewers: Some(42),
    }
}

/// `player`: the profile's `{player}` (Settings → Minecraft).
pub fn preview(source: &str, player: &str) -> TemplatePreview {
    let sample = hostile_sample();
    match template::preview_for(source, &sample, 7, player) {
        Ok(p) => TemplatePreview {
            bytes: u32::try_from(p.bytes).unwrap_or(u32::MAX),
            command: Some(p.command),
            truncated: p.truncated,
            placeholders: p.slots.iter().map(|(f, _)| f.name().to_string()).collect(),
            error: None,
            sample_user: sample.user,
        },
        Err(e) => TemplatePreview {
            command: None,
            bytes: 0,
            truncated: false,
            placeholders: Vec::new(),
            error: Some(e.to_string()),
            sample_user: sample.user,
        },
    }
}

/// Applies a saved profile to the running engine (rules and actions at once; what is queued
/// stays queued). Not running yet: the next start reads the file.
pub async fn apply<R: Runtime>(app: &AppHandle<R>, profile: Profile) -> Result<(), IpcError> {
    let state = app.state::<crate::engine::EngineState>();
    if let Some(handle) = state.running_handle().await {
        handle.reload(profile).await.map_err(|e| {
            IpcError::new(
                ErrorCode::Internal,
                format!("saved, but the running engine did not take it: {e}"),
            )
        })?;
    }
    Ok(())
}

#[tauri::command]
pub fn profile_get(paths: State<'_, AppPaths>) -> Result<ProfileDoc, IpcError> {
    get(&paths.data_dir)
}

#[tauri::command]
pub async fn profile_save<R: Runtime>(
    app: AppHandle<R>,
    json: String,
) -> Result<ProfileDoc, IpcError> {
    let data_dir = app.state::<AppPaths>().data_dir.clone();
    let profile = save_mapping(&data_dir, &json)?;
    tracing::info!(
        rules = profile.rules.len(),
        actions = profile.actions.len(),
        "profile saved"
    );
    apply(&app, profile).await?;
    get(&data_dir)
}

#[tauri::command]
pub async fn profile_import<R: Runtime>(
    app: AppHandle<R>,
    json: String,
) -> Result<ProfileDoc, IpcError> {
    let data_dir = app.state::<AppPaths>().data_dir.clone();
    let profile = import(&data_dir, &json)?;
    apply(&app, profile).await?;
    get(&data_dir)
}

#[tauri::command]
pub async fn profile_import_file<R: Runtime>(
    app: AppHandle<R>,
    path: String,
) -> Result<ProfileDoc, IpcError> {
    let data_dir = app.state::<AppPaths>().data_dir.clone();
    let profile = import_file(&data_dir, &path)?;
    apply(&app, profile).await?;
    get(&data_dir)
}

#[tauri::command]
pub fn profile_export(
    paths: State<'_, AppPaths>,
    path: Option<String>,
) -> Result<String, IpcError> {
    export(&paths.data_dir, path.as_deref()).map(|p| p.display().to_string())
}

#[tauri::command]
pub fn profile_backups(paths: State<'_, AppPaths>) -> Result<Vec<BackupView>, IpcError> {
    Ok(backups(&paths.data_dir))
}

#[tauri::command]
pub async fn profile_restore<R: Runtime>(
    app: AppHandle<R>,
    n: u32,
) -> Result<ProfileDoc, IpcError> {
    let data_dir = app.state::<AppPaths>().data_dir.clone();
    let profile = restore(&data_dir, n)?;
    apply(&app, profile).await?;
    get(&data_dir)
}

/// Reads the profile file again (after an edit by hand) and applies it.
#[tauri::command]
pub async fn profile_reload<R: Runtime>(app: AppHandle<R>) -> Result<ProfileDoc, IpcError> {
    let data_dir = app.state::<AppPaths>().data_dir.clone();
    let profile = file(&data_dir)
        .load()
        .map_err(|e| invalid(format!("The profile file has a problem: {e}")))?;
    apply(&app, profile).await?;
    get(&data_dir)
}

#[tauri::command]
pub fn template_preview<R: Runtime>(app: AppHandle<R>, template: String) -> TemplatePreview {
    let data_dir = app.state::<AppPaths>().data_dir.clone();
    let player = crate::engine::load_profile(&data_dir)
        .map(|(p, _)| p.minecraft.player)
        .unwrap_or_else(|_| template::DEFAULT_PLAYER.to_string());
    preview(&template, &player)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("lt-profile-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn a_mapping_save_is_checked_backed_up_and_keeps_settings() {
        let d = dir("save");
        let doc = get(&d).unwrap();
        let mut value: Value = serde_json::from_str(&doc.json).unwrap();
        value["rcon"] = serde_json::json!({"host": "10.0.0.9", "port": 1});
        value["rules"][0]["actions"] = serde_json::json!(["no-such-action"]);
        let err = save_mapping(&d, &value.to_string()).unwrap_err();
        assert!(
            err.message.contains("rules[0].actions[0]"),
            "{}",
            err.message
        );

        value["rules"][0]["actions"] = serde_json::json!(["tnt"]);
        let saved = save_mapping(&d, &value.to_string()).unwrap();
        assert_eq!(saved.rules[0].actions, vec!["tnt".to_string()]);
        // The RCON target is Settings' business.
        assert_eq!(saved.rcon.unwrap().host, "127.0.0.1");
        assert!(file(&d).backup_path(1).exists());
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn export_and_import_carry_rules_but_never_secrets() {
        let d = dir("export");
        let (mut p, _) = crate::engine::load_profile(&d).unwrap();
        p.rcon.as_mut().unwrap().password = Some("hunter2".into());
        p.sign.api_key = Some("k-1".into());
        file(&d).save(&p).unwrap();
        let secrets = livetrigger_engine::secrets::SecretStore::open(&d).unwrap();
        secrets
            .set(
                livetrigger_engine::secrets::SecretKey::RconPassword,
                Some("hunter2"),
            )
            .unwrap();
        let out = export(&d, None).unwrap();
        let text = std::fs::read_to_string(&out).unwrap();
        assert!(!text.contains("hunter2") && !text.contains("k-1"));
        assert!(!get(&d).unwrap().json.contains("hunter2"));
        assert!(export(&d, Some("relative.json"))
            .unwrap_err()
            .message
            .contains("full path"));
        let chosen = d.join("chosen.json");
        assert_eq!(export(&d, chosen.to_str()).unwrap(), chosen);

        let mut value: Value = serde_json::from_str(&text).unwrap();
        value["rules"].as_array_mut().unwrap().pop();
        value["rcon"]["password"] = Value::from("from-the-file");
        let picked = d.join("picked.json");
        std::fs::write(&picked, value.to_string()).unwrap();
        assert!(import_file(&d, "picked.json")
            .unwrap_err()
            .message
            .contains("full path"));
        assert!(import_file(&d, d.join("missing.json").to_str().unwrap())
            .unwrap_err()
            .message
            .starts_with("Not imported: cannot read"));
        let imported = import_file(&d, picked.to_str().unwrap()).unwrap();
        assert_eq!(imported.rules.len(), p.rules.len() - 1);
        // The file's password is ignored; the streamer's own stays in the secrets file.
        assert!(imported.rcon.unwrap().password.is_none());
        assert_eq!(
            livetrigger_engine::secrets::SecretStore::open(&d)
                .unwrap()
                .get(livetrigger_engine::secrets::SecretKey::RconPassword)
                .unwrap()
                .expose(),
            "hunter2"
        );
        assert!(import(&d, "{\"rules\": []}")
            .unwrap_err()
            .message
            .starts_with("Not imported"));
        assert_eq!(backups(&d).len(), 2);
        let restored = restore(&d, 1).unwrap();
        assert_eq!(restored.rules.len(), p.rules.len());
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn the_preview_renders_for_a_hostile_viewer() {
        let p = preview("tellraw @a {\"text\":\"{user} sent {count}\"}", "@p");
        let cmd = p.command.unwrap();
        assert!(cmd.starts_with("tellraw @a {\"text\":\""), "{cmd}");
        assert!(!cmd.contains("§"), "colour codes are removed: {cmd}");
        assert_eq!(p.placeholders, vec!["user", "count"]);
        let bad = preview("say {nick}", "@p");
        assert!(bad.command.is_none() && bad.error.is_some());
        let at = preview(
            "execute at {player} run summon minecraft:tnt ~ ~ ~",
            "Steve_01",
        );
        assert_eq!(
            at.command.as_deref(),
            Some("execute at Steve_01 run summon minecraft:tnt ~ ~ ~")
        );
    }
}
