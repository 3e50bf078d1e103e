//! Upload records on the table: one item per upload (`UPLOAD#<id>` /
//! `UPLOAD`, the record in `doc`). The bytes live in the media bucket.

use super::DynamoStore;
use super::items::{DOC, doc, key, to_doc};
use super::keys::PK;
use crate::error::condition_held;
use async_trait::async_trait;
use pakn_core::media::Upload;
use pakn_core::ports::{StoreError, StoreResult, UploadStore};

const SK_UPLOAD: &str = "UPLOAD";

fn upload_pk(id: &str) -> String {
    format!("UPLOAD#{id}")
}

impl DynamoStore {
    async fn put_upload_item(&self, u: &Upload, if_absent: bool) -> StoreResult<()> {
        let mut item = key(upload_pk(&u.id), SK_UPLOAD);
        item.insert(DOC.into(), to_doc(u)?);
        let mut put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item));
        if if_absent {
            put = put
                .condition_expression("attribute_not_exists(#pk)")
                .expression_attribute_names("#pk", PK);
        }
        if condition_held(put.send().await)? {
            Ok(())
        } else {
            Err(StoreError::Conflict(format!("upload {} exists", u.id)))
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
            Some(item) => Ok(Some(doc(&item, DOC)?)),
            None => Ok(None),
        }
    }
    async fn save_upload(&self, u: &Upload) -> StoreResult<()> {
        self.put_upload_item(u, false).await
    }
}
