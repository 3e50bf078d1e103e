//! Synthetic ward boundaries for tests (no real boundaries ship with pakn).
//!
//! ```text
//!  lat 21.02 ┌──────────────┬──────────────┐
//!            │ 00070        │ 00073        │     00004: two squares east,
//!            │   ┌────┐     │              │     [105.90,105.91] and
//!            │   │hole│     │              │     [105.95,105.96] x [21.00,21.01]
//!            │   └────┘     │              │     (a MultiPolygon), and 00008 a
//!  lat 21.00 └──────────────┴──────────────┘     small island inside 00070's hole
//!        lng 105.80      105.82         105.84   (its south-west quarter).
//! ```
//! 00070's hole is [105.805,105.810] x [21.005,21.010]; 00008 covers
//! [105.805,105.8075] x [21.005,21.0075] of it.

use serde_json::{Value, json};

fn square(x0: f64, y0: f64, x1: f64, y1: f64) -> Value {
    json!([[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]])
}

/// The features described above, in this order.
pub fn features() -> Vec<Value> {
    vec![
        json!({"type": "Feature", "properties": {"ward_code": "00070", "name": "Hoàn Kiếm"},
               "geometry": {"type": "Polygon", "coordinates": [
                   square(105.80, 21.00, 105.82, 21.02),
                   square(105.805, 21.005, 105.810, 21.010)]}}),
        json!({"type": "Feature", "properties": {"ward_code": "00073"},
               "geometry": {"type": "Polygon", "coordinates": [square(105.82, 21.00, 105.84, 21.02)]}}),
        json!({"type": "Feature", "properties": {"ward_code": 4},
               "geometry": {"type": "MultiPolygon", "coordinates": [
                   [square(105.90, 21.00, 105.91, 21.01)],
                   [square(105.95, 21.00, 105.96, 21.01)]]}}),
        json!({"type": "Feature", "properties": {"ward_code": "00008"},
               "geometry": {"type": "Polygon", "coordinates": [square(105.805, 21.005, 105.8075, 21.0075)]}}),
    ]
}

/// A FeatureCollection of `features`.
pub fn collection(features: Vec<Value>) -> String {
    json!({"type": "FeatureCollection", "features": features}).to_string()
}

/// The synthetic boundaries as a GeoJSON file's text.
pub fn geojson() -> String {
    collection(features())
}

/// Points (lat, lng) and the ward each lies in under the border rule.
pub const INSIDE_70: (f64, f64) = (21.015, 105.815);
pub const INSIDE_73: (f64, f64) = (21.015, 105.83);
/// On the border 00070 and 00073 share: the lower code, 00070.
pub const ON_SHARED_BORDER: (f64, f64) = (21.01, 105.82);
/// In 00070's hole, outside the island: no ward.
pub const IN_HOLE: (f64, f64) = (21.009, 105.809);
/// In the island 00008 (inside 00070's hole).
pub const IN_ISLAND: (f64, f64) = (21.006, 105.806);
/// On the hole's ring, away from the island: 00070's boundary, so 00070.
pub const ON_HOLE_RING: (f64, f64) = (21.010, 105.809);
/// In the second polygon of 00004's MultiPolygon.
pub const IN_SECOND_PART_OF_4: (f64, f64) = (21.005, 105.955);
/// Between 00004's two polygons: no ward.
pub const BETWEEN_PARTS_OF_4: (f64, f64) = (21.005, 105.93);
/// Far from every polygon.
pub const OUTSIDE: (f64, f64) = (20.5, 105.5);
