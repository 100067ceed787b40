//! What the streamer typed into "Connect": `@user`, a profile or live URL, or a room id.

use std::fmt;

/// A stream to connect to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A TikTok handle (the `unique_id`), without `@`.
    User(String),
    /// A numeric room id; room resolution is skipped.
    Room(u64),
}

/// Why the input could not be read as a handle, URL or room id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    #[error("enter a TikTok @username, a profile or live link, or a room id")]
    Empty,
    #[error("{0:?} is not a TikTok username: use letters, digits, '_' and '.' (up to 24)")]
    InvalidUser(String),
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::User(u) => write!(f, "@{u}"),
            Target::Room(r) => write!(f, "room {r}"),
        }
    }
}

impl Target {
    /// Reads `@name`, `name`, `https://www.tiktok.com/@name/live` (with or without scheme,
    /// `www.`, query or fragment), or an all-digit room id.
    pub fn parse(input: &str) -> Result<Self, TargetError> {
        let mut s = input.trim();
        if s.is_empty() {
            return Err(TargetError::Empty);
        }
        if s.len() > 8 && s.bytes().all(|b| b.is_ascii_digit()) {
            if let Ok(room) = s.parse::<u64>() {
                return Ok(Target::Room(room));
            }
        }
        for prefix in ["https://", "http://"] {
            if let Some(rest) = s.strip_prefix(prefix) {
                s = rest;
            }
        }
        for host in ["www.tiktok.com/", "m.tiktok.com/", "tiktok.com/"] {
            if let Some(rest) = s.strip_prefix(host) {
                s = rest;
            }
        }
        let s = s.split(['?', '#']).next().unwrap_or_default();
        let s = s.trim_end_matches('/');
        let s = s.strip_suffix("/live").unwrap_or(s);
        let s = s.strip_prefix('@').unwrap_or(s).trim();
        if s.is_empty() {
            return Err(TargetError::Empty);
        }
        let valid = s.chars().count() <= 24
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.');
        if !valid {
            return Err(TargetError::InvalidUser(s.chars().take(64).collect()));
        }
        Ok(Target::User(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_input_form() {
        let user = |s: &str| Target::User(s.to_string());
        let cases = [
            ("@streamer", user("streamer")),
            ("  streamer.name_1 ", user("streamer.name_1")),
            ("https://www.tiktok.com/@streamer/live", user("streamer")),
            (
                "https://www.tiktok.com/@streamer/live?lang=en#x",
                user("streamer"),
            ),
            ("www.tiktok.com/@streamer", user("streamer")),
            ("tiktok.com/@streamer/", user("streamer")),
            (
                "7140000000000000001",
                Target::Room(7_140_000_000_000_000_001),
            ),
        ];
        for (input, want) in cases {
            assert_eq!(Target::parse(input).unwrap(), want, "{input}");
        }
    }

    #[test]
    fn rejects_empty_and_hostile_input() {
        assert_eq!(Target::parse("   "), Err(TargetError::Empty));
        assert_eq!(
            Target::parse("https://www.tiktok.com/@/live"),
            Err(TargetError::Empty)
        );
        for bad in ["a b", "x\"; drop", "@a/../b", "名前", &"w".repeat(25)] {
            assert!(
                matches!(Target::parse(bad), Err(TargetError::InvalidUser(_))),
                "{bad}"
            );
        }
    }
}
