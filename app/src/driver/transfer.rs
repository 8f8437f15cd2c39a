//! Export and import: every document and photo on this device as one file, and such a file merged
//! back in (for days without any network).

use super::{handle, storage, track, views, with};
use crate::common::i18n::tr;
use crate::js;
use crate::js::dom;
use shared::export::{ExportDoc, ExportFile, ExportPhoto};

/// Everything this device holds, as an export file's text, with how many documents and photos
/// it holds.
pub async fn export_all() -> Result<(String, usize, usize), String> {
    super::load_notes().await;
    let (docs, by) = with(|d| {
        let docs: Vec<ExportDoc> = d
            .keys
            .iter()
            .filter_map(|(id, key)| Some(ExportDoc::new(key, d.client.doc(id)?)))
            .collect();
        (docs, d.session.user.username.clone())
    })
    .ok_or(tr(
        "Chưa mở dữ liệu trên máy.",
        "The data on this device is not open yet.",
    ))?;
    let mut photos = Vec::new();
    for (sha, _, _) in js::photo_states().await {
        if let Some(bytes) = js::photo_bytes(&sha).await {
            photos.push(ExportPhoto::new(&sha, &bytes));
        }
    }
    let counts = (docs.len(), photos.len());
    let file = ExportFile {
        format: shared::export::FORMAT.into(),
        exported_at: dom::now_ms(),
        exported_by: by,
        docs,
        photos,
    };
    let text = serde_json::to_string(&file).map_err(|e| e.to_string())?;
    Ok((text, counts.0, counts.1))
}

/// Merge an export file into this device: documents this account may write (its commune's notes
/// and progress, or plans/org for editors and administrators) and the photos. Idempotent. Returns
/// (documents merged, documents skipped, photos).
pub async fn import_file(text: &str) -> Result<(usize, usize, usize), String> {
    let checked = shared::export::check(text).map_err(|e| e.to_string())?;
    let (mut merged, mut skipped) = (0, 0);
    for (key, mut doc) in checked.docs {
        let writable = with(|d| d.may_write(&key)).unwrap_or(false);
        if !writable {
            skipped += 1;
            continue;
        }
        let id = track(&key, true).await;
        let result = with(|d| d.client.merge(&id, &mut doc)).flatten();
        match result {
            Some(Ok(events)) => {
                if !storage::persist(&id).await {
                    return Err(tr(
                        "Không lưu được vào bộ nhớ máy.",
                        "Could not save to this device's storage.",
                    )
                    .into());
                }
                handle(events);
                merged += 1;
            }
            Some(Err(e)) => {
                return Err(format!(
                    "{}: {e}",
                    tr("Không gộp được dữ liệu", "Could not merge the data")
                ));
            }
            None => skipped += 1,
        }
    }
    let photos = checked.photos.len();
    for (sha, data) in checked.photos {
        let have = js::photo_states().await.iter().any(|p| p.0 == sha);
        if !have {
            js::store_photo(&sha, &data, false).await?;
        }
    }
    views::refresh();
    super::refresh_photos().await;
    Ok((merged, skipped, photos))
}
