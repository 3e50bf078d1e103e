//! Uploads' bytes in the media bucket (private, encrypted): `raw/<id>` as
//! the client put it through a presigned `PUT` (signed for the exact
//! content type and length, valid for the policy's minutes), `media/<id>`
//! and `thumb/<id>` once the router has checked it (on the bucket's
//! object-created event). Readers get presigned `GET` links that expire.
//! A lifecycle rule on `raw/` removes what is never checked.

use async_trait::async_trait;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use chrono::{DateTime, Utc};
use pakn_core::media::{Upload, UploadSlot};
use pakn_core::ports::{Blobs, StoreError, StoreResult};
use std::collections::BTreeMap;
use std::time::Duration;

pub struct S3Blobs {
    client: aws_sdk_s3::Client,
    bucket: String,
    /// How long a presigned `GET` lasts (the policy's `link_minutes`): S3
    /// checks it against real time, whatever clock pakn runs on.
    link_secs: i64,
}

/// The key of an upload's raw file.
pub fn raw_key(id: &str) -> String {
    format!("raw/{id}")
}

/// The upload id of a raw file's key (an object-created event's key).
/// Event keys are URL-encoded; S3 leaves the `/` as it is, the emulator
/// (moto) encodes it too (`raw%2F<id>`): both are taken. Ids are ULIDs,
/// which need no decoding.
pub fn id_of_raw_key(key: &str) -> Option<&str> {
    key.strip_prefix("raw/")
        .or_else(|| key.strip_prefix("raw%2F"))
        .or_else(|| key.strip_prefix("raw%2f"))
        .filter(|id| id.len() == 26 && id.bytes().all(|b| b.is_ascii_alphanumeric()))
}

fn err<E: std::error::Error + Send + Sync + 'static>(e: E) -> StoreError {
    StoreError::other(e)
}

fn presigning(secs: i64) -> StoreResult<PresigningConfig> {
    // SigV4 presigned URLs last at most 7 days.
    PresigningConfig::expires_in(Duration::from_secs(secs.clamp(1, 7 * 24 * 3600) as u64))
        .map_err(err)
}

impl S3Blobs {
    pub fn new(client: aws_sdk_s3::Client, bucket: impl Into<String>, link_minutes: u32) -> Self {
        S3Blobs {
            client,
            bucket: bucket.into(),
            link_secs: i64::from(link_minutes.max(1)) * 60,
        }
    }
}

#[async_trait]
impl Blobs for S3Blobs {
    async fn slot(&self, u: &Upload) -> StoreResult<UploadSlot> {
        let secs = (u.slot_expires_at - u.created_at).num_seconds();
        let req = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(raw_key(&u.id))
            .content_type(&u.content_type)
            .content_length(u.bytes as i64)
            .presigned(presigning(secs)?)
            .await
            .map_err(err)?;
        let headers: BTreeMap<String, String> = req
            .headers()
            .map(|(k, v)| (k.to_ascii_lowercase(), v.to_string()))
            .collect();
        Ok(UploadSlot {
            upload: u.id.clone(),
            method: "PUT",
            url: req.uri().to_string(),
            headers,
            expires_at: u.slot_expires_at,
        })
    }
    async fn read_raw(&self, id: &str) -> StoreResult<Option<Vec<u8>>> {
        match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(raw_key(id))
            .send()
            .await
        {
            Ok(o) => Ok(Some(o.body.collect().await.map_err(err)?.to_vec())),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => Ok(None),
            Err(e) => Err(err(e)),
        }
    }
    async fn put_processed(
        &self,
        id: &str,
        content_type: &str,
        bytes: Vec<u8>,
        thumbnail: Option<Vec<u8>>,
    ) -> StoreResult<()> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(format!("media/{id}"))
            .content_type(content_type)
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map_err(err)?;
        if let Some(t) = thumbnail {
            self.client
                .put_object()
                .bucket(&self.bucket)
                .key(format!("thumb/{id}"))
                .content_type("image/jpeg")
                .body(ByteStream::from(t))
                .send()
                .await
                .map_err(err)?;
        }
        Ok(())
    }
    async fn link(&self, id: &str, thumbnail: bool, _until: DateTime<Utc>) -> StoreResult<String> {
        let key = if thumbnail {
            format!("thumb/{id}")
        } else {
            format!("media/{id}")
        };
        let req = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .presigned(presigning(self.link_secs)?)
            .await
            .map_err(err)?;
        Ok(req.uri().to_string())
    }
    async fn delete(&self, id: &str) -> StoreResult<()> {
        // DeleteObject answers success for a key that is not there.
        for key in [raw_key(id), format!("media/{id}"), format!("thumb/{id}")] {
            self.client
                .delete_object()
                .bucket(&self.bucket)
                .key(key)
                .send()
                .await
                .map_err(err)?;
        }
        Ok(())
    }
    async fn drop_raw(&self, id: &str) -> StoreResult<()> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(raw_key(id))
            .send()
            .await
            .map_err(err)?;
        Ok(())
    }
}
