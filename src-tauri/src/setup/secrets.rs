//! The secrets the Settings view writes (RCON password, sign-server API key, TikTok session
//! id) live in the engine's secrets file (`<data_dir>/secrets.json`, owner-only), never in the
//! profile, so an exported profile cannot leak them and the window only ever sees "set".

pub use livetrigger_engine::secrets::{
    Secret, SecretKey, SecretStore, SecretsError as SecretError,
};
