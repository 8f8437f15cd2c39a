//! The browser's IndexedDB and fetch, through a few lines of JavaScript (the only place the app
//! touches them). Each IndexedDB write is one request in its own transaction, resolved when durable.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(inline_js = r#"
let dbp = null;
function db() {
  if (!dbp) {
    dbp = new Promise((resolve, reject) => {
      const req = indexedDB.open('danvan', 1);
      req.onupgradeneeded = () => {
        const d = req.result;
        d.createObjectStore('chunks', { autoIncrement: true });
        d.createObjectStore('meta');
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
export function http(method, url, body) {
  const init = { method, credentials: 'same-origin', headers: {} };
  if (body !== undefined && body !== null) {
    init.headers['content-type'] = 'application/json';
    init.body = body;
  }
  return fetch(url, init).then(r => r.text().then(text => [r.status, text]));
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
    async fn idb_get_meta(key: &str) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch)]
    async fn idb_set_meta(key: &str, value: JsValue) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch)]
    async fn request_persist() -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch)]
    async fn http(method: &str, url: &str, body: Option<String>) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch)]
    async fn http_upload(url: &str, text: &str, file_input_id: &str) -> Result<JsValue, JsValue>;
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

pub async fn get_meta(key: &str) -> Option<String> {
    idb_get_meta(key).await.ok().and_then(|v| v.as_string())
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
pub async fn get_json<T: serde::de::DeserializeOwned>(url: &str) -> Option<T> {
    match fetch("GET", url, None).await {
        Ok((200, body)) => serde_json::from_str(&body).ok(),
        _ => None,
    }
}

pub fn now_ms() -> i64 {
    js_sys::Date::now() as i64
}

pub fn local_get(key: &str) -> Option<String> {
    web_sys::window()?
        .local_storage()
        .ok()??
        .get_item(key)
        .ok()?
}

pub fn local_set(key: &str, value: &str) {
    if let Some(s) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
        let _ = s.set_item(key, value);
    }
}

pub fn local_remove(key: &str) {
    if let Some(s) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
        let _ = s.remove_item(key);
    }
}

pub fn set_body_attr(name: &str, value: &str) {
    if let Some(b) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.body())
    {
        let _ = b.set_attribute(name, value);
    }
}
