//! Personal data on the table ([`PrivacyStore`]): access records in the
//! case's partition (`ACC#…`), the retention index (GSI2's `ERASE#<shard>`
//! partitions, see [`super::keys`]), the erasure of a case, account records.
//!
//! An erasure is written in two steps. First, idempotently and outside the
//! transaction (a case's timeline may exceed a transaction's 100 items): the
//! earlier timeline entries and the access records rewritten without the
//! reporter's data, and the idempotency record naming the case expired
//! (`expires_at` 0, TTL now, body hash blanked: the functions' policies have
//! no `DeleteItem`, so the TTL deletes it). Then one transaction: the case
//! state on its version (leaving GSI2 and GSI3), its submission rewritten,
//! the `erase` entry. A crash between the two leaves the case in the
//! retention index, and the next sweep completes it; a concurrent erasure
//! rewrites the same entries the same way and loses the version check.

use super::items::*;
use super::keys::*;
use super::{DynamoStore, Expr, absent};
use crate::error::condition_held;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use pakn_core::case::Case;
use pakn_core::ids::CaseId;
use pakn_core::ports::{AccessRecord, Account, Erasure, PrivacyStore, StoreError, StoreResult};

impl DynamoStore {
    /// Expire the idempotency record `key` if it still names case `id`.
    async fn expire_idempotency(&self, key: &str, id: &CaseId) -> StoreResult<()> {
        let res = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(super::items::key(idem_pk(key), "IDEM")))
            .update_expression("SET #exp = :zero, #ttl = :now, #hash = :blank")
            .condition_expression("#case = :id")
            .expression_attribute_names("#exp", EXPIRES_AT)
            .expression_attribute_names("#ttl", TTL)
            .expression_attribute_names("#hash", "body_hash")
            .expression_attribute_names("#case", "case_id")
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":now", n(Utc::now().timestamp()))
            .expression_attribute_values(":blank", s(""))
            .expression_attribute_values(":id", s(id.as_str()))
            .send()
            .await;
        // Refused: gone already, or the key names another case now (nothing of this one).
        condition_held(res).map(|_| ())
    }
}

#[async_trait]
impl PrivacyStore for DynamoStore {
    async fn record_accesses(&self, records: &[AccessRecord]) -> StoreResult<()> {
        for r in records {
            self.put_plain(access_item(r)?).await?;
        }
        Ok(())
    }

    async fn accesses(&self, id: &CaseId) -> StoreResult<Vec<AccessRecord>> {
        let mut out = self
            .case_items(id, "ACC#")
            .await?
            .iter()
            .map(|i| access_from(i).map_err(StoreError::from))
            .collect::<StoreResult<Vec<_>>>()?;
        out.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(out)
    }

    async fn due_erasures(&self, now: DateTime<Utc>, limit: usize) -> StoreResult<Vec<Case>> {
        let limit = limit.max(1);
        // Everything at or before `now`: `<instant>#<id>` sorts below `<now>#~`.
        let hi = format!("{}#~", ts(now));
        let mut keys: Vec<(String, CaseId)> = Vec::new();
        for shard in 0..SHARDS {
            let step = super::Step {
                gsi: GSI2,
                pk: erase_pk(shard),
                sk: Some(super::SkCond::Lt(hi.clone())),
                forward: true,
            };
            let (items, _, _) = self
                .query_page(&step, None, Some(limit.min(1000) as i32), false, None)
                .await?;
            for item in &items {
                keys.push((get_s(item, GSI2.sk)?.to_string(), case_id_of(item)?));
            }
        }
        keys.sort();
        keys.truncate(limit);
        let ids: Vec<CaseId> = keys.into_iter().map(|(_, id)| id).collect();
        let mut cases = self.cases_by_id(&ids).await?;
        // The index may lag the table: keep what is really due now.
        cases.retain(|c| c.erase_after.is_some_and(|t| t <= now));
        cases.sort_by(|a, b| {
            a.erase_after
                .cmp(&b.erase_after)
                .then_with(|| a.id.cmp(&b.id))
        });
        Ok(cases)
    }

    #[tracing::instrument(skip_all, fields(case_id = %e.case.id), err)]
    async fn erase(&self, e: &Erasure) -> StoreResult<()> {
        let id = &e.case.id;
        let pk = case_pk(id);
        // Step 1: the same whoever erases, so safe before the version check.
        for ev in &e.rewritten {
            self.put_plain(event_item(id, ev)?).await?;
        }
        for a in &e.accesses {
            self.put_plain(access_item(a)?).await?;
        }
        if let Some(body) = self.get(pk.clone(), SK_BODY).await? {
            if let Ok(k) = get_s(&body, IDEM_KEY) {
                self.expire_idempotency(k, id).await?;
            }
        }
        // Step 2: the case on its version.
        let rec = CaseRecord::try_from(&e.case)?;
        let version = Expr::new("#v = :expected")
            .name("#v", VERSION)
            .value(":expected", n(e.expected_version));
        let tx = vec![
            self.put(rec.state, Some(version))?,
            self.put(rec.body, None)?,
            self.put(event_item(id, &e.event)?, Some(absent()))?,
        ];
        match self.transact(tx).await {
            Ok(()) => Ok(()),
            Err(x) if x.any_condition_failed() => Err(StoreError::Conflict(format!(
                "case {id} is no longer at version {}",
                e.expected_version
            ))),
            Err(x) => Err(x.source),
        }
    }

    async fn account(&self, sub: &str) -> StoreResult<Option<Account>> {
        match self.get(account_pk(sub), "ACCT").await? {
            Some(item) => Ok(Some(account_from(&item)?)),
            None => Ok(None),
        }
    }
}
