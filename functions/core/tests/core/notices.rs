//! The words of citizens' notices: every text told, for every unit of the
//! city, reporter or follower, fits one SMS segment (Vietnamese SMS are
//! billed per 70-character UCS-2 segment), names the case and is NFC.

use pakn_core::case::{DuplicateOf, Status};
use pakn_core::notices::{sms_segments, text};
use pakn_core::refdata::RefData;
use pakn_core::unit::UnitCode;
use pakn_testkit::{sample_case, t0};

#[test]
fn every_text_fits_one_sms_for_every_unit() {
    let r = RefData::embedded();
    let mut case = sample_case(t0(), "cong-dan");
    case.tracking_code = "HN-26-7K3QX-9MPTR".into();
    let other = DuplicateOf {
        id: case.id.clone(),
        tracking_code: "HN-26-ABCDE-FGHJK".into(),
    };
    assert!(r.units.len() > 130);
    for unit in r.units.keys() {
        for status in [
            Status::Assigned,
            Status::AwaitingInfo,
            Status::Resolved,
            Status::Rejected,
            Status::Closed,
        ] {
            for reporter in [true, false] {
                for dup in [None, Some(other.clone())] {
                    case.duplicate_of = dup;
                    let t = text(&case, status, reporter, Some(unit), &r);
                    assert_eq!(sms_segments(&t), 1, "{unit}: {t}");
                    assert!(t.contains("HN-26-7K3QX-9MPTR"), "{t}");
                    assert!(unicode_normalization::is_nfc(&t), "{t}");
                }
            }
        }
    }
    case.duplicate_of = None;
    let hk = text(
        &case,
        Status::Assigned,
        true,
        Some(&UnitCode::ward("00070")),
        &r,
    );
    assert!(hk.contains("Phường Hoàn Kiếm"), "{hk}");
    let closed = text(&case, Status::Closed, true, None, &r);
    assert!(closed.contains("kết thúc"), "{closed}");
}
