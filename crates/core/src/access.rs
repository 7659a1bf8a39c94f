//! Who may do what through the API: API keys and their roles. A key's secret never lives here,
//! only the hash the store keeps and the name the audit trail shows.

use serde::{Deserialize, Serialize};

use crate::time::{self, Timestamp};
use crate::validate::{ValidationError, check_text};

/// Roles are ordered: each may do everything the one before it may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Reads cases, labels, scores.
    Viewer,
    /// Also works cases (update, notes, claim), posts labels and scores transactions.
    Analyst,
    /// Also manages keys and models.
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Analyst => "analyst",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Viewer, Self::Analyst, Self::Admin]
            .into_iter()
            .find(|r| r.as_str() == s)
    }

    /// Whether a key with this role may do what `needed` may.
    pub fn allows(self, needed: Role) -> bool {
        self >= needed
    }
}

/// A stored API key: its public id, a unique name (what the audit trail shows), its role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiKey {
    pub id: String,
    pub name: String,
    pub role: Role,
    #[serde(with = "time::wire")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: Timestamp,
    #[serde(
        default,
        with = "time::wire_opt",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub revoked_at: Option<Timestamp>,
}

impl ApiKey {
    /// The actor the audit trail records for changes made with this key.
    pub fn actor(&self) -> String {
        format!("key:{}", self.name)
    }

    /// Key names: 1 to 64 of letters, digits, `-`, `_`, `.`, `@`.
    pub fn check_name(name: &str) -> Result<(), ValidationError> {
        check_text("name", name, 64)?;
        if name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@'))
        {
            Ok(())
        } else {
            Err(ValidationError::new(
                "name",
                name,
                "only letters, digits, '-', '_', '.' and '@'",
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered_and_round_trip() {
        assert!(Role::Admin.allows(Role::Analyst) && Role::Analyst.allows(Role::Viewer));
        assert!(!Role::Viewer.allows(Role::Analyst) && !Role::Analyst.allows(Role::Admin));
        for r in [Role::Viewer, Role::Analyst, Role::Admin] {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("root"), None);
    }

    #[test]
    fn names_are_checked() {
        assert!(ApiKey::check_name("ana.lyst@bank-1").is_ok());
        for bad in ["", "a b", "x'; DROP TABLE cases;--", &"a".repeat(65)] {
            assert!(ApiKey::check_name(bad).is_err(), "{bad:?}");
        }
    }
}
