//! `Id`: identifiers of transactions, customers, terminals and devices.
//!
//! Stored inline (no heap allocation) up to 24 bytes, so decoding an event with ids allocates nothing
//! for them. On the wire an id is a JSON string; a JSON integer is accepted too, because many
//! payment systems and datasets (the handbook's among them) number their entities.

use std::fmt;

use compact_str::{CompactString, ToCompactString};
use serde::{Deserialize, Deserializer, Serialize, Serializer, de};

use crate::validate::ValidationError;

/// Longest id accepted, in characters.
pub const MAX_ID_LEN: usize = 64;

#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Id(CompactString);

impl Id {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Checks the id rules: 1 to 64 characters, no whitespace or control characters.
    pub fn check(&self, field: &'static str) -> Result<(), ValidationError> {
        let s = self.as_str();
        if s.is_empty() || s.chars().count() > MAX_ID_LEN {
            return Err(ValidationError::new(field, s, "must be 1 to 64 characters"));
        }
        if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(ValidationError::new(
                field,
                s,
                "must not contain whitespace or control characters",
            ));
        }
        Ok(())
    }
}

impl From<&str> for Id {
    fn from(s: &str) -> Self {
        Self(CompactString::from(s))
    }
}

impl From<u64> for Id {
    fn from(n: u64) -> Self {
        Self(n.to_compact_string())
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0.as_str())
    }
}

impl Serialize for Id {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl de::Visitor<'_> for V {
            type Value = Id;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an id (string or non-negative integer)")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Id, E> {
                Ok(Id::from(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Id, E> {
                Ok(Id::from(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Id, E> {
                u64::try_from(v)
                    .map(Id::from)
                    .map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
            }
            /// `17.0` is the integer 17 to JSON (and JSON Schema); a fraction is no id.
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Id, E> {
                if v >= 0.0 && v.fract() == 0.0 && v < u64::MAX as f64 {
                    Ok(Id::from(v as u64))
                } else {
                    Err(E::invalid_value(de::Unexpected::Float(v), &self))
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// OpenAPI schemas of an id: what `Deserialize` takes and `check` allows.
#[cfg(feature = "openapi")]
pub mod openapi {
    use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Schema, Type};

    /// A string of 1 to 64 characters without whitespace or control characters.
    pub const PATTERN: &str = r"^[^\s\x00-\x1f\x7f-\x9f]{1,64}$";

    fn one_of(nullable: bool) -> Schema {
        let mut one = OneOfBuilder::new()
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .pattern(Some(PATTERN)),
            )
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some(0))
                    .maximum(Some(u64::MAX as usize)),
            );
        if nullable {
            one = one.item(ObjectBuilder::new().schema_type(Type::Null));
        }
        one.description(Some(
            "an id: a string, or a non-negative integer read as its decimal string",
        ))
        .build()
        .into()
    }

    pub fn id() -> Schema {
        one_of(false)
    }

    pub fn optional_id() -> Schema {
        one_of(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_strings_and_integers() {
        let a: Id = serde_json::from_str("\"c-17\"").unwrap();
        let b: Id = serde_json::from_str("17").unwrap();
        assert_eq!(a.as_str(), "c-17");
        assert_eq!(b.as_str(), "17");
        assert_eq!(serde_json::to_string(&b).unwrap(), "\"17\"");
    }

    #[test]
    fn rejects_garbage() {
        assert!(serde_json::from_str::<Id>("-3").is_err());
        assert!(serde_json::from_str::<Id>("1.5").is_err());
        assert!(serde_json::from_str::<Id>("null").is_err());
        assert!(serde_json::from_str::<Id>("[]").is_err());
        assert!(Id::from("").check("customer_id").is_err());
        assert!(Id::from("a b").check("customer_id").is_err());
        assert!(
            Id::from("x".repeat(65).as_str())
                .check("customer_id")
                .is_err()
        );
        assert!(
            Id::from("x".repeat(64).as_str())
                .check("customer_id")
                .is_ok()
        );
    }
}
