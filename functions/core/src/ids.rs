//! Case ids (ULIDs) and tracking codes (`HN-26-7K3QX-9MPTR`; before
//! 2026-12-03 `HN-25-7K3QX`, which keep resolving).

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
/// 30^9 ≈ 2·10^13 (about 44 bits), so a city's lifetime of codes hardly
/// ever collides and the code space cannot be walked.
pub const TRACKING_RANDOM: usize = 9;

/// Random characters of the codes issued before the check character
/// (`HN-25-7K3QX`, 30^5 ≈ 24 million a year). They keep resolving.
pub const SHORT_RANDOM: usize = 5;

fn index(c: u8) -> Option<usize> {
    TRACKING_ALPHABET.iter().position(|&a| a == c)
}

/// The check character of `chars` (Luhn mod 30 over the alphabet's
/// indices): every single mistyped character changes it, and so does every
/// swap of two neighbours but one — `2` and `Z`, the alphabet's first and
/// last characters, as 0 and 9 in decimal Luhn (both double to themselves
/// mod 29). The check covers the random characters only, not `HN` or the
/// year: a wrong year is a well-formed code nobody has (`404`).
/// `None` if a character is not in the alphabet.
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

/// A new random tracking code for a case received at `at` (its year in
/// Hanoi): `HN-26-7K3QX-9MPTR`, nine random characters and a check
/// character, in two groups of five for reading aloud on the hotline.
/// Unique only with the store's help: `create_case` refuses a code already
/// taken (`TrackingCodeTaken`) and intake draws another.
pub fn new_tracking_code(at: DateTime<Utc>) -> String {
    let mut rng = rand::thread_rng();
    let body: Vec<u8> = (0..TRACKING_RANDOM)
        .map(|_| TRACKING_ALPHABET[rng.gen_range(0..TRACKING_ALPHABET.len())])
        .collect();
    tracking_code_of(at, &body).expect("alphabet characters")
}

/// The tracking code of a case received at `at` whose random characters
/// are `body` (nine of the alphabet), with its check character; `None` if
/// `body` is not nine characters of the alphabet. For tools that must draw
/// codes themselves (bulk loads, benchmarks).
pub fn tracking_code_of(at: DateTime<Utc>, body: &[u8]) -> Option<String> {
    if body.len() != TRACKING_RANDOM {
        return None;
    }
    let check = check_character(body)?;
    let year = (at + chrono::Duration::hours(7)).year().rem_euclid(100);
    let mut tail = String::with_capacity(TRACKING_RANDOM + 1);
    tail.extend(body.iter().map(|&b| b as char));
    tail.push(check as char);
    Some(format!("HN-{year:02}-{}-{}", &tail[..5], &tail[5..]))
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

/// Separators a person (or a phone's autocorrect) puts in a code: any
/// white space, the hyphen-minus and the Unicode hyphens and dashes.
fn is_separator(c: char) -> bool {
    c.is_whitespace() || matches!(c, '-' | '\u{2010}'..='\u{2015}' | '\u{2212}')
}

/// Normalise a tracking code typed by a person into the form it is stored
/// in: letter case, spaces and hyphens (missing, extra, or typographic
/// dashes) do not matter. The look-alike characters (0/O, 1/I/L, U) are in
/// no code, so a code containing one is refused, never guessed at.
///
/// - `HN-yy-XXXXX-XXXXC` (ten characters after the year): the check
///   character must match, else [`CodeError::CheckFailed`];
/// - `HN-yy-XXXXX`, the codes issued before the check character, keep
///   resolving as they were stored;
/// - anything else is [`CodeError::Malformed`].
pub fn normalize_tracking_code(s: &str) -> Result<String, CodeError> {
    let compact: String = s
        .chars()
        .filter(|&c| !is_separator(c))
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
        SHORT_RANDOM => Ok(format!("HN-{yy}-{tail}")),
        n if n == TRACKING_RANDOM + 1 => {
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
    use proptest::prelude::*;

    fn at_2026() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap()
    }

    /// `HN-26-` and `tail` (ten characters) grouped as issued.
    fn code(tail: &[u8]) -> String {
        let t = std::str::from_utf8(tail).unwrap();
        format!("HN-26-{}-{}", &t[..5], &t[5..])
    }

    #[test]
    fn tracking_codes_round_trip_and_are_unambiguous() {
        let at = Utc.with_ymd_and_hms(2025, 12, 31, 18, 0, 0).unwrap(); // 01:00 on 1 Jan 2026 in Hanoi
        for _ in 0..200 {
            let c = new_tracking_code(at);
            assert!(c.starts_with("HN-26-"), "{c}");
            assert_eq!(c.len(), "HN-26-7K3QX-9MPTR".len(), "{c}");
            assert_eq!(&c[11..12], "-", "{c}");
            assert_eq!(normalize_tracking_code(&c).as_deref(), Ok(c.as_str()));
            assert_eq!(
                normalize_tracking_code(&c.to_lowercase().replace('-', " ")).as_deref(),
                Ok(c.as_str())
            );
            assert!(!c[6..].contains(['0', 'O', '1', 'I', 'L', 'U']));
        }
        // The documented example is a code whose check holds.
        assert_eq!(
            normalize_tracking_code("hn 26 7k3qx 9mptr").as_deref(),
            Ok("HN-26-7K3QX-9MPTR")
        );
        assert_eq!(
            tracking_code_of(at, b"7K3QX9MPT").as_deref(),
            Some("HN-26-7K3QX-9MPTR")
        );
        assert_eq!(tracking_code_of(at, b"7K3QX9MP"), None);
        assert_eq!(tracking_code_of(at, b"7K3QX9MP0"), None);
        assert_eq!(
            normalize_tracking_code("HN-26-7K3QX-9MPTC"),
            Err(CodeError::CheckFailed)
        );
        // Codes issued before the check character keep resolving.
        assert_eq!(
            normalize_tracking_code("hn-25-7k3qx").as_deref(),
            Ok("HN-25-7K3QX")
        );
        assert_eq!(
            normalize_tracking_code(" HN 25 7K3QX ").as_deref(),
            Ok("HN-25-7K3QX")
        );
        for bad in [
            "HN-25-7K3Q0",       // a look-alike: refused, not guessed
            "HN-26-7K3QX-9MPT0", // the same in the long form
            "XX-25-7K3QX",
            "HN-25-7K3QX-9MP", // neither length
            "HN-25-7K3Q",
            "HN-2A-7K3QX",
            "HN-",
            "",
            "HN-25-7K3QX-9MPTRR",
            "HN-26-7K3QX-9MPTŘ",
        ] {
            assert_eq!(
                normalize_tracking_code(bad),
                Err(CodeError::Malformed),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn hotline_spellings_are_one_code() {
        let want = Ok("HN-26-7K3QX-9MPTR".to_string());
        for typed in [
            "HN-26-7K3QX-9MPTR",
            "hn267k3qx9mptr",
            "Hn 26 7k3qx 9mptr",
            "HN--26--7K3QX--9MPTR-",
            "HN-26-7K3-QX9-MPTR",
            "HN\u{2013}26\u{2013}7K3QX\u{2014}9MPTR", // dashes from a phone's autocorrect
            "\u{a0}HN 26\t7K3QX 9MPTR\n",             // a no-break space, a tab
        ] {
            assert_eq!(normalize_tracking_code(typed), want, "{typed:?}");
        }
    }

    /// Luhn mod 30 is linear: whether a substitution or a swap is caught
    /// does not depend on the other characters. So one code, with every
    /// substitution at every place and every pair swapped at every place,
    /// proves the scheme's guarantee; the property tests below check it on
    /// random codes through the parser.
    #[test]
    fn every_substitution_and_every_swap_but_2_z_is_caught() {
        let issued = new_tracking_code(at_2026());
        let tail: Vec<u8> = issued[6..].bytes().filter(|&b| b != b'-').collect();
        for i in 0..tail.len() {
            for &other in TRACKING_ALPHABET.iter().filter(|&&a| a != tail[i]) {
                let mut t = tail.clone();
                t[i] = other;
                assert_eq!(
                    normalize_tracking_code(&code(&t)),
                    Err(CodeError::CheckFailed)
                );
            }
        }
        let mut missed = Vec::new();
        for i in 0..tail.len() - 1 {
            for &a in TRACKING_ALPHABET {
                for &b in TRACKING_ALPHABET.iter().filter(|&&b| b != a) {
                    let mut t = tail.clone();
                    t[i] = a;
                    t[i + 1] = b;
                    let body = &t[..TRACKING_RANDOM];
                    // The code with `a b` at `i`, then with `b a`.
                    let right = if i + 1 == TRACKING_RANDOM {
                        // The pair ends in the check character itself: `b`
                        // must be the check of the body with `a`.
                        if check_character(body) != Some(b) {
                            continue;
                        }
                        t.clone()
                    } else {
                        let mut t = t.clone();
                        t[TRACKING_RANDOM] = check_character(body).unwrap();
                        t
                    };
                    assert!(normalize_tracking_code(&code(&right)).is_ok());
                    let mut swapped = right.clone();
                    swapped.swap(i, i + 1);
                    if normalize_tracking_code(&code(&swapped)).is_ok() {
                        missed.push((a, b));
                    }
                }
            }
        }
        missed.sort();
        missed.dedup();
        assert_eq!(missed, vec![(b'2', b'Z'), (b'Z', b'2')]);
    }

    fn body() -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(
            proptest::sample::select(TRACKING_ALPHABET.to_vec()),
            TRACKING_RANDOM,
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        #[test]
        fn a_single_substitution_is_always_caught(
            body in body(),
            place in 0..=TRACKING_RANDOM,
            shift in 1..TRACKING_ALPHABET.len(),
        ) {
            let issued = tracking_code_of(at_2026(), &body).unwrap();
            let mut t: Vec<u8> = issued[6..].bytes().filter(|&b| b != b'-').collect();
            prop_assert_eq!(normalize_tracking_code(&issued), Ok(issued.clone()));
            let i = index(t[place]).unwrap();
            t[place] = TRACKING_ALPHABET[(i + shift) % TRACKING_ALPHABET.len()];
            prop_assert_eq!(normalize_tracking_code(&code(&t)), Err(CodeError::CheckFailed));
        }

        #[test]
        fn a_swap_of_neighbours_is_caught_unless_2_and_z(
            body in body(),
            place in 0..TRACKING_RANDOM,
        ) {
            let issued = tracking_code_of(at_2026(), &body).unwrap();
            let mut t: Vec<u8> = issued[6..].bytes().filter(|&b| b != b'-').collect();
            let pair = [t[place], t[place + 1]];
            prop_assume!(pair[0] != pair[1]);
            t.swap(place, place + 1);
            let got = normalize_tracking_code(&code(&t));
            if pair == [b'2', b'Z'] || pair == [b'Z', b'2'] {
                prop_assert!(got.is_ok());
            } else {
                prop_assert_eq!(got, Err(CodeError::CheckFailed));
            }
        }

        #[test]
        fn case_hyphens_and_spaces_do_not_matter(
            body in body(),
            lower in proptest::collection::vec(any::<bool>(), 15),
            seps in proptest::collection::vec(0..4usize, 15),
        ) {
            let issued = tracking_code_of(at_2026(), &body).unwrap();
            let mut typed = String::new();
            for (k, c) in issued.chars().filter(|&c| c != '-').enumerate() {
                typed.push(if lower[k] { c.to_ascii_lowercase() } else { c });
                typed.push_str(["", "-", " ", " - "][seps[k]]);
            }
            prop_assert_eq!(normalize_tracking_code(&typed), Ok(issued));
        }
    }

    #[test]
    fn case_ids_parse() {
        let id = CaseId::new(Utc::now());
        assert_eq!(CaseId::parse(id.as_str()), Some(id));
        assert_eq!(CaseId::parse("../etc"), None);
    }
}
