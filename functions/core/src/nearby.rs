//! Places on the globe for the nearby search: great-circle distance, the
//! box around a point, and geohash cells (the DynamoDB adapter indexes open
//! cases by the precision-6 cell of their point, about 1.2 km × 0.6 km, and
//! reads only the cells the search box touches).

use serde::Serialize;

/// Mean Earth radius (IUGG), metres.
pub const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// Geohash precision of the nearby index.
pub const CELL_PRECISION: usize = 6;

/// Great-circle distance in metres (haversine).
pub fn distance_m(lat1: f64, lng1: f64, lat2: f64, lng2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = p2 - p1;
    let dl = (lng2 - lng1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * a.sqrt().min(1.0).asin()
}

/// A latitude/longitude box (degrees), inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BoundingBox {
    pub min_lat: f64,
    pub max_lat: f64,
    pub min_lng: f64,
    pub max_lng: f64,
}

impl BoundingBox {
    /// Every point within `radius_m` of (`lat`, `lng`) lies in this box
    /// (no wrap at ±180°: pakn's city is far from it; latitudes clamped).
    pub fn around(lat: f64, lng: f64, radius_m: f64) -> BoundingBox {
        let dlat = (radius_m / EARTH_RADIUS_M).to_degrees();
        let coslat = lat.to_radians().cos().abs().max(1e-6);
        let dlng = (dlat / coslat).min(180.0);
        BoundingBox {
            min_lat: (lat - dlat).max(-90.0),
            max_lat: (lat + dlat).min(90.0),
            min_lng: lng - dlng,
            max_lng: lng + dlng,
        }
    }

    pub fn contains(&self, lat: f64, lng: f64) -> bool {
        (self.min_lat..=self.max_lat).contains(&lat) && (self.min_lng..=self.max_lng).contains(&lng)
    }
}

const BASE32: &[u8; 32] = b"0123456789bcdefghjkmnpqrstuvwxyz";

/// The geohash of a point at `precision` characters.
pub fn geohash(lat: f64, lng: f64, precision: usize) -> String {
    let (mut lat_lo, mut lat_hi) = (-90.0f64, 90.0f64);
    let (mut lng_lo, mut lng_hi) = (-180.0f64, 180.0f64);
    let mut out = String::with_capacity(precision);
    let (mut bits, mut ch, mut even) = (0, 0usize, true);
    while out.len() < precision {
        if even {
            let mid = (lng_lo + lng_hi) / 2.0;
            if lng >= mid {
                ch = (ch << 1) | 1;
                lng_lo = mid;
            } else {
                ch <<= 1;
                lng_hi = mid;
            }
        } else {
            let mid = (lat_lo + lat_hi) / 2.0;
            if lat >= mid {
                ch = (ch << 1) | 1;
                lat_lo = mid;
            } else {
                ch <<= 1;
                lat_hi = mid;
            }
        }
        even = !even;
        bits += 1;
        if bits == 5 {
            out.push(BASE32[ch] as char);
            bits = 0;
            ch = 0;
        }
    }
    out
}

/// Size (lat, lng degrees) of a geohash cell of `precision` characters.
pub fn cell_size(precision: usize) -> (f64, f64) {
    let bits = 5 * precision as i32;
    let lng_bits = (bits + 1) / 2;
    let lat_bits = bits / 2;
    (180.0 / 2f64.powi(lat_bits), 360.0 / 2f64.powi(lng_bits))
}

/// Every cell of `precision` that the box touches, sorted, each once: the
/// box's corners and a grid over it at half a cell's step.
pub fn cells_covering(b: &BoundingBox, precision: usize) -> Vec<String> {
    let (dlat, dlng) = cell_size(precision);
    let steps = |lo: f64, hi: f64, d: f64| {
        let n = ((hi - lo) / (d / 2.0)).ceil().max(0.0) as usize;
        (0..=n).map(move |i| (lo + i as f64 * d / 2.0).min(hi))
    };
    let mut cells: Vec<String> = steps(b.min_lat, b.max_lat, dlat)
        .flat_map(|la| steps(b.min_lng, b.max_lng, dlng).map(move |ln| geohash(la, ln, precision)))
        .collect();
    cells.sort();
    cells.dedup();
    cells
}
