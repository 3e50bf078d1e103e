//! Checks and cleans an uploaded file: what its bytes are (magic numbers,
//! not the declared type), location and camera metadata stripped from JPEG
//! and PNG, a JPEG thumbnail of JPEG and PNG. Pure functions over bytes.
//!
//! What is stripped:
//! - JPEG: every APP1 segment (Exif, which carries GPS and camera make,
//!   model and serial; XMP), APP12/APP13 (Photoshop IPTC), and comments.
//!   APP0 (JFIF), APP2 (ICC colour profile) and APP14 (Adobe colour
//!   transform) stay: they change how the picture looks, not who took it
//!   where. The scan data is copied unchanged (no re-encoding, no loss).
//! - PNG: `eXIf`, `tEXt`, `zTXt`, `iTXt` and `tIME` chunks. Everything the
//!   picture needs (`IHDR`, `PLTE`, `IDAT`, colour chunks) stays.

use std::io::Cursor;

/// The types pakn accepts, by their bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Jpeg,
    Png,
    Heic,
    Mp4,
}

impl Kind {
    pub fn mime(self) -> &'static str {
        match self {
            Kind::Jpeg => "image/jpeg",
            Kind::Png => "image/png",
            Kind::Heic => "image/heic",
            Kind::Mp4 => "video/mp4",
        }
    }

    pub fn from_mime(m: &str) -> Option<Kind> {
        [Kind::Jpeg, Kind::Png, Kind::Heic, Kind::Mp4]
            .into_iter()
            .find(|k| k.mime().eq_ignore_ascii_case(m.trim()))
    }

    pub fn is_video(self) -> bool {
        self == Kind::Mp4
    }
}

/// Why a file is refused (stable codes shown on the case).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// The bytes are not the declared type (or not any accepted type).
    #[error("type_mismatch")]
    TypeMismatch,
    /// Not as many bytes as the upload slot was issued for.
    #[error("size_mismatch")]
    SizeMismatch,
    /// Declared JPEG/PNG but its structure is broken.
    #[error("corrupt")]
    Corrupt,
}

impl Rejection {
    pub fn code(&self) -> &'static str {
        match self {
            Rejection::TypeMismatch => "type_mismatch",
            Rejection::SizeMismatch => "size_mismatch",
            Rejection::Corrupt => "corrupt",
        }
    }
}

/// What the bytes are, by their first bytes (ISO BMFF brands for HEIC/MP4).
pub fn sniff(b: &[u8]) -> Option<Kind> {
    if b.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Some(Kind::Jpeg);
    }
    if b.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        return Some(Kind::Png);
    }
    if b.len() >= 12 && &b[4..8] == b"ftyp" {
        let brand = &b[8..12];
        const HEIC: [&[u8; 4]; 6] = [b"heic", b"heix", b"heim", b"heis", b"hevc", b"mif1"];
        const MP4: [&[u8; 4]; 8] = [
            b"isom", b"iso2", b"mp41", b"mp42", b"avc1", b"M4V ", b"dash", b"iso5",
        ];
        if HEIC.iter().any(|h| brand == *h) {
            return Some(Kind::Heic);
        }
        if MP4.iter().any(|m| brand == *m) {
            return Some(Kind::Mp4);
        }
    }
    None
}

/// The processed file: what is served from now on, and its thumbnail.
#[derive(Debug, Clone)]
pub struct Processed {
    pub kind: Kind,
    pub bytes: Vec<u8>,
    /// A JPEG at most [`THUMB_PX`] on its longer side (JPEG and PNG only).
    pub thumbnail: Option<Vec<u8>>,
}

/// The longer side of a thumbnail, in pixels.
pub const THUMB_PX: u32 = 320;

/// Check `raw` against what was declared and clean it. `keep_location`:
/// the reporter chose to keep the photo's metadata (then it is served as sent).
pub fn process(
    raw: &[u8],
    declared: Kind,
    declared_len: u64,
    keep_location: bool,
) -> Result<Processed, Rejection> {
    if raw.len() as u64 != declared_len {
        return Err(Rejection::SizeMismatch);
    }
    if sniff(raw) != Some(declared) {
        return Err(Rejection::TypeMismatch);
    }
    let bytes = match (declared, keep_location) {
        (Kind::Jpeg, false) => strip_jpeg(raw)?,
        (Kind::Png, false) => strip_png(raw)?,
        _ => raw.to_vec(),
    };
    let thumbnail = match declared {
        Kind::Jpeg | Kind::Png => Some(thumbnail(&bytes, declared)?),
        _ => None,
    };
    Ok(Processed {
        kind: declared,
        bytes,
        thumbnail,
    })
}

/// The JPEG without its metadata segments (see the module's list).
pub fn strip_jpeg(b: &[u8]) -> Result<Vec<u8>, Rejection> {
    if !b.starts_with(&[0xFF, 0xD8]) {
        return Err(Rejection::Corrupt);
    }
    let mut out = Vec::with_capacity(b.len());
    out.extend_from_slice(&b[..2]);
    let mut i = 2;
    loop {
        // Fill bytes (0xFF padding) may precede a marker.
        while b.get(i) == Some(&0xFF) && b.get(i + 1) == Some(&0xFF) {
            i += 1;
        }
        let (Some(&0xFF), Some(&marker)) = (b.get(i), b.get(i + 1)) else {
            return Err(Rejection::Corrupt);
        };
        match marker {
            // Start of scan (or end of image): the rest is picture data.
            0xDA | 0xD9 => {
                out.extend_from_slice(&b[i..]);
                return Ok(out);
            }
            // Markers without a length.
            0x01 | 0xD0..=0xD7 => {
                out.extend_from_slice(&b[i..i + 2]);
                i += 2;
            }
            _ => {
                let len = match (b.get(i + 2), b.get(i + 3)) {
                    (Some(&h), Some(&l)) => u16::from_be_bytes([h, l]) as usize,
                    _ => return Err(Rejection::Corrupt),
                };
                let end = i + 2 + len;
                if len < 2 || end > b.len() {
                    return Err(Rejection::Corrupt);
                }
                let drop = matches!(marker, 0xE1 | 0xEC | 0xED | 0xFE);
                if !drop {
                    out.extend_from_slice(&b[i..end]);
                }
                i = end;
            }
        }
    }
}

/// The PNG without its metadata chunks (see the module's list).
pub fn strip_png(b: &[u8]) -> Result<Vec<u8>, Rejection> {
    const SIG: usize = 8;
    if b.len() < SIG {
        return Err(Rejection::Corrupt);
    }
    let mut out = Vec::with_capacity(b.len());
    out.extend_from_slice(&b[..SIG]);
    let mut i = SIG;
    while i < b.len() {
        let head = b.get(i..i + 8).ok_or(Rejection::Corrupt)?;
        let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
        let kind = &head[4..8];
        let end = i
            .checked_add(12)
            .and_then(|x| x.checked_add(len))
            .filter(|e| *e <= b.len())
            .ok_or(Rejection::Corrupt)?;
        let drop = matches!(kind, b"eXIf" | b"tEXt" | b"zTXt" | b"iTXt" | b"tIME");
        if !drop {
            out.extend_from_slice(&b[i..end]);
        }
        i = end;
        if kind == b"IEND" {
            return Ok(out);
        }
    }
    Err(Rejection::Corrupt)
}

/// A JPEG thumbnail, at most [`THUMB_PX`] on its longer side.
pub fn thumbnail(b: &[u8], kind: Kind) -> Result<Vec<u8>, Rejection> {
    let format = match kind {
        Kind::Jpeg => image::ImageFormat::Jpeg,
        Kind::Png => image::ImageFormat::Png,
        _ => return Err(Rejection::TypeMismatch),
    };
    let img = image::load_from_memory_with_format(b, format).map_err(|_| Rejection::Corrupt)?;
    let small = img.thumbnail(THUMB_PX, THUMB_PX).to_rgb8();
    let mut out = Cursor::new(Vec::new());
    small
        .write_to(&mut out, image::ImageFormat::Jpeg)
        .map_err(|_| Rejection::Corrupt)?;
    Ok(out.into_inner())
}

#[cfg(test)]
mod tests;

/// Check one upload whose bytes have arrived, record the outcome, and
/// drop the raw file. Safe to repeat (a duplicate S3 event, a retry after
/// a crash): an upload already checked is left alone, and the raw file is
/// dropped only after the outcome is recorded. An upload erased while it
/// was checked (its owner's erasure) leaves no file behind.
pub async fn process_upload(
    uploads: &dyn pakn_core::ports::UploadStore,
    blobs: &dyn pakn_core::ports::Blobs,
    id: &str,
) -> pakn_core::ports::StoreResult<Option<pakn_core::media::UploadStatus>> {
    use pakn_core::media::UploadStatus;
    let Some(mut u) = uploads.get_upload(id).await? else {
        tracing::warn!(upload = id, "bytes for no upload record: ignored");
        return Ok(None);
    };
    if u.status != UploadStatus::Pending {
        blobs.drop_raw(id).await?;
        return Ok(Some(u.status));
    }
    let Some(raw) = blobs.read_raw(id).await? else {
        return Ok(Some(u.status));
    };
    let outcome = match Kind::from_mime(&u.content_type) {
        Some(kind) => process(&raw, kind, u.bytes, u.keep_location),
        None => Err(Rejection::TypeMismatch),
    };
    match outcome {
        Ok(p) => {
            u.thumbnail = p.thumbnail.is_some();
            blobs
                .put_processed(id, p.kind.mime(), p.bytes, p.thumbnail)
                .await?;
            u.status = UploadStatus::Ready;
        }
        Err(r) => {
            tracing::info!(upload = id, reason = r.code(), "upload rejected");
            u.status = UploadStatus::Rejected;
            u.reason = Some(r.code().into());
        }
    }
    match uploads.save_upload(&u).await {
        Ok(()) => {}
        Err(pakn_core::ports::StoreError::Conflict(_)) => {
            // Erased while it was being checked: what this check wrote
            // goes too, and nothing is recorded.
            tracing::info!(upload = id, "upload erased during its check");
            blobs.delete(id).await?;
            return Ok(None);
        }
        Err(e) => return Err(e),
    }
    blobs.drop_raw(id).await?;
    Ok(Some(u.status))
}
