//! Client applications' API keys (Open311 GeoReport v2 `api_key`): issued
//! by the city with `pakn apikey create`, shown once, stored hashed.
//!
//! A key reads `pakn_<id>_<secret>`: the id (10 lowercase letters and
//! digits) finds the record, the secret (32 random bytes, hex) proves
//! possession. The store keeps the SHA-256 of the whole key; a presented
//! key is hashed and compared in constant time. A fast hash is enough:
//! the key has 256 random bits, so there is nothing to guess offline.
//!
//! A valid key is a principal of its own, [`Role::ClientApp`] with subject
//! `apikey:<id>`: the permission table lets it submit, and its submissions
//! are counted per key ([`crate::quota`]).

use crate::error::{Error, ErrorKind, Result};
use crate::intake::sha256_hex;
use crate::ports::{ApiKey, ApiKeyStore, Clock, StoreError};
use crate::principal::{Principal, Role};
use crate::text;
use rand::Rng;

/// The longest application name.
pub const MAX_NAME: usize = 100;
const PREFIX: &str = "pakn_";
const ID_LEN: usize = 10;
const SECRET_BYTES: usize = 32;
const ID_ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyz23456789";

/// A key just issued: its record and the key itself (shown once).
#[derive(Debug, Clone)]
pub struct IssuedKey {
    pub record: ApiKey,
    pub key: String,
}

/// API keys over the ports they need.
pub struct ApiKeys<'a> {
    pub keys: &'a dyn ApiKeyStore,
    pub clock: &'a dyn Clock,
}

/// `pakn_<id>_<secret>` → (id, secret), when shaped like a key.
fn split(key: &str) -> Option<(&str, &str)> {
    let (id, secret) = key.strip_prefix(PREFIX)?.split_once('_')?;
    let id_ok = id.len() == ID_LEN && id.bytes().all(|b| ID_ALPHABET.contains(&b));
    let secret_ok =
        secret.len() == 2 * SECRET_BYTES && secret.bytes().all(|b| b.is_ascii_hexdigit());
    (id_ok && secret_ok).then_some((id, secret))
}

/// Equal bytes, in time that depends on the length only.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn invalid_key() -> Error {
    Error::new(ErrorKind::Forbidden, "invalid_api_key").with_field("api_key")
}

impl ApiKeys<'_> {
    /// Issue a key for the application `name`.
    pub async fn create(&self, name: &str) -> Result<IssuedKey> {
        let name = text::required("name", name, MAX_NAME)?;
        for _ in 0..8 {
            let mut rng = rand::thread_rng();
            let id: String = (0..ID_LEN)
                .map(|_| ID_ALPHABET[rng.gen_range(0..ID_ALPHABET.len())] as char)
                .collect();
            let secret: String = (0..SECRET_BYTES)
                .map(|_| format!("{:02x}", rng.r#gen::<u8>()))
                .collect();
            let key = format!("{PREFIX}{id}_{secret}");
            let record = ApiKey {
                id,
                name: name.clone(),
                key_hash: sha256_hex(key.as_bytes()),
                created_at: self.clock.now(),
                revoked_at: None,
            };
            match self.keys.create_api_key(&record).await {
                Ok(()) => return Ok(IssuedKey { record, key }),
                Err(StoreError::Conflict(_)) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(Error::bug("could not draw a free API key id"))
    }

    /// Every key (the hashes stay in the store's records; callers show ids,
    /// names and dates).
    pub async fn list(&self) -> Result<Vec<ApiKey>> {
        Ok(self.keys.list_api_keys().await?)
    }

    /// Revoke a key by its id: from now on it is refused.
    pub async fn revoke(&self, id: &str) -> Result<ApiKey> {
        self.keys
            .revoke_api_key(id.trim(), self.clock.now())
            .await?
            .ok_or_else(|| Error::new(ErrorKind::NotFound, "unknown_api_key").with("id", id.trim()))
    }

    /// The principal of a presented key: `403 api_key_required` without
    /// one, `403 invalid_api_key` for an unknown, wrong or revoked key.
    pub async fn authenticate(&self, presented: Option<&str>) -> Result<Principal> {
        let presented = presented.map(str::trim).filter(|k| !k.is_empty());
        let Some(presented) = presented else {
            return Err(Error::new(ErrorKind::Forbidden, "api_key_required").with_field("api_key"));
        };
        let (id, _) = split(presented).ok_or_else(invalid_key)?;
        let record = self.keys.get_api_key(id).await?.ok_or_else(invalid_key)?;
        let hash = sha256_hex(presented.as_bytes());
        if !constant_time_eq(hash.as_bytes(), record.key_hash.as_bytes())
            || record.revoked_at.is_some()
        {
            return Err(invalid_key());
        }
        Principal::new(format!("apikey:{}", record.id), Role::ClientApp, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_recognised_by_shape() {
        let secret = "ab".repeat(32);
        let key = format!("pakn_k7f3q9x2ab_{secret}");
        assert_eq!(split(&key), Some(("k7f3q9x2ab", secret.as_str())));
        for bad in [
            String::new(),
            format!("k7f3q9x2ab_{secret}"),
            format!("pakn_k7f3q9x2a_{secret}"),
            format!("pakn_K7F3Q9X2AB_{secret}"),
            format!("pakn_k7f3q9x2ab_{}", &secret[1..]),
            format!("pakn_k7f3q9x2ab_{}zz", &secret[2..]),
        ] {
            assert_eq!(split(&bad), None, "{bad}");
        }
    }

    #[test]
    fn constant_time_equality() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert!(constant_time_eq(b"", b""));
    }
}
