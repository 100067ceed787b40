//! Secrets (the RCON password, the sign server's API key, a TikTok session id) kept apart from
//! the profile, in `<data folder>/secrets.json` readable by its owner only.
//!
//! The profile is shared, backed up and exported; secrets must never travel with it. They are
//! held in [`Secret`], whose `Debug` and `Display` are redacted, so a `{:?}` of a config or a
//! log line cannot leak one; the value is only reachable through [`Secret::expose`].
//!
//! On Unix the file is created with mode 0600 (through a temporary file and a rename, so a
//! crash never leaves half a file), and a file found with looser permissions is tightened at
//! open. On Windows the file inherits the user profile folder's ACL, which is already
//! per-user.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

/// The file name inside the data folder.
pub const SECRETS_FILE: &str = "secrets.json";

/// The one secret type of the workspace: the TikTok client's, which redacts itself in
/// `Debug` and `Display` and is never serialised.
pub use tiktok_live::client::Secret;

/// Which secret.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum SecretKey {
    RconPassword,
    SignApiKey,
    TiktokSessionId,
}

impl SecretKey {
    pub const ALL: [SecretKey; 3] = [
        SecretKey::RconPassword,
        SecretKey::SignApiKey,
        SecretKey::TiktokSessionId,
    ];

    /// The name in `secrets.json`.
    pub fn as_str(self) -> &'static str {
        match self {
            SecretKey::RconPassword => "rconPassword",
            SecretKey::SignApiKey => "signApiKey",
            SecretKey::TiktokSessionId => "tiktokSessionId",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    #[error("cannot create the data folder {path}: {source}")]
    Folder {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a valid secrets file (fix or delete it): {reason}")]
    Invalid { path: PathBuf, reason: String },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The secrets file of one data folder. Cheap to clone; clones share the values.
#[derive(Clone)]
pub struct SecretStore {
    path: PathBuf,
    values: Arc<Mutex<BTreeMap<SecretKey, String>>>,
}

impl std::fmt::Debug for SecretStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let set: Vec<SecretKey> = SecretKey::ALL
            .into_iter()
            .filter(|k| self.is_set(*k))
            .collect();
        f.debug_struct("SecretStore")
            .field("path", &self.path)
            .field("set", &set)
            .finish()
    }
}

impl SecretStore {
    /// Opens `<data_dir>/secrets.json` (a missing file is an empty store; the folder is created).
    pub fn open(data_dir: &Path) -> Result<SecretStore, SecretsError> {
        fs::create_dir_all(data_dir).map_err(|source| SecretsError::Folder {
            path: data_dir.to_owned(),
            source,
        })?;
        let path = data_dir.join(SECRETS_FILE);
        let values = match fs::read_to_string(&path) {
            Ok(text) => {
                tighten(&path);
                let raw: BTreeMap<String, String> =
                    serde_json::from_str(&text).map_err(|e| SecretsError::Invalid {
                        path: path.clone(),
                        reason: e.to_string(),
                    })?;
                let mut out = BTreeMap::new();
                for (name, value) in raw {
                    match SecretKey::ALL.into_iter().find(|k| k.as_str() == name) {
                        Some(k) if !value.is_empty() => {
                            out.insert(k, value);
                        }
                        Some(_) => {}
                        None => {
                            return Err(SecretsError::Invalid {
                                path: path.clone(),
                                reason: format!("unknown entry {name:?}"),
                            })
                        }
                    }
                }
                out
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(source) => return Err(SecretsError::Read { path, source }),
        };
        Ok(SecretStore {
            path,
            values: Arc::new(Mutex::new(values)),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn get(&self, key: SecretKey) -> Option<Secret> {
        self.lock().get(&key).cloned().map(Secret::new)
    }

    /// Sets (`Some`) or removes (`None` or empty) a secret and writes the file at once.
    pub fn set(&self, key: SecretKey, value: Option<&str>) -> Result<(), SecretsError> {
        let mut values = self.lock();
        let before = values.clone();
        match value {
            Some(v) if !v.is_empty() => {
                values.insert(key, v.to_owned());
            }
            _ => {
                values.remove(&key);
            }
        }
        if *values == before && self.path.exists() {
            return Ok(());
        }
        if let Err(e) = write_private(&self.path, &values) {
            *values = before;
            return Err(e);
        }
        Ok(())
    }

    pub fn is_set(&self, key: SecretKey) -> bool {
        self.lock().contains_key(&key)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<SecretKey, String>> {
        self.values.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn write_private(path: &Path, values: &BTreeMap<SecretKey, String>) -> Result<(), SecretsError> {
    let err = |source| SecretsError::Write {
        path: path.to_owned(),
        source,
    };
    let map: BTreeMap<&str, &str> = values
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let text = serde_json::to_string_pretty(&map).unwrap_or_default();
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let _ = fs::remove_file(&tmp);
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(&tmp).map_err(err)?;
    f.write_all(text.as_bytes()).map_err(err)?;
    f.sync_all().map_err(err)?;
    drop(f);
    fs::rename(&tmp, path).map_err(err)
}

/// Makes a secrets file found with group or world access owner-only again.
fn tighten(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = fs::metadata(path) {
            if meta.permissions().mode() & 0o077 != 0 {
                tracing::warn!(file = %path.display(), "the secrets file was readable by others; made owner-only");
                let _ = fs::set_permissions(path, fs::Permissions::from_mode(0o600));
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_never_prints() {
        let s = Secret::new("hunter2");
        assert!(!format!("{s:?} {s}").contains("hunter2"));
        assert_eq!(s.expose(), "hunter2");
        #[derive(Debug)]
        #[allow(dead_code)]
        struct Holder {
            password: Secret,
        }
        let h = Holder { password: s };
        assert!(!format!("{h:?}").contains("hunter2"));
    }

    #[test]
    fn set_get_persist_and_remove() {
        let dir = tempfile::tempdir().unwrap();
        let store = SecretStore::open(dir.path()).unwrap();
        assert!(!store.is_set(SecretKey::RconPassword));
        store.set(SecretKey::RconPassword, Some("pw")).unwrap();
        store.set(SecretKey::SignApiKey, Some("key")).unwrap();
        assert!(!format!("{store:?}").contains("pw\""));
        let again = SecretStore::open(dir.path()).unwrap();
        assert_eq!(
            again
                .get(SecretKey::RconPassword)
                .map(|s| s.expose().to_owned()),
            Some("pw".into())
        );
        assert!(again.is_set(SecretKey::SignApiKey));
        assert!(!again.is_set(SecretKey::TiktokSessionId));
        again.set(SecretKey::RconPassword, None).unwrap();
        again.set(SecretKey::SignApiKey, Some("")).unwrap();
        let third = SecretStore::open(dir.path()).unwrap();
        assert!(!third.is_set(SecretKey::RconPassword));
        assert!(!third.is_set(SecretKey::SignApiKey));
        let text = fs::read_to_string(dir.path().join(SECRETS_FILE)).unwrap();
        assert_eq!(text.trim(), "{}");
    }

    #[cfg(unix)]
    #[test]
    fn the_file_is_owner_only_and_a_loose_one_is_tightened() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let store = SecretStore::open(dir.path()).unwrap();
        store.set(SecretKey::TiktokSessionId, Some("sid")).unwrap();
        let path = dir.path().join(SECRETS_FILE);
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        let again = SecretStore::open(dir.path()).unwrap();
        assert_eq!(mode(&path), 0o600);
        assert!(again.is_set(SecretKey::TiktokSessionId));
    }

    #[test]
    fn a_broken_file_is_a_clear_error_not_an_empty_store() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(SECRETS_FILE), "{not json").unwrap();
        let e = SecretStore::open(dir.path()).unwrap_err();
        assert!(matches!(e, SecretsError::Invalid { .. }), "{e}");
        fs::write(dir.path().join(SECRETS_FILE), r#"{"password": "x"}"#).unwrap();
        let e = SecretStore::open(dir.path()).unwrap_err();
        assert!(e.to_string().contains("unknown entry"), "{e}");
    }
}
