//! Any bytes as `profile.json` → the loader (syntax, migration, typed reading, checks).
//! Nothing may panic; what loads must save and load back to the same profile (less the
//! secrets, which are never written), since the app saves what it loaded and a profile that
//! cannot be read back is a lost profile.
#![no_main]

use libfuzzer_sys::fuzz_target;
use livetrigger_engine::engine::profile::Profile;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(mut profile) = Profile::from_json(text) else {
        return;
    };
    // Secrets are read from old files but never written (they move to the secrets file).
    if let Some(rcon) = profile.rcon.as_mut() {
        rcon.password = None;
    }
    profile.sign.api_key = None;
    let _ = profile.warnings();
    let saved = profile.to_json();
    let again = Profile::from_json(&saved)
        .unwrap_or_else(|e| panic!("a loaded profile does not load after saving: {e}\n{saved}"));
    assert_eq!(again, profile, "save → load changed the profile");
    assert_eq!(again.to_json(), saved, "saving is not stable");
});
