//! API keys of registered client applications (Open311 clients): kept by
//! id with the SHA-256 of the whole key, never the key itself.

use super::StoreResult;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A client application's key, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKey {
    /// The public part of the key (`pakn_<id>_<secret>`).
    pub id: String,
    /// The application's name, as the city registered it.
    pub name: String,
    /// SHA-256 (lowercase hex) of the whole key.
    pub key_hash: String,
    pub created_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<DateTime<Utc>>,
}

#[async_trait]
pub trait ApiKeyStore: Send + Sync {
    /// Store a new key; `Conflict` (and nothing written) if the id is taken.
    async fn create_api_key(&self, key: &ApiKey) -> StoreResult<()>;
    async fn get_api_key(&self, id: &str) -> StoreResult<Option<ApiKey>>;
    /// Every key, revoked ones included, oldest first.
    async fn list_api_keys(&self) -> StoreResult<Vec<ApiKey>>;
    /// Revoke the key at `at` (a second revocation keeps the first time);
    /// the key as it is now, `None` when there is no such key.
    async fn revoke_api_key(&self, id: &str, at: DateTime<Utc>) -> StoreResult<Option<ApiKey>>;
}
