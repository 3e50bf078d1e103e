//! Uploads: their records (a store) and their bytes (storage).

use super::StoreResult;
use crate::principal::Role;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[async_trait]
pub trait UploadStore: Send + Sync {
    /// Record a new upload (its id is fresh: put if absent).
    async fn put_upload(&self, u: &Upload) -> StoreResult<()>;
    async fn get_upload(&self, id: &str) -> StoreResult<Option<Upload>>;
    /// Record the check's outcome (the last writer wins: the check is
    /// deterministic, so a repeated check writes the same record).
    /// `Conflict`, and nothing written, when the record is gone (erased
    /// while the file was being checked).
    async fn save_upload(&self, u: &Upload) -> StoreResult<()>;
    /// Every upload of `owner` (a subject; the caller filters the role),
    /// oldest first: one bounded read of an owner index, never a scan.
    async fn uploads_of(&self, owner: &str) -> StoreResult<Vec<Upload>>;
    /// Erase an upload's record: afterwards it is never read back
    /// ([`UploadStore::get_upload`] answers `None`, [`UploadStore::uploads_of`]
    /// skips it, [`UploadStore::save_upload`] refuses it). Idempotent.
    async fn erase_upload(&self, id: &str) -> StoreResult<()>;
}

/// Where the bytes live: S3 on AWS, a directory locally.
#[async_trait]
pub trait Blobs: Send + Sync {
    /// Whether uploads can be taken at all (a deployment without a media
    /// bucket or directory says so with a clear error, not a failure).
    fn configured(&self) -> bool {
        true
    }
    /// Where and how the client puts the file (signed for its exact type and length).
    async fn slot(&self, u: &Upload) -> StoreResult<UploadSlot>;
    /// The file as put, if it arrived.
    async fn read_raw(&self, id: &str) -> StoreResult<Option<Vec<u8>>>;
    /// Store the processed copy (and its JPEG thumbnail), then drop the raw file.
    async fn put_processed(
        &self,
        id: &str,
        content_type: &str,
        bytes: Vec<u8>,
        thumbnail: Option<Vec<u8>>,
    ) -> StoreResult<()>;
    /// A short-lived link to the processed file (or its thumbnail).
    async fn link(&self, id: &str, thumbnail: bool, until: DateTime<Utc>) -> StoreResult<String>;
    /// Forget the raw file once its check is recorded (S3: the bucket's
    /// lifecycle rule does it).
    async fn drop_raw(&self, _id: &str) -> StoreResult<()> {
        Ok(())
    }
    /// Delete every file of an upload: the raw file if any is left, the
    /// checked copy and its thumbnail. Idempotent (what is gone stays gone).
    async fn delete(&self, id: &str) -> StoreResult<()>;
    /// Storage that takes the bytes itself (the local server): a `PUT` on
    /// a slot's URL. S3 takes them directly: `not_found` here.
    async fn receive(&self, _put: SignedPut, _now: DateTime<Utc>) -> crate::error::Result<()> {
        Err(crate::error::Error::not_found())
    }
    /// Storage that serves the bytes itself: a `GET` on a link. `(bytes, content type)`.
    async fn serve(
        &self,
        _get: SignedGet,
        _now: DateTime<Utc>,
    ) -> crate::error::Result<(Vec<u8>, String)> {
        Err(crate::error::Error::not_found())
    }
}

/// A `PUT` of a file on a slot URL of the local server.
#[derive(Debug, Clone)]
pub struct SignedPut {
    pub id: String,
    pub exp: i64,
    pub sig: String,
    pub content_type: String,
    pub body: Vec<u8>,
}

/// A `GET` of a link of the local server.
#[derive(Debug, Clone)]
pub struct SignedGet {
    pub id: String,
    pub thumbnail: bool,
    pub exp: i64,
    pub sig: String,
}

/// Storage for a deployment without uploads configured: every call says so.
pub struct NoBlobs;

#[async_trait]
impl Blobs for NoBlobs {
    fn configured(&self) -> bool {
        false
    }
    async fn slot(&self, _: &Upload) -> StoreResult<UploadSlot> {
        Err(super::StoreError::msg("no media storage configured"))
    }
    async fn read_raw(&self, _: &str) -> StoreResult<Option<Vec<u8>>> {
        Ok(None)
    }
    async fn put_processed(
        &self,
        _: &str,
        _: &str,
        _: Vec<u8>,
        _: Option<Vec<u8>>,
    ) -> StoreResult<()> {
        Err(super::StoreError::msg("no media storage configured"))
    }
    async fn link(&self, _: &str, _: bool, _: DateTime<Utc>) -> StoreResult<String> {
        Err(super::StoreError::msg("no media storage configured"))
    }
    /// Nothing is ever stored: nothing to delete.
    async fn delete(&self, _: &str) -> StoreResult<()> {
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UploadStatus {
    /// Slot issued; the file is not (yet) checked.
    Pending,
    /// Checked and cleaned: the processed copy is served.
    Ready,
    /// The file failed the check (`reason`): never served.
    Rejected,
}

/// One upload: who may name it, what was declared, what the check found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Upload {
    pub id: String,
    pub owner: String,
    pub owner_role: Role,
    pub content_type: String,
    pub bytes: u64,
    pub created_at: DateTime<Utc>,
    /// The slot's end: a file put after it is refused by storage.
    pub slot_expires_at: DateTime<Utc>,
    pub status: UploadStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The reporter chose to keep the photo's location metadata.
    #[serde(default)]
    pub keep_location: bool,
    #[serde(default)]
    pub thumbnail: bool,
    /// Shown to the public (a reporter's own photo is private unless so).
    #[serde(default)]
    pub public: bool,
}

impl Upload {
    pub fn is_video(&self) -> bool {
        self.content_type.starts_with("video/")
    }
}

/// Where and how to put the file.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UploadSlot {
    /// Name it as `{"upload": "<id>"}` in `media` or `evidence`.
    pub upload: String,
    #[schema(example = "PUT")]
    pub method: &'static str,
    /// Absolute (S3) or relative to the API (the local server).
    pub url: String,
    /// Send exactly these headers (they are signed).
    pub headers: BTreeMap<String, String>,
    pub expires_at: DateTime<Utc>,
}
