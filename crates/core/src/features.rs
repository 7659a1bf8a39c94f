//! `FeatureVector`: what the processor computed for one transaction (DESIGN.md §3).
//! Features are named and ordered; on the wire they are one JSON object whose key order is the
//! feature order recorded in the model bundle.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::sync::OnceLock;

use serde::de::{MapAccess, Visitor};
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

/// A feature vector borrowed from the engine's buffers: serialises exactly as [`FeatureVector`]
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

impl Serialize for FeatureVectorRef<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        struct Values<'a>(&'a [FeatureSpec], &'a [f64]);
        impl Serialize for Values<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut map = s.serialize_map(Some(self.0.len()))?;
                for (spec, value) in self.0.iter().zip(self.1) {
                    map.serialize_entry(spec.name, value)?;
                }
                map.end()
            }
        }
        let mut st = s.serialize_struct("FeatureVector", 5)?;
        st.serialize_field("transaction_id", self.transaction_id)?;
        st.serialize_field("customer_id", self.customer_id)?;
        st.serialize_field("timestamp", &time::format(self.timestamp))?;
        st.serialize_field("features", &Values(self.specs, self.values))?;
        st.serialize_field("ingested_at", &time::format(self.ingested_at))?;
        st.end()
    }
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

/// `name` as the engine's static name when it is one (decoding a vector then allocates no name).
fn intern(name: &str) -> Name {
    static KNOWN: OnceLock<HashMap<&'static str, &'static str>> = OnceLock::new();
    let known = KNOWN.get_or_init(|| {
        FeatureSet::ALL
            .iter()
            .flat_map(|set| set.names())
            .map(|n| (n, n))
            .collect()
    });
    match known.get(name) {
        Some(&n) => Cow::Borrowed(n),
        None => Cow::Owned(name.to_string()),
    }
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
            check_text("features", name, 128)?;
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

/// A map key read as an interned [`Name`] (borrowed from the input while it is looked up).
struct Key(Name);

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a feature name")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Key, E> {
                Ok(Key(intern(v)))
            }
        }
        d.deserialize_str(V)
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
                while let Some(name) = map.next_key::<Key>()? {
                    out.push((name.0, map.next_value::<f64>()?));
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
        assert_eq!(
            serde_json::to_string(&borrowed).unwrap(),
            serde_json::to_string(&v).unwrap()
        );
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
}
