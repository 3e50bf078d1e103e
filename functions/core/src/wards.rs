//! Ward boundaries: which ward a map point lies in.
//!
//! No public package has Hanoi's post-2025 ward boundaries, so the city
//! loads its own (`pakn wards load FILE.geojson`): a GeoJSON
//! FeatureCollection with a `ward_code` property per feature, each a
//! `Polygon` or `MultiPolygon` (holes allowed). [`parse_geojson`] checks it
//! against the 126 wards of the reference data; the store keeps it
//! versioned ([`crate::ports::WardMapStore`]); the router builds a
//! [`WardIndex`] (an R-tree over the polygons' bounding boxes) once per
//! version and asks it for the ward of each report that has coordinates.
//!
//! # The border rule
//!
//! A point belongs to every ward whose **closed** area contains it (its
//! interior or its boundary, holes excluded: a point strictly inside a hole
//! is not in that ward; a point on a hole's ring is on the ward's boundary,
//! so it is in it). When several wards qualify — a point on a border two
//! wards share, or overlapping polygons in a sloppy file — the **lowest ward
//! code** wins. The rule depends only on the set of wards, never on the
//! order of the features in the file, so reloading the same boundaries in
//! another order routes every point the same way.
//!
//! Coordinates are GeoJSON's `[longitude, latitude]` (WGS 84), compared as
//! plane coordinates: at a ward's scale the difference from geodesic edges is
//! centimetres.

use crate::refdata::RefData;
use chrono::{DateTime, Utc};
use geo::coordinate_position::{CoordPos, CoordinatePosition};
use geo::{BoundingRect, Coord, LineString, Polygon};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{AABB, RTree};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};

/// A ring: `[lng, lat]` positions, closed (the last equals the first).
pub type Ring = Vec<[f64; 2]>;

/// One ward's boundary as stored: its polygons, each an outer ring then its holes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WardBoundary {
    pub ward_code: String,
    pub polygons: Vec<Vec<Ring>>,
}

/// A loaded version of the city's boundaries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WardMap {
    /// Content-derived: the same boundaries give the same version.
    pub version: String,
    pub loaded_at: DateTime<Utc>,
    /// Wards of the reference data with no boundary in this version.
    pub missing: Vec<String>,
    /// Sorted by ward code, one entry per ward.
    pub wards: Vec<WardBoundary>,
}

/// What `pakn wards show` prints, and what the store's pointer item names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WardMapInfo {
    pub version: String,
    pub loaded_at: DateTime<Utc>,
    pub wards: usize,
    pub polygons: usize,
    pub missing: Vec<String>,
}

impl WardMap {
    /// A version of `wards` (sorted and merged by [`parse_geojson`]).
    pub fn new(wards: Vec<WardBoundary>, missing: Vec<String>, loaded_at: DateTime<Utc>) -> Self {
        let body = serde_json::to_vec(&wards).unwrap_or_default();
        let hash = Sha256::digest(&body);
        let version = hash[..6].iter().map(|b| format!("{b:02x}")).collect();
        WardMap {
            version,
            loaded_at,
            missing,
            wards,
        }
    }

    pub fn info(&self) -> WardMapInfo {
        WardMapInfo {
            version: self.version.clone(),
            loaded_at: self.loaded_at,
            wards: self.wards.len(),
            polygons: self.wards.iter().map(|w| w.polygons.len()).sum(),
            missing: self.missing.clone(),
        }
    }
}

/// Why a boundary file was refused. Each names the feature (0-based) it is about.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum WardFileError {
    #[error("không đọc được GeoJSON / not GeoJSON: {0}")]
    NotJson(String),
    #[error("cần một FeatureCollection / a FeatureCollection is expected")]
    NotFeatureCollection,
    #[error("đối tượng {0}: thiếu thuộc tính ward_code / feature {0}: no ward_code property")]
    NoWardCode(usize),
    #[error(
        "đối tượng {feature}: hình học {kind} không được hỗ trợ (chỉ Polygon, MultiPolygon) / feature {feature}: geometry {kind} is not supported (Polygon or MultiPolygon only)"
    )]
    Geometry { feature: usize, kind: String },
    #[error(
        "đối tượng {feature}: vòng không hợp lệ ({why}) / feature {feature}: invalid ring ({why})"
    )]
    Ring { feature: usize, why: String },
    #[error(
        "mã phường/xã không có trong danh mục 126 phường/xã: {} / ward codes not among the 126 wards: {}",
        .0.join(", "), .0.join(", ")
    )]
    UnknownCodes(Vec<String>),
}

/// A checked boundary file: one entry per ward (features of the same ward
/// merged), sorted by code, and the wards it leaves out.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedWards {
    pub wards: Vec<WardBoundary>,
    pub missing: Vec<String>,
}

#[derive(Deserialize)]
struct Fc {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    features: Vec<Feature>,
}
#[derive(Deserialize)]
struct Feature {
    #[serde(default)]
    properties: Option<serde_json::Map<String, serde_json::Value>>,
    geometry: Option<Geometry>,
}
#[derive(Deserialize)]
struct Geometry {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    coordinates: serde_json::Value,
}

/// A ward code as the file gives it: `"00070"`, or a number (`70`) normalised
/// to five digits (as `location.ward_code` is).
fn ward_code(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
            Some(format!("{:0>5}", s))
        }
        serde_json::Value::Number(n) => n.as_u64().map(|n| format!("{n:05}")),
        _ => None,
    }
}

fn ring(feature: usize, v: &serde_json::Value) -> Result<Ring, WardFileError> {
    let bad = |why: &str| WardFileError::Ring {
        feature,
        why: why.into(),
    };
    let pts: Vec<Vec<f64>> = serde_json::from_value(v.clone()).map_err(|_| bad("positions"))?;
    let mut out = Vec::with_capacity(pts.len());
    for p in pts {
        let (Some(&lng), Some(&lat)) = (p.first(), p.get(1)) else {
            return Err(bad("a position has fewer than 2 numbers"));
        };
        if !(-180.0..=180.0).contains(&lng) || !(-90.0..=90.0).contains(&lat) {
            return Err(bad("a position is outside [-180,180] x [-90,90]"));
        }
        out.push([lng, lat]);
    }
    if out.len() < 4 {
        return Err(bad("fewer than 4 positions"));
    }
    if out.first() != out.last() {
        return Err(bad("not closed: the last position must equal the first"));
    }
    Ok(out)
}

fn polygon(feature: usize, v: &serde_json::Value) -> Result<Vec<Ring>, WardFileError> {
    let rings = v.as_array().ok_or(WardFileError::Ring {
        feature,
        why: "a polygon is an array of rings".into(),
    })?;
    if rings.is_empty() {
        return Err(WardFileError::Ring {
            feature,
            why: "a polygon without rings".into(),
        });
    }
    rings.iter().map(|r| ring(feature, r)).collect()
}

/// Read and check a boundary file against the wards of `refdata`.
///
/// Unknown codes refuse the whole file (every one is named); wards without
/// a boundary are allowed and listed in [`ParsedWards::missing`].
pub fn parse_geojson(text: &str, refdata: &RefData) -> Result<ParsedWards, WardFileError> {
    let fc: Fc = serde_json::from_str(text).map_err(|e| WardFileError::NotJson(e.to_string()))?;
    if fc.kind != "FeatureCollection" {
        return Err(WardFileError::NotFeatureCollection);
    }
    let mut by_code: BTreeMap<String, Vec<Vec<Ring>>> = BTreeMap::new();
    for (i, f) in fc.features.iter().enumerate() {
        let code = f
            .properties
            .as_ref()
            .and_then(|p| p.get("ward_code"))
            .and_then(ward_code)
            .ok_or(WardFileError::NoWardCode(i))?;
        let g = f.geometry.as_ref().ok_or(WardFileError::Geometry {
            feature: i,
            kind: "null".into(),
        })?;
        let polys = match g.kind.as_str() {
            "Polygon" => vec![polygon(i, &g.coordinates)?],
            "MultiPolygon" => g
                .coordinates
                .as_array()
                .ok_or(WardFileError::Ring {
                    feature: i,
                    why: "a MultiPolygon is an array of polygons".into(),
                })?
                .iter()
                .map(|p| polygon(i, p))
                .collect::<Result<_, _>>()?,
            other => {
                return Err(WardFileError::Geometry {
                    feature: i,
                    kind: other.into(),
                });
            }
        };
        by_code.entry(code).or_default().extend(polys);
    }
    let known: BTreeSet<String> = ward_codes(refdata);
    let unknown: Vec<String> = by_code
        .keys()
        .filter(|c| !known.contains(*c))
        .cloned()
        .collect();
    if !unknown.is_empty() {
        return Err(WardFileError::UnknownCodes(unknown));
    }
    let missing = known
        .iter()
        .filter(|c| !by_code.contains_key(*c))
        .cloned()
        .collect();
    Ok(ParsedWards {
        wards: by_code
            .into_iter()
            .map(|(ward_code, polygons)| WardBoundary {
                ward_code,
                polygons,
            })
            .collect(),
        missing,
    })
}

/// The 5-digit codes of the reference data's wards.
pub fn ward_codes(refdata: &RefData) -> BTreeSet<String> {
    refdata
        .units
        .keys()
        .filter_map(|u| u.as_str().strip_prefix("ward:"))
        .map(str::to_string)
        .collect()
}

fn to_line(r: &Ring) -> LineString<f64> {
    LineString::new(r.iter().map(|&[x, y]| Coord { x, y }).collect())
}

/// The boundaries of one version, ready for lookups: an R-tree over every
/// polygon's bounding box, each leaf naming its polygon.
pub struct WardIndex {
    version: String,
    polygons: Vec<(String, Polygon<f64>)>,
    tree: RTree<GeomWithData<Rectangle<[f64; 2]>, usize>>,
}

impl std::fmt::Debug for WardIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WardIndex")
            .field("version", &self.version)
            .field("polygons", &self.polygons.len())
            .finish()
    }
}

impl WardIndex {
    pub fn new(map: &WardMap) -> Self {
        let mut polygons = Vec::new();
        let mut leaves = Vec::new();
        for w in &map.wards {
            for p in &w.polygons {
                let Some((outer, holes)) = p.split_first() else {
                    continue;
                };
                let poly = Polygon::new(to_line(outer), holes.iter().map(to_line).collect());
                let Some(bb) = poly.bounding_rect() else {
                    continue;
                };
                let rect =
                    Rectangle::from_corners([bb.min().x, bb.min().y], [bb.max().x, bb.max().y]);
                leaves.push(GeomWithData::new(rect, polygons.len()));
                polygons.push((w.ward_code.clone(), poly));
            }
        }
        WardIndex {
            version: map.version.clone(),
            polygons,
            tree: RTree::bulk_load(leaves),
        }
    }

    pub fn version(&self) -> &str {
        &self.version
    }

    /// The ward of a point (see the module's border rule), or `None` when it
    /// lies outside every polygon (or in a hole of the only one around it).
    pub fn ward_at(&self, lat: f64, lng: f64) -> Option<&str> {
        self.wards_at(lat, lng).into_iter().next()
    }

    /// Every ward whose closed area holds the point, lowest code first.
    pub fn wards_at(&self, lat: f64, lng: f64) -> Vec<&str> {
        if !lat.is_finite() || !lng.is_finite() {
            return vec![];
        }
        let pt = Coord { x: lng, y: lat };
        let mut out: Vec<&str> = self
            .tree
            .locate_in_envelope_intersecting(&AABB::from_point([lng, lat]))
            .filter_map(|leaf| {
                let (code, poly) = &self.polygons[leaf.data];
                (poly.coordinate_position(&pt) != CoordPos::Outside).then_some(code.as_str())
            })
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }
}

/// What routing learnt from the boundaries about a case's place (kept on
/// the case, shown in the staff view): the ward its point lies in under
/// `boundaries` (none: outside every polygon), and whether the report's own
/// `ward_code` disagrees with it (the case is then routed by the code and
/// this flag tells staff to check the place).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WardCheck {
    /// The boundaries version used.
    pub boundaries: String,
    /// The ward whose boundary contains the point, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ward_at_point: Option<String>,
    /// The report named a ward whose closed area does not hold the point,
    /// and the point lies in another ward (a point on the border of the
    /// named ward is not a mismatch).
    #[serde(default)]
    pub mismatch: bool,
}
