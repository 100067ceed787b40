//! Profiles: the one JSON file the GUI and the CLI both read, with a schema version.
//!
//! Reading goes: JSON syntax → schema version (older files are migrated step by step, newer
//! ones refused) → typed (unknown fields are errors, reported with their JSON path) → checks
//! across the file (action and lane references, templates). [`ProfileFile`] adds the safety
//! net around the file: the last profile that loaded is kept beside it, and every save
//! rotates a few backups.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::item::ActionBook;
use super::rules::{Action, LaneConfig, Rule, Step, Trigger};
use crate::outputs::template::{is_valid_player, DEFAULT_PLAYER};
pub use crate::secrets::Secret;
use crate::secrets::{SecretKey, SecretStore};

/// The schema version this build writes and reads natively.
pub const SCHEMA_VERSION: u32 = 2;
/// Backups kept by [`ProfileFile::save`].
const BACKUPS: usize = 3;

/// A migration from version `n` to `n + 1` works on raw JSON, so it can rename or reshape
/// anything. `MIGRATIONS[i]` upgrades version `i + 1`.
type Migration = fn(Value) -> Result<Value, String>;
const MIGRATIONS: &[Migration] = &[v1_to_v2];

/// Version 2 names what a coin rule measures (and spells `likes`' `perUser` as documented): version 1's `giftCoins` `min`/`max` were the
/// value of each unit, now `unitCoinsAtLeast`/`unitCoinsAtMost` (beside the new
/// `streakCoinsAtLeast`). Version 1 read a missing `min` as 0.
fn v1_to_v2(mut value: Value) -> Result<Value, String> {
    let Some(rules) = value.get_mut("rules").and_then(Value::as_array_mut) else {
        return Ok(value);
    };
    for (i, rule) in rules.iter_mut().enumerate() {
        let Some(trigger) = rule.get_mut("trigger").and_then(Value::as_object_mut) else {
            continue;
        };
        if trigger.get("type").and_then(Value::as_str) == Some("likes") {
            // Version 1 read this one field in snake case (a serde detail), against its docs.
            if let Some(n) = trigger.remove("per_user") {
                trigger.insert("perUser".into(), n);
            }
            // Version 1 ran the rule once per threshold crossed, `{count}` = the message's
            // likes; a migrated profile keeps doing so (its commands were written for it).
            if let Some(rule) = rule.as_object_mut() {
                rule.insert("runPerThreshold".into(), Value::Bool(true));
            }
            continue;
        }
        if trigger.get("type").and_then(Value::as_str) != Some("giftCoins") {
            continue;
        }
        let min = trigger.remove("min").unwrap_or(Value::from(0));
        if !min.is_u64() {
            return Err(format!("rules[{i}].trigger.min must be a whole number"));
        }
        trigger.insert("unitCoinsAtLeast".into(), min);
        if let Some(max) = trigger.remove("max") {
            trigger.insert("unitCoinsAtMost".into(), max);
        }
    }
    Ok(value)
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ProfileError {
    #[error("cannot read {path}: {reason}")]
    Io { path: PathBuf, reason: String },
    #[error("not valid JSON at line {line}, column {column}: {reason}")]
    Syntax {
        line: usize,
        column: usize,
        reason: String,
    },
    #[error("at {path}: {reason}")]
    Invalid { path: String, reason: String },
    #[error("this profile is schema version {found}; this version of LiveTrigger reads up to {supported}: update LiveTrigger")]
    TooNew { found: u64, supported: u32 },
    #[error("migrating the profile from schema version {from}: {reason}")]
    Migration { from: u64, reason: String },
}

fn invalid(path: impl Into<String>, reason: impl Into<String>) -> ProfileError {
    ProfileError::Invalid {
        path: path.into(),
        reason: reason.into(),
    }
}

/// Where the Minecraft server's RCON listens.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RconSettings {
    #[serde(default = "localhost")]
    pub host: String,
    #[serde(default = "rcon_port")]
    pub port: u16,
    /// Read from old profiles only: the password lives in the secrets file
    /// ([`crate::secrets`]); [`ProfileFile::move_secrets`] moves it there. Never written.
    #[serde(default, skip_serializing)]
    pub password: Option<Secret>,
}

fn localhost() -> String {
    "127.0.0.1".into()
}

fn rcon_port() -> u16 {
    25575
}

impl RconSettings {
    pub fn addr(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct SoundSettings {
    /// Relative sound files are looked up here (relative to the profile file).
    pub folder: Option<String>,
    pub master_volume: f32,
}

impl Default for SoundSettings {
    fn default() -> Self {
        SoundSettings {
            folder: None,
            master_volume: 1.0,
        }
    }
}

/// The streamer's side of Minecraft.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct MinecraftSettings {
    /// The streamer's player: a name or a selector. It fills `{player}` in commands, so
    /// `execute at {player} run summon ...` lands next to the streamer instead of at the world
    /// spawn, where RCON commands run.
    pub player: String,
}

impl Default for MinecraftSettings {
    fn default() -> Self {
        MinecraftSettings {
            player: DEFAULT_PLAYER.into(),
        }
    }
}

impl MinecraftSettings {
    pub fn is_default(&self) -> bool {
        *self == MinecraftSettings::default()
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct SignSettings {
    /// An Euler-compatible sign server; unset: the default one.
    pub url: Option<String>,
    /// Read from old profiles only, like `rcon.password`: the key lives in the secrets file.
    #[serde(skip_serializing)]
    pub api_key: Option<Secret>,
}

/// Everything a streamer configures.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Profile {
    pub schema_version: u32,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rcon: Option<RconSettings>,
    #[serde(default)]
    pub minecraft: MinecraftSettings,
    #[serde(default)]
    pub sound: SoundSettings,
    #[serde(default)]
    pub sign: SignSettings,
    #[serde(default)]
    pub lanes: Vec<LaneConfig>,
    #[serde(default)]
    pub actions: Vec<Action>,
    #[serde(default)]
    pub rules: Vec<Rule>,
}

impl Default for Profile {
    fn default() -> Self {
        Profile {
            schema_version: SCHEMA_VERSION,
            name: String::new(),
            rcon: None,
            minecraft: MinecraftSettings::default(),
            sound: SoundSettings::default(),
            sign: SignSettings::default(),
            lanes: vec![LaneConfig::minecraft(), LaneConfig::sound()],
            actions: Vec::new(),
            rules: Vec::new(),
        }
    }
}

impl Profile {
    /// Reads and checks a profile.
    pub fn from_json(text: &str) -> Result<Profile, ProfileError> {
        let value: Value = serde_json::from_str(text).map_err(|e| ProfileError::Syntax {
            line: e.line(),
            column: e.column(),
            reason: e.to_string(),
        })?;
        let value = migrate(value)?;
        let mut profile: Profile = serde_path_to_error::deserialize(value).map_err(|e| {
            let path = e.path().to_string();
            invalid(path, e.into_inner().to_string())
        })?;
        profile.add_default_lanes();
        profile.check()?;
        Ok(profile)
    }

    pub fn to_json(&self) -> String {
        // A profile is plain data: serializing cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// The two lanes every profile has, unless it configures them itself.
    fn add_default_lanes(&mut self) {
        for default in [LaneConfig::minecraft(), LaneConfig::sound()] {
            if !self.lanes.iter().any(|l| l.name == default.name) {
                self.lanes.push(default);
            }
        }
    }

    /// The lane settings of `name`.
    pub fn lane(&self, name: &str) -> Option<&LaneConfig> {
        self.lanes.iter().find(|l| l.name == name)
    }

    fn check(&self) -> Result<(), ProfileError> {
        let mut lanes = HashSet::new();
        for (i, l) in self.lanes.iter().enumerate() {
            if l.name.trim().is_empty() {
                return Err(invalid(format!("lanes[{i}].name"), "a lane needs a name"));
            }
            if !lanes.insert(l.name.as_str()) {
                return Err(invalid(
                    format!("lanes[{i}].name"),
                    format!("lane {:?} is defined twice", l.name),
                ));
            }
            if l.max_depth == 0 {
                return Err(invalid(
                    format!("lanes[{i}].maxDepth"),
                    "must be at least 1",
                ));
            }
            for (field, ms) in [
                ("maxAgeMs", l.max_age_ms),
                ("unpaidMaxAgeMs", l.unpaid_max_age_ms),
            ] {
                if ms == 0 {
                    return Err(invalid(
                        format!("lanes[{i}].{field}"),
                        "must be at least 1 (items would expire before they could run)",
                    ));
                }
            }
        }
        let mut actions = HashSet::new();
        for (i, a) in self.actions.iter().enumerate() {
            if a.id.trim().is_empty() {
                return Err(invalid(format!("actions[{i}].id"), "an action needs an id"));
            }
            if !actions.insert(a.id.as_str()) {
                return Err(invalid(
                    format!("actions[{i}].id"),
                    format!("action {:?} is defined twice", a.id),
                ));
            }
            if a.steps.is_empty() {
                return Err(invalid(
                    format!("actions[{i}].steps"),
                    "an action needs at least one step",
                ));
            }
            if !lanes.contains(a.lane()) {
                return Err(invalid(
                    format!("actions[{i}].lane"),
                    format!("no lane {:?}; define it under \"lanes\"", a.lane()),
                ));
            }
            for (j, s) in a.steps.iter().enumerate() {
                if let Step::Sound { volume, file } = s {
                    if !(0.0..=2.0).contains(volume) {
                        return Err(invalid(
                            format!("actions[{i}].steps[{j}].volume"),
                            "must be between 0 and 2",
                        ));
                    }
                    if file.trim().is_empty() {
                        return Err(invalid(
                            format!("actions[{i}].steps[{j}].file"),
                            "a sound needs a file",
                        ));
                    }
                }
            }
        }
        if !(0.0..=2.0).contains(&self.sound.master_volume) {
            return Err(invalid("sound.masterVolume", "must be between 0 and 2"));
        }
        if !is_valid_player(&self.minecraft.player) {
            return Err(invalid(
                "minecraft.player",
                format!(
                    "{:?} is neither a Minecraft name (3 to 16 letters, digits or _) nor a selector such as @p or @a[tag=streamer]",
                    self.minecraft.player
                ),
            ));
        }
        if let Err((action, step, e)) =
            ActionBook::with_player(&self.actions, &self.minecraft.player)
        {
            let i = self
                .actions
                .iter()
                .position(|a| a.id == action)
                .unwrap_or(0);
            return Err(invalid(
                format!("actions[{i}].steps[{step}].template"),
                e.to_string(),
            ));
        }
        let mut rules = HashSet::new();
        for (i, r) in self.rules.iter().enumerate() {
            if r.id.trim().is_empty() {
                return Err(invalid(format!("rules[{i}].id"), "a rule needs an id"));
            }
            if !rules.insert(r.id.as_str()) {
                return Err(invalid(
                    format!("rules[{i}].id"),
                    format!("rule {:?} is defined twice", r.id),
                ));
            }
            for (j, a) in r.actions.iter().enumerate() {
                if !actions.contains(a.as_str()) {
                    return Err(invalid(
                        format!("rules[{i}].actions[{j}]"),
                        format!("no action {a:?}"),
                    ));
                }
            }
            let bad = |field: &str, why: &str| {
                invalid(format!("rules[{i}].trigger.{field}"), why.to_owned())
            };
            match &r.trigger {
                Trigger::Gift {
                    name: None,
                    id: None,
                } => {
                    return Err(bad("name", "give the gift's name or id"));
                }
                Trigger::GiftCoins {
                    unit_coins_at_least: None,
                    unit_coins_at_most: None,
                    streak_coins_at_least: None,
                } => {
                    return Err(bad(
                        "unitCoinsAtLeast",
                        "give unitCoinsAtLeast / unitCoinsAtMost (each unit's value) or streakCoinsAtLeast (the whole streak's value)",
                    ));
                }
                Trigger::GiftCoins {
                    unit_coins_at_least: Some(min),
                    unit_coins_at_most: Some(max),
                    ..
                } if max < min => {
                    return Err(bad("unitCoinsAtMost", "must not be below unitCoinsAtLeast"));
                }
                Trigger::Likes { every, per_user } => {
                    if every.is_none() && per_user.is_none() {
                        return Err(bad("every", "give every and/or perUser"));
                    }
                    if *every == Some(0) || *per_user == Some(0) {
                        return Err(bad("every", "must be at least 1"));
                    }
                }
                Trigger::ChatCommand { command }
                    if command.trim().is_empty() || command.contains(char::is_whitespace) =>
                {
                    return Err(bad("command", "one word, e.g. !tnt"));
                }
                Trigger::ViewerMilestone { every: 0 } => {
                    return Err(bad("every", "must be at least 1"))
                }
                _ => {}
            }
            if r.run_per_threshold && !matches!(r.trigger, Trigger::Likes { .. }) {
                return Err(invalid(
                    format!("rules[{i}].runPerThreshold"),
                    "only for likes rules",
                ));
            }
            if r.max_per_streak == 0 {
                return Err(invalid(
                    format!("rules[{i}].maxPerStreak"),
                    "must be at least 1",
                ));
            }
        }
        Ok(())
    }
}

/// Two rules for one gift, one naming it and one keyed by its id. Both load; the rule that
/// names the gift wins (the seed's order), so the id rule never fires for this gift.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TriggerConflict {
    pub gift: String,
    pub gift_id: u64,
    /// The rule that names the gift: it fires.
    pub winner: String,
    /// The rule keyed by the id: silent for this gift while the winner exists.
    pub loser: String,
    pub message: String,
}

impl Profile {
    /// What loads but deserves the streamer's attention: name-vs-id conflicts and rule
    /// options that do not do what they may seem to.
    pub fn warnings(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .trigger_conflicts()
            .into_iter()
            .map(|c| c.message)
            .collect();
        for r in self.rules.iter().filter(|r| r.enabled) {
            if r.trigger.is_streak_value() && r.streak_mode.is_some() {
                out.push(format!(
                    "rule {:?}: streakMode is ignored: a streakCoinsAtLeast rule fires once per streak, when the streak's value first reaches the threshold",
                    r.id
                ));
            }
            if r.run_per_threshold {
                out.push(format!(
                    "rule {:?}: runPerThreshold is set (kept from a schema version 1 profile): one run per like threshold crossed, with {{count}} = the likes in the message; remove it for one run per like message with {{count}} = thresholds crossed",
                    r.id
                ));
            }
        }
        out
    }

    /// Name-vs-id conflicts, knowing gift ids from the built-in catalogue and from rules that
    /// give both a name and an id.
    pub fn trigger_conflicts(&self) -> Vec<TriggerConflict> {
        self.trigger_conflicts_with(&tiktok_live::gifts::builtin())
    }

    /// Like [`Profile::trigger_conflicts`] with the room's own catalogue.
    pub fn trigger_conflicts_with(
        &self,
        catalogue: &[tiktok_live::gifts::CatalogGift],
    ) -> Vec<TriggerConflict> {
        let lower = |s: &str| s.trim().to_lowercase();
        let enabled = || self.rules.iter().filter(|r| r.enabled);
        let mut out = Vec::new();
        for loser in enabled() {
            let Trigger::Gift {
                name: own,
                id: Some(gift_id),
            } = &loser.trigger
            else {
                continue;
            };
            let own = own.as_deref().map(lower);
            let mut names: Vec<String> = catalogue
                .iter()
                .filter(|g| g.id == *gift_id)
                .map(|g| lower(&g.name))
                .collect();
            for r in enabled() {
                if let Trigger::Gift {
                    name: Some(n),
                    id: Some(i),
                } = &r.trigger
                {
                    if i == gift_id {
                        names.push(lower(n));
                    }
                }
            }
            names.sort();
            names.dedup();
            for name in names.iter().filter(|n| Some(*n) != own.as_ref()) {
                for winner in enabled().filter(|r| r.id != loser.id) {
                    let Trigger::Gift { name: Some(n), .. } = &winner.trigger else {
                        continue;
                    };
                    if lower(n) != *name
                        || out
                            .iter()
                            .any(|c: &TriggerConflict| c.winner == winner.id && c.loser == loser.id)
                    {
                        continue;
                    }
                    out.push(TriggerConflict {
                        gift: n.trim().to_owned(),
                        gift_id: *gift_id,
                        winner: winner.id.clone(),
                        loser: loser.id.clone(),
                        message: format!(
                            "rules {:?} (gift name {:?}) and {:?} (gift id {gift_id}) are for the same gift: {:?} wins; {:?} fires for it only while no rule names it",
                            winner.id,
                            n.trim(),
                            loser.id,
                            winner.id,
                            loser.id
                        ),
                    });
                }
            }
        }
        out
    }
}

fn migrate(mut value: Value) -> Result<Value, ProfileError> {
    let Some(found) = value.get("schemaVersion") else {
        return Err(invalid(
            "schemaVersion",
            "missing; this file is not a LiveTrigger profile",
        ));
    };
    let Some(mut version) = found.as_u64() else {
        return Err(invalid("schemaVersion", "must be a whole number"));
    };
    if version == 0 {
        return Err(invalid("schemaVersion", "must be at least 1"));
    }
    if version > u64::from(SCHEMA_VERSION) {
        return Err(ProfileError::TooNew {
            found: version,
            supported: SCHEMA_VERSION,
        });
    }
    while version < u64::from(SCHEMA_VERSION) {
        let step = usize::try_from(version - 1)
            .ok()
            .and_then(|i| MIGRATIONS.get(i))
            .ok_or(ProfileError::Migration {
                from: version,
                reason: "no migration known".into(),
            })?;
        value = step(value).map_err(|reason| ProfileError::Migration {
            from: version,
            reason,
        })?;
        version += 1;
        if let Some(obj) = value.as_object_mut() {
            obj.insert("schemaVersion".into(), Value::from(version));
        }
    }
    Ok(value)
}

/// A profile on disk, with its last good copy and rotating backups.
#[derive(Clone, Debug)]
pub struct ProfileFile {
    path: PathBuf,
}

impl ProfileFile {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        ProfileFile { path: path.into() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `<file>.last-good`: the last content that loaded.
    pub fn last_good_path(&self) -> PathBuf {
        with_suffix(&self.path, ".last-good")
    }

    /// `<file>.bak.N`, 1 = newest.
    pub fn backup_path(&self, n: usize) -> PathBuf {
        with_suffix(&self.path, &format!(".bak.{n}"))
    }

    /// Loads the profile; on success its content becomes the last good copy.
    pub fn load(&self) -> Result<Profile, ProfileError> {
        let text = fs::read_to_string(&self.path).map_err(|e| ProfileError::Io {
            path: self.path.clone(),
            reason: e.to_string(),
        })?;
        let profile = Profile::from_json(&text)?;
        let (clean, _) = strip_secrets(&text);
        if let Err(e) = write_atomic(&self.last_good_path(), &clean) {
            tracing::warn!(error = %e, "cannot keep a copy of the last good profile");
        }
        Ok(profile)
    }

    /// Loads the profile, or when it is broken, the last good copy along with the error
    /// (so the app keeps running with what worked and shows what is wrong).
    pub fn load_or_last_good(&self) -> Result<(Profile, Option<ProfileError>), ProfileError> {
        match self.load() {
            Ok(p) => Ok((p, None)),
            Err(e) => {
                let last = fs::read_to_string(self.last_good_path())
                    .ok()
                    .and_then(|t| Profile::from_json(&t).ok());
                match last {
                    Some(p) => Ok((p, Some(e))),
                    None => Err(e),
                }
            }
        }
    }

    /// Saves `profile`, first rotating the current file into the backups.
    pub fn save(&self, profile: &Profile) -> Result<(), ProfileError> {
        let io = |e: std::io::Error| ProfileError::Io {
            path: self.path.clone(),
            reason: e.to_string(),
        };
        profile.check()?;
        if self.path.exists() {
            for n in (1..BACKUPS).rev() {
                let from = self.backup_path(n);
                if from.exists() {
                    fs::rename(&from, self.backup_path(n + 1)).map_err(io)?;
                }
            }
            // A hand-edited file may still hold a secret: backups never keep one.
            let current = fs::read_to_string(&self.path).map_err(io)?;
            write_atomic(&self.backup_path(1), &strip_secrets(&current).0).map_err(io)?;
        }
        let text = profile.to_json();
        write_atomic(&self.path, &text).map_err(io)?;
        write_atomic(&self.last_good_path(), &text).map_err(io)
    }
}

impl ProfileFile {
    /// Moves secrets found in the profile (an old or hand-edited one) to `secrets`, and
    /// rewrites the profile, its last good copy and its backups without them. A value in the
    /// profile itself wins over one already stored (the user just typed it); values only left
    /// in a backup fill a secret that is not set. Returns what was moved.
    pub fn move_secrets(&self, secrets: &SecretStore) -> Result<Vec<SecretKey>, ProfileError> {
        let mut files = vec![self.path.clone(), self.last_good_path()];
        files.extend((1..=BACKUPS + 1).map(|n| self.backup_path(n)));
        let mut moved = Vec::new();
        for (i, file) in files.iter().enumerate() {
            let Ok(text) = fs::read_to_string(file) else {
                continue;
            };
            let (clean, found) = strip_secrets(&text);
            if found.is_empty() {
                continue;
            }
            for (key, value) in found {
                if i == 0 || !secrets.is_set(key) {
                    secrets
                        .set(key, Some(&value))
                        .map_err(|e| ProfileError::Io {
                            path: secrets.path().to_owned(),
                            reason: e.to_string(),
                        })?;
                    if !moved.contains(&key) {
                        moved.push(key);
                    }
                }
            }
            write_atomic(file, &clean).map_err(|e| ProfileError::Io {
                path: file.clone(),
                reason: e.to_string(),
            })?;
            tracing::info!(file = %file.display(), "secrets moved out of the profile file");
        }
        Ok(moved)
    }
}

/// The profile text without `rcon.password` and `sign.apiKey`, and the values removed
/// (empty ones are dropped silently). Text that is not a JSON object is returned unchanged.
fn strip_secrets(text: &str) -> (String, Vec<(SecretKey, String)>) {
    let Ok(mut value) = serde_json::from_str::<Value>(text) else {
        return (text.to_owned(), Vec::new());
    };
    let mut found = Vec::new();
    for (section, field, key) in [
        ("rcon", "password", SecretKey::RconPassword),
        ("sign", "apiKey", SecretKey::SignApiKey),
    ] {
        let removed = value
            .get_mut(section)
            .and_then(Value::as_object_mut)
            .and_then(|o| o.remove(field));
        match removed {
            None => {}
            Some(Value::String(s)) if !s.is_empty() => found.push((key, s)),
            Some(_) => found.push((key, String::new())),
        }
    }
    if found.is_empty() {
        return (text.to_owned(), found);
    }
    found.retain(|(_, v)| !v.is_empty());
    // Keep the file in the app's own layout when it is a valid profile.
    let clean = match serde_json::to_string(&value)
        .ok()
        .and_then(|t| Profile::from_json(&t).ok())
    {
        Some(p) => p.to_json(),
        None => serde_json::to_string_pretty(&value).unwrap_or_default(),
    };
    (clean, found)
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// Writes through a temporary file and a rename, so a crash never leaves half a profile.
fn write_atomic(path: &Path, text: &str) -> std::io::Result<()> {
    let tmp = with_suffix(path, ".tmp");
    fs::write(&tmp, text)?;
    fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::rules::{MINECRAFT_LANE, SOUND_LANE};

    fn minimal() -> &'static str {
        r#"{"schemaVersion": 1, "actions": [{"id": "a", "steps": [{"type": "command", "template": "say hi"}]}],
            "rules": [{"id": "r", "trigger": {"type": "follow"}, "actions": ["a"]}]}"#
    }

    #[test]
    fn a_minimal_profile_gets_the_default_lanes() {
        let p = Profile::from_json(minimal()).unwrap();
        assert_eq!(p.lane(MINECRAFT_LANE), Some(&LaneConfig::minecraft()));
        assert_eq!(p.lane(SOUND_LANE), Some(&LaneConfig::sound()));
        let again = Profile::from_json(&p.to_json()).unwrap();
        assert_eq!(again, p);
    }

    #[test]
    fn errors_name_the_json_path() {
        let cases: &[(&str, &str)] = &[
            (
                r#"{"schemaVersion": 1, "rules": [{"id": "r", "trigger": {"type": "folow"}, "actions": []}]}"#,
                "rules[0].trigger.type",
            ),
            (
                r#"{"schemaVersion": 1, "rules": [{"id": "r", "trigger": {"type": "follow"}, "actions": [], "colour": 1}]}"#,
                "rules[0].colour",
            ),
            (
                r#"{"schemaVersion": 1, "rules": [{"id": "r", "trigger": {"type": "follow"}, "actions": ["nope"]}]}"#,
                "rules[0].actions[0]",
            ),
            (
                r#"{"schemaVersion": 1, "actions": [{"id": "a", "steps": [{"type": "command", "template": "say {nick}"}]}]}"#,
                "actions[0].steps[0].template",
            ),
            (
                r#"{"schemaVersion": 1, "actions": [{"id": "a", "lane": "x", "steps": [{"type": "delay", "ms": 1}]}]}"#,
                "actions[0].lane",
            ),
            (
                r#"{"schemaVersion": 1, "lanes": [{"name": "minecraft", "maxDepth": "big"}]}"#,
                "lanes[0].maxDepth",
            ),
            (
                r#"{"schemaVersion": 2, "lanes": [{"name": "minecraft", "unpaidMaxAgeMs": 0}]}"#,
                "lanes[0].unpaidMaxAgeMs",
            ),
            (r#"{"rules": []}"#, "schemaVersion"),
        ];
        for (text, path) in cases {
            match Profile::from_json(text) {
                Err(ProfileError::Invalid { path: got, .. }) => assert_eq!(&got, path, "{text}"),
                other => panic!("{text}: {other:?}"),
            }
        }
    }

    #[test]
    fn newer_schema_is_refused_and_syntax_errors_have_a_position() {
        assert_eq!(
            Profile::from_json(r#"{"schemaVersion": 9}"#),
            Err(ProfileError::TooNew {
                found: 9,
                supported: SCHEMA_VERSION
            })
        );
        assert!(matches!(
            Profile::from_json("{\n  \"schemaVersion\": 1,,\n}"),
            Err(ProfileError::Syntax { line: 2, .. })
        ));
    }

    #[test]
    fn secrets_in_an_old_profile_move_to_the_secrets_file_and_out_of_every_copy() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let secrets = SecretStore::open(&data).unwrap();
        let file = ProfileFile::new(dir.path().join("p.json"));
        let old = r#"{"schemaVersion": 1, "rcon": {"host": "mc", "port": 25575, "password": "s3cret-pw"},
            "sign": {"url": "http://sign", "apiKey": "k3y-value"}}"#;
        fs::write(file.path(), old).unwrap();
        // An old backup from before the move, holding an older password.
        fs::write(
            file.backup_path(2),
            r#"{"schemaVersion": 1, "rcon": {"password": "older-pw"}}"#,
        )
        .unwrap();
        let loaded = file.load().unwrap();
        assert!(
            !format!("{loaded:?}").contains("s3cret-pw"),
            "Debug redacts"
        );
        assert!(!loaded.to_json().contains("s3cret-pw"), "never serialized");
        assert!(!fs::read_to_string(file.last_good_path())
            .unwrap()
            .contains("s3cret-pw"));
        let moved = file.move_secrets(&secrets).unwrap();
        assert_eq!(moved, vec![SecretKey::RconPassword, SecretKey::SignApiKey]);
        assert_eq!(
            secrets.get(SecretKey::RconPassword).unwrap().expose(),
            "s3cret-pw",
            "the profile's own value wins over a backup's"
        );
        assert_eq!(
            secrets.get(SecretKey::SignApiKey).unwrap().expose(),
            "k3y-value"
        );
        for f in [
            file.path().to_owned(),
            file.last_good_path(),
            file.backup_path(2),
        ] {
            let text = fs::read_to_string(&f).unwrap();
            assert!(
                !text.contains("pw") && !text.contains("k3y") && !text.contains("password"),
                "{}: {text}",
                f.display()
            );
        }
        let p = file.load().unwrap();
        assert_eq!(p.rcon.as_ref().unwrap().host, "mc");
        assert_eq!(p.sign.url.as_deref(), Some("http://sign"));
        assert!(p.rcon.unwrap().password.is_none());
        // Saving a hand-edited file with a password again: the backup never keeps it.
        fs::write(file.path(), old).unwrap();
        file.save(&Profile::default()).unwrap();
        assert!(!fs::read_to_string(file.backup_path(1))
            .unwrap()
            .contains("s3cret-pw"));
        assert_eq!(file.move_secrets(&secrets).unwrap(), vec![]);
    }

    #[test]
    fn a_broken_file_falls_back_to_the_last_good_one_and_saves_rotate_backups() {
        let dir = tempfile::tempdir().unwrap();
        let file = ProfileFile::new(dir.path().join("p.json"));
        fs::write(file.path(), minimal()).unwrap();
        let good = file.load().unwrap();
        fs::write(file.path(), r#"{"schemaVersion": 1, "rules": 5}"#).unwrap();
        let (p, err) = file.load_or_last_good().unwrap();
        assert_eq!(p, good);
        assert!(matches!(err, Some(ProfileError::Invalid { ref path, .. }) if path == "rules"));

        for n in 0..5 {
            let mut p = good.clone();
            p.name = format!("v{n}");
            file.save(&p).unwrap();
        }
        assert_eq!(file.load().unwrap().name, "v4");
        let b1 = Profile::from_json(&fs::read_to_string(file.backup_path(1)).unwrap()).unwrap();
        assert_eq!(b1.name, "v3");
        assert!(file.backup_path(3).exists());
        assert!(!file.backup_path(4).exists());
    }

    #[test]
    fn version_1_coin_rules_are_migrated_to_the_named_fields() {
        let v1 = r#"{"schemaVersion": 1,
            "actions": [{"id": "a", "steps": [{"type": "command", "template": "say hi"}]}],
            "rules": [
              {"id": "range", "trigger": {"type": "giftCoins", "min": 100, "max": 500}, "actions": ["a"]},
              {"id": "any", "trigger": {"type": "giftCoins"}, "actions": ["a"]},
              {"id": "f", "trigger": {"type": "follow"}, "actions": ["a"]},
              {"id": "l", "trigger": {"type": "likes", "per_user": 50}, "actions": ["a"]}
            ]}"#;
        let p = Profile::from_json(v1).unwrap();
        assert_eq!(
            p.rules[3].trigger,
            Trigger::Likes {
                every: None,
                per_user: Some(50)
            }
        );
        assert!(p.to_json().contains("\"perUser\": 50"));
        // Version 1's meaning of a likes rule is kept, and said.
        assert!(p.rules[3].run_per_threshold);
        assert!(!p.rules[2].run_per_threshold);
        assert!(p.to_json().contains("\"runPerThreshold\": true"));
        assert!(p
            .warnings()
            .iter()
            .any(|w| w.contains("\"l\": runPerThreshold")));
        assert_eq!(p.schema_version, SCHEMA_VERSION);
        assert_eq!(
            p.rules[0].trigger,
            Trigger::GiftCoins {
                unit_coins_at_least: Some(100),
                unit_coins_at_most: Some(500),
                streak_coins_at_least: None
            }
        );
        assert_eq!(
            p.rules[1].trigger,
            Trigger::GiftCoins {
                unit_coins_at_least: Some(0),
                unit_coins_at_most: None,
                streak_coins_at_least: None
            }
        );
        let text = p.to_json();
        assert!(text.contains("\"unitCoinsAtLeast\": 100"), "{text}");
        assert_eq!(Profile::from_json(&text).unwrap(), p);
        // The old names are not accepted in a version 2 file.
        let v2 = v1.replace("\"schemaVersion\": 1", "\"schemaVersion\": 2");
        let err = Profile::from_json(&v2);
        assert!(
            matches!(
                &err,
                Err(ProfileError::Invalid { path, reason })
                    if path.starts_with("rules[0].trigger") && reason.contains("unknown field")
            ),
            "{err:?}"
        );
        // A coin rule must say what it measures.
        let empty = r#"{"schemaVersion": 2,
            "actions": [{"id": "a", "steps": [{"type": "command", "template": "say hi"}]}],
            "rules": [{"id": "r", "trigger": {"type": "giftCoins"}, "actions": ["a"]}]}"#;
        assert!(matches!(
            Profile::from_json(empty),
            Err(ProfileError::Invalid { ref path, .. }) if path == "rules[0].trigger.unitCoinsAtLeast"
        ));
    }

    #[test]
    fn the_player_setting_is_checked_and_fills_player() {
        let text = r#"{"schemaVersion": 2, "minecraft": {"player": "Steve Jobs"}}"#;
        assert!(matches!(
            Profile::from_json(text),
            Err(ProfileError::Invalid { ref path, .. }) if path == "minecraft.player"
        ));
        let p = Profile::from_json(minimal()).unwrap();
        assert_eq!(p.minecraft.player, "@p");
        let text = r#"{"schemaVersion": 2, "minecraft": {"player": "Steve_01"},
            "actions": [{"id": "a", "steps": [{"type": "command", "template": "execute at {player} run summon minecraft:tnt ~ ~ ~"}]}]}"#;
        let p = Profile::from_json(text).unwrap();
        let book = ActionBook::for_profile(&p).unwrap();
        let steps = book
            .plan("a", &Default::default(), &mut fastrand::Rng::with_seed(1))
            .unwrap();
        assert_eq!(
            steps,
            vec![crate::engine::item::PlannedStep::Command {
                command: "execute at Steve_01 run summon minecraft:tnt ~ ~ ~".into()
            }]
        );
    }

    #[test]
    fn the_master_volume_scales_every_sound_step() {
        let text = |master: f32| {
            format!(
                r#"{{"schemaVersion": 2, "sound": {{"masterVolume": {master}}},
                "actions": [{{"id": "s", "steps": [{{"type": "sound", "file": "a.wav", "volume": 1.5}},
                                                 {{"type": "sound", "file": "b.wav"}}]}}]}}"#
            )
        };
        let volumes = |master: f32| -> Vec<f32> {
            let p = Profile::from_json(&text(master)).unwrap();
            let book = ActionBook::for_profile(&p).unwrap();
            book.plan("s", &Default::default(), &mut fastrand::Rng::with_seed(1))
                .unwrap()
                .into_iter()
                .map(|s| match s {
                    crate::engine::item::PlannedStep::Sound { volume, .. } => volume,
                    other => panic!("{other:?}"),
                })
                .collect()
        };
        assert_eq!(volumes(1.0), vec![1.5, 1.0]);
        assert_eq!(volumes(0.5), vec![0.75, 0.5]);
        assert_eq!(volumes(2.0), vec![2.0, 2.0], "at most 2");
        assert_eq!(volumes(0.0), vec![0.0, 0.0]);
        assert!(matches!(
            Profile::from_json(&text(2.5)),
            Err(ProfileError::Invalid { ref path, .. }) if path == "sound.masterVolume"
        ));
    }

    #[test]
    fn a_name_rule_and_an_id_rule_for_one_gift_load_with_a_warning() {
        let text = r#"{"schemaVersion": 1,
            "actions": [{"id": "a", "steps": [{"type": "command", "template": "say hi"}]}],
            "rules": [
              {"id": "by-name", "trigger": {"type": "gift", "name": "rose"}, "actions": ["a"]},
              {"id": "by-id", "trigger": {"type": "gift", "id": 5655}, "actions": ["a"]},
              {"id": "lion-id", "trigger": {"type": "gift", "id": 6369}, "actions": ["a"]},
              {"id": "both", "trigger": {"type": "gift", "name": "Mystery", "id": 424242}, "actions": ["a"]},
              {"id": "mystery-id", "trigger": {"type": "gift", "id": 424242}, "actions": ["a"]}
            ]}"#;
        let p = Profile::from_json(text).unwrap();
        let c = p.trigger_conflicts();
        let pairs: Vec<(&str, &str)> = c
            .iter()
            .map(|c| (c.winner.as_str(), c.loser.as_str()))
            .collect();
        // Rose's id comes from the catalogue; Mystery's from the rule that gives both.
        assert_eq!(pairs, vec![("by-name", "by-id"), ("both", "mystery-id")]);
        assert!(
            c[0].message.contains("\"by-name\" wins"),
            "{}",
            c[0].message
        );
        assert_eq!(c[0].gift_id, 5655);
    }

    #[test]
    fn rule_options_that_do_not_apply_are_refused_or_warned_about() {
        let with = |rule: &str| {
            format!(
                r#"{{"schemaVersion": 2,
                "actions": [{{"id": "a", "steps": [{{"type": "command", "template": "say hi"}}]}}],
                "rules": [{rule}]}}"#
            )
        };
        let err = Profile::from_json(&with(
            r#"{"id": "f", "trigger": {"type": "follow"}, "runPerThreshold": true, "actions": ["a"]}"#,
        ));
        assert!(
            matches!(err, Err(ProfileError::Invalid { ref path, .. }) if path == "rules[0].runPerThreshold"),
            "{err:?}"
        );
        let p = Profile::from_json(&with(
            r#"{"id": "big", "trigger": {"type": "giftCoins", "streakCoinsAtLeast": 100}, "streakMode": "perUnit", "actions": ["a"]}"#,
        ))
        .unwrap();
        let w = p.warnings();
        assert!(
            w.len() == 1 && w[0].contains("streakMode is ignored"),
            "{w:?}"
        );
        // A version 2 likes rule keeps the new meaning and says nothing.
        let p = Profile::from_json(&with(
            r#"{"id": "l", "trigger": {"type": "likes", "every": 100}, "actions": ["a"]}"#,
        ))
        .unwrap();
        assert!(!p.rules[0].run_per_threshold);
        assert!(p.warnings().is_empty());
    }
}
