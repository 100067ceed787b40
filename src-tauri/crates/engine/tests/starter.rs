//! The starter kit: written once into an empty data folder, never over the streamer's files,
//! and what it writes works: the profile loads, its fanfare decodes and is the file the
//! profile's big-gift rule plays.

use std::num::NonZero;

use livetrigger_engine::engine::rules::Step;
use livetrigger_engine::engine::Profile;
use livetrigger_engine::outputs::sound::{SoundConfig, SoundEngine};
use livetrigger_engine::starter::{self, BIG_GIFT_FILE, PROFILE_FILE, SOUNDS_DIR};

#[test]
fn install_writes_a_working_profile_and_sound_once() {
    let dir = tempfile::tempdir().unwrap();
    let first = starter::install(dir.path()).unwrap();
    let profile_path = dir.path().join(PROFILE_FILE);
    let sound_path = dir.path().join(SOUNDS_DIR).join(BIG_GIFT_FILE);
    assert_eq!(first.profile.as_deref(), Some(profile_path.as_path()));
    assert_eq!(first.sounds, vec![sound_path.clone()]);

    let profile = Profile::from_json(&std::fs::read_to_string(&profile_path).unwrap()).unwrap();
    assert_eq!(profile.sound.folder.as_deref(), Some(SOUNDS_DIR));
    // Every sound step of the starter names a file it ships.
    let files: Vec<&str> = profile
        .actions
        .iter()
        .flat_map(|a| &a.steps)
        .filter_map(|s| match s {
            Step::Sound { file, .. } => Some(file.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(files, vec![BIG_GIFT_FILE]);

    // Real decoding, through the app's own sound engine.
    let ch = NonZero::new(2).unwrap();
    let rate = NonZero::new(48_000).unwrap();
    let (mixer, _out) = rodio::mixer::mixer(ch, rate);
    let mut engine = SoundEngine::new(mixer, ch, rate, SoundConfig::default());
    let clip = engine.clip(&sound_path).unwrap();
    let ms = clip.duration().as_millis();
    assert!((1_500..=1_700).contains(&ms), "{ms} ms");

    // Edited files are kept.
    std::fs::write(&profile_path, "{\"schemaVersion\": 2}").unwrap();
    std::fs::remove_file(&sound_path).unwrap();
    let again = starter::install(dir.path()).unwrap();
    assert_eq!(again.profile, None);
    assert_eq!(again.sounds, vec![sound_path]);
    assert_eq!(
        std::fs::read_to_string(&profile_path).unwrap(),
        "{\"schemaVersion\": 2}"
    );
    assert_eq!(starter::install(dir.path()).unwrap(), Default::default());
}
