//! Per-account quotas: submissions (an hour, a day) and case actions (a
//! minute) for citizens, larger ones for hotline operators, and each client
//! application's API key on its own (the numbers are
//! `policy.json`'s `rate_limits`). Counted exactly in the store
//! ([`QuotaStore`]), in fixed windows aligned to the Unix epoch; other
//! roles are not limited here.

use crate::auth::{Principal, Role};
use crate::error::{Error, Result};
use crate::ports::{QuotaStore, window_start};
use crate::refdata::RefData;
use chrono::{DateTime, Duration, Utc};

/// What is being counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Usage {
    Submit,
    Act,
}

/// The (name, window, limit) quotas that apply to `p` for `usage`.
pub fn quotas(
    p: &Principal,
    usage: Usage,
    refdata: &RefData,
) -> Vec<(&'static str, Duration, u32)> {
    let l = &refdata.policy.rate_limits;
    let hour = Duration::hours(1);
    let day = Duration::days(1);
    let minute = Duration::minutes(1);
    match (p.role, usage) {
        (Role::Citizen, Usage::Submit) => vec![
            ("submit-h", hour, l.citizen_submissions_per_hour),
            ("submit-d", day, l.citizen_submissions_per_day),
        ],
        (Role::Operator, Usage::Submit) => vec![
            ("submit-h", hour, l.operator_submissions_per_hour),
            ("submit-d", day, l.operator_submissions_per_day),
        ],
        (Role::ClientApp, Usage::Submit) => vec![
            ("submit-h", hour, l.client_app_submissions_per_hour),
            ("submit-d", day, l.client_app_submissions_per_day),
        ],
        (Role::Citizen, Usage::Act) => vec![("act-m", minute, l.citizen_actions_per_minute)],
        (Role::Operator, Usage::Act) => vec![("act-m", minute, l.operator_actions_per_minute)],
        _ => Vec::new(),
    }
}

/// Count one `usage` of `p` at `now`, or refuse with `rate_limited` (its
/// `retry_after` the seconds until the full window ends). The shorter
/// window is taken first; a unit taken in it stays counted when a longer
/// window refuses.
pub async fn charge(
    store: &dyn QuotaStore,
    refdata: &RefData,
    p: &Principal,
    usage: Usage,
    now: DateTime<Utc>,
) -> Result<()> {
    for (name, window, limit) in quotas(p, usage, refdata) {
        let key = format!("{}:{}:{name}", p.role.as_str(), p.sub);
        let start = window_start(now, window);
        let taken = store.take(&key, start, window, limit).await?;
        if !taken.allowed {
            let ms = (taken.window_end - now).num_milliseconds().max(0);
            return Err(Error::rate_limited((ms + 999) / 1000));
        }
    }
    Ok(())
}
