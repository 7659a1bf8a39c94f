//! Validation of decoded values: every error names the field, the offending value and the rule.

use std::fmt;

/// A value that can check its own invariants after decoding.
pub trait Validate {
    fn validate(&self) -> Result<(), ValidationError>;
}

/// One broken rule, with enough context for a dead-letter reason or a 4xx body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid `{field}` = {value}: {rule}")]
pub struct ValidationError {
    pub field: &'static str,
    /// The offending value, rendered (and shortened) for humans.
    pub value: String,
    pub rule: &'static str,
}

impl ValidationError {
    pub fn new(field: &'static str, value: impl fmt::Debug, rule: &'static str) -> Self {
        let mut value = format!("{value:?}");
        if value.len() > 80 {
            let cut = (0..=77)
                .rev()
                .find(|&i| value.is_char_boundary(i))
                .unwrap_or(0);
            value.truncate(cut);
            value.push_str("...");
        }
        Self { field, value, rule }
    }
}

/// Fails unless `x` is finite and within `[lo, hi]`.
pub fn check_range(field: &'static str, x: f64, lo: f64, hi: f64) -> Result<(), ValidationError> {
    if x.is_finite() && (lo..=hi).contains(&x) {
        Ok(())
    } else {
        Err(ValidationError::new(
            field,
            x,
            "must be a finite number in range",
        ))
    }
}

/// Fails when `s` is empty, longer than `max` bytes or contains control characters.
pub fn check_text(field: &'static str, s: &str, max: usize) -> Result<(), ValidationError> {
    if s.trim().is_empty() {
        return Err(ValidationError::new(field, s, "must not be empty"));
    }
    // ASCII, the common case, is one byte per character.
    let (chars, control) = if s.is_ascii() {
        (s.len(), s.bytes().any(|b| b.is_ascii_control()))
    } else {
        (s.chars().count(), s.chars().any(char::is_control))
    };
    if chars > max {
        return Err(ValidationError::new(field, s, "is too long"));
    }
    if control {
        return Err(ValidationError::new(
            field,
            s,
            "must not contain control characters",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_values_are_shortened_on_a_char_boundary() {
        let e = ValidationError::new("x", "é".repeat(100), "r");
        assert!(e.value.len() <= 80);
        assert!(e.value.ends_with("..."));
    }

    #[test]
    fn range_rejects_nan_and_infinities() {
        assert!(check_range("a", f64::NAN, 0.0, 1.0).is_err());
        assert!(check_range("a", f64::INFINITY, 0.0, f64::MAX).is_err());
        assert!(check_range("a", 0.5, 0.0, 1.0).is_ok());
        let e = check_range("amount", -1.0, 0.0, 1.0).unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid `amount` = -1.0: must be a finite number in range"
        );
    }

    #[test]
    fn text_rules() {
        assert!(check_text("f", " ", 10).is_err());
        assert!(check_text("f", "abcdefghijk", 10).is_err());
        assert!(check_text("f", "a\nb", 10).is_err());
        assert!(check_text("f", "ok", 10).is_ok());
    }
}
