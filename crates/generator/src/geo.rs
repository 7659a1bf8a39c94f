//! Geography of the default profile: the countries customers live in, travel to, or are attacked
//! from, with a centre and a spread, and great-circle distances.

use fraudwatch_core::Country;

use crate::tx::country;

/// Where a country sits and what role it plays in the default world.
#[derive(Debug, Clone, Copy)]
pub struct Place {
    pub code: Country,
    pub lat: f64,
    pub lon: f64,
    /// Standard deviation of town positions around the centre, in degrees.
    pub spread: f64,
    /// Share of the population living there (0 for countries nobody lives in).
    pub residents: f64,
}

const fn place(code: &[u8; 2], lat: f64, lon: f64, spread: f64, residents: f64) -> Place {
    Place {
        code: country(code),
        lat,
        lon,
        spread,
        residents,
    }
}

/// Home countries, by share of the population.
pub const HOMES: [Place; 8] = [
    place(b"BE", 50.85, 4.35, 0.6, 0.30),
    place(b"NL", 52.37, 4.90, 0.6, 0.15),
    place(b"FR", 47.50, 2.35, 2.0, 0.18),
    place(b"DE", 51.00, 10.00, 1.8, 0.17),
    place(b"LU", 49.61, 6.13, 0.2, 0.04),
    place(b"ES", 40.42, -3.70, 2.0, 0.06),
    place(b"IT", 42.50, 12.50, 2.0, 0.06),
    place(b"GB", 52.50, -1.50, 1.5, 0.04),
];

/// The country that opens when drift of kind `country` starts.
pub const NEW_MARKET: Place = place(b"PT", 39.50, -8.20, 0.8, 0.0);

/// Far-away countries that account takeovers and card testers connect from.
pub const FAR: [Place; 6] = [
    place(b"US", 39.00, -95.00, 8.0, 0.0),
    place(b"BR", -15.00, -50.00, 6.0, 0.0),
    place(b"NG", 8.50, 7.50, 2.5, 0.0),
    place(b"VN", 16.00, 107.00, 3.0, 0.0),
    place(b"ID", -3.00, 115.00, 5.0, 0.0),
    place(b"PH", 12.00, 122.00, 3.0, 0.0),
];

/// Great-circle distance in kilometres.
pub fn distance_km(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = p2 - p1;
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * 6_371.0 * a.sqrt().min(1.0).asin()
}

/// Degrees to the 1e-4 degree units of `Detail`, clamped to valid coordinates.
pub fn e4(deg: f64, limit: f64) -> i32 {
    (deg.clamp(-limit, limit) * 1e4).round() as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn far_countries_are_far_from_every_home() {
        let total: f64 = HOMES.iter().map(|p| p.residents).sum();
        assert!((total - 1.0).abs() < 1e-9);
        for h in HOMES {
            for f in FAR {
                assert!(
                    distance_km(h.lat, h.lon, f.lat, f.lon) > 3_000.0,
                    "{:?} {:?}",
                    h.code,
                    f.code
                );
            }
        }
        let bru_ams = distance_km(50.85, 4.35, 52.37, 4.90);
        assert!((bru_ams - 173.0).abs() < 3.0, "{bru_ams}");
    }
}
