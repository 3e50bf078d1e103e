//! Client applications' API keys on the table: one item per key
//! (`APIKEY#<id>` / `APIKEY`, the record in `doc` with the key's SHA-256),
//! listed through GSI1 (`APIKEYS`), never scanned.

use super::items::{DOC, MappingError, doc, key, s, to_doc};
use super::keys::{API_KEYS, GSI1, PK, api_key_pk, ts};
use super::{DynamoStore, Step};
use crate::error::condition_held;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use pakn_core::ports::{ApiKey, ApiKeyStore, StoreError, StoreResult};

const SK_KEY: &str = "APIKEY";

fn item(k: &ApiKey) -> Result<super::items::Item, MappingError> {
    let mut item = key(api_key_pk(&k.id), SK_KEY);
    item.insert(DOC.into(), to_doc(k)?);
    item.insert(GSI1.pk.into(), s(API_KEYS));
    item.insert(GSI1.sk.into(), s(format!("{}#{}", ts(k.created_at), k.id)));
    Ok(item)
}

impl DynamoStore {
    /// Put the key's item on `condition` (`attribute_not_exists` or
    /// `attribute_exists` of the key): `Ok(false)` when it failed.
    async fn put_key(&self, k: &ApiKey, condition: &str) -> StoreResult<bool> {
        let res = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item(k)?))
            .condition_expression(condition)
            .expression_attribute_names("#pk", PK)
            .send()
            .await;
        condition_held(res)
    }
}

#[async_trait]
impl ApiKeyStore for DynamoStore {
    async fn create_api_key(&self, k: &ApiKey) -> StoreResult<()> {
        if self.put_key(k, "attribute_not_exists(#pk)").await? {
            Ok(())
        } else {
            Err(StoreError::Conflict(format!(
                "API key id {} is taken",
                k.id
            )))
        }
    }

    async fn get_api_key(&self, id: &str) -> StoreResult<Option<ApiKey>> {
        match self.get(api_key_pk(id), SK_KEY).await? {
            Some(item) => Ok(Some(doc(&item, DOC)?)),
            None => Ok(None),
        }
    }

    async fn list_api_keys(&self) -> StoreResult<Vec<ApiKey>> {
        let step = Step {
            gsi: GSI1,
            pk: API_KEYS.into(),
            sk: None,
            forward: true,
        };
        let keys = self.index_keys(&step).await?;
        let got = self.batch_get(keys).await?;
        let mut out: Vec<ApiKey> = got
            .values()
            .map(|i| doc(i, DOC))
            .collect::<Result<_, _>>()?;
        out.sort_by(|a, b| {
            a.created_at
                .cmp(&b.created_at)
                .then_with(|| a.id.cmp(&b.id))
        });
        Ok(out)
    }

    async fn revoke_api_key(&self, id: &str, at: DateTime<Utc>) -> StoreResult<Option<ApiKey>> {
        let Some(mut k) = self.get_api_key(id).await? else {
            return Ok(None);
        };
        if k.revoked_at.is_none() {
            k.revoked_at = Some(at);
            if !self.put_key(&k, "attribute_exists(#pk)").await? {
                return Ok(None);
            }
        }
        Ok(Some(k))
    }
}
