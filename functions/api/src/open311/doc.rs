//! GeoReport v2 documents: one tree ([`Node`]) written as JSON or as XML,
//! and the standard's error list. XML is written by hand: every text is
//! escaped, characters XML 1.0 cannot hold are dropped, and the root is
//! preceded by the declaration with `encoding="utf-8"` (the specification
//! asks for it).

use crate::messages::messages;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use pakn_core::{Error, ErrorKind};
use serde_json::{Map, Value};

/// The two formats of the specification (XML is required, JSON optional).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Xml,
}

impl Format {
    /// `services.json` → (`services`, JSON); `None` without a known extension.
    pub fn split(segment: &str) -> Option<(&str, Format)> {
        let (name, ext) = segment.rsplit_once('.')?;
        let f = match ext {
            "json" => Format::Json,
            "xml" => Format::Xml,
            _ => return None,
        };
        (!name.is_empty()).then_some((name, f))
    }

    /// The format an address asks for (XML, the required one, by default).
    pub fn of_path(path: &str) -> Format {
        if path.ends_with(".json") {
            Format::Json
        } else {
            Format::Xml
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Format::Json => "application/json; charset=utf-8",
            Format::Xml => "text/xml; charset=utf-8",
        }
    }
}

/// A document: JSON's values, with the element name of list items for XML.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Null,
    Str(String),
    Num(f64),
    Int(i64),
    Bool(bool),
    /// An array; in XML each item is an element named by the first field.
    List(&'static str, Vec<Node>),
    /// An object; in XML, one element per field, in order.
    Obj(Vec<(&'static str, Node)>),
}

impl Node {
    pub fn str(s: impl Into<String>) -> Node {
        Node::Str(s.into())
    }

    pub fn opt(s: Option<impl Into<String>>) -> Node {
        s.map_or(Node::Null, |s| Node::Str(s.into()))
    }

    pub fn to_json(&self) -> Value {
        match self {
            Node::Null => Value::Null,
            Node::Str(s) => Value::String(s.clone()),
            Node::Num(x) => serde_json::Number::from_f64(*x).map_or(Value::Null, Value::Number),
            Node::Int(i) => Value::from(*i),
            Node::Bool(b) => Value::Bool(*b),
            Node::List(_, items) => Value::Array(items.iter().map(Node::to_json).collect()),
            Node::Obj(fields) => {
                let mut m = Map::new();
                for (k, v) in fields {
                    m.insert((*k).to_string(), v.to_json());
                }
                Value::Object(m)
            }
        }
    }

    fn write_xml(&self, name: &str, out: &mut String) {
        out.push('<');
        out.push_str(name);
        out.push('>');
        match self {
            Node::Null => {}
            Node::Str(s) => escape(s, out),
            Node::Num(_) | Node::Int(_) | Node::Bool(_) => {
                out.push_str(&self.to_json().to_string())
            }
            Node::List(item, items) => {
                for i in items {
                    i.write_xml(item, out);
                }
            }
            Node::Obj(fields) => {
                for (k, v) in fields {
                    v.write_xml(k, out);
                }
            }
        }
        out.push_str("</");
        out.push_str(name);
        out.push('>');
    }

    /// The XML document with `root` as its root element.
    pub fn to_xml(&self, root: &str) -> String {
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
        self.write_xml(root, &mut out);
        out.push('\n');
        out
    }
}

/// Text content: markup characters escaped, characters XML 1.0 forbids dropped.
fn escape(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => {}
            c => out.push(c),
        }
    }
}

/// A document as the answer: `status`, its content type, the body.
pub fn answer(status: StatusCode, fmt: Format, root: &str, node: &Node) -> Response {
    let body = match fmt {
        Format::Json => node.to_json().to_string(),
        Format::Xml => node.to_xml(root),
    };
    let mut res = (status, body).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(fmt.content_type()),
    );
    res
}

/// Failures in the standard's shape: `[{"code","description"}]` or
/// `<errors><error><code/><description/></error></errors>`; several may
/// be listed at once. The code of each is `404` (unknown service or
/// request), `403` (no or a bad `api_key`), `429` (over a limit) or `400`
/// (anything else a client did); the description is the catalogue's
/// English and Vietnamese sentences.
#[derive(Debug)]
pub struct Open311Error {
    pub format: Format,
    pub errors: Vec<Error>,
}

impl Open311Error {
    pub fn new(format: Format, e: impl Into<Error>) -> Self {
        Open311Error {
            format,
            errors: vec![e.into()],
        }
    }
}

/// The standard's code of a domain error.
pub fn code_of(kind: ErrorKind) -> u16 {
    match kind {
        ErrorKind::NotFound => 404,
        ErrorKind::Unauthorized | ErrorKind::Forbidden => 403,
        ErrorKind::RateLimited => 429,
        ErrorKind::Unavailable => 503,
        ErrorKind::Internal => 500,
        ErrorKind::Malformed
        | ErrorKind::Invalid
        | ErrorKind::Conflict
        | ErrorKind::StaleVersion
        | ErrorKind::VersionRequired => 400,
    }
}

/// Which code sets the answer's status when several are listed.
fn rank(code: u16) -> u8 {
    match code {
        500.. => 5,
        429 => 4,
        403 => 3,
        404 => 2,
        _ => 1,
    }
}

impl IntoResponse for Open311Error {
    fn into_response(self) -> Response {
        let mut retry_after = None;
        let mut status = 400;
        let items: Vec<Node> = self
            .errors
            .into_iter()
            .map(|e| {
                let code = code_of(e.kind);
                let e = if code >= 500 {
                    tracing::error!(code = e.code, error = %e, "request failed");
                    Error::new(ErrorKind::Internal, "internal")
                } else {
                    e
                };
                if code == 429 {
                    retry_after = e.param("retry_after").and_then(|v| v.parse::<u32>().ok());
                }
                if rank(code) > rank(status) {
                    status = code;
                }
                let (en, vi) = messages(&e);
                Node::Obj(vec![
                    ("code", Node::Int(code.into())),
                    ("description", Node::Str(format!("{en} — {vi}"))),
                ])
            })
            .collect();
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
        let mut res = answer(status, self.format, "errors", &Node::List("error", items));
        if status == StatusCode::TOO_MANY_REQUESTS {
            let secs = retry_after.unwrap_or(crate::error::RETRY_AFTER_SECS);
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        res
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_come_from_the_extension() {
        assert_eq!(
            Format::split("services.json"),
            Some(("services", Format::Json))
        );
        assert_eq!(
            Format::split("lighting.xml"),
            Some(("lighting", Format::Xml))
        );
        assert_eq!(
            Format::split("HN-26-7K3QX-9MPTR.json"),
            Some(("HN-26-7K3QX-9MPTR", Format::Json))
        );
        for bad in ["services", "services.csv", ".json", "services.JSON"] {
            assert_eq!(Format::split(bad), None, "{bad}");
        }
    }

    #[test]
    fn text_is_escaped_and_forbidden_characters_dropped() {
        let n = Node::Obj(vec![
            ("a", Node::str("<b> & \"c\" 'd'\u{1}")),
            ("n", Node::Null),
            ("x", Node::Num(21.029)),
            ("l", Node::List("v", vec![Node::Int(1), Node::Bool(true)])),
        ]);
        assert_eq!(
            n.to_xml("r"),
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<r><a>&lt;b&gt; &amp; &quot;c&quot; &apos;d&apos;</a><n></n><x>21.029</x><l><v>1</v><v>true</v></l></r>\n"
        );
        assert_eq!(
            n.to_json(),
            serde_json::json!({"a": "<b> & \"c\" 'd'\u{1}", "n": null, "x": 21.029, "l": [1, true]})
        );
    }

    #[test]
    fn the_status_is_the_weightiest_error() {
        let e = Open311Error {
            format: Format::Json,
            errors: vec![
                Error::invalid("service_code", "required"),
                Error::new(ErrorKind::Forbidden, "api_key_required"),
            ],
        };
        assert_eq!(e.into_response().status(), 403);
        let e = Open311Error::new(Format::Xml, Error::rate_limited(7));
        let res = e.into_response();
        assert_eq!(res.status(), 429);
        assert_eq!(res.headers()[header::RETRY_AFTER], "7");
    }
}
