//! Followers on the table: one item per (case, citizen) in the case's own
//! partition, `CASE#<id>` / `FOLLOW#<sub>` (so a case's followers are one
//! query of its partition), indexed for the citizen in GSI3
//! `FOLLOWS#<sub>` / `<since>#<case id>` (their list, newest first). The
//! case item itself is not touched: following needs no version.
//!
//! Stopping (and a citizen's erasure, [`FollowerStore::forget_citizen`])
//! marks the item `gone`, takes it out of the citizen's index and drops
//! its record (`doc`), and sets its TTL to now: the functions may not
//! `DeleteItem`, so DynamoDB's TTL deletes what is left (the key, which
//! names the citizen), usually within two days. Nothing reads a `gone`
//! item but the condition of a new follow.

use super::items::{DOC, doc, key, s, to_doc};
use super::keys::{GSI3, PK, case_pk, ts};
use super::{DynamoStore, Step};
use crate::error::condition_held;
use async_trait::async_trait;
use pakn_core::ids::CaseId;
use pakn_core::ports::{Follower, FollowerStore, StoreError, StoreResult};

const SK_PREFIX: &str = "FOLLOW#";
/// Set when the citizen stopped following (the item is kept, see above).
const GONE: &str = "gone";

fn follow_sk(sub: &str) -> String {
    format!("{SK_PREFIX}{sub}")
}

fn follows_pk(sub: &str) -> String {
    format!("FOLLOWS#{sub}")
}

impl DynamoStore {
    /// Mark a follow `gone` (see the module's comment): `true` when there
    /// was one to stop.
    async fn stop_following(&self, case_id: &CaseId, sub: &str) -> StoreResult<bool> {
        self.tombstone(key(case_pk(case_id), follow_sk(sub)), GONE, &[], &[GSI3])
            .await
    }
}

#[async_trait]
impl FollowerStore for DynamoStore {
    async fn follow(&self, f: &Follower) -> StoreResult<bool> {
        let mut item = key(case_pk(&f.case_id), follow_sk(&f.sub));
        item.insert(DOC.into(), to_doc(f)?);
        item.insert(GSI3.pk.into(), s(follows_pk(&f.sub)));
        item.insert(
            GSI3.sk.into(),
            s(format!("{}#{}", ts(f.since), f.case_id.as_str())),
        );
        let res = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(#pk) OR attribute_exists(#gone)")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#gone", GONE)
            .send()
            .await;
        condition_held(res)
    }

    async fn unfollow(&self, case_id: &CaseId, sub: &str) -> StoreResult<bool> {
        self.stop_following(case_id, sub).await
    }

    async fn followers(&self, case_id: &CaseId) -> StoreResult<Vec<Follower>> {
        let mut out: Vec<Follower> = self
            .case_items(case_id, SK_PREFIX)
            .await?
            .iter()
            .filter(|i| !i.contains_key(GONE))
            .map(|i| doc(i, DOC).map_err(StoreError::from))
            .collect::<StoreResult<_>>()?;
        out.sort_by(|a, b| a.since.cmp(&b.since).then_with(|| a.sub.cmp(&b.sub)));
        Ok(out)
    }

    async fn forget_citizen(&self, sub: &str) -> StoreResult<usize> {
        let mut n = 0;
        for f in self.following(sub).await? {
            if self.stop_following(&f.case_id, sub).await? {
                n += 1;
            }
        }
        Ok(n)
    }

    async fn following(&self, sub: &str) -> StoreResult<Vec<Follower>> {
        let step = Step {
            gsi: GSI3,
            pk: follows_pk(sub),
            sk: None,
            forward: false,
        };
        let keys = self.index_keys(&step).await?;
        let got = self.batch_get(keys).await?;
        let mut out: Vec<Follower> = got
            .values()
            .filter(|i| !i.contains_key(GONE))
            .map(|i| doc(i, DOC).map_err(StoreError::from))
            .collect::<StoreResult<_>>()?;
        out.sort_by(|a, b| {
            b.since
                .cmp(&a.since)
                .then_with(|| b.case_id.cmp(&a.case_id))
        });
        Ok(out)
    }
}
