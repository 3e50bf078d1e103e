//! Ward boundaries on the table. A city's boundaries do not fit one item
//! (400 KB), so a version is stored as chunks of its JSON, then a manifest,
//! then the pointer naming the current version — written last, so a
//! half-loaded version is never read:
//!
//! | item | pk | sk |
//! |---|---|---|
//! | a chunk (at most [`CHUNK_BYTES`] of the map's JSON) | `WARDS#<version>` | `CHUNK#<nnnn>` |
//! | the manifest (chunk count, SHA-256 of the whole JSON) | `WARDS#<version>` | `MANIFEST` |
//! | the current version (its summary, for `pakn wards show` and the router's look) | `WARDS` | `CURRENT` |
//!
//! A reader takes the pointer, then the manifest, then the chunks by key
//! (one `BatchGetItem`), and checks the hash: a version whose chunks are not
//! all there reads as absent.

use super::DynamoStore;
use super::items::{DOC, doc, get_n, get_s, key, n, s, to_doc};
use async_trait::async_trait;
use pakn_core::ports::{StoreError, StoreResult, WardMapStore};
use pakn_core::wards::{WardMap, WardMapInfo};
use sha2::{Digest, Sha256};

/// Bytes of JSON per chunk item: well under DynamoDB's 400 KB item limit
/// (and the 350 KB the design allows itself) with the keys and attribute names.
pub const CHUNK_BYTES: usize = 300_000;
const POINTER_PK: &str = "WARDS";
const POINTER_SK: &str = "CURRENT";
const MANIFEST_SK: &str = "MANIFEST";

fn version_pk(version: &str) -> String {
    format!("WARDS#{version}")
}
fn chunk_sk(i: usize) -> String {
    format!("CHUNK#{i:04}")
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// `text` cut into pieces of at most `max` bytes, on character boundaries.
pub fn chunks(text: &str, max: usize) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let mut end = rest.len().min(max);
        while !rest.is_char_boundary(end) {
            end -= 1;
        }
        let (head, tail) = rest.split_at(end);
        out.push(head);
        rest = tail;
    }
    out
}

#[async_trait]
impl WardMapStore for DynamoStore {
    async fn put_ward_map(&self, map: &WardMap) -> StoreResult<()> {
        let json = serde_json::to_string(map).map_err(StoreError::other)?;
        let pk = version_pk(&map.version);
        let parts = chunks(&json, CHUNK_BYTES);
        for (i, part) in parts.iter().enumerate() {
            let mut item = key(&pk, chunk_sk(i));
            item.insert(DOC.into(), s(*part));
            self.put_plain(item).await?;
        }
        let mut manifest = key(&pk, MANIFEST_SK);
        manifest.insert("chunks".into(), n(parts.len()));
        manifest.insert("sha256".into(), s(hex(&Sha256::digest(json.as_bytes()))));
        self.put_plain(manifest).await?;
        let mut pointer = key(POINTER_PK, POINTER_SK);
        pointer.insert("version".into(), s(&map.version));
        pointer.insert(DOC.into(), to_doc(&map.info())?);
        self.put_plain(pointer).await
    }

    async fn current_ward_map(&self) -> StoreResult<Option<WardMapInfo>> {
        match self.get(POINTER_PK.into(), POINTER_SK).await? {
            Some(item) => Ok(Some(doc(&item, DOC)?)),
            None => Ok(None),
        }
    }

    async fn ward_map(&self, version: &str) -> StoreResult<Option<WardMap>> {
        let pk = version_pk(version);
        let Some(manifest) = self.get(pk.clone(), MANIFEST_SK).await? else {
            return Ok(None);
        };
        let count: usize = get_n(&manifest, "chunks")?;
        let sha = get_s(&manifest, "sha256")?.to_string();
        let keys = (0..count).map(|i| key(&pk, chunk_sk(i))).collect();
        let mut got = self.batch_get(keys).await?;
        let mut json = String::new();
        for i in 0..count {
            let Some(item) = got.remove(&(pk.clone(), chunk_sk(i))) else {
                return Ok(None);
            };
            json.push_str(get_s(&item, DOC)?);
        }
        if hex(&Sha256::digest(json.as_bytes())) != sha {
            return Ok(None);
        }
        serde_json::from_str(&json)
            .map(Some)
            .map_err(StoreError::other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_cut_on_character_boundaries_and_join_back() {
        let text = "phường Hoàn Kiếm ".repeat(1000);
        for max in [5, 7, 300] {
            let parts = chunks(&text, max);
            assert!(parts.iter().all(|p| p.len() <= max && !p.is_empty()));
            assert_eq!(parts.concat(), text);
        }
        assert!(chunks("", 10).is_empty());
    }
}
