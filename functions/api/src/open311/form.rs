//! GeoReport v2 parameters: a form body or a query string, decoded as
//! `application/x-www-form-urlencoded`, into pakn-core's typed inputs
//! ([`ServiceRequest`], [`RequestFilter`]). An empty parameter counts as
//! absent. Every problem is collected, so a client hears of all at once.

use crate::commands;
use chrono::{DateTime, Utc};
use pakn_core::case::Contact;
use pakn_core::intake::{MAX_ADDRESS, MAX_DESCRIPTION};
use pakn_core::open311::{RequestFilter, ServiceRequest};
use pakn_core::unit::normalize_ward_code;
use pakn_core::{Error, Result, text};

/// Decoded parameters, in order, empty values left out.
#[derive(Debug, Clone, Default)]
pub struct Params(Vec<(String, String)>);

impl Params {
    pub fn parse(raw: &[u8]) -> Params {
        Params(
            form_urlencoded::parse(raw)
                .filter(|(_, v)| !v.trim().is_empty())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// Every value of `name`.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The one value of `name` (or of `name[]`); two values are an error.
    pub fn one(&self, name: &str) -> Result<Option<&str>> {
        let list = format!("{name}[]");
        let mut values = self
            .0
            .iter()
            .filter(|(k, _)| *k == name || *k == list)
            .map(|(_, v)| v.as_str());
        let first = values.next();
        if values.next().is_some() {
            return Err(Error::invalid(name, "single_value"));
        }
        Ok(first)
    }

    /// A comma-separated list (`a,b`), repeated parameters joined.
    pub fn list(&self, name: &str) -> Vec<String> {
        self.all(name)
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(String::from)
            .collect()
    }

    /// The pairs without `api_key` (what an idempotency key stands for).
    pub fn without_key(&self) -> serde_json::Value {
        serde_json::Value::Array(
            self.0
                .iter()
                .filter(|(k, _)| k != "api_key")
                .map(|(k, v)| serde_json::json!([k, v]))
                .collect(),
        )
    }
}

/// Run `f`, keeping its value or recording its error.
fn keep<T>(errors: &mut Vec<Error>, r: Result<T>) -> Option<T> {
    r.map_err(|e| errors.push(e)).ok()
}

fn number(p: &Params, name: &str) -> Result<Option<f64>> {
    match p.one(name)? {
        None => Ok(None),
        Some(v) => match v.trim().parse::<f64>() {
            Ok(x) if x.is_finite() => Ok(Some(x)),
            _ => Err(Error::invalid(name, "invalid_number")),
        },
    }
}

fn w3c(p: &Params, name: &str) -> Result<Option<DateTime<Utc>>> {
    match p.one(name)? {
        None => Ok(None),
        Some(v) => DateTime::parse_from_rfc3339(v.trim())
            .map(|t| Some(t.with_timezone(&Utc)))
            .map_err(|_| Error::invalid(name, "invalid_date").with("expected", "w3c")),
    }
}

/// `POST /requests`: the service request, or every problem found.
pub fn service_request(p: &Params) -> std::result::Result<ServiceRequest, Vec<Error>> {
    let mut errors = Vec::new();
    let service_code = match keep(&mut errors, p.one("service_code")).flatten() {
        Some(c) => c.trim().to_string(),
        None => {
            errors.push(Error::invalid("service_code", "required"));
            String::new()
        }
    };
    let lat = keep(&mut errors, number(p, "lat")).flatten();
    let lng = keep(&mut errors, number(p, "long")).flatten();
    let address = keep(
        &mut errors,
        p.one("address_string")
            .and_then(|v| text::optional("address_string", v, MAX_ADDRESS)),
    )
    .flatten();
    let address_id = keep(
        &mut errors,
        p.one("address_id")
            .and_then(|v| text::optional("address_id", v, 100)),
    )
    .flatten();
    let field = "attribute[ward_code]";
    let ward_code = keep(
        &mut errors,
        p.one(field).and_then(|v| {
            v.map(|w| {
                normalize_ward_code(w).ok_or_else(|| Error::invalid(field, "invalid_ward_code"))
            })
            .transpose()
        }),
    )
    .flatten();
    let description = keep(
        &mut errors,
        p.one("description")
            .and_then(|v| text::optional("description", v, MAX_DESCRIPTION)),
    )
    .flatten();
    let media = keep(
        &mut errors,
        p.one("media_url").and_then(|v| {
            let v: Vec<String> = v.map(String::from).into_iter().collect();
            text::urls("media_url", &v, 1)
        }),
    )
    .unwrap_or_default();
    let contact = keep(&mut errors, contact(p)).flatten();
    if errors.is_empty() {
        Ok(ServiceRequest {
            service_code,
            lat,
            lng,
            address,
            address_id,
            ward_code,
            description,
            media,
            contact,
        })
    } else {
        Err(errors)
    }
}

/// `first_name`, `last_name`, `phone`, `email`: the reporter's contact
/// (personal data, seen by the unit only); `device_id` and `account_id`
/// are not kept.
fn contact(p: &Params) -> Result<Option<Contact>> {
    let name = [p.one("first_name")?, p.one("last_name")?]
        .into_iter()
        .flatten()
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(" ");
    let c = Contact {
        name: (!name.is_empty()).then_some(name),
        phone: p.one("phone")?.map(String::from),
        email: p.one("email")?.map(String::from),
    };
    if c.name.is_none() && c.phone.is_none() && c.email.is_none() {
        return Ok(None);
    }
    commands::contact(c).map(Some)
}

/// `GET /requests`: the filter and whether `extensions=true`, or every
/// problem found.
pub fn request_filter(p: &Params) -> std::result::Result<(RequestFilter, bool), Vec<Error>> {
    let mut errors = Vec::new();
    let mut f = RequestFilter {
        ids: p.list("service_request_id"),
        service_codes: p.list("service_code"),
        ..Default::default()
    };
    f.start = keep(&mut errors, w3c(p, "start_date")).flatten();
    f.end = keep(&mut errors, w3c(p, "end_date")).flatten();
    let mut open = false;
    let mut closed = false;
    for s in p.list("status") {
        match s.as_str() {
            "open" => open = true,
            "closed" => closed = true,
            _ => errors.push(Error::invalid("status", "unknown_status").with("status", s)),
        }
    }
    f.open = match (open, closed) {
        (true, false) => Some(true),
        (false, true) => Some(false),
        _ => None,
    };
    for (name, slot) in [("page", &mut f.page), ("page_size", &mut f.page_size)] {
        match keep(&mut errors, p.one(name)).flatten() {
            None => {}
            Some(v) => match v.trim().parse::<usize>() {
                Ok(n) => *slot = n,
                Err(_) => errors.push(
                    Error::invalid(name, "out_of_range")
                        .with("max", pakn_core::open311::MAX_PAGE_SIZE),
                ),
            },
        }
    }
    let extensions = keep(&mut errors, p.one("extensions"))
        .flatten()
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    if errors.is_empty() {
        Ok((f, extensions))
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_form_becomes_a_service_request() {
        let p = Params::parse(
            "api_key=k&service_code=lighting&lat=21.0285&long=105.8542&attribute%5Bward_code%5D=70\
             &description=%C4%90%C3%A8n+h%E1%BB%8Fng&first_name=V%C4%83n&last_name=A&phone=0912345678\
             &email=&device_id=d1&jurisdiction_id=hanoi.gov.vn"
                .as_bytes(),
        );
        let r = service_request(&p).expect("valid");
        assert_eq!(r.service_code, "lighting");
        assert_eq!((r.lat, r.lng), (Some(21.0285), Some(105.8542)));
        assert_eq!(r.ward_code.as_deref(), Some("00070"));
        assert_eq!(r.description.as_deref(), Some("Đèn hỏng"));
        let c = r.contact.expect("contact");
        assert_eq!(c.name.as_deref(), Some("Văn A"));
        assert_eq!(c.email, None, "an empty parameter counts as absent");
    }

    #[test]
    fn every_problem_is_listed() {
        let p =
            Params::parse(b"lat=abc&long=105.8&attribute[ward_code][]=1&attribute[ward_code][]=2");
        let errors = service_request(&p).expect_err("invalid");
        let codes: Vec<(&str, Option<&str>)> = errors
            .iter()
            .map(|e| (e.code, e.field.as_deref()))
            .collect();
        assert_eq!(
            codes,
            [
                ("required", Some("service_code")),
                ("invalid_number", Some("lat")),
                ("single_value", Some("attribute[ward_code]")),
            ]
        );
    }

    #[test]
    fn a_query_becomes_a_filter() {
        let p = Params::parse(
            b"service_code=lighting,waste&status=open&start_date=2026-12-01T00:00:00%2B07:00&page=2&page_size=10&extensions=true",
        );
        let (f, ext) = request_filter(&p).expect("valid");
        assert!(ext);
        assert_eq!(f.service_codes, ["lighting", "waste"]);
        assert_eq!(f.open, Some(true));
        assert_eq!(
            f.start.map(|t| t.to_rfc3339()),
            Some("2026-11-30T17:00:00+00:00".into())
        );
        assert_eq!((f.page, f.page_size), (2, 10));
        let p = Params::parse(b"status=open,closed");
        assert_eq!(request_filter(&p).expect("valid").0.open, None);
        let p = Params::parse(b"status=pending&start_date=yesterday&page=x");
        let codes: Vec<&str> = request_filter(&p)
            .expect_err("invalid")
            .iter()
            .map(|e| e.code)
            .collect();
        assert_eq!(codes, ["invalid_date", "unknown_status", "out_of_range"]);
    }
}
