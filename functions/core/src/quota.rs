//! Per-account quotas: submissions (an hour, a day) and case actions (a
//! minute) for citizens, larger ones for hotline operators, and each client
//! application's API key on its own (the numbers are
//! `policy.json`'s `rate_limits`). Counted exactly in the store
//! ([`QuotaStore`]), in fixed windows aligned to the Unix epoch; other
//! roles are not limited here.
//!
//! Also the citizen's urgency cap ([`take_urgent`]): a few `urgent`
//! reports per account per *local* day apply at once; it never refuses.

use crate::auth::{Principal, Role};
use crate::error::{Error, Result};
use crate::ports::{QuotaStore, Take, window_start};
use crate::refdata::RefData;
use chrono::{DateTime, Duration, Utc};

/// The quota key of a citizen's urgent reports of one local day.
const URGENT: &str = "urgent-d";

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
    let takes: Vec<Take> = quotas(p, usage, refdata)
        .into_iter()
        .map(|(name, window, limit)| Take {
            key: format!("{}:{}:{name}", p.role.as_str(), p.sub),
            window_start: window_start(now, window),
            window,
            limit,
        })
        .collect();
    if takes.is_empty() {
        return Ok(());
    }
    for taken in store.take_all(&takes).await? {
        if !taken.allowed {
            let ms = (taken.window_end - now).num_milliseconds().max(0);
            return Err(Error::rate_limited((ms + 999) / 1000));
        }
    }
    Ok(())
}

/// Count one of `p`'s `urgent` reports of the local day of `now`: true if
/// it may stay urgent (under `citizen_urgent_per_day`, or `p` is not a
/// citizen: a hotline operator grades a caller's emergency and is not
/// capped), false if it must be accepted as `normal`. The day is the
/// city's calendar day (local midnight to midnight), counted exactly in
/// the store like the other quotas.
pub async fn take_urgent(
    store: &dyn QuotaStore,
    refdata: &RefData,
    p: &Principal,
    now: DateTime<Utc>,
) -> Result<bool> {
    if p.role != Role::Citizen {
        return Ok(true);
    }
    let cal = &refdata.calendar;
    let start = cal.local_midnight(cal.local_date(now));
    let key = format!("{}:{}:{URGENT}", p.role.as_str(), p.sub);
    let limit = refdata.policy.rate_limits.citizen_urgent_per_day;
    Ok(store
        .take(&key, start, Duration::days(1), limit)
        .await?
        .allowed)
}
