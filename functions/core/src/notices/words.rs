//! The words and clocks of a notice: the Vietnamese text, phone numbers
//! as people type them, SMS segments and the quiet hours.

use super::{QUIET_FROM_HOUR, QUIET_TO_HOUR};
use crate::case::{Case, Status};
use crate::refdata::RefData;
use crate::unit::UnitCode;
use chrono::{DateTime, NaiveTime, Timelike, Utc};

/// The earliest time at or after `t` an SMS may go out (07:00 local the
/// same or the next morning when `t` falls in the quiet hours).
pub fn sms_allowed_at(t: DateTime<Utc>, refdata: &RefData) -> DateTime<Utc> {
    let off = refdata.calendar.offset();
    let local = t.with_timezone(&off);
    let h = local.hour();
    if (QUIET_TO_HOUR..QUIET_FROM_HOUR).contains(&h) {
        return t;
    }
    let mut day = local.date_naive();
    if h >= QUIET_FROM_HOUR {
        day = day.succ_opt().unwrap_or(day);
    }
    let morning = day.and_time(NaiveTime::from_hms_opt(QUIET_TO_HOUR, 0, 0).unwrap_or_default());
    morning
        .and_local_timezone(off)
        .single()
        .map(|d| d.with_timezone(&Utc))
        .unwrap_or(t)
}

/// A Vietnamese mobile number in E.164 (`+84` and nine digits), from what
/// people type: `0912 345 678`, `84912345678`, `+84 912-345-678`.
pub fn normalize_phone(raw: &str) -> Option<String> {
    let cleaned: String = raw
        .chars()
        .filter(|c| !matches!(c, ' ' | '.' | '-' | '(' | ')'))
        .collect();
    let national = if let Some(rest) = cleaned.strip_prefix("+84") {
        rest
    } else if let Some(rest) = cleaned.strip_prefix("84").filter(|r| r.len() == 9) {
        rest
    } else {
        cleaned.strip_prefix('0')?
    };
    let ok = national.len() == 9
        && national.chars().all(|c| c.is_ascii_digit())
        && matches!(national.as_bytes()[0], b'3' | b'5' | b'7' | b'8' | b'9');
    ok.then(|| format!("+84{national}"))
}

/// `+84912345678` → `+84912***678` (logs and answers to others).
pub fn mask_phone(p: &str) -> String {
    let chars: Vec<char> = p.chars().collect();
    if chars.len() < 8 {
        return "***".into();
    }
    let head: String = chars[..6].iter().collect();
    let tail: String = chars[chars.len() - 3..].iter().collect();
    format!("{head}***{tail}")
}

/// SMS segments a text is billed as: GSM-7 (160, or 153 per part) when
/// every character is in the basic alphabet, otherwise UCS-2 (70, or 67
/// per part) — Vietnamese with its diacritics is UCS-2.
pub fn sms_segments(text: &str) -> u32 {
    const GSM: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
    let gsm = text.chars().all(|c| GSM.contains(c));
    let units = if gsm {
        text.chars().count()
    } else {
        text.encode_utf16().count()
    } as u32;
    let (single, part) = if gsm { (160, 153) } else { (70, 67) };
    if units <= single {
        1
    } else {
        units.div_ceil(part)
    }
}

/// The most a text may take to be billed as one SMS (UCS-2).
pub const ONE_SEGMENT: usize = 70;

/// The message for a change, in Vietnamese, written to fit one SMS segment
/// (70 UCS-2 characters: Vietnamese SMS are billed per segment): the unit's
/// name is told where it fits, the app shows the rest.
pub fn text(
    case: &Case,
    status: Status,
    reporter: bool,
    unit: Option<&UnitCode>,
    refdata: &RefData,
) -> String {
    let code = &case.tracking_code;
    let fits = |t: &String| t.encode_utf16().count() <= ONE_SEGMENT;
    match status {
        Status::Assigned => unit
            .and_then(|u| refdata.unit(u))
            .map(|u| format!("Phản ánh {code} đã chuyển tới {} xử lý.", u.name_vi))
            .filter(fits)
            .unwrap_or_else(|| {
                format!("Phản ánh {code} đã chuyển tới cơ quan có thẩm quyền xử lý.")
            }),
        Status::AwaitingInfo => {
            format!("Phản ánh {code}: cơ quan cần bạn bổ sung thông tin.")
        }
        Status::Resolved if reporter => {
            format!("Phản ánh {code} đã được xử lý. Mời bạn xem và đánh giá.")
        }
        Status::Resolved => format!("Phản ánh {code} bạn theo dõi đã được xử lý."),
        Status::Rejected => {
            format!("Phản ánh {code} bị từ chối; xem lý do trên ứng dụng.")
        }
        Status::Closed => match &case.duplicate_of {
            Some(d) => format!(
                "Phản ánh {code} trùng với {}, đã gộp vào đó.",
                d.tracking_code
            ),
            None => format!("Phản ánh {code} đã kết thúc. Cảm ơn bạn."),
        },
        other => format!("Phản ánh {code}: {}.", other.label_vi()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    fn hanoi(h: u32, m: u32) -> DateTime<Utc> {
        // 2025-08-04 local = UTC+7.
        Utc.with_ymd_and_hms(2025, 8, 4, 0, 0, 0).unwrap()
            + Duration::hours(h as i64 - 7)
            + Duration::minutes(m as i64)
    }

    #[test]
    fn sms_waits_for_morning_in_quiet_hours_only() {
        let r = RefData::embedded();
        assert_eq!(sms_allowed_at(hanoi(9, 0), &r), hanoi(9, 0));
        assert_eq!(sms_allowed_at(hanoi(20, 59), &r), hanoi(20, 59));
        assert_eq!(sms_allowed_at(hanoi(21, 0), &r), hanoi(31, 0));
        assert_eq!(sms_allowed_at(hanoi(23, 30), &r), hanoi(31, 0));
        assert_eq!(sms_allowed_at(hanoi(3, 15), &r), hanoi(7, 0));
        assert_eq!(sms_allowed_at(hanoi(7, 0), &r), hanoi(7, 0));
        assert_eq!(sms_allowed_at(hanoi(6, 59), &r), hanoi(7, 0));
    }

    #[test]
    fn phones_are_vietnamese_mobiles_in_e164() {
        for ok in [
            "0912345678",
            "+84912345678",
            "84912345678",
            "091 234 5678",
            "+84 (91) 234-5678",
            "0358.123.456",
        ] {
            assert!(normalize_phone(ok).is_some(), "{ok}");
        }
        assert_eq!(normalize_phone("0912345678").unwrap(), "+84912345678");
        assert_eq!(normalize_phone("0358.123.456").unwrap(), "+84358123456");
        for bad in [
            "",
            "0912",
            "02412345678",
            "+14155550100",
            "09123456789",
            "091234567a",
            "0112345678",
        ] {
            assert!(normalize_phone(bad).is_none(), "{bad}");
        }
        assert_eq!(mask_phone("+84912345678"), "+84912***678");
    }

    #[test]
    fn vietnamese_sms_is_billed_as_ucs2() {
        assert_eq!(sms_segments("Phan anh da xu ly"), 1);
        assert_eq!(sms_segments(&"a".repeat(160)), 1);
        assert_eq!(sms_segments(&"a".repeat(161)), 2);
        assert_eq!(sms_segments(&"đ".repeat(70)), 1);
        assert_eq!(sms_segments(&"đ".repeat(71)), 2);
        assert_eq!(sms_segments(&"đ".repeat(134)), 2);
        assert_eq!(sms_segments(&"đ".repeat(135)), 3);
    }
}
