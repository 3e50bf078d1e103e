//! The application: every use case of pakn over the ports. The HTTP API,
//! the routing worker and the deadline sweep are thin callers of this, on
//! AWS and locally alike.

use crate::auth::{self, CaseAccess, Principal, Role, Roster};
use crate::case::*;
use crate::category::{Kind, Urgency};
use crate::error::{Error, ErrorKind, Result};
use crate::ids::{self, CaseId};
use crate::inspection::Inspection;
use crate::notify::Notification;
use crate::ports::*;
use crate::refdata::RefData;
use crate::stats::{self, ALL, Counter, StatDelta, Stats};
use crate::text;
use crate::unit::{UnitCode, normalize_ward_code};
use crate::views::{CaseView, PublicCase};
use crate::workflow::{self, Action, Outcome};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// Hanoi's bounding box (with a margin): coordinates outside are refused.
pub const BBOX: (f64, f64, f64, f64) = (20.50, 21.42, 105.25, 106.05);
pub const MAX_DESCRIPTION: usize = 4000;
pub const MAX_TITLE: usize = 200;
pub const IDEMPOTENCY_TTL_HOURS: i64 = 24;

/// The application, built once per process from its adapters.
#[derive(Clone)]
pub struct Pakn {
    pub store: Arc<dyn CaseStore>,
    pub queue: Arc<dyn Queue>,
    pub notifier: Arc<dyn Notifier>,
    pub clock: Arc<dyn Clock>,
    pub refdata: Arc<RefData>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitLocation {
    pub lat: f64,
    pub lng: f64,
    #[serde(default)]
    pub address: Option<String>,
    /// 5-digit official code (`"00070"`); a number (`70`) is accepted.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "00070")]
    pub ward_code: Option<serde_json::Value>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitRequest {
    #[serde(default)]
    pub kind: Option<Kind>,
    pub category: String,
    pub title: String,
    pub description: String,
    #[serde(default)]
    pub urgency: Option<Urgency>,
    pub location: Option<SubmitLocation>,
    #[serde(default)]
    pub media: Vec<String>,
    #[serde(default)]
    pub channel: Option<Channel>,
    #[serde(default)]
    pub contact: Option<Contact>,
}

/// The answer to a submission.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Receipt {
    pub id: String,
    pub tracking_code: String,
    pub status: Status,
    /// True when an earlier request with the same Idempotency-Key created the case.
    #[serde(skip)]
    pub replayed: bool,
}

/// What routing one queue message did.
#[derive(Debug, Clone, PartialEq)]
pub enum RouteResult {
    Routed(UnitCode),
    /// A duplicate delivery: the case was routed before.
    AlreadyRouted,
}

#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct SweepReport {
    pub looked: usize,
    pub decided: usize,
    pub conflicts: usize,
    pub requeued: usize,
    pub inspections_opened: usize,
    pub published: usize,
    /// The once-a-day unit checks (digests, unit inspections), when they ran.
    pub daily: crate::oversight::DailyReport,
}

/// Filters a caller may give when listing.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct ListParams {
    pub mine: Option<bool>,
    pub unit: Option<String>,
    pub status: Option<String>,
    pub category: Option<String>,
    pub overdue: Option<bool>,
    /// Received at or after (RFC 3339 or YYYY-MM-DD, local day).
    pub from: Option<String>,
    /// Received before (RFC 3339 or YYYY-MM-DD, local day).
    pub to: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<usize>,
}

fn sha256_hex(s: &[u8]) -> String {
    let d = Sha256::digest(s);
    d.iter().map(|b| format!("{b:02x}")).collect()
}

impl Pakn {
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    // ---------------------------------------------------------------- intake

    fn validate_submission(
        &self,
        p: &Principal,
        req: SubmitRequest,
        now: DateTime<Utc>,
    ) -> Result<Case> {
        let refdata = &self.refdata;
        let cat = refdata.category(req.category.trim()).ok_or_else(|| {
            Error::invalid(
                "category",
                "unknown_category",
                format!(
                    "Unknown category '{}'; see GET /v1/categories.",
                    req.category
                ),
                format!(
                    "Lĩnh vực '{}' không tồn tại; xem GET /v1/categories.",
                    req.category
                ),
            )
        })?;
        if let Some(k) = req.kind {
            if k != cat.kind {
                return Err(Error::invalid(
                    "kind",
                    "kind_mismatch",
                    format!("Category '{}' is a {} report.", cat.code, cat.kind.as_str()),
                    format!(
                        "Lĩnh vực '{}' thuộc loại phản ánh {}.",
                        cat.code,
                        cat.kind.as_str()
                    ),
                ));
            }
        }
        let title = text::required("title", &req.title, MAX_TITLE)?;
        let description = text::required("description", &req.description, MAX_DESCRIPTION)?;
        let loc = req.location.ok_or_else(|| {
            Error::invalid(
                "location",
                "location_required",
                "The location is required.",
                "Vị trí là bắt buộc.",
            )
        })?;
        let (lat0, lat1, lng0, lng1) = BBOX;
        if !(loc.lat.is_finite()
            && loc.lng.is_finite()
            && (lat0..=lat1).contains(&loc.lat)
            && (lng0..=lng1).contains(&loc.lng))
        {
            return Err(Error::invalid(
                "location",
                "outside_city",
                "The coordinates are outside Hanoi.",
                "Tọa độ nằm ngoài địa bàn Thành phố Hà Nội.",
            ));
        }
        let ward_code = match &loc.ward_code {
            None | Some(serde_json::Value::Null) => None,
            Some(v) => {
                let code = normalize_ward_code(v).ok_or_else(|| {
                    Error::invalid(
                        "location.ward_code",
                        "invalid_ward_code",
                        "ward_code is the 5-digit official code, e.g. \"00070\".",
                        "ward_code là mã 5 chữ số chính thức, ví dụ \"00070\".",
                    )
                })?;
                if refdata.unit(&UnitCode::ward(&code)).is_none() {
                    return Err(Error::invalid(
                        "location.ward_code",
                        "unknown_ward",
                        format!("No ward or commune of Hanoi has code {code}."),
                        format!("Không có phường, xã nào của Hà Nội mang mã {code}."),
                    ));
                }
                Some(code)
            }
        };
        let address = text::optional("location.address", loc.address.as_deref(), 500)?;
        let media = text::urls("media", &req.media, 10)?;
        let channel = match (p.role, req.channel) {
            (Role::Citizen, None) => Channel::App,
            (Role::Citizen, Some(c @ (Channel::App | Channel::Web))) => c,
            (Role::Operator, None | Some(Channel::Hotline)) => Channel::Hotline,
            _ => {
                return Err(Error::invalid(
                    "channel",
                    "invalid_channel",
                    "Citizens submit through app or web; operators through the hotline.",
                    "Người dân gửi qua ứng dụng hoặc web; tổng đài viên gửi qua đường dây nóng.",
                ));
            }
        };
        let contact = match req.contact {
            None => None,
            Some(c) => Some(validate_contact(c)?),
        };
        if p.role == Role::Operator
            && contact
                .as_ref()
                .is_none_or(|c| c.name.is_none() && c.phone.is_none())
        {
            return Err(Error::invalid(
                "contact",
                "contact_required",
                "A hotline report needs the caller's name or phone.",
                "Phản ánh qua tổng đài cần tên hoặc số điện thoại của người gọi.",
            ));
        }
        let submission = Submission {
            kind: cat.kind,
            category: cat.code.clone(),
            title,
            description,
            urgency: req.urgency.unwrap_or(Urgency::Normal),
            location: Location {
                lat: loc.lat,
                lng: loc.lng,
                address,
                ward_code,
            },
            media,
            channel,
            contact,
        };
        Ok(Case::received(
            CaseId::new(now),
            ids::new_tracking_code(now),
            submission,
            p.sub.clone(),
            p.role,
            now,
        ))
    }

    /// Accept a report. Answers only once the case is durably stored (and,
    /// on the embedded store, its queue message with it, in one transaction).
    #[tracing::instrument(skip_all, err(level = "debug"))]
    pub async fn submit(
        &self,
        p: &Principal,
        body: &serde_json::Value,
        idempotency_key: Option<&str>,
    ) -> Result<Receipt> {
        if !auth::can_submit(p) {
            return Err(Error::forbidden());
        }
        let req: SubmitRequest = serde_json::from_value(body.clone()).map_err(|e| {
            Error::invalid(
                "body",
                "invalid_body",
                format!("The report does not have the expected fields: {e}."),
                format!("Phản ánh không có các trường như quy định: {e}."),
            )
        })?;
        let now = self.now();
        let mut case = self.validate_submission(p, req, now)?;
        case.next_action_at = crate::schedule::next_action_at(&case, &self.refdata);
        let idem = match idempotency_key {
            None => None,
            Some(k) => {
                if k.is_empty() || k.len() > 255 || !k.is_ascii() {
                    return Err(Error::malformed(
                        "Idempotency-Key must be 1 to 255 ASCII characters.",
                        "Idempotency-Key phải dài từ 1 đến 255 ký tự ASCII.",
                    )
                    .with_field("Idempotency-Key"));
                }
                Some(IdemRecord {
                    key: sha256_hex(format!("{}\n{}\n{k}", p.role.as_str(), p.sub).as_bytes()),
                    body_hash: sha256_hex(body.to_string().as_bytes()),
                    case_id: case.id.clone(),
                    tracking_code: case.tracking_code.clone(),
                    expires_at: now + Duration::hours(IDEMPOTENCY_TTL_HOURS),
                })
            }
        };
        let kind_counter = match case.kind {
            Kind::Field => Counter::ReceivedField,
            Kind::Procedure => Counter::ReceivedProcedure,
        };
        let day = self.refdata.calendar.local_date(now);
        let deltas = [Counter::Received, kind_counter]
            .into_iter()
            .map(|c| StatDelta {
                day,
                scope: ALL.into(),
                counter: c,
                amount: 1,
            })
            .collect();
        let event = TimelineEvent {
            at: now,
            version: 1,
            action: "submitted".into(),
            actor: p.sub.clone(),
            actor_role: p.role.as_str().into(),
            from_status: None,
            to_status: Some(Status::Received),
            unit: None,
            text: None,
            public: true,
            data: serde_json::json!({"channel": case.channel}),
        };
        let mut new = NewCase {
            case,
            event,
            deltas,
            idempotency: idem,
        };
        for _ in 0..8 {
            match self.store.create_case(&new, now).await {
                Ok(Created::New) => {
                    if !self.store.enqueues_on_create() {
                        // The case is durable; a lost message is re-sent by the sweep.
                        if let Err(e) = self.queue.send(std::slice::from_ref(&new.case.id)).await {
                            tracing::warn!(case_id = %new.case.id, error = %e, "intake send failed; the sweep will re-enqueue");
                        }
                    }
                    return Ok(Receipt {
                        id: new.case.id.to_string(),
                        tracking_code: new.case.tracking_code,
                        status: Status::Received,
                        replayed: false,
                    });
                }
                Ok(Created::Replayed(rec)) => {
                    let mine = new.idempotency.as_ref().map(|i| i.body_hash.as_str());
                    if Some(rec.body_hash.as_str()) != mine {
                        return Err(Error::new(
                            ErrorKind::Conflict,
                            "idempotency_key_reused",
                            "This Idempotency-Key was used with a different body.",
                            "Idempotency-Key này đã được dùng với nội dung khác.",
                        )
                        .with_field("Idempotency-Key"));
                    }
                    let status = match self.store.get_case(&rec.case_id).await? {
                        Some(c) => {
                            if c.status == Status::Received && !self.store.enqueues_on_create() {
                                let _ = self.queue.send(std::slice::from_ref(&c.id)).await;
                            }
                            c.status
                        }
                        None => Status::Received,
                    };
                    return Ok(Receipt {
                        id: rec.case_id.to_string(),
                        tracking_code: rec.tracking_code,
                        status,
                        replayed: true,
                    });
                }
                Err(StoreError::TrackingCodeTaken) => {
                    new.case.tracking_code = ids::new_tracking_code(now);
                    if let Some(i) = new.idempotency.as_mut() {
                        i.tracking_code = new.case.tracking_code.clone();
                    }
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(Error::bug("could not draw a free tracking code"))
    }

    // --------------------------------------------------------------- routing

    /// Route one queued case. Safe under duplicate delivery and concurrent
    /// workers: only a `received` case is routed, with a version check.
    #[tracing::instrument(skip_all, fields(case_id = %id), err)]
    pub async fn route_case(&self, id: &CaseId) -> Result<RouteResult> {
        for _ in 0..5 {
            let case = self.store.get_case(id).await?.ok_or_else(|| {
                Error::new(
                    ErrorKind::NotFound,
                    "unknown_case",
                    format!("No case {id}."),
                    format!("Không có phản ánh {id}."),
                )
            })?;
            if case.status != Status::Received {
                return Ok(RouteResult::AlreadyRouted);
            }
            let unit = crate::routing::target(&case, &self.refdata);
            let outcome = workflow::route(&case, unit.clone(), self.now(), &self.refdata)?;
            match self.commit(case.version, outcome, None, false).await {
                Ok(()) => return Ok(RouteResult::Routed(unit)),
                Err(StoreError::Conflict(_)) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(Error::bug("routing kept conflicting"))
    }

    /// Commit a change and publish what it decided (best effort: what fails
    /// to publish stays in the outbox for the sweep).
    async fn commit(
        &self,
        expected_version: u64,
        outcome: Outcome,
        inspection: Option<Inspection>,
        enqueue: bool,
    ) -> Result<(), StoreError> {
        let commit = Commit {
            expected_version,
            outcome,
            inspection,
            enqueue,
        };
        self.store.commit(&commit).await?;
        self.publish(&commit.outcome.notifications).await;
        Ok(())
    }

    async fn publish(&self, ns: &[Notification]) -> usize {
        let mut ok = 0;
        for n in ns {
            match self.notifier.publish(n).await {
                Ok(()) => match self.store.mark_published(&n.dedup_id).await {
                    Ok(()) => ok += 1,
                    Err(e) => {
                        tracing::warn!(dedup_id = %n.dedup_id, error = %e, "mark published failed")
                    }
                },
                Err(e) => {
                    tracing::warn!(dedup_id = %n.dedup_id, error = %e, "publish failed; left in the outbox")
                }
            }
        }
        ok
    }

    /// Publish everything decided but not yet acknowledged.
    pub async fn drain_outbox(&self) -> Result<usize> {
        let mut total = 0;
        loop {
            let pending = self.store.pending_notifications(100).await?;
            if pending.is_empty() {
                return Ok(total);
            }
            let n = self.publish(&pending).await;
            total += n;
            if n < pending.len() {
                return Ok(total);
            }
        }
    }

    // ----------------------------------------------------------------- reads

    async fn roster_of(&self, unit: Option<&UnitCode>) -> Result<Roster> {
        match unit {
            Some(u) => Ok(self.store.get_roster(u).await?),
            None => Ok(Roster::default()),
        }
    }

    async fn load(&self, id: &str) -> Result<Case> {
        let id = CaseId::parse(id).ok_or_else(Error::not_found)?;
        self.store.get_case(&id).await?.ok_or_else(Error::not_found)
    }

    /// The full case, if `p` may read it (else 404).
    pub async fn get_case(&self, p: &Principal, id: &str) -> Result<CaseView> {
        let case = self.load(id).await?;
        let roster = self.roster_of(case.unit.as_ref()).await?;
        auth::authorize(p, &case, &roster, CaseAccess::Read)?;
        let tl = self.store.timeline(&case.id).await?;
        Ok(CaseView::new(case, tl, &self.refdata, self.now()))
    }

    /// The public view by tracking code.
    pub async fn track(&self, code: &str) -> Result<PublicCase> {
        let code = ids::normalize_tracking_code(code).ok_or_else(Error::not_found)?;
        let id = self
            .store
            .case_id_by_tracking_code(&code)
            .await?
            .ok_or_else(Error::not_found)?;
        let case = self
            .store
            .get_case(&id)
            .await?
            .ok_or_else(Error::not_found)?;
        let tl = self.store.timeline(&id).await?;
        Ok(PublicCase::new(&case, &tl, &self.refdata, self.now()))
    }

    /// List what `p` may see, with filters and a cursor.
    pub async fn list(&self, p: &Principal, params: &ListParams) -> Result<CasePage> {
        let mut q = CaseQuery {
            limit: params.limit.unwrap_or(50).clamp(1, 200),
            cursor: params.cursor.clone(),
            ..Default::default()
        };
        if let Some(s) = &params.status {
            q.status = Some(Status::parse(s).ok_or_else(|| {
                Error::invalid(
                    "status",
                    "unknown_status",
                    format!("Unknown status '{s}'."),
                    format!("Trạng thái '{s}' không tồn tại."),
                )
            })?);
        }
        q.category = params.category.clone();
        if params.overdue == Some(true) {
            q.overdue_at = Some(self.now());
        }
        q.received_from = params
            .from
            .as_deref()
            .map(|s| self.parse_instant("from", s))
            .transpose()?;
        q.received_to = params
            .to
            .as_deref()
            .map(|s| self.parse_instant("to", s))
            .transpose()?;
        let asked_unit = params
            .unit
            .as_deref()
            .map(UnitCode::parse)
            .transpose()
            .map_err(|e| e.with_field("unit"))?;
        match p.role {
            Role::Citizen | Role::Operator => {
                if asked_unit.is_some() {
                    return Err(Error::forbidden());
                }
                q.submitted_by = Some(p.sub.clone());
            }
            Role::Official | Role::UnitAdmin | Role::Triage => {
                let own = p.unit.clone().ok_or_else(Error::forbidden)?;
                if asked_unit.as_ref().is_some_and(|u| u != &own) || params.mine == Some(true) {
                    return Err(Error::forbidden());
                }
                if p.role != Role::Triage {
                    let roster = self.store.get_roster(&own).await?;
                    if !roster.officials.is_empty() && !roster.contains(&p.sub) {
                        return Err(Error::forbidden());
                    }
                }
                q.unit = Some(own);
            }
            Role::Inspector | Role::Admin => q.unit = asked_unit,
        }
        let mut page = self.store.list_cases(&q).await?;
        // Belt and braces: the store's filter and the permission table agree.
        page.cases.retain(|c| match p.role {
            Role::Citizen | Role::Operator => c.submitted_by == p.sub && c.submitted_role == p.role,
            _ => true,
        });
        Ok(page)
    }

    fn parse_instant(&self, field: &str, s: &str) -> Result<DateTime<Utc>> {
        if let Ok(t) = DateTime::parse_from_rfc3339(s) {
            return Ok(t.with_timezone(&Utc));
        }
        let d = NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| {
            Error::invalid(
                field,
                "invalid_date",
                format!("'{field}' is YYYY-MM-DD or RFC 3339."),
                format!("'{field}' có dạng YYYY-MM-DD hoặc RFC 3339."),
            )
        })?;
        Ok(self.local_midnight(d))
    }

    fn local_midnight(&self, d: NaiveDate) -> DateTime<Utc> {
        let off = self.refdata.calendar.offset();
        (d.and_hms_opt(0, 0, 0).expect("midnight exists")
            - chrono::Duration::seconds(off.local_minus_utc() as i64))
        .and_utc()
    }

    // --------------------------------------------------------------- actions

    /// Take an action on a case. Order of checks: visible (404), body (422),
    /// permission (403), `If-Match` (428/412), transition (409).
    #[tracing::instrument(skip_all, fields(case_id = %id, action = %action_name), err(level = "debug"))]
    pub async fn act(
        &self,
        p: &Principal,
        id: &str,
        action_name: &str,
        body: &serde_json::Value,
        if_match: Option<u64>,
    ) -> Result<CaseView> {
        if !workflow::ACTION_NAMES.contains(&action_name) {
            return Err(Error::not_found());
        }
        let case = self.load(id).await?;
        let roster = self.roster_of(case.unit.as_ref()).await?;
        auth::authorize(p, &case, &roster, CaseAccess::Read)?;
        let action = Action::parse(action_name, body, &self.refdata)?;
        auth::authorize(p, &case, &roster, action.access(&case))?;
        let expected = if_match.ok_or_else(|| {
            Error::new(
                ErrorKind::PreconditionRequired,
                "if_match_required",
                "Send the case's ETag in If-Match.",
                "Hãy gửi ETag của phản ánh trong tiêu đề If-Match.",
            )
        })?;
        if expected != case.version {
            return Err(Error::stale_version());
        }
        let outcome = workflow::apply(&case, p, action, self.now(), &self.refdata)?;
        let after = outcome.case.clone();
        match self.commit(case.version, outcome, None, false).await {
            Ok(()) => {}
            Err(StoreError::Conflict(_)) => return Err(Error::stale_version()),
            Err(e) => return Err(e.into()),
        }
        // The actor sees the case as their action left it (after a transfer
        // they may no longer read it, but they did just act on it).
        let tl = self.store.timeline(&after.id).await?;
        Ok(CaseView::new(after, tl, &self.refdata, self.now()))
    }

    // ------------------------------------------------------------ deadlines

    /// One pass of the deadline sweep: decide every milestone due now,
    /// exactly once, then drain the outbox.
    #[tracing::instrument(skip_all, err)]
    pub async fn sweep(&self, limit: usize) -> Result<SweepReport> {
        let now = self.now();
        let mut report = SweepReport::default();
        let due = self.store.due_cases(now, limit).await?;
        report.looked = due.len();
        for case in due {
            let Some(d) = crate::schedule::decide(&case, now, &self.refdata) else {
                continue;
            };
            let inspection = if d.open_inspection {
                let unit = case.unit.clone().unwrap_or_else(UnitCode::triage);
                Some(Inspection::for_overdue_case(
                    &case.id,
                    &unit,
                    now,
                    serde_json::json!({"resolve_due": case.resolve_due, "holds": case.holds, "transfers": case.transfers}),
                ))
            } else {
                None
            };
            let requeue = d.requeue;
            let opened = inspection.is_some();
            let commit = Commit {
                expected_version: case.version,
                outcome: d.outcome,
                inspection,
                enqueue: requeue,
            };
            match self.store.commit(&commit).await {
                Ok(()) => {
                    report.decided += 1;
                    if opened {
                        report.inspections_opened += 1;
                    }
                    if requeue {
                        report.requeued += 1;
                        if !self.store.enqueues_on_create() {
                            self.queue.send(std::slice::from_ref(&case.id)).await?;
                        }
                    }
                }
                Err(StoreError::Conflict(_)) => report.conflicts += 1,
                Err(e) => return Err(e.into()),
            }
        }
        report.daily = self.daily_checks().await?;
        report.published = self.drain_outbox().await?;
        Ok(report)
    }

    // ---------------------------------------------------------------- stats

    /// Figures for local days `[from, to)`, city-wide or for one unit.
    pub async fn stats(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        unit: Option<&UnitCode>,
    ) -> Result<Stats> {
        if to <= from || (to - from).num_days() > 3700 {
            return Err(Error::invalid(
                "to",
                "invalid_period",
                "'to' must be after 'from' (at most ten years).",
                "'to' phải sau 'from' (tối đa mười năm).",
            ));
        }
        if let Some(u) = unit {
            if self.refdata.unit(u).is_none() {
                return Err(Error::invalid(
                    "unit",
                    "unknown_unit",
                    format!("Unit '{u}' does not exist."),
                    format!("Đơn vị '{u}' không tồn tại."),
                ));
            }
        }
        let scope = unit
            .map(|u| u.to_string())
            .unwrap_or_else(|| ALL.to_string());
        let rows = self.store.rollups(&scope, from, to).await?;
        let total = stats::sum(&rows);
        let now = self.now();
        let today = self.refdata.calendar.local_date(now);
        let open = if to > today {
            Some(self.store.count_open(unit, now).await?)
        } else {
            None
        };
        Ok(stats::figures(
            from,
            to,
            unit.map(|u| u.to_string()),
            &total,
            open,
        ))
    }

    // ------------------------------------------------------- rosters, staff

    pub async fn get_roster(&self, p: &Principal, unit: &UnitCode) -> Result<Roster> {
        self.known_unit(unit)?;
        if !auth::can_read_roster(p, unit) {
            return Err(Error::forbidden());
        }
        Ok(self.store.get_roster(unit).await?)
    }

    pub async fn put_roster(
        &self,
        p: &Principal,
        unit: &UnitCode,
        body: &serde_json::Value,
    ) -> Result<Roster> {
        self.known_unit(unit)?;
        if !auth::can_write_roster(p, unit) {
            return Err(Error::forbidden());
        }
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct In {
            officials: Vec<OfficialIn>,
        }
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct OfficialIn {
            sub: String,
            name: String,
            #[serde(default)]
            title: String,
        }
        let b: In = serde_json::from_value(body.clone()).map_err(|e| {
            Error::invalid(
                "officials",
                "invalid_body",
                format!("Expected {{\"officials\":[{{\"sub\",\"name\",\"title\"}}]}}: {e}."),
                format!("Cần {{\"officials\":[{{\"sub\",\"name\",\"title\"}}]}}: {e}."),
            )
        })?;
        if b.officials.len() > 2000 {
            return Err(Error::invalid(
                "officials",
                "too_many",
                "At most 2000 officials.",
                "Tối đa 2000 cán bộ.",
            ));
        }
        let mut officials = Vec::new();
        for o in b.officials {
            let sub = text::required("officials.sub", &o.sub, 128)?;
            if officials.iter().any(|x: &auth::Official| x.sub == sub) {
                return Err(Error::invalid(
                    "officials.sub",
                    "duplicate",
                    format!("'{sub}' is listed twice."),
                    format!("'{sub}' bị liệt kê hai lần."),
                ));
            }
            officials.push(auth::Official {
                sub,
                name: text::required("officials.name", &o.name, 200)?,
                title: text::optional("officials.title", Some(&o.title), 200)?.unwrap_or_default(),
            });
        }
        let roster = Roster {
            officials,
            updated_at: Some(self.now()),
            updated_by: Some(p.sub.clone()),
        };
        self.store.put_roster(unit, &roster).await?;
        Ok(roster)
    }

    pub async fn get_headcount(&self, p: &Principal, unit: &UnitCode) -> Result<Option<u32>> {
        self.known_unit(unit)?;
        if !auth::can_read_roster(p, unit) {
            return Err(Error::forbidden());
        }
        Ok(self.store.get_headcount(unit).await?)
    }

    pub async fn put_headcount(
        &self,
        p: &Principal,
        unit: &UnitCode,
        body: &serde_json::Value,
    ) -> Result<u32> {
        self.known_unit(unit)?;
        if !auth::can_write_roster(p, unit) {
            return Err(Error::forbidden());
        }
        let staff = body
            .get("staff")
            .and_then(|v| v.as_u64())
            .filter(|n| *n <= 1_000_000 && body.as_object().is_some_and(|o| o.len() == 1))
            .ok_or_else(|| {
                Error::invalid(
                    "staff",
                    "invalid_body",
                    "Expected {\"staff\": N} with 0 <= N <= 1000000.",
                    "Cần {\"staff\": N} với 0 <= N <= 1000000.",
                )
            })?;
        self.store.put_headcount(unit, staff as u32).await?;
        Ok(staff as u32)
    }

    fn known_unit(&self, unit: &UnitCode) -> Result<()> {
        if self.refdata.unit(unit).is_some() {
            Ok(())
        } else {
            Err(Error::not_found())
        }
    }
}

fn validate_contact(c: Contact) -> Result<Contact> {
    let name = text::optional("contact.name", c.name.as_deref(), 200)?;
    let phone = match text::optional("contact.phone", c.phone.as_deref(), 32)? {
        None => None,
        Some(p) => {
            let digits = p.chars().filter(|c| c.is_ascii_digit()).count();
            if !(8..=15).contains(&digits)
                || !p
                    .chars()
                    .all(|c| c.is_ascii_digit() || " +-.()".contains(c))
            {
                return Err(Error::invalid(
                    "contact.phone",
                    "invalid_phone",
                    "The phone number is not valid.",
                    "Số điện thoại không hợp lệ.",
                ));
            }
            Some(p)
        }
    };
    let email = match text::optional("contact.email", c.email.as_deref(), 254)? {
        None => None,
        Some(e) => {
            let ok = e
                .split_once('@')
                .is_some_and(|(a, b)| !a.is_empty() && b.contains('.') && !b.starts_with('.'))
                && !e.contains(' ');
            if !ok {
                return Err(Error::invalid(
                    "contact.email",
                    "invalid_email",
                    "The email address is not valid.",
                    "Địa chỉ email không hợp lệ.",
                ));
            }
            Some(e)
        }
    };
    Ok(Contact { name, phone, email })
}
