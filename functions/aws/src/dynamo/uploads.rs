//! Upload records on the table: one item per upload (`UPLOAD#<id>` /
//! `UPLOAD`, the record in `doc`), indexed for its owner on GSI3
//! `UPLOADS#<owner>` / `<created_at>#<id>` (`GET /v1/me/data`, erasure).
//! The bytes live in the media bucket.
//!
//! An erased upload keeps only its key, an `erased` mark and a TTL of now
//! (the functions may not `DeleteItem`; DynamoDB's TTL deletes the rest):
//! its record and index entry are gone at once, it reads back as absent,
//! and the check's late save is refused on the mark.

use super::items::{DOC, doc, key, s, to_doc};
use super::keys::{GSI3, PK, ts};
use super::{DynamoStore, Step};
use crate::error::condition_held;
use async_trait::async_trait;
use pakn_core::media::Upload;
use pakn_core::ports::{StoreError, StoreResult, UploadStore};

const SK_UPLOAD: &str = "UPLOAD";
/// Set when the upload was erased.
const ERASED: &str = "erased";

fn upload_pk(id: &str) -> String {
    format!("UPLOAD#{id}")
}

/// The owner's uploads on GSI3 (shared with cases' submitters and
/// citizens' follows: the partition keys never collide).
pub fn uploads_pk(owner: &str) -> String {
    format!("UPLOADS#{owner}")
}

impl DynamoStore {
    async fn put_upload_item(&self, u: &Upload, new: bool) -> StoreResult<()> {
        let mut item = key(upload_pk(&u.id), SK_UPLOAD);
        item.insert(DOC.into(), to_doc(u)?);
        item.insert(GSI3.pk.into(), s(uploads_pk(&u.owner)));
        item.insert(GSI3.sk.into(), s(format!("{}#{}", ts(u.created_at), u.id)));
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .expression_attribute_names("#pk", PK);
        let put = if new {
            put.condition_expression("attribute_not_exists(#pk)")
        } else {
            // Only a live record is rewritten: never an erased one back to life.
            put.condition_expression("attribute_exists(#pk) AND attribute_not_exists(#erased)")
                .expression_attribute_names("#erased", ERASED)
        };
        if condition_held(put.send().await)? {
            Ok(())
        } else if new {
            Err(StoreError::Conflict(format!("upload {} exists", u.id)))
        } else {
            Err(StoreError::Conflict(format!("upload {} is gone", u.id)))
        }
    }
}

#[async_trait]
impl UploadStore for DynamoStore {
    async fn put_upload(&self, u: &Upload) -> StoreResult<()> {
        self.put_upload_item(u, true).await
    }
    async fn get_upload(&self, id: &str) -> StoreResult<Option<Upload>> {
        match self.get(upload_pk(id), SK_UPLOAD).await? {
            Some(item) if !item.contains_key(ERASED) => Ok(Some(doc(&item, DOC)?)),
            _ => Ok(None),
        }
    }
    async fn save_upload(&self, u: &Upload) -> StoreResult<()> {
        self.put_upload_item(u, false).await
    }
    async fn uploads_of(&self, owner: &str) -> StoreResult<Vec<Upload>> {
        let step = Step {
            gsi: GSI3,
            pk: uploads_pk(owner),
            sk: None,
            forward: true,
        };
        let keys = self.index_keys(&step).await?;
        let got = self.batch_get(keys).await?;
        let mut out: Vec<Upload> = got
            .values()
            .filter(|i| !i.contains_key(ERASED))
            .map(|i| doc(i, DOC).map_err(StoreError::from))
            .collect::<StoreResult<Vec<Upload>>>()?
            .into_iter()
            .filter(|u| u.owner == owner)
            .collect();
        out.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(out)
    }
    async fn erase_upload(&self, id: &str) -> StoreResult<()> {
        // No record (never was, deleted by the TTL, or erased already):
        // nothing to erase.
        self.tombstone(key(upload_pk(id), SK_UPLOAD), ERASED, &[], &[GSI3])
            .await
            .map(|_| ())
    }
}
