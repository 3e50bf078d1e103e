//! Photos and videos as evidence: upload slots, upload records, and the
//! rules for naming uploads on a report, an answer to a question or a
//! resolution. The bytes never pass through pakn's API: a client asks for
//! a slot (`POST /v1/uploads`), puts the file straight into storage (a
//! presigned S3 `PUT` on AWS, the local server's upload URL locally), and
//! the file is checked and cleaned off the request path (pakn-media) before
//! anyone is served it. A case names an upload as `upload:<id>` among its
//! media or evidence; plain https links stay accepted as external links.

use crate::error::{Error, Result};
use crate::ports::{Blobs, StoreResult, UploadStore};
pub use crate::ports::{Upload, UploadSlot, UploadStatus};
use crate::principal::{Principal, Role};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// How a case's media list names an upload.
pub const UPLOAD_PREFIX: &str = "upload:";

/// The id of an upload named in a media or evidence list, if it is one.
pub fn upload_id(entry: &str) -> Option<&str> {
    entry.strip_prefix(UPLOAD_PREFIX)
}

/// An entry of `media` or `evidence` in a request: an external https link,
/// or an upload by id.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum MediaInput {
    Link(String),
    Upload { upload: String },
}

/// Requests' media entries → the case's list (`upload:<id>` for uploads),
/// each link checked like before, each upload id shaped like one.
pub fn entries(field: &str, items: &[MediaInput], max: usize) -> Result<Vec<String>> {
    let links: Vec<String> = items
        .iter()
        .filter_map(|m| match m {
            MediaInput::Link(l) => Some(l.clone()),
            MediaInput::Upload { .. } => None,
        })
        .collect();
    let mut links = crate::text::urls(field, &links, max)?.into_iter();
    if items.len() > max {
        return Err(Error::invalid(field, "too_many")
            .with("count", items.len())
            .with("max", max));
    }
    items
        .iter()
        .map(|m| match m {
            MediaInput::Link(_) => Ok(links.next().unwrap_or_default()),
            MediaInput::Upload { upload } => {
                let id = upload.trim();
                if crate::ids::CaseId::parse(id).is_none() {
                    return Err(Error::invalid(field, "unknown_upload").with("upload", id));
                }
                Ok(format!("{UPLOAD_PREFIX}{}", id.to_ascii_uppercase()))
            }
        })
        .collect()
}

pub use crate::category::MediaPolicy;

/// The accepted types.
pub const PHOTO_TYPES: [&str; 3] = ["image/jpeg", "image/png", "image/heic"];
pub const VIDEO_TYPES: [&str; 1] = ["video/mp4"];

/// A request for an upload slot.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SlotRequest {
    #[schema(example = "image/jpeg")]
    pub content_type: String,
    pub bytes: u64,
    /// Keep the photo's location and camera metadata (default: stripped).
    #[serde(default)]
    pub keep_location: bool,
    /// Let the public see this photo on the case (default: private).
    #[serde(default)]
    pub public: bool,
}

/// An upload as a case's reader sees it: its state and, once ready, short-lived links.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MediaLink {
    pub upload: String,
    pub status: UploadStatus,
    pub content_type: String,
    /// Why the file was refused (`type_mismatch`, `size_mismatch`, `corrupt`, `not_received`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thumbnail_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
}

/// Uploads' records and files together, to erase them (the reporter's
/// photos of an erased case, a citizen's unattached uploads).
#[derive(Clone, Copy)]
pub struct MediaFiles<'a> {
    pub uploads: &'a dyn UploadStore,
    pub blobs: &'a dyn Blobs,
}

impl MediaFiles<'_> {
    /// Delete the files (raw leftover, checked copy, thumbnail) and then
    /// the record of each upload named, except officials' (an official's
    /// evidence is an official record, never the reporter's data): how many
    /// records were erased. Files before the record, so a crash half way
    /// leaves the record for a retry to find; every step is idempotent.
    pub async fn erase(&self, ids: &[String]) -> StoreResult<usize> {
        let mut n = 0;
        for id in ids {
            let record = self.uploads.get_upload(id).await?;
            if record.as_ref().is_some_and(|u| {
                matches!(
                    u.owner_role,
                    Role::Official | Role::UnitAdmin | Role::Triage
                )
            }) {
                continue;
            }
            self.blobs.delete(id).await?;
            if record.is_some() {
                self.uploads.erase_upload(id).await?;
                n += 1;
            }
        }
        Ok(n)
    }
}

/// The uploads named in a list of media entries.
pub fn upload_ids<'a>(entries: impl IntoIterator<Item = &'a String>) -> Vec<String> {
    entries
        .into_iter()
        .filter_map(|e| upload_id(e))
        .map(str::to_string)
        .collect()
}

/// Upload slots and the links of a case's media.
pub struct Media<'a> {
    pub uploads: &'a dyn UploadStore,
    pub blobs: &'a dyn Blobs,
    pub policy: &'a MediaPolicy,
    pub now: DateTime<Utc>,
}

impl Media<'_> {
    /// A slot for one file: who may upload (citizens, operators, officials,
    /// triage), the type and size within policy.
    pub async fn slot(&self, p: &Principal, r: SlotRequest) -> Result<UploadSlot> {
        if !matches!(
            p.role,
            Role::Citizen | Role::Operator | Role::Official | Role::UnitAdmin | Role::Triage
        ) {
            return Err(Error::forbidden());
        }
        if !self.blobs.configured() {
            // A deployment without media storage has no uploads at all: a
            // 404 with its own code (a 5xx would hide the reason).
            return Err(Error::new(
                crate::error::ErrorKind::NotFound,
                "uploads_not_configured",
            ));
        }
        let ct = r.content_type.trim().to_ascii_lowercase();
        let max = if PHOTO_TYPES.contains(&ct.as_str()) {
            self.policy.max_photo_bytes
        } else if VIDEO_TYPES.contains(&ct.as_str()) {
            self.policy.max_video_bytes
        } else {
            return Err(
                Error::invalid("content_type", "unsupported_file_type").with(
                    "accepted",
                    [PHOTO_TYPES.as_slice(), VIDEO_TYPES.as_slice()]
                        .concat()
                        .join(", "),
                ),
            );
        };
        if r.bytes == 0 || r.bytes > max {
            return Err(Error::invalid("bytes", "out_of_range").with("max", max.to_string()));
        }
        let id = crate::ids::CaseId::new(self.now).to_string();
        let u = Upload {
            id,
            owner: p.sub.clone(),
            owner_role: p.role,
            content_type: ct,
            bytes: r.bytes,
            created_at: self.now,
            slot_expires_at: self.now + Duration::minutes(self.policy.upload_minutes as i64),
            status: UploadStatus::Pending,
            reason: None,
            keep_location: r.keep_location,
            thumbnail: false,
            public: r.public,
        };
        self.uploads.put_upload(&u).await?;
        Ok(self.blobs.slot(&u).await?)
    }

    /// Check the uploads named in `entries` (as `upload:<id>`) before they
    /// go on a case: each exists, is the caller's own, is not rejected, and
    /// the list stays within the policy's photo and video counts.
    pub async fn check_named(&self, p: &Principal, field: &str, entries: &[String]) -> Result<()> {
        let (mut photos, mut videos) = (0u32, 0u32);
        for e in entries {
            let Some(id) = upload_id(e) else { continue };
            let u = self
                .uploads
                .get_upload(id)
                .await?
                .filter(|u| u.owner == p.sub && u.owner_role == p.role)
                .ok_or_else(|| Error::invalid(field, "unknown_upload").with("upload", id))?;
            if u.status == UploadStatus::Rejected {
                return Err(Error::invalid(field, "upload_rejected")
                    .with("upload", id)
                    .with("reason", u.reason.unwrap_or_default()));
            }
            if u.is_video() {
                videos += 1;
            } else {
                photos += 1;
            }
        }
        if photos > self.policy.max_photos || videos > self.policy.max_videos {
            return Err(Error::invalid(field, "too_many_media")
                .with("max_photos", self.policy.max_photos.to_string())
                .with("max_videos", self.policy.max_videos.to_string()));
        }
        Ok(())
    }

    /// Whether `entries` name at least one photo upload (the evidence rule).
    pub async fn has_photo(&self, entries: &[String]) -> StoreResult<bool> {
        for e in entries {
            if let Some(id) = upload_id(e) {
                if let Some(u) = self.uploads.get_upload(id).await? {
                    if !u.is_video() && u.status != UploadStatus::Rejected {
                        return Ok(true);
                    }
                }
            }
        }
        Ok(false)
    }

    /// The links of the uploads named in `entries` (external links are
    /// not uploads and stay as they are). For the public (`public`), only
    /// ready files, and of a report's own media only those its reporter
    /// marked public; resolution evidence (`evidence`) is public once ready.
    pub async fn links(
        &self,
        entries: &[String],
        public: bool,
        evidence: bool,
    ) -> StoreResult<Vec<MediaLink>> {
        let until = self.now + Duration::minutes(self.policy.link_minutes as i64);
        let mut out = Vec::new();
        for e in entries {
            let Some(id) = upload_id(e) else { continue };
            let Some(mut u) = self.uploads.get_upload(id).await? else {
                continue;
            };
            if public && (u.status != UploadStatus::Ready || !(evidence || u.public)) {
                continue;
            }
            // A slot that ended with nothing put into it never will be.
            if u.status == UploadStatus::Pending
                && u.slot_expires_at + Duration::minutes(5) < self.now
            {
                u.status = UploadStatus::Rejected;
                u.reason = Some("not_received".into());
            }
            let ready = u.status == UploadStatus::Ready;
            out.push(MediaLink {
                url: if ready {
                    Some(self.blobs.link(&u.id, false, until).await?)
                } else {
                    None
                },
                thumbnail_url: if ready && u.thumbnail {
                    Some(self.blobs.link(&u.id, true, until).await?)
                } else {
                    None
                },
                expires_at: ready.then_some(until),
                upload: u.id,
                status: u.status,
                content_type: u.content_type,
                reason: u.reason,
            });
        }
        Ok(out)
    }
}
