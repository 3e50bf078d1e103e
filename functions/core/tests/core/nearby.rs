//! Places for the nearby search (pakn_core::nearby): distance, the box
//! around a point, geohash cells. Expected values worked out by hand or
//! from the geohash reference example.

use pakn_core::nearby::*;

#[test]
fn geohash_matches_the_reference_example() {
    // The example of the geohash documentation: 57.64911, 10.40744 → u4pruydqqvj.
    assert_eq!(geohash(57.64911, 10.40744, 11), "u4pruydqqvj");
    assert_eq!(geohash(57.64911, 10.40744, CELL_PRECISION), "u4pruy");
    // Precision 6 is 30 bits, 15 of longitude and 15 of latitude: cells of
    // 180/2^15 = 0.0054931640625° by 360/2^15 = 0.010986328125° (≈ 0.6 × 1.1 km here).
    assert_eq!(cell_size(6), (0.0054931640625, 0.010986328125));
    // Precision 5 is 25 bits, 13 of longitude and 12 of latitude.
    assert_eq!(cell_size(5), (180.0 / 4096.0, 360.0 / 8192.0));
}

#[test]
fn one_degree_of_latitude_is_about_111_km() {
    let d = distance_m(21.0, 105.8, 22.0, 105.8);
    assert!((d - 111_195.08).abs() < 0.5, "{d}");
    assert_eq!(distance_m(21.0285, 105.8542, 21.0285, 105.8542), 0.0);
    // At latitude 21°, a degree of longitude is cos(21°) as long.
    let e = distance_m(21.0, 105.0, 21.0, 106.0);
    assert!(
        (e - 111_195.08 * 21f64.to_radians().cos()).abs() < 20.0,
        "{e}"
    );
}

#[test]
fn the_box_holds_the_circle_and_its_cells_are_read() {
    let (lat, lng, r) = (21.0285, 105.8542, 250.0);
    let b = BoundingBox::around(lat, lng, r);
    // Points 250 m away in the four directions are inside the box.
    let dlat = r / 111_195.08;
    let dlng = dlat / lat.to_radians().cos();
    for (la, ln) in [
        (lat + dlat * 0.999, lng),
        (lat - dlat * 0.999, lng),
        (lat, lng + dlng * 0.999),
        (lat, lng - dlng * 0.999),
    ] {
        assert!(b.contains(la, ln), "{la},{ln}");
        assert!(distance_m(lat, lng, la, ln) <= r);
    }
    assert!(!b.contains(lat + dlat * 1.01, lng));
    // A 500 m box touches at most 2 x 2 cells of 0.6 x 1.1 km, and every
    // corner's cell is among them.
    let cells = cells_covering(&b, CELL_PRECISION);
    assert!((1..=4).contains(&cells.len()), "{cells:?}");
    for (la, ln) in [
        (b.min_lat, b.min_lng),
        (b.min_lat, b.max_lng),
        (b.max_lat, b.min_lng),
        (b.max_lat, b.max_lng),
    ] {
        assert!(cells.contains(&geohash(la, ln, CELL_PRECISION)));
    }
    // A box larger than a cell: every cell of a grid over it is read.
    let big = BoundingBox::around(lat, lng, 2_000.0);
    let cells = cells_covering(&big, CELL_PRECISION);
    for i in 0..=20 {
        for j in 0..=20 {
            let la = big.min_lat + (big.max_lat - big.min_lat) * i as f64 / 20.0;
            let ln = big.min_lng + (big.max_lng - big.min_lng) * j as f64 / 20.0;
            assert!(cells.contains(&geohash(la, ln, CELL_PRECISION)));
        }
    }
}
