//! Great-circle geometry for the location features.

/// Mean Earth radius, km.
pub const EARTH_RADIUS_KM: f64 = 6371.0088;

/// Great-circle distance in km between two (lat, lon) points in degrees (haversine).
pub fn distance_km(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = p2 - p1;
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * a.sqrt().min(1.0).asin()
}

/// The point as a unit vector (x, y, z).
pub fn unit_vector(lat: f64, lon: f64) -> [f64; 3] {
    let (sp, cp) = lat.to_radians().sin_cos();
    let (sl, cl) = lon.to_radians().sin_cos();
    [cp * cl, cp * sl, sp]
}

/// The direction of a non-zero vector as a unit vector; `None` for a (near) zero vector, e.g.
/// the sum of two antipodes.
pub fn normalise(v: [f64; 3]) -> Option<[f64; 3]> {
    let norm = (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt();
    (norm > 1e-9).then(|| v.map(|x| x / norm))
}

/// Great-circle distance in km between two points given as unit vectors (by the chord).
pub fn chord_km(u: [f64; 3], v: [f64; 3]) -> f64 {
    let d = [u[0] - v[0], u[1] - v[1], u[2] - v[2]];
    let chord = (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt();
    2.0 * EARTH_RADIUS_KM * (chord / 2.0).min(1.0).asin()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_distances() {
        // Brussels to Paris, about 264 km.
        let d = distance_km(50.8503, 4.3517, 48.8566, 2.3522);
        assert!((d - 264.0).abs() < 2.0, "{d}");
        assert_eq!(distance_km(10.0, 20.0, 10.0, 20.0), 0.0);
        // Across the antimeridian: 0.2 degrees of longitude at the equator.
        let d = distance_km(0.0, 179.9, 0.0, -179.9);
        assert!((d - 22.24).abs() < 0.01, "{d}");
        let (u, v) = (unit_vector(50.8503, 4.3517), unit_vector(48.8566, 2.3522));
        let by_chord = chord_km(u, v);
        assert!((by_chord - distance_km(50.8503, 4.3517, 48.8566, 2.3522)).abs() < 1e-9);
        let far = chord_km(unit_vector(0.0, 0.0), unit_vector(0.0, 180.0));
        assert!(
            (far - std::f64::consts::PI * EARTH_RADIUS_KM).abs() < 1e-6,
            "{far}"
        );
        assert_eq!(normalise([0.0; 3]), None);
        assert_eq!(normalise([0.0, 2.0, 0.0]), Some([0.0, 1.0, 0.0]));
    }
}
