//! Citizens' notification preferences and notices on the table.
//!
//! - Preferences: `NOTIFY#<sub>` / `PREFS`, the record in `doc` and its
//!   version in `v` (saves are conditioned on it). Forgetting them (an
//!   erasure) overwrites the item with a tombstone (`gone`, no `doc`),
//!   since the functions may not `DeleteItem`.
//! - Notices: `NOTICE#<id>` / `NOTICE`, the record in `doc`, with
//!   `attempts` and `state` for the conditions; GSI1 `NOTICES#DUE` /
//!   `<next_at>#<id>` while pending (sparse: a sent notice leaves it), GSI3
//!   `NOTICES#<sub>` / `<created_at>#<id>` (the citizen's log). Forgetting
//!   a citizen's notices (an erasure) drops each one's record and index
//!   entries, marks it `gone` (so it is neither settled nor decided again)
//!   and sets its TTL to now; DynamoDB's TTL deletes the rest.

use super::items::{DOC, Item, doc, get_s, key, n, s, to_doc};
use super::keys::{GSI1, GSI3, PK, SK, TTL, ts};
use super::{DynamoStore, SkCond, Step};
use crate::error::condition_held;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use pakn_core::ports::{Notice, NoticePrefs, NoticeState, NoticeStore, StoreError, StoreResult};

const SK_PREFS: &str = "PREFS";
const SK_NOTICE: &str = "NOTICE";
const VERSION: &str = "v";
const GONE: &str = "gone";
const ATTEMPTS: &str = "attempts";
const STATE: &str = "state";
const DUE: &str = "NOTICES#DUE";

fn prefs_pk(sub: &str) -> String {
    format!("NOTIFY#{sub}")
}

fn notice_pk(id: &str) -> String {
    format!("NOTICE#{id}")
}

fn log_pk(sub: &str) -> String {
    format!("NOTICES#{sub}")
}

fn state_str(st: NoticeState) -> &'static str {
    match st {
        NoticeState::Pending => "pending",
        NoticeState::Sent => "sent",
        NoticeState::GaveUp => "gave_up",
        NoticeState::Dropped => "dropped",
    }
}

fn notice_item(x: &Notice) -> StoreResult<Item> {
    let mut item = key(notice_pk(&x.id), SK_NOTICE);
    item.insert(DOC.into(), to_doc(x)?);
    item.insert(ATTEMPTS.into(), n(x.attempts));
    item.insert(STATE.into(), s(state_str(x.state)));
    if let (NoticeState::Pending, Some(at)) = (x.state, x.next_at) {
        item.insert(GSI1.pk.into(), s(DUE));
        item.insert(GSI1.sk.into(), s(format!("{}#{}", ts(at), x.id)));
    }
    item.insert(GSI3.pk.into(), s(log_pk(&x.sub)));
    item.insert(GSI3.sk.into(), s(format!("{}#{}", ts(x.created_at), x.id)));
    Ok(item)
}

impl DynamoStore {
    /// The notices an index query names, read by key.
    async fn notices_by_index(&self, step: Step, limit: usize) -> StoreResult<Vec<Notice>> {
        let (items, _, _) = self
            .query_page(&step, None, Some(limit.clamp(1, 1000) as i32), false, None)
            .await?;
        let keys = items
            .iter()
            .map(|i| Ok(key(get_s(i, PK)?, get_s(i, SK)?)))
            .collect::<Result<Vec<_>, super::items::MappingError>>()?;
        let got = self.batch_get(keys).await?;
        got.values()
            .map(|i| doc(i, DOC).map_err(StoreError::from))
            .collect()
    }
}

#[async_trait]
impl NoticeStore for DynamoStore {
    async fn notice_prefs(&self, sub: &str) -> StoreResult<Option<NoticePrefs>> {
        match self.get(prefs_pk(sub), SK_PREFS).await? {
            Some(item) if !item.contains_key(GONE) => Ok(Some(doc(&item, DOC)?)),
            _ => Ok(None),
        }
    }

    async fn notice_prefs_many(&self, subs: &[String]) -> StoreResult<Vec<NoticePrefs>> {
        let keys = subs.iter().map(|s| key(prefs_pk(s), SK_PREFS)).collect();
        self.batch_get(keys)
            .await?
            .values()
            .filter(|i| !i.contains_key(GONE))
            .map(|i| doc(i, DOC).map_err(StoreError::from))
            .collect()
    }

    async fn save_notice_prefs(&self, p: &NoticePrefs) -> StoreResult<()> {
        let mut item = key(prefs_pk(&p.sub), SK_PREFS);
        item.insert(DOC.into(), to_doc(p)?);
        item.insert(VERSION.into(), n(p.version));
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .expression_attribute_names("#pk", PK);
        let put = if p.version <= 1 {
            put.condition_expression("attribute_not_exists(#pk) OR attribute_exists(#gone)")
                .expression_attribute_names("#gone", GONE)
        } else {
            put.condition_expression("attribute_exists(#pk) AND #v = :prev")
                .expression_attribute_names("#v", VERSION)
                .expression_attribute_values(":prev", n(p.version - 1))
        };
        if condition_held(put.send().await)? {
            Ok(())
        } else {
            Err(StoreError::Conflict(format!(
                "notification preferences moved on from version {}",
                p.version.saturating_sub(1)
            )))
        }
    }

    async fn delete_notice_prefs(&self, sub: &str) -> StoreResult<()> {
        let mut item = key(prefs_pk(sub), SK_PREFS);
        item.insert(GONE.into(), s(ts(Utc::now())));
        // The key names the citizen: DynamoDB's TTL deletes it too.
        item.insert(TTL.into(), n(Utc::now().timestamp()));
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(crate::error::classify)?;
        Ok(())
    }

    async fn decide_notices(&self, notices: &[Notice]) -> StoreResult<Vec<bool>> {
        let mut out = Vec::with_capacity(notices.len());
        for x in notices {
            let res = self
                .client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(notice_item(x)?))
                .condition_expression("attribute_not_exists(#pk)")
                .expression_attribute_names("#pk", PK)
                .send()
                .await;
            out.push(condition_held(res)?);
        }
        Ok(out)
    }

    async fn due_notices(&self, now: DateTime<Utc>, limit: usize) -> StoreResult<Vec<Notice>> {
        let step = Step {
            gsi: GSI1,
            pk: DUE.into(),
            // `#` sorts before `$`: every entry at or before `now`.
            sk: Some(SkCond::Lt(format!("{}$", ts(now)))),
            forward: true,
        };
        let mut out: Vec<Notice> = self
            .notices_by_index(step, limit)
            .await?
            .into_iter()
            .filter(|x| x.state == NoticeState::Pending && x.next_at.is_some_and(|t| t <= now))
            .collect();
        out.sort_by(|a, b| a.next_at.cmp(&b.next_at).then_with(|| a.id.cmp(&b.id)));
        out.truncate(limit);
        Ok(out)
    }

    async fn settle_notice(&self, x: &Notice, expected_attempts: u32) -> StoreResult<bool> {
        let res = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(notice_item(x)?))
            .condition_expression("#st = :pending AND #att = :exp")
            .expression_attribute_names("#st", STATE)
            .expression_attribute_names("#att", ATTEMPTS)
            .expression_attribute_values(":pending", s("pending"))
            .expression_attribute_values(":exp", n(expected_attempts))
            .send()
            .await;
        condition_held(res)
    }

    async fn notices_of(&self, sub: &str, limit: usize) -> StoreResult<Vec<Notice>> {
        let step = Step {
            gsi: GSI3,
            pk: log_pk(sub),
            sk: None,
            forward: false,
        };
        let mut out = self.notices_by_index(step, limit).await?;
        out.sort_by(|a, b| {
            b.created_at
                .cmp(&a.created_at)
                .then_with(|| b.id.cmp(&a.id))
        });
        out.truncate(limit);
        Ok(out)
    }

    async fn forget_notices(&self, sub: &str) -> StoreResult<usize> {
        let step = Step {
            gsi: GSI3,
            pk: log_pk(sub),
            sk: None,
            forward: true,
        };
        // Every key first, page by page (an index is eventually consistent:
        // re-querying after each change could see the same entries again).
        let keys = self.index_keys(&step).await?;
        let mut forgotten = 0;
        for k in keys {
            let gone = self
                .tombstone(k, GONE, &[(STATE, s(GONE))], &[GSI1, GSI3])
                .await?;
            if gone {
                forgotten += 1;
            }
        }
        Ok(forgotten)
    }
}
