//! The wire format: one JSON document per message. Decoding parses and validates, and its errors
//! say where (the JSON path of the field) and what was wrong, ready to be a dead-letter reason.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::validate::{Validate, ValidationError};

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DecodeError {
    /// Not JSON, or JSON of the wrong shape; `path` is where it went wrong (`.` for the root).
    #[error("malformed JSON at `{path}`: {message}")]
    Malformed { path: String, message: String },
    /// Well-formed, but a value breaks a rule.
    #[error(transparent)]
    Invalid(#[from] ValidationError),
}

/// Parses and validates one message. Well-formed messages, the common case, take serde_json's
/// plain path, from text checked as UTF-8 at once (rather than string by string); only a
/// failure is parsed again with path tracking, to say where it went wrong.
pub fn decode<T: DeserializeOwned + Validate>(bytes: &[u8]) -> Result<T, DecodeError> {
    let parsed = match std::str::from_utf8(bytes) {
        Ok(text) => serde_json::from_str(text),
        Err(_) => serde_json::from_slice(bytes),
    };
    let value: T = parsed.map_err(|e| malformed::<T>(bytes, e))?;
    value.validate()?;
    Ok(value)
}

/// Where and why `bytes` is not a `T`.
#[cold]
fn malformed<T: DeserializeOwned>(bytes: &[u8], plain: serde_json::Error) -> DecodeError {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize::<_, T>(&mut de) {
        Err(e) => DecodeError::Malformed {
            path: e.path().to_string(),
            message: e.inner().to_string(),
        },
        // Trailing characters: the value parsed, what follows it did not.
        Ok(_) => DecodeError::Malformed {
            path: ".".into(),
            message: plain.to_string(),
        },
    }
}

/// Serialises one message. The contract types cannot fail to serialise (no maps with non-string
/// keys, no non-finite floats after validation), so a failure here is a bug and reported as one.
pub fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).expect("contract types always serialise")
}

/// Like [`encode`], appending to a reusable buffer (no allocation once it has grown).
pub fn encode_into<T: Serialize>(value: &T, buf: &mut Vec<u8>) {
    serde_json::to_writer(buf, value).expect("contract types always serialise")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transaction::Transaction;
    use crate::transaction::tests::sample;
    use proptest::prelude::*;

    #[test]
    fn errors_name_the_field() {
        let good = String::from_utf8(encode(&sample())).unwrap();
        let cases = [
            (good.replace("\"EUR\"", "\"eur\""), "currency"),
            (good.replace("57.16", "\"lots\""), "amount"),
            (good.replace("57.16", "-5"), "amount"),
            (
                good.replace("\"2018-04-01T00:00:31.000Z\"", "\"tomorrow\""),
                "timestamp",
            ),
            (good.replace("\"card_present\"", "\"telepathy\""), "channel"),
            (
                good.replace("\"customer_id\":\"c-596\",", ""),
                "customer_id",
            ),
        ];
        for (json, field) in cases {
            let err = decode::<Transaction>(json.as_bytes())
                .unwrap_err()
                .to_string();
            assert!(err.contains(field), "{field}: {err}");
        }
        assert_eq!(decode::<Transaction>(good.as_bytes()).unwrap(), sample());
    }

    #[test]
    fn rejects_trailing_garbage_and_non_json() {
        let mut json = encode(&sample());
        json.extend_from_slice(b" {}");
        assert!(decode::<Transaction>(&json).is_err());
        for bad in [
            &b""[..],
            b"null",
            b"[]",
            b"{",
            b"\xff\xfe",
            b"{\"transaction_id\":1}",
        ] {
            assert!(decode::<Transaction>(bad).is_err());
        }
    }

    proptest! {
        #[test]
        fn never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = decode::<Transaction>(&bytes);
        }

        #[test]
        fn never_panics_on_mutated_messages(i in 0usize..200, b in any::<u8>()) {
            let mut json = encode(&sample());
            let i = i % json.len();
            json[i] = b;
            let _ = decode::<Transaction>(&json);
        }
    }
}
