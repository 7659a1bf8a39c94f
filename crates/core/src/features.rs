//! `FeatureVector`: what the processor computed for one transaction (DESIGN.md §3).
//! Features are named and ordered; on the wire they are one JSON object whose key order is the
//! feature order recorded in the model bundle.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::sync::OnceLock;

use serde::de::{DeserializeSeed, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::engine::{FeatureSet, FeatureSpec};
use crate::id::Id;
use crate::time::{self, Timestamp};
use crate::transaction::check_plausible_time;
use crate::validate::{Validate, ValidationError, check_text};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureVector {
    pub transaction_id: Id,
    pub customer_id: Id,
    /// The transaction's event time.
    #[serde(with = "time::wire")]
    pub timestamp: Timestamp,
    pub features: Features,
    /// When the transaction entered the bus: end-to-end latency is measured from here.
    #[serde(with = "time::wire")]
    pub ingested_at: Timestamp,
}

impl Validate for FeatureVector {
    fn validate(&self) -> Result<(), ValidationError> {
        self.transaction_id.check("transaction_id")?;
        self.customer_id.check("customer_id")?;
        check_plausible_time("timestamp", &self.timestamp)?;
        check_plausible_time("ingested_at", &self.ingested_at)?;
        self.features.validate()
    }
}

/// A feature vector borrowed from the engine's buffers: encodes exactly as [`FeatureVector`]
/// does, without building one (no per-feature name strings on the hot path).
#[derive(Debug, Clone, Copy)]
pub struct FeatureVectorRef<'a> {
    pub transaction_id: &'a Id,
    pub customer_id: &'a Id,
    pub timestamp: &'a Timestamp,
    pub specs: &'a [FeatureSpec],
    pub values: &'a [f64],
    pub ingested_at: &'a Timestamp,
}

impl FeatureVectorRef<'_> {
    /// Appends the JSON that `serde_json` writes for the equal [`FeatureVector`] (a test holds
    /// the bytes equal). Written directly because the processor writes one per transaction:
    /// the engine's names need no escaping and are copied as they are, quotes included.
    pub fn encode_into(&self, buf: &mut Vec<u8>) {
        let text = |buf: &mut Vec<u8>, s: &str| {
            // Writing a string to a Vec cannot fail.
            let _ = serde_json::to_writer(&mut *buf, s);
        };
        buf.extend_from_slice(br#"{"transaction_id":"#);
        text(buf, self.transaction_id.as_str());
        buf.extend_from_slice(br#","customer_id":"#);
        text(buf, self.customer_id.as_str());
        buf.extend_from_slice(br#","timestamp":""#);
        buf.extend_from_slice(time::Rendered::of(self.timestamp).as_bytes());
        buf.extend_from_slice(br#"","features":{"#);
        for (i, (spec, &value)) in self.specs.iter().zip(self.values).enumerate() {
            if i > 0 {
                buf.push(b',');
            }
            if plain(spec.name) {
                buf.push(b'"');
                buf.extend_from_slice(spec.name.as_bytes());
                buf.extend_from_slice(b"\":");
            } else {
                text(buf, spec.name);
                buf.push(b':');
            }
            write_number(buf, value);
        }
        buf.extend_from_slice(br#"},"ingested_at":""#);
        buf.extend_from_slice(time::Rendered::of(self.ingested_at).as_bytes());
        buf.extend_from_slice(b"\"}");
    }
}

/// `value` as serde_json writes an `f64`. Counts and flags, half of a vector, are whole numbers
/// well inside 2⁵³, which serde_json writes as the integer and `.0`: that is done with the
/// faster integer formatter.
fn write_number(buf: &mut Vec<u8>, value: f64) {
    use serde_json::ser::{CompactFormatter, Formatter};
    const WHOLE: f64 = 1e15;
    if value.fract() == 0.0 && value.abs() < WHOLE && !(value == 0.0 && value.is_sign_negative()) {
        buf.extend_from_slice(itoa::Buffer::new().format(value as i64).as_bytes());
        buf.extend_from_slice(b".0");
    } else if value.is_finite() {
        let _ = CompactFormatter.write_f64(buf, value);
    } else {
        buf.extend_from_slice(b"null");
    }
}

/// Whether JSON writes `name` between quotes as it is (no character to escape).
fn plain(name: &str) -> bool {
    name.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\')
}

/// Named feature values in a fixed order.
/// A feature's name: the engine's own names are borrowed, never allocated per vector.
pub type Name = Cow<'static, str>;

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Features(pub Vec<(Name, f64)>);

impl From<Vec<(String, f64)>> for Features {
    fn from(pairs: Vec<(String, f64)>) -> Features {
        Features(pairs.into_iter().map(|(n, v)| (Cow::Owned(n), v)).collect())
    }
}

/// Where an engine name sits: its set's specs and its index there (a name shared by several sets
/// maps to one of them; it is only a guess at the name that follows).
type Place = (&'static [FeatureSpec], usize);

/// Every engine name, for reading one back as the borrowed static (decoding then allocates no
/// name).
fn place(name: &str) -> Option<Place> {
    static KNOWN: OnceLock<HashMap<&'static str, Place>> = OnceLock::new();
    KNOWN
        .get_or_init(|| {
            FeatureSet::ALL
                .iter()
                .flat_map(|set| {
                    let specs = set.specs();
                    specs
                        .iter()
                        .enumerate()
                        .map(move |(i, s)| (s.name, (specs, i)))
                })
                .collect()
        })
        .get(name)
        .copied()
}

impl Features {
    pub fn get(&self, name: &str) -> Option<f64> {
        self.0.iter().find(|(n, _)| n == name).map(|&(_, v)| v)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(n, _)| n.as_ref())
    }

    pub fn values(&self) -> impl Iterator<Item = f64> + '_ {
        self.0.iter().map(|&(_, v)| v)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Validate for Features {
    fn validate(&self) -> Result<(), ValidationError> {
        if self.0.is_empty() {
            return Err(ValidationError::new(
                "features",
                "{}",
                "must hold at least one feature",
            ));
        }
        for (i, (name, value)) in self.0.iter().enumerate() {
            // Borrowed names are the program's own (the engine's, read back by `Key`).
            if let Cow::Owned(name) = name {
                check_text("features", name, 128)?;
            }
            if !value.is_finite() {
                return Err(ValidationError::new(
                    "features",
                    (name, value),
                    "values must be finite",
                ));
            }
            if self.0[..i].iter().any(|(n, _)| n == name) {
                return Err(ValidationError::new(
                    "features",
                    name,
                    "names must be unique",
                ));
            }
        }
        Ok(())
    }
}

impl Serialize for Features {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (name, value) in &self.0 {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

/// Reads a map key as a [`Name`]: the engine's static name when it is one. The processor lists
/// a set's names in order, so the name after the previous key's is tried before any lookup.
struct Key<'a>(&'a mut Option<Place>);

impl<'de> DeserializeSeed<'de> for Key<'_> {
    type Value = Name;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Name, D::Error> {
        d.deserialize_str(self)
    }
}

impl Visitor<'_> for Key<'_> {
    type Value = Name;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a feature name")
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Name, E> {
        let guess = self
            .0
            .filter(|(specs, i)| specs.get(*i).is_some_and(|s| s.name == v));
        *self.0 = guess.or_else(|| place(v)).map(|(specs, i)| (specs, i + 1));
        Ok(match *self.0 {
            Some((specs, i)) => Cow::Borrowed(specs[i - 1].name),
            None => Cow::Owned(v.to_string()),
        })
    }
}

impl<'de> Deserialize<'de> for Features {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Features;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of feature name to number")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Features, A::Error> {
                let mut out = Vec::with_capacity(map.size_hint().unwrap_or(24));
                let mut next = None;
                while let Some(name) = map.next_key_seed(Key(&mut next))? {
                    out.push((name, map.next_value::<f64>()?));
                }
                Ok(Features(out))
            }
        }
        d.deserialize_map(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> FeatureVector {
        FeatureVector {
            transaction_id: Id::from(1u64),
            customer_id: Id::from(2u64),
            timestamp: time::parse("2018-04-01T00:00:31Z").unwrap(),
            features: Features(vec![("z_amount".into(), 1.5), ("a_count_5m".into(), 3.0)]),
            ingested_at: time::parse("2018-04-01T00:00:31.250Z").unwrap(),
        }
    }

    #[test]
    fn keeps_feature_order_on_the_wire() {
        let json = serde_json::to_string(&sample()).unwrap();
        assert!(
            json.contains(r#""features":{"z_amount":1.5,"a_count_5m":3.0}"#),
            "{json}"
        );
        let back: FeatureVector = serde_json::from_str(&json).unwrap();
        assert_eq!(back, sample());
        assert_eq!(back.features.get("a_count_5m"), Some(3.0));
        assert_eq!(
            back.features.names().collect::<Vec<_>>(),
            ["z_amount", "a_count_5m"]
        );
    }

    #[test]
    fn the_borrowed_form_encodes_as_the_owned_one() {
        use crate::engine::FeatureKind;
        let v = sample();
        let specs = [
            FeatureSpec {
                name: "z_amount",
                kind: FeatureKind::Real,
            },
            FeatureSpec {
                name: "a_count_5m",
                kind: FeatureKind::Count,
            },
        ];
        let values: Vec<f64> = v.features.values().collect();
        let borrowed = FeatureVectorRef {
            transaction_id: &v.transaction_id,
            customer_id: &v.customer_id,
            timestamp: &v.timestamp,
            specs: &specs,
            values: &values,
            ingested_at: &v.ingested_at,
        };
        let mut buf = Vec::new();
        borrowed.encode_into(&mut buf);
        assert_eq!(buf, serde_json::to_vec(&v).unwrap());
    }

    #[test]
    fn whole_numbers_are_written_as_serde_json_writes_them() {
        let mut whole: Vec<f64> = (0..=16)
            .flat_map(|e| {
                let p = 10f64.powi(e);
                [p - 1.0, p, p + 1.0, 2.0 * p, 0.5 * p]
            })
            .collect();
        whole.extend((0..2000).map(|i| f64::from(i) * 7919.0));
        for v in whole.iter().flat_map(|&v| [v, -v]) {
            let mut buf = Vec::new();
            write_number(&mut buf, v);
            let want = serde_json::to_vec(&v).unwrap();
            assert_eq!(buf, want, "{v}");
        }
    }

    #[test]
    fn the_borrowed_form_encodes_every_set_and_value_as_serde_json() {
        use proptest::prelude::*;
        let odd = [
            0.0,
            -0.0,
            1.0,
            -1.5,
            1e300,
            5e-324,
            0.1 + 0.2,
            123456789.0,
            -42.0,
            1e14,
            999_999_999_999_999.0,
            1e15,
            f64::NAN,
        ];
        let specs = [
            FeatureSpec {
                name: "quote\"back\\slash\ttab é",
                kind: crate::engine::FeatureKind::Real,
            },
            FeatureSpec {
                name: "plain",
                kind: crate::engine::FeatureKind::Real,
            },
        ];
        let sets: Vec<&[FeatureSpec]> = FeatureSet::ALL
            .iter()
            .map(|s| s.specs())
            .chain([&specs[..]])
            .collect();
        proptest!(|(set in 0..sets.len(), seed in any::<u64>(), ms in 0i64..7_000_000_000_000, id in "[a-z0-9\"\\\\-]{1,20}")| {
            let specs = sets[set];
            let values: Vec<f64> = (0..specs.len() as u64)
                .map(|i| {
                    let r = seed.rotate_left(i as u32 * 7) ^ i;
                    if r % 3 == 0 { odd[(r / 3) as usize % odd.len()] } else { f64::from_bits(r) }
                })
                .collect();
            let at = time::from_millis(ms).unwrap();
            let owned = FeatureVector {
                transaction_id: Id::from(id.as_str()),
                customer_id: Id::from(seed),
                timestamp: at,
                features: Features(
                    specs.iter().zip(&values).map(|(s, &v)| (Cow::Borrowed(s.name), v)).collect(),
                ),
                ingested_at: time::from_millis(ms + 17).unwrap(),
            };
            let mut buf = b"kept".to_vec();
            FeatureVectorRef {
                transaction_id: &owned.transaction_id,
                customer_id: &owned.customer_id,
                timestamp: &owned.timestamp,
                specs,
                values: &values,
                ingested_at: &owned.ingested_at,
            }
            .encode_into(&mut buf);
            prop_assert_eq!(&buf[..4], b"kept");
            prop_assert_eq!(
                String::from_utf8(buf[4..].to_vec()).unwrap(),
                serde_json::to_string(&owned).unwrap()
            );
        });
    }

    #[test]
    fn rejects_duplicates_empties_and_non_numbers() {
        let mut v = sample();
        v.features.0.push(("z_amount".into(), 2.0));
        assert_eq!(v.validate().unwrap_err().rule, "names must be unique");
        v.features.0.clear();
        assert!(v.validate().is_err());
        assert!(serde_json::from_str::<Features>(r#"{"a":"x"}"#).is_err());
        assert!(serde_json::from_str::<Features>(r#"[1,2]"#).is_err());
    }

    #[test]
    fn engine_names_are_borrowed_others_owned() {
        let f: Features = serde_json::from_str(
            r#"{"customer_id_nb_tx_1day_window":2,"my_own":1.5,"amount\u0020x":3}"#,
        )
        .unwrap();
        assert!(matches!(
            f.0[0].0,
            Cow::Borrowed("customer_id_nb_tx_1day_window")
        ));
        assert!(matches!(&f.0[1].0, Cow::Owned(n) if n == "my_own"));
        assert_eq!(
            f.names().collect::<Vec<_>>(),
            ["customer_id_nb_tx_1day_window", "my_own", "amount x"]
        );
        assert_eq!(f.get("amount x"), Some(3.0));
    }

    #[test]
    fn names_read_back_in_any_order() {
        for set in FeatureSet::ALL {
            let mut names: Vec<&str> = set.names().collect();
            // In order, reversed, and with a stranger and a repeat in the middle.
            let mut orders = vec![names.clone()];
            names.reverse();
            orders.push(names.clone());
            names.insert(names.len() / 2, "stranger");
            names.insert(1, names[3]);
            orders.push(names);
            for order in orders {
                let json = format!(
                    "{{{}}}",
                    order
                        .iter()
                        .enumerate()
                        .map(|(i, n)| format!("\"{n}\":{i}"))
                        .collect::<Vec<_>>()
                        .join(",")
                );
                let f: Features = serde_json::from_str(&json).unwrap();
                assert_eq!(f.names().collect::<Vec<_>>(), order, "{set}");
                for ((name, value), i) in f.0.iter().zip(0..) {
                    assert_eq!(*value, f64::from(i));
                    assert_eq!(matches!(name, Cow::Borrowed(_)), name != "stranger");
                }
            }
        }
    }
}
