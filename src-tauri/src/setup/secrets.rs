//! Stand-in for `livetrigger_engine::secrets` (being added to the engine crate in parallel),
//! with the same API so the merge only swaps the import: `SecretStore::open(data_dir)`,
//! `.get(key)`, `.set(key, Option<&str>)`, `.is_set(key)`, `Secret::expose()`.
//!
//! Secrets live in `<data_dir>/secrets.json` (mode 0600 on Unix), never in the profile, so an
//! exported profile cannot leak them. `Secret` has no `Debug`/`Display` showing the value, so
//! it cannot end up in a log line by accident.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// What can be stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum SecretKey {
    RconPassword,
    SignApiKey,
    TiktokSessionId,
}

impl SecretKey {
    fn name(self) -> &'static str {
        match self {
            SecretKey::RconPassword => "rconPassword",
            SecretKey::SignApiKey => "signApiKey",
            SecretKey::TiktokSessionId => "tiktokSessionId",
        }
    }
}

/// A secret value; shown only through [`Secret::expose`].
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

#[derive(Debug, thiserror::Error)]
#[error("cannot save the secrets file {path}: {reason}")]
pub struct SecretError {
    pub path: PathBuf,
    pub reason: String,
}

/// The secrets file of one data folder.
#[derive(Debug)]
pub struct SecretStore {
    path: PathBuf,
    values: Mutex<BTreeMap<String, String>>,
}

impl SecretStore {
    /// Reads `<data_dir>/secrets.json`; a missing or unreadable file is an empty store (the
    /// streamer types the secret again rather than the app refusing to start).
    pub fn open(data_dir: &Path) -> SecretStore {
        let path = data_dir.join("secrets.json");
        let values = std::fs::read_to_string(&path)
            .ok()
            .and_then(|t| serde_json::from_str::<BTreeMap<String, String>>(&t).ok())
            .unwrap_or_default();
        SecretStore {
            path,
            values: Mutex::new(values),
        }
    }

    pub fn get(&self, key: SecretKey) -> Option<Secret> {
        self.lock()
            .get(key.name())
            .filter(|v| !v.is_empty())
            .map(|v| Secret(v.clone()))
    }

    pub fn is_set(&self, key: SecretKey) -> bool {
        self.get(key).is_some()
    }

    /// Stores (`Some`) or forgets (`None` or empty) a secret, and writes the file.
    pub fn set(&self, key: SecretKey, value: Option<&str>) -> Result<(), SecretError> {
        let mut values = self.lock();
        match value.filter(|v| !v.is_empty()) {
            Some(v) => values.insert(key.name().to_string(), v.to_string()),
            None => values.remove(key.name()),
        };
        let text = serde_json::to_string_pretty(&*values).unwrap_or_default();
        write_private(&self.path, &text).map_err(|e| SecretError {
            path: self.path.clone(),
            reason: e.to_string(),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, String>> {
        self.values.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    let tmp = path.with_extension("json.tmp");
    {
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(&tmp)?;
        std::io::Write::write_all(&mut f, text.as_bytes())?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_persist_privately_and_never_print() {
        let dir = std::env::temp_dir().join(format!("lt-secrets-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let store = SecretStore::open(&dir);
        assert!(!store.is_set(SecretKey::RconPassword));
        store.set(SecretKey::RconPassword, Some("hunter2")).unwrap();
        let again = SecretStore::open(&dir);
        assert_eq!(
            again.get(SecretKey::RconPassword).unwrap().expose(),
            "hunter2"
        );
        assert!(!format!("{:?}", again.get(SecretKey::RconPassword)).contains("hunter2"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join("secrets.json"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        again.set(SecretKey::RconPassword, None).unwrap();
        assert!(!SecretStore::open(&dir).is_set(SecretKey::RconPassword));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
