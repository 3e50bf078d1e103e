//! Case ids (ULIDs) and tracking codes (`HN-25-7K3QX`).

use chrono::{DateTime, Datelike, Utc};
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A case id: a ULID, sortable by creation time.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CaseId(String);

impl CaseId {
    pub fn new(at: DateTime<Utc>) -> Self {
        let ms = at.timestamp_millis().max(0) as u64;
        let rnd: u128 = rand::thread_rng().r#gen();
        CaseId(ulid::Ulid::from_parts(ms, rnd).to_string())
    }

    /// Parse a client-supplied id; `None` if it is not a ULID.
    pub fn parse(s: &str) -> Option<Self> {
        ulid::Ulid::from_string(s)
            .ok()
            .map(|u| CaseId(u.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CaseId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Characters of a tracking code: no 0/O, 1/I/L or U, so a code read out on
/// the hotline cannot be misheard or mistyped.
pub const TRACKING_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A new random tracking code for a case received at `at` (its local year).
pub fn new_tracking_code(at: DateTime<Utc>) -> String {
    let year = (at + chrono::Duration::hours(7)).year() % 100;
    let mut rng = rand::thread_rng();
    let tail: String = (0..5)
        .map(|_| TRACKING_ALPHABET[rng.gen_range(0..TRACKING_ALPHABET.len())] as char)
        .collect();
    format!("HN-{year:02}-{tail}")
}

/// Normalise a tracking code typed by a person (case, spaces, dashes,
/// and the look-alike letters O→0 are not in the alphabet so they are refused).
pub fn normalize_tracking_code(s: &str) -> Option<String> {
    let compact: String = s
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let rest = compact.strip_prefix("HN")?;
    if rest.len() != 7 || !rest.is_ascii() {
        return None;
    }
    let (yy, tail) = rest.split_at(2);
    if !yy.bytes().all(|b| b.is_ascii_digit())
        || !tail.bytes().all(|b| TRACKING_ALPHABET.contains(&b))
    {
        return None;
    }
    Some(format!("HN-{yy}-{tail}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn tracking_codes_round_trip_and_are_unambiguous() {
        let at = Utc.with_ymd_and_hms(2025, 12, 31, 18, 0, 0).unwrap(); // 01:00 on 1 Jan 2026 in Hanoi
        for _ in 0..200 {
            let c = new_tracking_code(at);
            assert!(c.starts_with("HN-26-"), "{c}");
            assert_eq!(normalize_tracking_code(&c).as_deref(), Some(c.as_str()));
            assert_eq!(
                normalize_tracking_code(&c.to_lowercase().replace('-', " ")).as_deref(),
                Some(c.as_str())
            );
            assert!(!c[6..].contains(['0', 'O', '1', 'I', 'L', 'U']));
        }
        assert_eq!(normalize_tracking_code("HN-25-7K3Q0"), None);
        assert_eq!(normalize_tracking_code("XX-25-7K3QX"), None);
    }

    #[test]
    fn case_ids_parse() {
        let id = CaseId::new(Utc::now());
        assert_eq!(CaseId::parse(id.as_str()), Some(id));
        assert_eq!(CaseId::parse("../etc"), None);
    }
}
