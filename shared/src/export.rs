//! The export file: all local work of a device (documents and photos) in one JSON file, so it can
//! move to another phone or reach the office on a USB stick when there is no network at all.
//! Importing merges (Automerge changes are idempotent): importing the same file twice changes nothing.

use crate::ids::{DocKey, DocKind};
use automerge::Automerge;
use sha2::{Digest, Sha256};

pub const FORMAT: &str = "danvan-export/1";

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ExportFile {
    pub format: String,
    /// Unix ms, and who exported (for the person importing; not trusted for anything).
    pub exported_at: i64,
    pub exported_by: String,
    pub docs: Vec<ExportDoc>,
    pub photos: Vec<ExportPhoto>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ExportDoc {
    pub kind: String,
    pub scope: String,
    pub period: String,
    /// The whole document (`Automerge::save`), base64.
    pub data: String,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ExportPhoto {
    pub sha256: String,
    pub data: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ExportError {
    #[error("không phải tệp xuất của Sổ tay Dân vận / not a danvan export file")]
    NotAnExport,
    #[error("tài liệu {0} trong tệp bị hỏng / document {0} is damaged")]
    BadDocument(String),
    #[error("ảnh {0} trong tệp bị hỏng / photo {0} is damaged")]
    BadPhoto(String),
}

impl ExportDoc {
    pub fn new(key: &DocKey, doc: &Automerge) -> Self {
        ExportDoc {
            kind: key.kind.as_str().into(),
            scope: key.scope.clone(),
            period: key.period.clone(),
            data: base64_encode(&doc.save()),
        }
    }
}

impl ExportPhoto {
    pub fn new(sha256: &str, data: &[u8]) -> Self {
        ExportPhoto {
            sha256: sha256.into(),
            data: base64_encode(data),
        }
    }
}

/// A checked import: each document with its key (the content claims the same key), each photo
/// whose bytes hash to its name.
pub struct Checked {
    pub docs: Vec<(DocKey, Automerge)>,
    pub photos: Vec<(String, Vec<u8>)>,
}

/// Parse and check an export file. Nothing here is trusted: a document must load and say it is the
/// document its key names, a photo must hash to its name; otherwise the whole file is refused.
pub fn check(text: &str) -> Result<Checked, ExportError> {
    let file: ExportFile = serde_json::from_str(text).map_err(|_| ExportError::NotAnExport)?;
    if file.format != FORMAT {
        return Err(ExportError::NotAnExport);
    }
    let mut docs = Vec::new();
    for d in file.docs {
        let bad = || ExportError::BadDocument(format!("{}/{}/{}", d.kind, d.scope, d.period));
        let key = DocKey {
            kind: DocKind::parse(&d.kind).ok_or_else(bad)?,
            scope: d.scope.clone(),
            period: d.period.clone(),
        };
        let bytes = base64_decode(&d.data).ok_or_else(bad)?;
        let doc = Automerge::load(&bytes).map_err(|_| bad())?;
        if crate::schema::doc_key_of(&doc).as_ref() != Some(&key) {
            return Err(bad());
        }
        docs.push((key, doc));
    }
    let mut photos = Vec::new();
    for p in file.photos {
        let data = base64_decode(&p.data).ok_or_else(|| ExportError::BadPhoto(p.sha256.clone()))?;
        if hex::encode(Sha256::digest(&data)) != p.sha256 {
            return Err(ExportError::BadPhoto(p.sha256));
        }
        photos.push((p.sha256, data));
    }
    Ok(Checked { docs, photos })
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

pub fn base64_encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(B64[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let text = text.trim_end_matches('=');
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.bytes() {
        let v = B64.iter().position(|&b| b == c)? as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::Quarter;
    use crate::schema::{self, Note};

    #[test]
    fn base64_round_trip() {
        for n in 0..40u8 {
            let data: Vec<u8> = (0..n).map(|i| i.wrapping_mul(37)).collect();
            assert_eq!(base64_decode(&base64_encode(&data)).unwrap(), data);
        }
        assert_eq!(base64_encode(b"Ma"), "TWE=");
        assert_eq!(base64_decode("not*base64"), None);
    }

    #[test]
    fn files_are_checked() {
        let key = DocKey::notes("xa-ka-don", Quarter { year: 2026, q: 4 });
        let mut doc = schema::genesis_doc(&key).unwrap();
        schema::put_note(
            &mut doc,
            &Note {
                id: "01A".into(),
                activity_date: "2026-11-20".into(),
                title: "Họp bon".into(),
                ..Note::default()
            },
        )
        .unwrap();
        let photo = b"\xff\xd8 jpeg".to_vec();
        let sha = hex::encode(Sha256::digest(&photo));
        let file = ExportFile {
            format: FORMAT.into(),
            exported_at: 1,
            exported_by: "kadon".into(),
            docs: vec![ExportDoc::new(&key, &doc)],
            photos: vec![ExportPhoto::new(&sha, &photo)],
        };
        let text = serde_json::to_string(&file).unwrap();
        let ok = check(&text).unwrap();
        assert_eq!(schema::read_notes(&ok.docs[0].1)[0].title, "Họp bon");
        assert_eq!(ok.photos, vec![(sha.clone(), photo.clone())]);

        // A document that claims to be another one, a photo whose bytes do not match, garbage.
        let mut lying = file.clone();
        lying.docs[0].scope = "xa-lac-xuan".into();
        assert!(matches!(
            check(&serde_json::to_string(&lying).unwrap()),
            Err(ExportError::BadDocument(_))
        ));
        let mut bad_photo = file.clone();
        bad_photo.photos[0].data = base64_encode(b"other");
        assert_eq!(
            check(&serde_json::to_string(&bad_photo).unwrap()).err(),
            Some(ExportError::BadPhoto(sha))
        );
        assert_eq!(check("{}").err(), Some(ExportError::NotAnExport));
    }
}
