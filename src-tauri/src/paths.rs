//! Where the app keeps its data and logs.
//!
//! `LIVETRIGGER_DATA_DIR` overrides the platform folder so that tests (and portable
//! installs) never touch the streamer's real profile.

use std::path::{Path, PathBuf};

use tauri::{Manager, Runtime};

use crate::error::{ErrorCode, IpcError};

/// The env var that moves all app state (data and logs) to one folder.
pub const DATA_DIR_ENV: &str = "LIVETRIGGER_DATA_DIR";

#[derive(Debug, Clone)]
pub struct AppPaths {
    pub data_dir: PathBuf,
    pub log_dir: PathBuf,
}

impl AppPaths {
    pub fn resolve<R: Runtime, M: Manager<R>>(manager: &M) -> Result<Self, IpcError> {
        let paths = match std::env::var_os(DATA_DIR_ENV).filter(|v| !v.is_empty()) {
            Some(dir) => Self::under(Path::new(&dir)),
            None => {
                let path = manager.path();
                let err = |e: tauri::Error| {
                    IpcError::new(ErrorCode::Path, format!("cannot find the app folder: {e}"))
                };
                Self {
                    data_dir: path.app_data_dir().map_err(err)?,
                    log_dir: path.app_log_dir().map_err(err)?,
                }
            }
        };
        paths.create()?;
        Ok(paths)
    }

    /// Both folders below one root: the layout used with `LIVETRIGGER_DATA_DIR`.
    pub fn under(root: &Path) -> Self {
        Self {
            data_dir: root.to_path_buf(),
            log_dir: root.join("logs"),
        }
    }

    fn create(&self) -> Result<(), IpcError> {
        for dir in [&self.data_dir, &self.log_dir] {
            std::fs::create_dir_all(dir).map_err(|e| {
                IpcError::new(
                    ErrorCode::Path,
                    format!("cannot create folder {}: {e}", dir.display()),
                )
            })?;
        }
        Ok(())
    }
}
