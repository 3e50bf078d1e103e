//! Uploads' bytes on this machine, under `PAKN_MEDIA_DIR`: `raw/<id>` as
//! put, `media/<id>` and `thumb/<id>` once checked (files 0600). Slots and
//! links are URLs of the local server signed with HMAC-SHA256 under the
//! local secret, with an expiry: a slot signs the upload's exact content
//! type and length (as S3's presigned PUT does), a link its variant.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use pakn_core::error::{Error, Result};
use pakn_core::media::{Upload, UploadSlot};
use pakn_core::ports::{Blobs, SignedGet, SignedPut, StoreError, StoreResult};
use sha2::Sha256;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Called with an upload's id once its bytes are on disk (the server's
/// worker checks it off the request path).
pub type OnReceived = Arc<dyn Fn(String) + Send + Sync>;

pub struct LocalBlobs {
    dir: PathBuf,
    key: Vec<u8>,
    on_received: Option<OnReceived>,
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn io(e: std::io::Error) -> StoreError {
    StoreError::other(e)
}

/// Remove a file; one already gone is fine.
fn remove(p: &Path) -> StoreResult<()> {
    match std::fs::remove_file(p) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io(e)),
    }
}

/// Ids are ULIDs: nothing else names a file.
fn safe_id(id: &str) -> Result<&str> {
    if id.len() == 26 && id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Ok(id)
    } else {
        Err(Error::not_found())
    }
}

impl LocalBlobs {
    pub fn new(dir: impl Into<PathBuf>, key: Vec<u8>) -> StoreResult<LocalBlobs> {
        let dir = dir.into();
        for sub in ["raw", "media", "thumb"] {
            std::fs::create_dir_all(dir.join(sub)).map_err(io)?;
        }
        Ok(LocalBlobs {
            dir,
            key,
            on_received: None,
        })
    }

    pub fn on_received(mut self, f: OnReceived) -> Self {
        self.on_received = Some(f);
        self
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn sign(&self, what: &str) -> String {
        let mut m = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key");
        m.update(what.as_bytes());
        hex(&m.finalize().into_bytes())
    }

    fn verify(&self, what: &str, sig: &str) -> bool {
        let mut m = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key");
        m.update(what.as_bytes());
        let Some(bytes) = (0..sig.len())
            .step_by(2)
            .map(|i| {
                sig.get(i..i + 2)
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
            })
            .collect::<Option<Vec<u8>>>()
        else {
            return false;
        };
        m.verify_slice(&bytes).is_ok()
    }

    fn put_msg(id: &str, ct: &str, len: u64, exp: i64) -> String {
        format!("put\n{id}\n{ct}\n{len}\n{exp}")
    }

    fn get_msg(id: &str, thumb: bool, exp: i64) -> String {
        format!("get\n{id}\n{}\n{exp}", if thumb { "thumb" } else { "full" })
    }

    fn write_private(path: &Path, bytes: &[u8]) -> StoreResult<()> {
        let tmp = path.with_extension("part");
        {
            let mut o = std::fs::OpenOptions::new();
            o.write(true).create(true).truncate(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
            let mut f = o.open(&tmp).map_err(io)?;
            f.write_all(bytes).map_err(io)?;
            f.sync_all().map_err(io)?;
        }
        std::fs::rename(&tmp, path).map_err(io)
    }
}

#[async_trait]
impl Blobs for LocalBlobs {
    async fn slot(&self, u: &Upload) -> StoreResult<UploadSlot> {
        let exp = u.slot_expires_at.timestamp();
        let sig = self.sign(&Self::put_msg(&u.id, &u.content_type, u.bytes, exp));
        Ok(UploadSlot {
            upload: u.id.clone(),
            method: "PUT",
            url: format!("/v1/uploads/{}/content?exp={exp}&sig={sig}", u.id),
            headers: BTreeMap::from([
                ("content-type".to_string(), u.content_type.clone()),
                ("content-length".to_string(), u.bytes.to_string()),
            ]),
            expires_at: u.slot_expires_at,
        })
    }
    async fn read_raw(&self, id: &str) -> StoreResult<Option<Vec<u8>>> {
        let Ok(id) = safe_id(id) else { return Ok(None) };
        match std::fs::read(self.dir.join("raw").join(id)) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io(e)),
        }
    }
    async fn put_processed(
        &self,
        id: &str,
        content_type: &str,
        bytes: Vec<u8>,
        thumbnail: Option<Vec<u8>>,
    ) -> StoreResult<()> {
        let id = safe_id(id).map_err(|_| StoreError::msg("not an upload id"))?;
        Self::write_private(&self.dir.join("media").join(id), &bytes)?;
        Self::write_private(
            &self.dir.join("media").join(format!("{id}.type")),
            content_type.as_bytes(),
        )?;
        if let Some(t) = thumbnail {
            Self::write_private(&self.dir.join("thumb").join(id), &t)?;
        }
        Ok(())
    }
    async fn link(&self, id: &str, thumbnail: bool, until: DateTime<Utc>) -> StoreResult<String> {
        let exp = until.timestamp();
        let sig = self.sign(&Self::get_msg(id, thumbnail, exp));
        let v = if thumbnail { "thumb" } else { "full" };
        Ok(format!("/v1/media/{id}?v={v}&exp={exp}&sig={sig}"))
    }
    async fn drop_raw(&self, id: &str) -> StoreResult<()> {
        let Ok(id) = safe_id(id) else { return Ok(()) };
        remove(&self.dir.join("raw").join(id))
    }
    async fn delete(&self, id: &str) -> StoreResult<()> {
        let Ok(id) = safe_id(id) else { return Ok(()) };
        for p in [
            self.dir.join("raw").join(id),
            self.dir.join("media").join(id),
            self.dir.join("media").join(format!("{id}.type")),
            self.dir.join("thumb").join(id),
        ] {
            remove(&p)?;
        }
        Ok(())
    }
    async fn receive(&self, put: SignedPut, now: DateTime<Utc>) -> Result<()> {
        let id = safe_id(&put.id)?;
        let ct = put.content_type.trim().to_ascii_lowercase();
        let msg = Self::put_msg(id, &ct, put.body.len() as u64, put.exp);
        // A wrong type or length fails the signature just like a forged one.
        if !self.verify(&msg, &put.sig) {
            return Err(Error::forbidden().with("reason", "signature"));
        }
        if now.timestamp() > put.exp {
            return Err(Error::forbidden().with("reason", "expired"));
        }
        Self::write_private(&self.dir.join("raw").join(id), &put.body)?;
        if let Some(f) = &self.on_received {
            f(id.to_string());
        }
        Ok(())
    }
    async fn serve(&self, get: SignedGet, now: DateTime<Utc>) -> Result<(Vec<u8>, String)> {
        let id = safe_id(&get.id)?;
        if !self.verify(&Self::get_msg(id, get.thumbnail, get.exp), &get.sig)
            || now.timestamp() > get.exp
        {
            return Err(Error::forbidden());
        }
        let read = |p: PathBuf| std::fs::read(p).map_err(|_| Error::not_found());
        if get.thumbnail {
            Ok((read(self.dir.join("thumb").join(id))?, "image/jpeg".into()))
        } else {
            let ct = String::from_utf8(read(self.dir.join("media").join(format!("{id}.type")))?)
                .map_err(|_| Error::not_found())?;
            Ok((read(self.dir.join("media").join(id))?, ct))
        }
    }
}
