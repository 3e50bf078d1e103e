//! Accountability: inspections for Home Affairs, daily unit checks (overdue
//! digests, missing rosters, low on-time rates, registration campaigns),
//! scorecards and the registration drive.

use crate::auth::{Principal, Role};
use crate::error::{Error, ErrorKind, Result};
use crate::inspection::{Finding, Inspection};
use crate::notify::{Audience, Notification, event};
use crate::ports::{Account, AccountScope};
use crate::scorecard::{self, Scorecard, UnitFacts};
use crate::service::Pakn;
use crate::stats;
use crate::text;
use crate::unit::UnitCode;
use crate::views::CaseView;
use chrono::{DateTime, Datelike, Duration, NaiveDate, Timelike, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

pub const FINDING_KINDS: [&str; 3] = ["justified_delay", "unit_at_fault", "official_at_fault"];

/// A notification that was decided for a case, and when it went out.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SentNotification {
    pub event: String,
    pub dedup_id: String,
    pub decided_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
}

/// An inspection with the evidence an inspector needs.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct InspectionView {
    pub inspection: Inspection,
    /// The case (full view), for a case inspection.
    pub case: Option<CaseView>,
    /// Reminders and alerts decided for the case, and when they were published.
    pub notifications: Vec<SentNotification>,
    /// The unit's roster of officials now.
    pub roster: crate::auth::Roster,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UnitRegistration {
    pub unit: String,
    pub name_vi: String,
    pub headcount: Option<u32>,
    pub registered: i64,
    pub rate: Option<f64>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CampaignStatus {
    pub campaign: crate::category::Campaign,
    pub ended: bool,
    /// Units with a headcount below the target.
    pub units_below_target: Vec<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RegistrationReport {
    pub citizen_accounts: i64,
    pub official_accounts: i64,
    /// Registered officials / headcount over units that reported a headcount.
    pub city_rate: Option<f64>,
    pub units: Vec<UnitRegistration>,
    pub campaigns: Vec<CampaignStatus>,
}

#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct DailyReport {
    pub ran: bool,
    pub digests: usize,
    pub unit_inspections: usize,
}

/// A period of local days `[from, to)` from `period=YYYY-MM|YYYY` or `from`/`to`.
pub fn parse_period(
    period: Option<&str>,
    from: Option<&str>,
    to: Option<&str>,
    today: NaiveDate,
) -> Result<(NaiveDate, NaiveDate)> {
    let bad = |f: &str| {
        Error::invalid(
            f,
            "invalid_period",
            "Give period=YYYY-MM or YYYY, or from=YYYY-MM-DD&to=YYYY-MM-DD (to exclusive).",
            "Hãy dùng period=YYYY-MM hoặc YYYY, hoặc from=YYYY-MM-DD&to=YYYY-MM-DD (không gồm ngày to).",
        )
    };
    let date = |f: &str, s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| bad(f));
    if let Some(p) = period {
        if let Some((y, m)) = p.split_once('-') {
            let (y, m) = (
                y.parse::<i32>().map_err(|_| bad("period"))?,
                m.parse::<u32>().map_err(|_| bad("period"))?,
            );
            let start = NaiveDate::from_ymd_opt(y, m, 1).ok_or_else(|| bad("period"))?;
            let end = if m == 12 {
                NaiveDate::from_ymd_opt(y + 1, 1, 1)
            } else {
                NaiveDate::from_ymd_opt(y, m + 1, 1)
            };
            return Ok((start, end.ok_or_else(|| bad("period"))?));
        }
        let y = p.parse::<i32>().map_err(|_| bad("period"))?;
        let s = NaiveDate::from_ymd_opt(y, 1, 1).ok_or_else(|| bad("period"))?;
        let e = NaiveDate::from_ymd_opt(y + 1, 1, 1).ok_or_else(|| bad("period"))?;
        return Ok((s, e));
    }
    let to = match to {
        Some(s) => date("to", s)?,
        None => today + Duration::days(1),
    };
    let from = match from {
        Some(s) => date("from", s)?,
        None => to - Duration::days(30),
    };
    if to <= from || (to - from).num_days() > 3700 {
        return Err(bad("to"));
    }
    Ok((from, to))
}

fn inspection_closed(action: &str) -> Error {
    Error::new(
        ErrorKind::Conflict,
        "invalid_transition",
        format!("The inspection is closed; '{action}' is no longer possible."),
        format!("Hồ sơ thanh tra đã đóng; không thể thực hiện '{action}'."),
    )
}

impl Pakn {
    fn today(&self) -> NaiveDate {
        self.refdata.calendar.local_date(self.now())
    }

    // ------------------------------------------------------------ accounts

    /// Register the caller's account (idempotent). Officials count toward their unit.
    pub async fn register_account(&self, p: &Principal) -> Result<bool> {
        let account = Account {
            sub: p.sub.clone(),
            role: p.role,
            unit: p.unit.clone(),
            registered_at: self.now(),
        };
        Ok(self.store.register_account(&account).await?)
    }

    pub async fn registration(&self) -> Result<RegistrationReport> {
        let citizens = self.store.count_accounts(&AccountScope::Citizens).await?;
        let officials = self.store.count_accounts(&AccountScope::Officials).await?;
        let today = self.today();
        let mut units = Vec::new();
        let (mut reg_sum, mut head_sum) = (0i64, 0i64);
        for u in self.refdata.units.values() {
            let headcount = self.store.get_headcount(&u.code).await?;
            let registered = self
                .store
                .count_accounts(&AccountScope::Unit(u.code.clone()))
                .await?;
            if headcount.is_none() && registered == 0 {
                continue;
            }
            if let Some(h) = headcount.filter(|h| *h > 0) {
                reg_sum += registered.min(h as i64);
                head_sum += h as i64;
            }
            let rate = headcount
                .filter(|h| *h > 0)
                .map(|h| registered as f64 / h as f64);
            units.push(UnitRegistration {
                unit: u.code.to_string(),
                name_vi: u.name_vi.clone(),
                headcount,
                registered,
                rate,
            });
        }
        let campaigns = self
            .refdata
            .policy
            .campaigns
            .iter()
            .map(|c| CampaignStatus {
                campaign: c.clone(),
                ended: today > c.deadline,
                units_below_target: units
                    .iter()
                    .filter(|u| u.rate.is_some_and(|r| r < c.target_rate))
                    .map(|u| u.unit.clone())
                    .collect(),
            })
            .collect();
        Ok(RegistrationReport {
            citizen_accounts: citizens,
            official_accounts: officials,
            city_rate: (head_sum > 0).then(|| reg_sum as f64 / head_sum as f64),
            units,
            campaigns,
        })
    }

    // ----------------------------------------------------------- scorecards

    async fn unit_facts(&self, unit: &UnitCode, to: NaiveDate) -> Result<UnitFacts> {
        let open = if to > self.today() {
            Some(self.store.count_open(Some(unit), self.now()).await?)
        } else {
            None
        };
        Ok(UnitFacts {
            open,
            roster_size: self.store.get_roster(unit).await?.officials.len(),
            headcount: self.store.get_headcount(unit).await?,
            registered_officials: self
                .store
                .count_accounts(&AccountScope::Unit(unit.clone()))
                .await?,
            open_inspections: self
                .store
                .list_inspections(None, Some(unit))
                .await?
                .iter()
                .filter(|i| i.status != "closed")
                .count(),
        })
    }

    pub async fn scorecard(
        &self,
        p: &Principal,
        unit: &UnitCode,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Scorecard> {
        let u = self.refdata.unit(unit).ok_or_else(Error::not_found)?;
        let allowed = match p.role {
            Role::Official | Role::UnitAdmin => p.unit.as_ref() == Some(unit),
            Role::Inspector | Role::Admin => true,
            _ => false,
        };
        if !allowed {
            return Err(Error::forbidden());
        }
        let r = stats::sum(&self.store.rollups(unit.as_str(), from, to).await?);
        let facts = self.unit_facts(unit, to).await?;
        Ok(scorecard::build(u, from, to, &r, &facts))
    }

    /// Every unit's scorecard, ranked (inspectors, admins; a unit's officials get their own row).
    pub async fn scorecards(
        &self,
        p: &Principal,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<Scorecard>> {
        let units: Vec<UnitCode> = match p.role {
            Role::Inspector | Role::Admin => self
                .refdata
                .units
                .values()
                .filter(|u| u.unit_type != "city")
                .map(|u| u.code.clone())
                .collect(),
            Role::Official | Role::UnitAdmin => p.unit.iter().cloned().collect(),
            _ => return Err(Error::forbidden()),
        };
        let mut cards = Vec::with_capacity(units.len());
        for u in &units {
            cards.push(self.scorecard(p, u, from, to).await?);
        }
        scorecard::rank(&mut cards, self.refdata.policy.min_resolved_for_ranking);
        Ok(cards)
    }

    // ---------------------------------------------------------- inspections

    fn may_inspect(p: &Principal) -> bool {
        matches!(p.role, Role::Inspector | Role::Admin)
    }

    pub async fn list_inspections(
        &self,
        p: &Principal,
        status: Option<&str>,
        unit: Option<&UnitCode>,
        reason: Option<&str>,
    ) -> Result<Vec<Inspection>> {
        let unit = match p.role {
            Role::Inspector | Role::Admin => unit.cloned(),
            Role::UnitAdmin => {
                if unit.is_some_and(|u| Some(u) != p.unit.as_ref()) {
                    return Err(Error::forbidden());
                }
                p.unit.clone()
            }
            _ => return Err(Error::forbidden()),
        };
        let mut list = self.store.list_inspections(status, unit.as_ref()).await?;
        if let Some(r) = reason {
            list.retain(|i| i.reason == r);
        }
        list.sort_by(|a, b| a.opened_at.cmp(&b.opened_at).then_with(|| a.id.cmp(&b.id)));
        Ok(list)
    }

    async fn load_inspection(&self, p: &Principal, id: &str) -> Result<Inspection> {
        let i = self
            .store
            .get_inspection(id)
            .await?
            .ok_or_else(Error::not_found)?;
        let visible =
            Self::may_inspect(p) || (p.role == Role::UnitAdmin && p.unit.as_ref() == Some(&i.unit));
        if !visible {
            return Err(Error::not_found());
        }
        Ok(i)
    }

    pub async fn get_inspection(&self, p: &Principal, id: &str) -> Result<InspectionView> {
        let inspection = self.load_inspection(p, id).await?;
        let (case, notifications) = match &inspection.case_id {
            Some(cid) => {
                let case = self.store.get_case(cid).await?;
                let tl = self.store.timeline(cid).await?;
                let sent = self
                    .store
                    .notifications_for_case(cid)
                    .await?
                    .into_iter()
                    .map(|(n, published_at)| SentNotification {
                        event: n.event,
                        dedup_id: n.dedup_id,
                        decided_at: n.created_at,
                        published_at,
                    })
                    .collect();
                (
                    case.map(|c| CaseView::new(c, tl, &self.refdata, self.now())),
                    sent,
                )
            }
            None => (None, vec![]),
        };
        let roster = self.store.get_roster(&inspection.unit).await?;
        Ok(InspectionView {
            inspection,
            case,
            notifications,
            roster,
        })
    }

    async fn update_inspection(
        &self,
        mut i: Inspection,
        change: impl FnOnce(&mut Inspection),
    ) -> Result<Inspection> {
        let expected = i.version;
        change(&mut i);
        i.version = expected + 1;
        match self.store.put_inspection(&i, expected).await {
            Ok(()) => Ok(i),
            Err(crate::ports::StoreError::Conflict(_)) => Err(Error::new(
                ErrorKind::PreconditionFailed,
                "stale_version",
                "The inspection changed while you worked on it; read it again and retry.",
                "Hồ sơ thanh tra đã thay đổi trong lúc bạn thao tác; hãy tải lại và thử lại.",
            )),
            Err(e) => Err(e.into()),
        }
    }

    /// An inspector records a finding.
    pub async fn add_finding(
        &self,
        p: &Principal,
        id: &str,
        body: &serde_json::Value,
    ) -> Result<Inspection> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct In {
            kind: String,
            #[serde(default)]
            officials: Vec<String>,
            text: String,
        }
        let i = self.load_inspection(p, id).await?;
        if !Self::may_inspect(p) {
            return Err(Error::forbidden());
        }
        let b: In = serde_json::from_value(body.clone()).map_err(|e| {
            Error::invalid(
                "body",
                "invalid_body",
                format!("Expected {{\"kind\",\"officials\",\"text\"}}: {e}."),
                format!("Cần {{\"kind\",\"officials\",\"text\"}}: {e}."),
            )
        })?;
        if !FINDING_KINDS.contains(&b.kind.as_str()) {
            return Err(Error::invalid(
                "kind",
                "unknown_finding_kind",
                format!("kind is one of {}.", FINDING_KINDS.join(", ")),
                format!("kind là một trong {}.", FINDING_KINDS.join(", ")),
            ));
        }
        if i.status == "closed" {
            return Err(inspection_closed("finding"));
        }
        let roster = self.store.get_roster(&i.unit).await?;
        if b.kind == "official_at_fault" {
            if b.officials.is_empty() {
                return Err(Error::invalid(
                    "officials",
                    "officials_required",
                    "Name the officials at fault.",
                    "Hãy nêu tên cán bộ có lỗi.",
                ));
            }
            if let Some(x) = b.officials.iter().find(|s| !roster.contains(s)) {
                return Err(Error::invalid(
                    "officials",
                    "not_on_roster",
                    format!("'{x}' is not on the unit's roster."),
                    format!("'{x}' không có trong danh sách cán bộ của đơn vị."),
                ));
            }
        }
        let finding = Finding {
            kind: b.kind,
            officials: b.officials,
            text: text::required("text", &b.text, 4000)?,
            by: p.sub.clone(),
            at: self.now(),
        };
        self.update_inspection(i, |i| i.findings.push(finding))
            .await
    }

    /// The unit answers with an explanation.
    pub async fn answer_inspection(
        &self,
        p: &Principal,
        id: &str,
        body: &serde_json::Value,
    ) -> Result<Inspection> {
        let i = self.load_inspection(p, id).await?;
        if !(p.role == Role::UnitAdmin && p.unit.as_ref() == Some(&i.unit)) {
            return Err(Error::forbidden());
        }
        if i.status == "closed" {
            return Err(inspection_closed("answer"));
        }
        let text = body
            .get("text")
            .and_then(|v| v.as_str())
            .filter(|_| body.as_object().is_some_and(|o| o.len() == 1));
        let text = text::required("text", text.unwrap_or(""), 4000)?;
        self.update_inspection(i, |i| {
            i.unit_answer = Some(text);
            i.status = "answered".into();
        })
        .await
    }

    /// An inspector closes the inspection (at least one finding first).
    pub async fn close_inspection(&self, p: &Principal, id: &str) -> Result<Inspection> {
        let i = self.load_inspection(p, id).await?;
        if !Self::may_inspect(p) {
            return Err(Error::forbidden());
        }
        if i.status == "closed" {
            return Err(inspection_closed("close"));
        }
        if i.findings.is_empty() {
            return Err(Error::new(
                ErrorKind::Conflict,
                "findings_required",
                "Record at least one finding before closing.",
                "Hãy ghi ít nhất một kết luận trước khi đóng.",
            ));
        }
        let now = self.now();
        self.update_inspection(i, |i| {
            i.status = "closed".into();
            i.closed_at = Some(now);
        })
        .await
    }

    // ------------------------------------------------------- daily checks

    /// Open a unit inspection once, and decide its notification once.
    async fn open_unit_inspection(
        &self,
        unit: &UnitCode,
        id: String,
        reason: &str,
        details: serde_json::Value,
    ) -> Result<bool> {
        let now = self.now();
        let i = Inspection {
            id: id.clone(),
            unit: unit.clone(),
            case_id: None,
            reason: reason.into(),
            status: "open".into(),
            opened_at: now,
            findings: vec![],
            unit_answer: None,
            closed_at: None,
            version: 1,
            details: details.clone(),
        };
        let created = match self.store.put_inspection(&i, 0).await {
            Ok(()) => true,
            Err(crate::ports::StoreError::Conflict(_)) => false,
            Err(e) => return Err(e.into()),
        };
        // Decided once even if a crash came between the two writes.
        let n = Notification {
            dedup_id: format!("inspection:{id}"),
            event: event::INSPECTION_OPENED.into(),
            unit: unit.to_string(),
            urgency: "normal".into(),
            audience: vec![Audience::HomeAffairs, Audience::Unit],
            case_id: None,
            body: json!({"inspection_id": id, "unit": unit, "reason": reason, "details": details}),
            created_at: now,
        };
        self.store.decide_once(&n).await?;
        Ok(created)
    }

    /// Once per local working day, from `digest_hour_local`: a digest of each
    /// unit's overdue cases, and unit inspections for missing rosters, low
    /// on-time rates and missed registration targets. Every decision is a
    /// put-if-absent, so a crash mid-way is finished by the next sweep; a
    /// marker written last keeps later sweeps that day cheap.
    pub async fn daily_checks(&self) -> Result<DailyReport> {
        let now = self.now();
        let cal = &self.refdata.calendar;
        let local = now.with_timezone(&cal.offset());
        let today = local.date_naive();
        let p = &self.refdata.policy;
        if !cal.is_working_day(today) || local.hour() < p.digest_hour_local {
            return Ok(DailyReport::default());
        }
        let marker = format!("daily:{today}");
        if self.store.get_marker(&marker).await? {
            return Ok(DailyReport::default());
        }
        let mut report = DailyReport {
            ran: true,
            ..Default::default()
        };
        let roster_deadline = cal
            .add_working_minutes(
                self.local_midnight_of(p.roster_required_from),
                p.roster_grace_working_days as i64 * cal.minutes_per_day(),
            )
            .unwrap_or(now);
        let window_from = today - Duration::days(p.on_time_window_days as i64);
        let month = format!("{:04}-{:02}", today.year(), today.month());
        for u in self.refdata.units.values() {
            if u.unit_type == "city" {
                continue;
            }
            let code = &u.code;
            // Digest of overdue cases.
            let q = crate::ports::CaseQuery {
                unit: Some(code.clone()),
                overdue_at: Some(now),
                limit: 200,
                ..Default::default()
            };
            let overdue = self.store.list_cases(&q).await?.cases;
            if !overdue.is_empty() {
                let items: Vec<_> = overdue
                    .iter()
                    .map(|c| {
                        let days = c.resolve_due.map(|d| (now - d).num_hours() as f64 / 24.0).unwrap_or(0.0);
                        json!({"case_id": c.id, "tracking_code": c.tracking_code, "title": c.title,
                               "resolve_due": c.resolve_due, "days_overdue": (days * 10.0).round() / 10.0})
                    })
                    .collect();
                let n = Notification {
                    dedup_id: format!("digest:{code}:{today}"),
                    event: event::OVERDUE_DIGEST.into(),
                    unit: code.to_string(),
                    urgency: "normal".into(),
                    audience: vec![Audience::Unit],
                    case_id: None,
                    body: json!({"unit": code, "date": today, "overdue": items.len(), "cases": items}),
                    created_at: now,
                };
                if self.store.decide_once(&n).await? {
                    report.digests += 1;
                }
            }
            let (open, _) = self.store.count_open(Some(code), now).await?;
            // A unit holding cases with no roster, after the grace period.
            if open > 0
                && now > roster_deadline
                && self.store.get_roster(code).await?.officials.is_empty()
            {
                let id = format!("unit-{code}-empty_roster-{month}");
                if self
                    .open_unit_inspection(code, id, "empty_roster", json!({"open_cases": open}))
                    .await?
                {
                    report.unit_inspections += 1;
                }
            }
            // On-time rate over the window.
            let r = stats::sum(
                &self
                    .store
                    .rollups(code.as_str(), window_from, today + Duration::days(1))
                    .await?,
            );
            let s = stats::figures(window_from, today, None, &r, None);
            if s.resolved >= p.min_resolved_for_ranking as i64
                && s.on_time_rate.is_some_and(|x| x < p.low_on_time_rate)
            {
                let id = format!("unit-{code}-low_on_time_rate-{month}");
                let d = json!({"resolved": s.resolved, "on_time_rate": s.on_time_rate, "threshold": p.low_on_time_rate, "window_days": p.on_time_window_days});
                if self
                    .open_unit_inspection(code, id, "low_on_time_rate", d)
                    .await?
                {
                    report.unit_inspections += 1;
                }
            }
            // Registration campaigns past their deadline.
            for c in p.campaigns.iter().filter(|c| today > c.deadline) {
                let Some(h) = self.store.get_headcount(code).await?.filter(|h| *h > 0) else {
                    continue;
                };
                let reg = self
                    .store
                    .count_accounts(&AccountScope::Unit(code.clone()))
                    .await?;
                let rate = reg as f64 / h as f64;
                if rate < c.target_rate {
                    let id = format!("unit-{code}-registration-{}", c.id);
                    let d = json!({"campaign": c.id, "registered": reg, "headcount": h, "rate": rate, "target": c.target_rate});
                    if self
                        .open_unit_inspection(code, id, "registration_below_target", d)
                        .await?
                    {
                        report.unit_inspections += 1;
                    }
                }
            }
        }
        self.store.put_marker(&marker).await?;
        Ok(report)
    }

    fn local_midnight_of(&self, d: NaiveDate) -> DateTime<Utc> {
        let off = self.refdata.calendar.offset().local_minus_utc() as i64;
        (d.and_hms_opt(0, 0, 0).expect("midnight") - Duration::seconds(off)).and_utc()
    }

    /// Citizen accounts for the public stats (city-wide only).
    pub async fn citizen_accounts(&self, unit: Option<&UnitCode>) -> Result<Option<i64>> {
        if unit.is_some() {
            return Ok(None);
        }
        Ok(Some(
            self.store.count_accounts(&AccountScope::Citizens).await?,
        ))
    }
}
