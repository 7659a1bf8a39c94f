//! Fixed-size codes: ISO 4217 currencies, ISO 3166-1 alpha-2 countries, and payment channels.
//! Codes are stored as plain bytes (no heap) and must be upper-case ASCII letters.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer, de};

macro_rules! ascii_code {
    ($name:ident, $len:literal, $what:literal) => {
        #[doc = concat!("A ", $what, " code of ", $len, " upper-case ASCII letters.")]
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name([u8; $len]);

        impl $name {
            /// A code from a literal, usable in constants.
            pub const fn parse_const(b: [u8; $len]) -> Option<Self> {
                let mut i = 0;
                while i < $len {
                    if !b[i].is_ascii_uppercase() {
                        return None;
                    }
                    i += 1;
                }
                Some(Self(b))
            }

            /// Parses a code, e.g. from configuration or a CSV column.
            pub fn parse(s: &str) -> Option<Self> {
                let b = s.as_bytes();
                (b.len() == $len && b.iter().all(u8::is_ascii_uppercase))
                    .then(|| Self(b.try_into().expect("length checked")))
            }

            pub fn as_str(&self) -> &str {
                std::str::from_utf8(&self.0).expect("ASCII by construction")
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{:?}", self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                Self::parse(s).ok_or_else(|| {
                    format!(
                        concat!("{:?} is not a ", $what, " code ({} upper-case letters)"),
                        s, $len
                    )
                })
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                s.parse().map_err(de::Error::custom)
            }
        }
    };
}

ascii_code!(Currency, 3, "ISO 4217 currency");
ascii_code!(Country, 2, "ISO 3166-1 alpha-2 country");

/// How the card was used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    CardPresent,
    Online,
    Atm,
}

impl Channel {
    pub const ALL: [Channel; 3] = [Channel::CardPresent, Channel::Online, Channel::Atm];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::CardPresent => "card_present",
            Channel::Online => "online",
            Channel::Atm => "atm",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_parse_strictly() {
        assert_eq!(Currency::parse("EUR").unwrap().as_str(), "EUR");
        for bad in ["eur", "EURO", "E1R", "", "ÉUR"] {
            assert!(Currency::parse(bad).is_none(), "{bad}");
        }
        assert!(Country::parse("BE").is_some());
        assert!(Country::parse("BEL").is_none());
        let e = serde_json::from_str::<Currency>("\"usd\"").unwrap_err();
        assert!(
            e.to_string()
                .contains("\"usd\" is not a ISO 4217 currency code"),
            "{e}"
        );
    }

    #[test]
    fn channel_wire_names() {
        for c in Channel::ALL {
            let json = serde_json::to_string(&c).unwrap();
            assert_eq!(json, format!("\"{}\"", c.as_str()));
            assert_eq!(serde_json::from_str::<Channel>(&json).unwrap(), c);
        }
        assert!(serde_json::from_str::<Channel>("\"pos\"").is_err());
    }
}
