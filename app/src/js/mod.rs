//! The bridge to the browser, the only code that touches it: here the few lines of JavaScript for
//! IndexedDB (documents, meta, photos), fetch, photo resizing and upload, GPS, files and the PWA
//! hooks. Each IndexedDB write is one request in its own transaction, resolved when durable.

pub mod dom;
pub mod socket;

use wasm_bindgen::prelude::*;

#[wasm_bindgen(inline_js = r#"
let dbp = null;
function db() {
  if (!dbp) {
    dbp = new Promise((resolve, reject) => {
      // Version 2 adds the photo store; upgrades only add stores, never touch existing data.
      const req = indexedDB.open('danvan', 2);
      req.onupgradeneeded = () => {
        const d = req.result;
        if (!d.objectStoreNames.contains('chunks')) d.createObjectStore('chunks', { autoIncrement: true });
        if (!d.objectStoreNames.contains('meta')) d.createObjectStore('meta');
        if (!d.objectStoreNames.contains('blobs')) d.createObjectStore('blobs');
      };
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => { dbp = null; reject(req.error); };
    });
  }
  return dbp;
}
function tx(store, mode, fn) {
  return db().then(d => new Promise((resolve, reject) => {
    const t = d.transaction(store, mode, { durability: 'strict' });
    let result;
    const r = fn(t.objectStore(store));
    if (r) r.onsuccess = () => { result = r.result; };
    t.oncomplete = () => resolve(result);
    t.onerror = () => reject(t.error);
    t.onabort = () => reject(t.error || new Error('aborted'));
  }));
}
export function idb_add_chunk(doc, data) {
  return tx('chunks', 'readwrite', s => s.add({ doc, data: data.slice() }));
}
export function idb_all_chunks() {
  return tx('chunks', 'readonly', s => s.getAll()).then(rows => rows.map(r => [r.doc, r.data]));
}
export function idb_max_chunk_key() {
  return db().then(d => new Promise((resolve, reject) => {
    const t = d.transaction('chunks', 'readonly');
    const c = t.objectStore('chunks').openKeyCursor(null, 'prev');
    let max = 0;
    c.onsuccess = () => { if (c.result) max = c.result.key; };
    t.oncomplete = () => resolve(max);
    t.onerror = () => reject(t.error);
  }));
}
// Replace one document's chunks with keys up to `upto` by its full saved state, in ONE transaction:
// either the old chunks stay or the compacted one replaces them, never neither (a crash mid-way
// loses nothing). Chunks written after `upto` (saves made since) are left alone.
export function idb_compact(doc, data, upto) {
  return db().then(d => new Promise((resolve, reject) => {
    const t = d.transaction('chunks', 'readwrite', { durability: 'strict' });
    const store = t.objectStore('chunks');
    const c = store.openCursor();
    c.onsuccess = () => {
      const cur = c.result;
      if (cur) {
        if (cur.value.doc === doc && cur.key <= upto) cur.delete();
        cur.continue();
      } else {
        store.add({ doc, data: data.slice() });
      }
    };
    t.oncomplete = () => resolve();
    t.onerror = () => reject(t.error);
    t.onabort = () => reject(t.error || new Error('aborted'));
  }));
}
export function idb_get_meta(key) {
  return tx('meta', 'readonly', s => s.get(key)).then(v => v === undefined ? null : v);
}
export function idb_set_meta(key, value) {
  return tx('meta', 'readwrite', s => s.put(value, key));
}
export function request_persist() {
  if (navigator.storage && navigator.storage.persist) {
    return navigator.storage.persist().catch(() => false);
  }
  return Promise.resolve(false);
}
// The app's build (the wasm file's hash), for the administrator's device list.
const VERSION = ((document.querySelector('meta[name=danvan-app]') || {}).dataset || {}).wasm || '';
export function http(method, url, body) {
  // The device's clock goes along, so the server can tell a wrong one (see judged_done).
  const init = { method, credentials: 'same-origin', headers: { 'x-danvan-version': VERSION.replace(/^.*-|\.wasm$/g, ''), 'x-danvan-clock': '' + Date.now() } };
  if (body !== undefined && body !== null) {
    init.headers['content-type'] = 'application/json';
    init.body = body;
  }
  return fetch(url, init).then(r => r.text().then(text => [r.status, text]));
}
function hex(buf) {
  return [...new Uint8Array(buf)].map(b => b.toString(16).padStart(2, '0')).join('');
}
// A photo as the phone keeps it: long edge at most 1600 px, JPEG, quality lowered step by step
// until it is at most 300 KB (or quality 0.5); EXIF orientation applied by the browser's decoder.
async function shrink(file) {
  const bmp = await createImageBitmap(file, { imageOrientation: 'from-image' });
  const scale = Math.min(1, 1600 / Math.max(bmp.width, bmp.height));
  const w = Math.max(1, Math.round(bmp.width * scale)), h = Math.max(1, Math.round(bmp.height * scale));
  const canvas = document.createElement('canvas');
  canvas.width = w; canvas.height = h;
  canvas.getContext('2d').drawImage(bmp, 0, 0, w, h);
  bmp.close && bmp.close();
  let blob = null;
  for (const q of [0.8, 0.7, 0.6, 0.5]) {
    blob = await new Promise(r => canvas.toBlob(r, 'image/jpeg', q));
    if (blob && blob.size <= 300 * 1024) break;
  }
  return blob;
}
// Resize, hash and store every file chosen in the input; resolves to [[sha256, size], ...] once the
// photos are durable in IndexedDB (the note only references them by hash).
export async function photos_from_input(input_id) {
  const input = document.getElementById(input_id);
  const files = input && input.files ? [...input.files] : [];
  const out = [];
  for (const f of files) {
    const blob = await shrink(f);
    const data = new Uint8Array(await blob.arrayBuffer());
    const sha = hex(await crypto.subtle.digest('SHA-256', data));
    await tx('blobs', 'readwrite', s => s.put({ data, size: data.length, uploaded: false, at: Date.now() }, sha));
    out.push([sha, data.length]);
  }
  if (input) input.value = '';
  return out;
}
export function blob_states() {
  return db().then(d => new Promise((resolve, reject) => {
    const out = [];
    const t = d.transaction('blobs', 'readonly');
    const c = t.objectStore('blobs').openCursor();
    c.onsuccess = () => {
      const cur = c.result;
      if (cur) { out.push([cur.key, !!cur.value.uploaded, cur.value.size]); cur.continue(); }
    };
    t.oncomplete = () => resolve(out);
    t.onerror = () => reject(t.error);
  }));
}
const urls = new Map();
export function blob_url(sha) {
  if (urls.has(sha)) return Promise.resolve(urls.get(sha));
  return tx('blobs', 'readonly', s => s.get(sha)).then(v => {
    if (!v) return null;
    const u = URL.createObjectURL(new Blob([v.data], { type: 'image/jpeg' }));
    urls.set(sha, u);
    return u;
  });
}
export function blob_bytes(sha) {
  return tx('blobs', 'readonly', s => s.get(sha)).then(v => v ? v.data : null);
}
export function put_blob(sha, data, uploaded) {
  return tx('blobs', 'readwrite', s => s.put({ data: data.slice(), size: data.length, uploaded, at: Date.now() }, sha));
}
// Upload one photo, resuming where the server says it stopped: 64 KB chunks with Content-Range, so
// a cut connection costs at most one chunk. Resolves to the final HTTP status.
export async function upload_blob(sha) {
  const v = await tx('blobs', 'readonly', s => s.get(sha));
  if (!v) return 404;
  const st = await fetch(`/api/blobs/${sha}/status`, { credentials: 'same-origin' });
  if (!st.ok) return st.status;
  const info = await st.json();
  let offset = info.complete ? v.data.length : (info.offset || 0);
  const total = v.data.length;
  let status = 200;
  while (offset < total) {
    const end = Math.min(total, offset + 64 * 1024);
    const r = await fetch(`/api/blobs/${sha}`, {
      method: 'PUT', credentials: 'same-origin',
      headers: { 'content-type': 'application/octet-stream', 'content-range': `bytes ${offset}-${end - 1}/${total}` },
      body: v.data.slice(offset, end),
    });
    status = r.status;
    if (r.status === 409) { offset = (await r.json()).offset || 0; continue; }
    if (!r.ok) return r.status;
    offset = end;
  }
  await tx('blobs', 'readwrite', s => s.put({ ...v, uploaded: true }, sha));
  return status;
}
// The phone's position, or null (refused, unavailable, or 20 s without a fix): never blocks saving.
export function get_position() {
  return new Promise((resolve) => {
    if (!navigator.geolocation) return resolve(null);
    navigator.geolocation.getCurrentPosition(
      (p) => resolve([p.coords.latitude, p.coords.longitude, p.coords.accuracy]),
      () => resolve(null),
      { enableHighAccuracy: true, timeout: 20000, maximumAge: 60000 },
    );
  });
}
// PWA: index.html records the browser's install offer and a waiting new version on `window`.
export function can_install() { return !!window.danvanInstallEvent; }
export function update_waiting() { return !!window.danvanWaiting; }
export function install_app() {
  const e = window.danvanInstallEvent;
  if (!e) return Promise.resolve(false);
  window.danvanInstallEvent = null;
  e.prompt();
  return e.userChoice.then((c) => c.outcome === 'accepted');
}
export function apply_update() {
  const w = window.danvanWaiting;
  if (!w) return;
  navigator.serviceWorker.addEventListener('controllerchange', () => location.reload(), { once: true });
  w.postMessage({ type: 'SKIP_WAITING' });
}
export function on_pwa_event(cb) {
  window.addEventListener('danvan-pwa', () => cb());
}
// Server-Sent Events (the browser reconnects by itself): `change` events' data to `cb`.
export function server_events(url, cb) {
  new EventSource(url).addEventListener('change', (e) => cb(e.data));
}
// Exports: a file the user saves (no server needed), and the text of a file the user picks.
// Sealing with a passphrase lives in /seal.js, loaded only when a file is sealed or opened (it is
// not part of the phone's first load; the service worker precaches it).
const seal = () => import('/seal.js');
export function download(name, text, pass) {
  return (pass ? seal().then(m => m.seal(text, pass)) : Promise.resolve(text)).then(t => {
    const a = document.createElement('a');
    a.href = URL.createObjectURL(new Blob([t], { type: 'application/json' }));
    a.download = name;
    document.body.appendChild(a);
    a.click();
    setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
  });
}
// Exports and imports, for the audit log: queued on the device (localStorage, the last 50) and
// sent when the server answers (at once, when back online, at the next start). A device whose
// login was ended still reports: the server accepts its token for this report only.
const AUDIT = 'danvan.audit';
const audit_queue = () => { try { return JSON.parse(localStorage.getItem(AUDIT)) || []; } catch (e) { return []; } };
export function audit_event(kind, docs, photos, sealed, skipped) {
  const e = { kind, at: Date.now(), docs, photos, sealed, skipped }; // shared::api::DeviceEvent
  try { localStorage.setItem(AUDIT, JSON.stringify([...audit_queue(), e].slice(-50))); } catch (x) {}
  audit_flush();
}
function audit_flush() {
  const sent = audit_queue();
  if (!sent.length) return;
  http('POST', '/api/audit/report', JSON.stringify({ events: sent })).then(([s]) => {
    // Kept for later when nobody is signed in (401), or the server is busy or failing; a report
    // the server refuses as malformed (400) would be refused forever.
    if (s === 200 || s === 400) localStorage.setItem(AUDIT, JSON.stringify(audit_queue().slice(sent.length)));
  }, () => {});
}
addEventListener('online', audit_flush);
setTimeout(audit_flush, 3000);
export function read_file_text(input_id, pass) {
  const input = document.getElementById(input_id);
  const f = input && input.files && input.files[0];
  return (f ? f.text() : Promise.resolve(null)).then(t =>
    t && t.startsWith('{"format":"danvan-sealed-1"') ? seal().then(m => m.unseal(t, pass)) : t);
}
export function http_upload(url, text, file_input_id) {
  const init = { method: 'POST', credentials: 'same-origin', headers: {} };
  const input = file_input_id ? document.getElementById(file_input_id) : null;
  const file = input && input.files && input.files[0];
  if (file) {
    init.headers['content-type'] = file.type || 'application/octet-stream';
    init.body = file;
  } else {
    init.headers['content-type'] = 'text/plain; charset=utf-8';
    init.body = text;
  }
  return fetch(url, init).then(r => r.text().then(text => [r.status, text]));
}
"#)]
extern "C" {
    #[wasm_bindgen(catch)]
    async fn idb_add_chunk(doc: &str, data: &[u8]) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch)]
    async fn idb_all_chunks() -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch)]
    async fn idb_max_chunk_key() -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch)]
    async fn idb_compact(doc: &str, data: &[u8], upto: f64) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch)]
    async fn idb_get_meta(key: &str) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch)]
    async fn idb_set_meta(key: &str, value: JsValue) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch)]
    async fn request_persist() -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch)]
    async fn http(method: &str, url: &str, body: Option<String>) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch)]
    async fn http_upload(url: &str, text: &str, file_input_id: &str) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch)]
    async fn photos_from_input(input_id: &str) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch)]
    async fn blob_states() -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch)]
    async fn blob_url(sha: &str) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch)]
    async fn blob_bytes(sha: &str) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch)]
    async fn put_blob(sha: &str, data: &[u8], uploaded: bool) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch)]
    async fn upload_blob(sha: &str) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch)]
    async fn download(name: &str, text: &str, pass: &str) -> Result<JsValue, JsValue>;
    async fn get_position() -> JsValue;
    pub fn can_install() -> bool;
    pub fn update_waiting() -> bool;
    #[wasm_bindgen(catch)]
    async fn install_app() -> Result<JsValue, JsValue>;
    pub fn apply_update();
    fn on_pwa_event(cb: &Closure<dyn FnMut()>);
    fn server_events(url: &str, cb: &Closure<dyn FnMut(String)>);
    fn audit_event(kind: &str, docs: u32, photos: u32, sealed: bool, skipped: u32);
    #[wasm_bindgen(catch)]
    async fn read_file_text(input_id: &str, pass: &str) -> Result<JsValue, JsValue>;
}

fn err(e: JsValue) -> String {
    e.as_string()
        .or_else(|| {
            js_sys::Reflect::get(&e, &"message".into())
                .ok()
                .and_then(|m| m.as_string())
        })
        .unwrap_or_else(|| "unknown error".into())
}

pub async fn add_chunk(doc: &str, data: &[u8]) -> Result<(), String> {
    idb_add_chunk(doc, data).await.map(|_| ()).map_err(err)
}

/// Every stored chunk, as (document ID, bytes), in write order.
pub async fn all_chunks() -> Result<Vec<(String, Vec<u8>)>, String> {
    let rows = idb_all_chunks().await.map_err(err)?;
    let rows: js_sys::Array = rows.into();
    Ok(rows
        .iter()
        .filter_map(|row| {
            let row: js_sys::Array = row.into();
            let doc = row.get(0).as_string()?;
            let data = js_sys::Uint8Array::new(&row.get(1)).to_vec();
            Some((doc, data))
        })
        .collect())
}

/// The newest chunk's key (chunks written later have larger keys).
pub async fn max_chunk_key() -> Option<f64> {
    idb_max_chunk_key().await.ok()?.as_f64()
}

/// Replace a document's chunks with keys up to `upto` by one full copy (atomic; see the JS).
pub async fn compact_chunks(doc: &str, data: &[u8], upto: f64) -> Result<(), String> {
    idb_compact(doc, data, upto).await.map(drop).map_err(err)
}

/// A value kept in IndexedDB's meta store: `Ok(None)` if there is none, `Err` if it cannot be read.
pub async fn get_meta(key: &str) -> Result<Option<String>, String> {
    idb_get_meta(key).await.map(|v| v.as_string()).map_err(err)
}

pub async fn set_meta(key: &str, value: &str) -> Result<(), String> {
    idb_set_meta(key, value.into())
        .await
        .map(|_| ())
        .map_err(err)
}

pub async fn persist() -> bool {
    request_persist()
        .await
        .ok()
        .and_then(|v| v.as_bool())
        .unwrap_or(false)
}

/// An HTTP request to our own origin (the session cookie goes along). `Err` means no answer at all
/// (offline, server down); any HTTP status is `Ok((status, body))`.
pub async fn fetch(method: &str, url: &str, body: Option<String>) -> Result<(u16, String), String> {
    http(method, url, body)
        .await
        .map(status_and_text)
        .map_err(err)
}

/// The `[status, text]` pair our JS helpers resolve with.
fn status_and_text(v: JsValue) -> (u16, String) {
    let arr: js_sys::Array = v.into();
    let status = arr.get(0).as_f64().unwrap_or(0.0) as u16;
    (status, arr.get(1).as_string().unwrap_or_default())
}

/// POST a plan: the file chosen in the file input `file_input_id` if there is one (a .docx), else
/// `text` as UTF-8 plain text.
pub async fn upload(url: &str, text: &str, file_input_id: &str) -> Result<(u16, String), String> {
    http_upload(url, text, file_input_id)
        .await
        .map(status_and_text)
        .map_err(err)
}

/// GET a JSON document from our API; `None` unless it answered 200 with the expected shape.
/// The message of an error answer (`shared::api::ErrorBody`), or the start of whatever came back.
pub fn error_text(body: &str) -> String {
    serde_json::from_str::<shared::api::ErrorBody>(body)
        .map(|e| e.error)
        .unwrap_or_else(|_| body.chars().take(200).collect())
}

pub async fn get_json<T: serde::de::DeserializeOwned>(url: &str) -> Option<T> {
    match fetch("GET", url, None).await {
        Ok((200, body)) => serde_json::from_str(&body).ok(),
        _ => None,
    }
}

/// Resize, hash and store the photos chosen in a file input: `(sha256, size)` of each, durable.
pub async fn take_photos(input_id: &str) -> Result<Vec<(String, u64)>, String> {
    let v = photos_from_input(input_id).await.map_err(err)?;
    Ok(js_sys::Array::from(&v)
        .iter()
        .filter_map(|p| {
            let p = js_sys::Array::from(&p);
            Some((p.get(0).as_string()?, p.get(1).as_f64()? as u64))
        })
        .collect())
}

/// Every photo on the device: `(sha256, uploaded, size)`.
pub async fn photo_states() -> Vec<(String, bool, u64)> {
    let Ok(v) = blob_states().await else {
        return Vec::new();
    };
    js_sys::Array::from(&v)
        .iter()
        .filter_map(|p| {
            let p = js_sys::Array::from(&p);
            Some((
                p.get(0).as_string()?,
                p.get(1).as_bool()?,
                p.get(2).as_f64()? as u64,
            ))
        })
        .collect()
}

/// An object URL showing a stored photo, if the device has it.
pub async fn photo_url(sha: &str) -> Option<String> {
    blob_url(sha).await.ok()?.as_string()
}

pub async fn photo_bytes(sha: &str) -> Option<Vec<u8>> {
    let v = blob_bytes(sha).await.ok()?;
    (!v.is_null()).then(|| js_sys::Uint8Array::new(&v).to_vec())
}

/// Store a photo that came from an export file (already hashed and checked by the caller).
pub async fn store_photo(sha: &str, data: &[u8], uploaded: bool) -> Result<(), String> {
    put_blob(sha, data, uploaded).await.map(drop).map_err(err)
}

/// Upload one photo (resumable); the final HTTP status, or `Err` without a connection.
pub async fn upload_photo(sha: &str) -> Result<u16, String> {
    upload_blob(sha)
        .await
        .map(|v| v.as_f64().unwrap_or(0.0) as u16)
        .map_err(err)
}

/// Offer `text` as a file to save.
pub async fn save_file(name: &str, text: &str, passphrase: &str) -> Result<(), String> {
    download(name, text, passphrase)
        .await
        .map(drop)
        .map_err(err)
}

/// Report an export or an import (a `shared::api::DeviceEvent`, built in JS: no serializer in the
/// phone's bundle for it) for the audit log; queued on the device until the server has it.
pub fn report_transfer(kind: &str, docs: usize, photos: usize, sealed: bool, skipped: usize) {
    audit_event(kind, docs as u32, photos as u32, sealed, skipped as u32);
}

/// The text of the file chosen in a file input, if any; a sealed file is opened with `passphrase`
/// (`Err` with the reason, nothing opened, when it is wrong).
pub async fn chosen_file_text(input_id: &str, passphrase: &str) -> Result<Option<String>, String> {
    read_file_text(input_id, passphrase)
        .await
        .map(|v| v.as_string())
        .map_err(err)
}

/// The phone's position `(lat, lon, accuracy in m)`, or `None`.
pub async fn position() -> Option<(f64, f64, f64)> {
    let v = get_position().await;
    if v.is_null() {
        return None;
    }
    let a = js_sys::Array::from(&v);
    Some((a.get(0).as_f64()?, a.get(1).as_f64()?, a.get(2).as_f64()?))
}

/// Show the browser's install dialog; whether the user accepted.
pub async fn install() -> bool {
    install_app()
        .await
        .ok()
        .and_then(|v| v.as_bool())
        .unwrap_or(false)
}

/// Call `f` with the data of each `change` event the server pushes at `url` (for the life of the page).
pub fn on_server_events(url: &str, f: impl FnMut(String) + 'static) {
    let cb = Closure::<dyn FnMut(String)>::new(f);
    server_events(url, &cb);
    cb.forget();
}

/// Call `f` whenever the install offer or a waiting update appears (for the life of the page).
pub fn on_pwa_change(f: impl FnMut() + 'static) {
    let cb = Closure::<dyn FnMut()>::new(f);
    on_pwa_event(&cb);
    cb.forget();
}
