//! The GeoReport v2 JSON documents as OpenAPI schemas (the answers
//! themselves are written from [`super::doc::Node`] trees; the e2e tests
//! check the two agree).
#![allow(dead_code)]

use serde::Serialize;
use utoipa::ToSchema;

/// `GET /discovery.json`.
#[derive(Serialize, ToSchema)]
#[schema(as = open311::Discovery)]
pub struct Discovery {
    #[schema(example = "2026-12-03T00:00:00+07:00")]
    pub changeset: String,
    pub contact: String,
    pub key_service: String,
    pub endpoints: Vec<Endpoint>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = open311::Endpoint)]
pub struct Endpoint {
    pub specification: String,
    #[schema(example = "http://127.0.0.1:8080/open311/v2")]
    pub url: String,
    pub changeset: String,
    #[schema(example = "production")]
    pub r#type: String,
    pub formats: Vec<String>,
}

/// One service (a pakn category).
#[derive(Serialize, ToSchema)]
#[schema(as = open311::Service)]
pub struct Service {
    #[schema(example = "lighting")]
    pub service_code: String,
    #[schema(example = "Chiếu sáng công cộng")]
    pub service_name: String,
    pub description: String,
    /// True when the service has attributes (`ward_code`).
    pub metadata: bool,
    #[schema(example = "realtime")]
    pub r#type: String,
    pub keywords: String,
    #[schema(example = "Phản ánh hiện trường")]
    pub group: String,
}

/// `GET /services/{service_code}.json`.
#[derive(Serialize, ToSchema)]
#[schema(as = open311::ServiceDefinition)]
pub struct ServiceDefinition {
    pub service_code: String,
    pub attributes: Vec<Attribute>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = open311::Attribute)]
pub struct Attribute {
    pub variable: bool,
    #[schema(example = "ward_code")]
    pub code: String,
    #[schema(example = "singlevaluelist")]
    pub datatype: String,
    pub required: bool,
    pub datatype_description: Option<String>,
    pub order: i64,
    pub description: String,
    pub values: Vec<AttributeValue>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = open311::AttributeValue)]
pub struct AttributeValue {
    #[schema(example = "00070")]
    pub key: String,
    #[schema(example = "Phường Hoàn Kiếm")]
    pub name: String,
}

/// The form of `POST /requests` (`application/x-www-form-urlencoded`).
#[derive(Serialize, ToSchema)]
#[schema(as = open311::RequestForm)]
pub struct RequestForm {
    /// The key the city issued to the application (also accepted in the query).
    pub api_key: Option<String>,
    #[schema(example = "lighting")]
    pub service_code: String,
    #[schema(example = 21.0285)]
    pub lat: Option<f64>,
    #[schema(example = 105.8542)]
    pub long: Option<f64>,
    pub address_string: Option<String>,
    pub address_id: Option<String>,
    /// The ward's 5-digit code (services handled by the ward).
    #[serde(rename = "attribute[ward_code]")]
    #[schema(example = "00070")]
    pub ward_code: Option<String>,
    pub email: Option<String>,
    pub device_id: Option<String>,
    pub account_id: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub phone: Option<String>,
    /// At most 4,000 characters.
    #[schema(example = "Cột đèn trước số 5 Hàng Khay không sáng từ ba hôm nay.")]
    pub description: Option<String>,
    pub media_url: Option<String>,
    /// Accepted and ignored: pakn serves one city.
    pub jurisdiction_id: Option<String>,
}

/// The answer to `POST /requests.json`: a list of one.
#[derive(Serialize, ToSchema)]
#[schema(as = open311::Receipt)]
pub struct Receipt {
    #[schema(example = "01JF3Q8Z5W7M2K9T4R6Y1X0ABC")]
    pub service_request_id: String,
    pub service_notice: String,
    /// Always null (pakn keeps no client account ids).
    pub account_id: Option<String>,
}

/// The answer to `GET /tokens/{token}.json`: a list of one.
#[derive(Serialize, ToSchema)]
#[schema(as = open311::Token)]
pub struct Token {
    pub service_request_id: String,
    pub token: String,
}

/// A request: pakn's public view of a case.
#[derive(Serialize, ToSchema)]
#[schema(as = open311::Request)]
pub struct Request {
    #[schema(example = "01JF3Q8Z5W7M2K9T4R6Y1X0ABC")]
    pub service_request_id: String,
    /// `open` or `closed`.
    #[schema(example = "open")]
    pub status: String,
    /// The unit's latest public answer.
    pub status_notes: Option<String>,
    pub service_name: String,
    pub service_code: String,
    /// The case's public title.
    #[schema(example = "Chiếu sáng công cộng")]
    pub description: String,
    #[schema(example = "Phường Hoàn Kiếm")]
    pub agency_responsible: Option<String>,
    pub service_notice: String,
    #[schema(example = "2026-12-03T09:15:30+07:00")]
    pub requested_datetime: String,
    pub updated_datetime: String,
    pub expected_datetime: Option<String>,
    /// Rounded to 3 decimals.
    pub lat: f64,
    pub long: f64,
    pub media_url: Option<String>,
    /// With `extensions=true`.
    pub extended_attributes: Option<ExtendedAttributes>,
}

/// pakn's deadline accountability (`extensions=true`).
#[derive(Serialize, ToSchema)]
#[schema(as = open311::ExtendedAttributes)]
pub struct ExtendedAttributes {
    #[schema(example = "HN-26-7K3QX-9MPTR")]
    pub tracking_code: String,
    #[schema(example = "normal")]
    pub urgency: String,
    #[schema(example = "in_progress")]
    pub detailed_status: String,
    pub unit_code: Option<String>,
    pub overdue: bool,
    pub overdue_working_hours: f64,
    pub transfers: i64,
    pub extension_until: Option<String>,
}

/// One error of a GeoReport v2 error list.
#[derive(Serialize, ToSchema)]
#[schema(as = open311::Error)]
pub struct Error {
    /// 400, 403, 404, 429 (or 500).
    #[schema(example = 403)]
    pub code: i64,
    #[schema(
        example = "The api_key is not valid, or it has been revoked. — api_key không hợp lệ hoặc đã bị thu hồi."
    )]
    pub description: String,
}
