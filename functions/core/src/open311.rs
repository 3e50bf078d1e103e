//! Open311 GeoReport v2, the domain's half: a client application's service
//! request becomes a case through [`Intake`] like any other (channel
//! `open311`, title made from the service name), and requests are read
//! back as [`PublicRequest`]s, pakn's public view of a case and never more
//! (no reporter, contact, description or address; the place rounded to
//! about 100 m). The GeoReport document shapes (XML, JSON) are the edge's.
//!
//! Each category is a service with the same code. A service whose unit is
//! "the ward of the location" needs the ward: the `ward_code` attribute,
//! or, once the city has loaded its ward boundaries (`pakn wards load`),
//! a point inside one of them (routing then finds the ward from it).

use crate::case::{Case, Contact, Location, Status};
use crate::category::{Category, Responsible, Urgency};
use crate::error::{Error, ErrorKind, Result};
use crate::ids::{self, CaseId};
use crate::intake::{Idempotency, Intake, Receipt, Report};
use crate::ports::{CaseQuery, CaseStore, Clock, WardMapStore};
use crate::principal::Principal;
use crate::refdata::RefData;
use crate::routing::WardCache;
use crate::unit::UnitCode;
use chrono::{DateTime, Duration, Utc};

/// Longest span of `start_date`..`end_date` (and the default: the last 90 days).
pub const MAX_SPAN_DAYS: i64 = 90;
/// Most requests in one answer (the specification's "first 1000").
pub const MAX_PAGE_SIZE: usize = 1000;
/// Most ids in one `service_request_id` list.
pub const MAX_IDS: usize = 100;
/// Cases read from the store per listing page.
const SCAN_PAGE: usize = 200;

/// Does this service need the ward (`ward_code`)?
pub fn is_ward_service(c: &Category) -> bool {
    c.responsible == Responsible::WardOfLocation
}

/// A service request as the edge parsed a client's form: texts NFC and
/// bounded, numbers parsed, `ward_code` five digits, URLs checked.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServiceRequest {
    pub service_code: String,
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    pub address: Option<String>,
    pub address_id: Option<String>,
    /// `attribute[ward_code]`.
    pub ward_code: Option<String>,
    pub description: Option<String>,
    pub media: Vec<String>,
    pub contact: Option<Contact>,
}

/// What `GET /requests` asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestFilter {
    /// Case ids or tracking codes; when given, every other filter is ignored.
    pub ids: Vec<String>,
    pub service_codes: Vec<String>,
    pub start: Option<DateTime<Utc>>,
    pub end: Option<DateTime<Utc>>,
    /// `Some(true)`: open only; `Some(false)`: closed only.
    pub open: Option<bool>,
    /// 1-based.
    pub page: usize,
    pub page_size: usize,
}

impl Default for RequestFilter {
    fn default() -> Self {
        RequestFilter {
            ids: vec![],
            service_codes: vec![],
            start: None,
            end: None,
            open: None,
            page: 1,
            page_size: MAX_PAGE_SIZE,
        }
    }
}

/// The public view of a case, as Open311 shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct PublicRequest {
    pub id: String,
    pub tracking_code: String,
    pub status: Status,
    /// The unit's latest public answer (resolution or rejection).
    pub status_notes: Option<String>,
    pub service_code: String,
    pub service_name: String,
    /// The case's public title (never the citizen's description).
    pub title: String,
    pub unit: Option<UnitCode>,
    pub agency: Option<String>,
    pub urgency: Urgency,
    pub requested_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// `resolve_due`, once routed.
    pub expected_at: Option<DateTime<Utc>>,
    /// Rounded to 3 decimals (about 100 m).
    pub lat: f64,
    pub lng: f64,
    /// Public evidence of the answer (an http(s) URL), if any.
    pub media_url: Option<String>,
    pub overdue: bool,
    /// Working hours past `resolve_due` (one decimal); 0 when not overdue.
    pub overdue_working_hours: f64,
    pub transfers: u32,
    /// The deadline after the extension, when the case was extended.
    pub extension_until: Option<DateTime<Utc>>,
}

impl PublicRequest {
    pub fn new(c: &Case, refdata: &RefData, now: DateTime<Utc>) -> Self {
        let round = |x: f64| (x * 1000.0).round() / 1000.0;
        let overdue = c.is_overdue(now);
        let overdue_working_hours = match (overdue, c.resolve_due) {
            (true, Some(due)) => {
                (refdata.calendar.working_hours_between(due, now) * 10.0).round() / 10.0
            }
            _ => 0.0,
        };
        PublicRequest {
            id: c.id.to_string(),
            tracking_code: c.tracking_code.clone(),
            status: c.status,
            status_notes: c.answer.as_ref().map(|a| a.text.clone()),
            service_code: c.category.clone(),
            service_name: refdata
                .category(&c.category)
                .map_or_else(|| c.category.clone(), |k| k.name_vi.clone()),
            title: c.title.clone(),
            unit: c.unit.clone(),
            agency: c
                .unit
                .as_ref()
                .and_then(|u| refdata.unit(u))
                .map(|u| u.name_vi.clone()),
            urgency: c.urgency,
            requested_at: c.received_at,
            updated_at: c.updated_at,
            expected_at: c.resolve_due,
            lat: round(c.location.lat),
            lng: round(c.location.lng),
            media_url: c.answer.as_ref().and_then(|a| {
                a.evidence
                    .iter()
                    .find(|u| u.starts_with("https://") || u.starts_with("http://"))
                    .cloned()
            }),
            overdue,
            overdue_working_hours,
            transfers: c.transfers,
            extension_until: c.extension.as_ref().and(c.resolve_due),
        }
    }
}

/// Open311 over the ports it needs.
pub struct Open311<'a> {
    pub intake: Intake<'a>,
    pub cases: &'a dyn CaseStore,
    /// The loaded ward boundaries, if any: a point inside one is enough
    /// for a ward's service.
    pub ward_maps: &'a dyn WardMapStore,
    pub wards: &'a WardCache,
    pub clock: &'a dyn Clock,
    pub refdata: &'a RefData,
}

/// What a `service_request_id` (or a token) names.
enum Named {
    Id(CaseId),
    /// A tracking code, normalised (either form).
    Code(String),
    /// Nothing any case could have: unknown, without a lookup.
    Nothing,
}

impl Named {
    /// A case id, else a tracking code; a code whose check character
    /// fails is refused (`invalid_check_character` on `field`), as on
    /// `GET /v1/track/{code}`.
    fn parse(id: &str, field: &'static str) -> Result<Named> {
        let id = id.trim();
        if let Some(c) = CaseId::parse(id) {
            return Ok(Named::Id(c));
        }
        match ids::normalize_tracking_code(id) {
            Ok(code) => Ok(Named::Code(code)),
            Err(ids::CodeError::Malformed) => Ok(Named::Nothing),
            Err(ids::CodeError::CheckFailed) => {
                Err(Error::invalid(field, "invalid_check_character"))
            }
        }
    }
}

fn unknown_request(id: &str) -> Error {
    Error::new(ErrorKind::NotFound, "unknown_request").with("id", id)
}

impl Open311<'_> {
    /// A client application's service request, into the pipeline.
    pub async fn submit(
        &self,
        p: &Principal,
        r: ServiceRequest,
        idempotency: Option<Idempotency>,
    ) -> Result<Receipt> {
        let cat = self.refdata.category(&r.service_code).ok_or_else(|| {
            Error::new(ErrorKind::NotFound, "unknown_service")
                .with("service_code", &r.service_code)
                .with_field("service_code")
        })?;
        if is_ward_service(cat)
            && r.ward_code.is_none()
            && !self.inside_a_ward(r.lat, r.lng).await?
        {
            return Err(Error::invalid("attribute[ward_code]", "ward_required")
                .with("service", &cat.name_vi)
                .with("service_code", &cat.code));
        }
        let (Some(lat), Some(lng)) = (r.lat, r.lng) else {
            return Err(Error::invalid("lat", "coordinates_required"));
        };
        let report = Report {
            kind: None,
            category: cat.code.clone(),
            title: cat.name_vi.clone(),
            description: r.description.unwrap_or_else(|| cat.name_vi.clone()),
            urgency: None,
            location: Location {
                lat,
                lng,
                address: r.address,
                ward_code: r.ward_code,
            },
            media: r.media,
            channel: Some(crate::case::Channel::Open311),
            contact: r.contact,
        };
        self.intake.submit(p, report, idempotency).await
    }

    /// Are ward boundaries loaded, and is the point inside one of them?
    async fn inside_a_ward(&self, lat: Option<f64>, lng: Option<f64>) -> Result<bool> {
        let (Some(lat), Some(lng)) = (lat, lng) else {
            return Ok(false);
        };
        Ok(self
            .wards
            .current(self.ward_maps)
            .await?
            .is_some_and(|w| !w.wards_at(lat, lng).is_empty()))
    }

    /// Are ward boundaries loaded (a ward's service may then be placed by
    /// its point alone)? `false` when they cannot be read now.
    pub async fn boundaries_loaded(&self) -> bool {
        matches!(self.wards.current(self.ward_maps).await, Ok(Some(_)))
    }

    /// One case by its id (or its tracking code), public view.
    pub async fn request(&self, id: &str) -> Result<PublicRequest> {
        self.one(id, "service_request_id").await
    }

    /// The case behind a token: pakn names a request at once, so a token
    /// is its id (or tracking code), read like [`Self::request`].
    pub async fn token(&self, token: &str) -> Result<PublicRequest> {
        self.one(token, "token").await
    }

    async fn one(&self, id: &str, field: &'static str) -> Result<PublicRequest> {
        let named = Named::parse(id, field)?;
        let case = self
            .find(&named)
            .await?
            .ok_or_else(|| unknown_request(id))?;
        Ok(PublicRequest::new(&case, self.refdata, self.clock.now()))
    }

    async fn find(&self, named: &Named) -> Result<Option<Case>> {
        let case_id = match named {
            Named::Id(c) => Some(c.clone()),
            Named::Code(code) => self.cases.case_id_by_tracking_code(code).await?,
            Named::Nothing => None,
        };
        match case_id {
            Some(c) => Ok(self.cases.get_case(&c).await?),
            None => Ok(None),
        }
    }

    /// The requests a filter selects, newest first, one page of them.
    pub async fn requests(&self, f: RequestFilter) -> Result<Vec<PublicRequest>> {
        let now = self.clock.now();
        if f.page == 0 {
            return Err(Error::invalid("page", "out_of_range").with("max", usize::MAX));
        }
        if !(1..=MAX_PAGE_SIZE).contains(&f.page_size) {
            return Err(Error::invalid("page_size", "out_of_range").with("max", MAX_PAGE_SIZE));
        }
        if !f.ids.is_empty() {
            if f.ids.len() > MAX_IDS {
                return Err(Error::invalid("service_request_id", "too_many")
                    .with("count", f.ids.len())
                    .with("max", MAX_IDS));
            }
            // Every code's check first: a typo anywhere in the list is
            // refused before any lookup.
            let named = f
                .ids
                .iter()
                .map(|id| Named::parse(id, "service_request_id"))
                .collect::<Result<Vec<_>>>()?;
            let mut out = Vec::new();
            for n in &named {
                if let Some(c) = self.find(n).await? {
                    out.push(PublicRequest::new(&c, self.refdata, now));
                }
            }
            return Ok(out);
        }
        let span = Duration::days(MAX_SPAN_DAYS);
        let (from, to) = match (f.start, f.end) {
            (None, None) => (now - span, now),
            (Some(s), None) => (s, s + span),
            (None, Some(e)) => (e - span, e),
            (Some(s), Some(e)) => (s, e),
        };
        if to < from || to - from > span {
            return Err(Error::invalid("end_date", "invalid_span").with("days", MAX_SPAN_DAYS));
        }
        let skip = (f.page - 1).saturating_mul(f.page_size);
        let want = skip.saturating_add(f.page_size);
        let mut q = CaseQuery {
            category: match f.service_codes.as_slice() {
                [one] => Some(one.clone()),
                _ => None,
            },
            received_from: Some(from),
            // `end_date` is inclusive (the store's bound is not), to the
            // millisecond both stores keep.
            received_to: Some(to + Duration::milliseconds(1)),
            limit: SCAN_PAGE,
            ..Default::default()
        };
        let mut matched = Vec::new();
        loop {
            let page = self.cases.list_cases(&q).await?;
            for c in page.cases {
                let service_ok =
                    f.service_codes.is_empty() || f.service_codes.contains(&c.category);
                let status_ok = f.open.is_none_or(|open| c.status.is_open() == open);
                if service_ok && status_ok {
                    matched.push(c);
                }
            }
            match page.next_cursor {
                Some(cursor) if matched.len() < want => q.cursor = Some(cursor),
                _ => break,
            }
        }
        Ok(matched
            .iter()
            .skip(skip)
            .take(f.page_size)
            .map(|c| PublicRequest::new(c, self.refdata, now))
            .collect())
    }
}
