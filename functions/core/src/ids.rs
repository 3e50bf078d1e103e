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

/// Random characters of a tracking code: nine of the 30-letter alphabet,
/// about 44 bits, so a city's lifetime of codes hardly ever collides and the
/// code space cannot be walked.
pub const TRACKING_RANDOM: usize = 9;

fn index(c: u8) -> Option<usize> {
    TRACKING_ALPHABET.iter().position(|&a| a == c)
}

/// The check character of `chars` (Luhn mod 30 over the alphabet): it
/// catches every single mistyped character and every swap of two
/// neighbours but one (`2` and `Z`, the first and last letters, like Luhn's
/// own 0/9).
pub fn check_character(chars: &[u8]) -> Option<u8> {
    let n = TRACKING_ALPHABET.len();
    let mut factor = 2;
    let mut sum = 0;
    for &c in chars.iter().rev() {
        let v = index(c)? * factor;
        sum += v / n + v % n;
        factor = if factor == 2 { 1 } else { 2 };
    }
    Some(TRACKING_ALPHABET[(n - sum % n) % n])
}

/// A new random tracking code for a case received at `at` (its local
/// year): `HN-26-7K3QX-9MPTC`, nine random characters and a check character,
/// grouped in fives for reading aloud on the hotline.
pub fn new_tracking_code(at: DateTime<Utc>) -> String {
    let year = (at + chrono::Duration::hours(7)).year() % 100;
    let mut rng = rand::thread_rng();
    let mut tail: Vec<u8> = (0..TRACKING_RANDOM)
        .map(|_| TRACKING_ALPHABET[rng.gen_range(0..TRACKING_ALPHABET.len())])
        .collect();
    let check = check_character(&tail).expect("alphabet characters");
    tail.push(check);
    let tail = String::from_utf8(tail).expect("ascii");
    format!("HN-{year:02}-{}-{}", &tail[..5], &tail[5..])
}

/// Why a typed tracking code is not one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeError {
    /// Not shaped like a code at all (no case has it).
    Malformed,
    /// Shaped like a code, but its check character is wrong: a typing
    /// mistake, told apart before any lookup.
    CheckFailed,
}

/// Normalise a tracking code typed by a person (case, spaces and dashes do
/// not matter; look-alike letters are not in the alphabet, so they are
/// refused). Codes issued before the check character (`HN-25-7K3QX`) keep
/// resolving.
pub fn normalize_tracking_code(s: &str) -> Result<String, CodeError> {
    let compact: String = s
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let rest = compact.strip_prefix("HN").ok_or(CodeError::Malformed)?;
    if !rest.is_ascii() || rest.len() < 2 {
        return Err(CodeError::Malformed);
    }
    let (yy, tail) = rest.split_at(2);
    if !yy.bytes().all(|b| b.is_ascii_digit())
        || !tail.bytes().all(|b| TRACKING_ALPHABET.contains(&b))
    {
        return Err(CodeError::Malformed);
    }
    match tail.len() {
        5 => Ok(format!("HN-{yy}-{tail}")),
        10 => {
            let (body, check) = tail.as_bytes().split_at(TRACKING_RANDOM);
            if check_character(body) != Some(check[0]) {
                return Err(CodeError::CheckFailed);
            }
            Ok(format!("HN-{yy}-{}-{}", &tail[..5], &tail[5..]))
        }
        _ => Err(CodeError::Malformed),
    }
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
            assert_eq!(c.len(), "HN-26-7K3QX-9MPTC".len(), "{c}");
            assert_eq!(normalize_tracking_code(&c).as_deref(), Ok(c.as_str()));
            assert_eq!(
                normalize_tracking_code(&c.to_lowercase().replace('-', " ")).as_deref(),
                Ok(c.as_str())
            );
            assert!(!c[6..].contains(['0', 'O', '1', 'I', 'L', 'U']));
        }
        // Codes issued before the check character keep resolving.
        assert_eq!(
            normalize_tracking_code("hn-25-7k3qx").as_deref(),
            Ok("HN-25-7K3QX")
        );
        assert_eq!(
            normalize_tracking_code("HN-25-7K3Q0"),
            Err(CodeError::Malformed)
        );
        assert_eq!(
            normalize_tracking_code("XX-25-7K3QX"),
            Err(CodeError::Malformed)
        );
        assert_eq!(
            normalize_tracking_code("HN-25-7K3QX-9MP"),
            Err(CodeError::Malformed)
        );
    }

    #[test]
    fn the_check_character_catches_one_typo_and_one_swap() {
        let at = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
        for _ in 0..50 {
            let c = new_tracking_code(at);
            let tail: Vec<u8> = c[6..].bytes().filter(|b| *b != b'-').collect();
            for i in 0..tail.len() {
                for &other in TRACKING_ALPHABET {
                    if other == tail[i] {
                        continue;
                    }
                    let mut t = tail.clone();
                    t[i] = other;
                    let typed = format!("HN-26-{}", String::from_utf8(t).unwrap());
                    assert_eq!(
                        normalize_tracking_code(&typed),
                        Err(CodeError::CheckFailed),
                        "{typed}"
                    );
                }
            }
            for i in 0..tail.len() - 1 {
                // Luhn mod N's one blind spot: the first and last letters.
                if tail[i] == tail[i + 1]
                    || [tail[i], tail[i + 1]] == [b'2', b'Z']
                    || [tail[i], tail[i + 1]] == [b'Z', b'2']
                {
                    continue;
                }
                let mut t = tail.clone();
                t.swap(i, i + 1);
                let typed = format!("HN-26-{}", String::from_utf8(t).unwrap());
                assert_eq!(
                    normalize_tracking_code(&typed),
                    Err(CodeError::CheckFailed),
                    "{typed}"
                );
            }
        }
    }

    #[test]
    fn case_ids_parse() {
        let id = CaseId::new(Utc::now());
        assert_eq!(CaseId::parse(id.as_str()), Some(id));
        assert_eq!(CaseId::parse("../etc"), None);
    }
}
