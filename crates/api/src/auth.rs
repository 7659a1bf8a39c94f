//! API keys: `Authorization: Bearer <secret>` (or `X-API-Key: <secret>`). A secret is 32 random
//! bytes; the store keeps only its SHA-256, so a leaked database leaks no key. Found keys are
//! cached for a few seconds so authentication costs no store round trip on the scoring path; a
//! revocation through this process takes effect at once, through another within the cache's TTL.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use fraudwatch_core::{ApiKey, Role};
use fraudwatch_store::CaseStore;
use sha2::{Digest, Sha256};

use crate::ApiState;
use crate::error::ApiError;

/// How long a found key is trusted without asking the store again.
const KEY_TTL: Duration = Duration::from_secs(5);
/// Entries the cache holds before it starts over (bounds memory whatever callers send).
const KEY_CACHE_MAX: usize = 10_000;

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Caller(pub ApiKey);

impl Caller {
    /// The caller's key if its role allows what `needed` may do, else 403.
    pub fn require(&self, needed: Role) -> Result<&ApiKey, ApiError> {
        if self.0.role.allows(needed) {
            Ok(&self.0)
        } else {
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                format!(
                    "key {:?} has role {}; this needs {}",
                    self.0.name,
                    self.0.role.as_str(),
                    needed.as_str()
                ),
            ))
        }
    }
}

fn unauthorized(message: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
}

impl FromRequestParts<ApiState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &ApiState) -> Result<Self, ApiError> {
        let headers = &parts.headers;
        let secret = match (headers.get("authorization"), headers.get("x-api-key")) {
            (Some(v), _) => v
                .to_str()
                .ok()
                .and_then(|v| v.strip_prefix("Bearer "))
                .ok_or_else(|| unauthorized("Authorization must be `Bearer <API key>`"))?,
            (None, Some(v)) => v
                .to_str()
                .map_err(|_| unauthorized("X-API-Key is not text"))?,
            (None, None) => {
                return Err(unauthorized(
                    "an API key is required: Authorization: Bearer <API key>",
                ));
            }
        };
        let key = state
            .keys
            .lookup(&hash(secret.trim()), &*state.store)
            .await?;
        match key {
            Some(k) if k.revoked_at.is_none() => Ok(Caller(k)),
            Some(_) => Err(unauthorized("this API key was revoked")),
            None => Err(unauthorized("unknown API key")),
        }
    }
}

/// Hex SHA-256 of a secret: what the store keeps.
pub fn hash(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn random_hex(bytes: usize) -> Result<String, ApiError> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "no_entropy",
            format!("no random bytes for a key: {e}"),
        )
    })?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

/// Creates a key named `name` with `role`; returns it with its secret, which is never stored
/// and cannot be shown again.
pub async fn create_key(
    store: &dyn CaseStore,
    name: &str,
    role: Role,
) -> Result<(ApiKey, String), ApiError> {
    ApiKey::check_name(name)?;
    let key = ApiKey {
        id: random_hex(8)?,
        name: name.into(),
        role,
        created_at: fraudwatch_core::time::now(),
        revoked_at: None,
    };
    let secret = format!("fw_{}", random_hex(32)?);
    store.create_key(&key, &hash(&secret)).await?;
    Ok((key, secret))
}

/// Keys recently found, by hash.
#[derive(Debug, Default)]
pub struct KeyCache {
    found: Mutex<HashMap<String, (ApiKey, Instant)>>,
}

impl KeyCache {
    async fn lookup(&self, hash: &str, store: &dyn CaseStore) -> Result<Option<ApiKey>, ApiError> {
        if let Some((key, at)) = self.lock().get(hash)
            && at.elapsed() < KEY_TTL
        {
            return Ok(Some(key.clone()));
        }
        let key = store.key_by_hash(hash).await?;
        if let Some(k) = &key {
            let mut found = self.lock();
            if found.len() >= KEY_CACHE_MAX {
                found.clear();
            }
            found.insert(hash.to_string(), (k.clone(), Instant::now()));
        }
        Ok(key)
    }

    /// Forgets every cached key (after a revocation).
    pub fn clear(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (ApiKey, Instant)>> {
        // A panic while holding this lock leaves a plain map behind: still usable.
        self.found.lock().unwrap_or_else(|p| p.into_inner())
    }
}
