//! The page around the app: clock and timers, `localStorage`, the address bar, the confirm dialog,
//! the console, and the browser's network and visibility events.

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

/// A value for a URL's query string (`encodeURIComponent`).
pub fn encode_query(s: &str) -> String {
    js_sys::encode_uri_component(s).into()
}

/// Device time, ms since the Unix epoch.
pub fn now_ms() -> i64 {
    js_sys::Date::now() as i64
}

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = performance, js_name = mark)]
    fn performance_mark(name: &str);
}

/// A named point in the page's timeline (`performance.mark`), for profiles and `bench-field`:
/// where a start's time goes.
pub fn mark(name: &str) {
    performance_mark(name);
}

fn storage() -> Result<web_sys::Storage, String> {
    web_sys::window()
        .and_then(|w| w.local_storage().ok().flatten())
        .ok_or_else(|| "localStorage unavailable".into())
}

pub fn local_get(key: &str) -> Option<String> {
    storage().ok()?.get_item(key).ok()?
}

/// Keep `value` under `key`; `Err` when the browser refuses (storage full or disabled).
pub fn local_set(key: &str, value: &str) -> Result<(), String> {
    storage()?.set_item(key, value).map_err(super::err)
}

/// Keep a value that only helps a later start (the language, the clock check's floor, the last
/// sync): if the browser refuses, the console says so and the app goes on.
pub fn local_keep(key: &str, value: &str) {
    if let Err(e) = local_set(key, value) {
        console_warn(&format!("keeping {key}: {e}"));
    }
}

pub fn local_remove(key: &str) -> Result<(), String> {
    storage()?.remove_item(key).map_err(super::err)
}

/// An attribute on `<body>` (the browser tests wait for `data-app-ready` and the like).
pub fn set_body_attr(name: &str, value: &str) {
    if let Some(b) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.body())
    {
        let _ = b.set_attribute(name, value);
    }
}

/// The page's language (`<html lang>`), for screen readers and hyphenation.
pub fn set_document_lang(lang: &str) {
    if let Some(el) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
    {
        let _ = el.set_attribute("lang", lang);
    }
}

/// The address's `#fragment`, with its `#` (empty if none).
pub fn location_hash() -> String {
    web_sys::window()
        .and_then(|w| w.location().hash().ok())
        .unwrap_or_default()
}

pub fn set_location_hash(hash: &str) {
    if let Some(w) = web_sys::window() {
        let _ = w.location().set_hash(hash);
    }
}

/// Load another page of our origin (the other bundle).
pub fn go_to(path: &str) {
    if let Some(w) = web_sys::window() {
        let _ = w.location().assign(path);
    }
}

pub fn reload() {
    if let Some(w) = web_sys::window() {
        let _ = w.location().reload();
    }
}

/// Ask the user to confirm; false if they refuse or the browser cannot ask.
pub fn confirm(question: &str) -> bool {
    web_sys::window()
        .and_then(|w| w.confirm_with_message(question).ok())
        .unwrap_or(false)
}

pub fn console_warn(text: &str) {
    web_sys::console::warn_1(&text.into());
}

pub fn console_error(text: &str) {
    web_sys::console::error_1(&text.into());
}

fn timeout(f: &js_sys::Function, ms: u32) {
    if let Some(w) = web_sys::window() {
        let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(f, ms as i32);
    }
}

/// Run `f` once after `ms`.
pub fn set_timeout(f: impl FnOnce() + 'static, ms: u32) {
    timeout(Closure::once_into_js(f).unchecked_ref(), ms);
}

pub async fn sleep(ms: u32) {
    let p = js_sys::Promise::new(&mut |resolve, _| timeout(&resolve, ms));
    let _ = wasm_bindgen_futures::JsFuture::from(p).await;
}

/// Resolves once the browser has drawn the current state (the task after the next frame): a long
/// piece of work awaited after this runs with its "please wait" already on screen.
pub async fn after_paint() {
    let p = js_sys::Promise::new(&mut |resolve, _| {
        let next = Closure::once_into_js(move || timeout(&resolve, 0));
        if let Some(w) = web_sys::window() {
            let _ = w.request_animation_frame(next.unchecked_ref());
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(p).await;
}

/// Call `f` on `event` of `target` for the life of the page.
fn listen(target: &web_sys::EventTarget, event: &str, f: impl FnMut() + 'static) {
    let cb = Closure::<dyn FnMut()>::new(f);
    let _ = target.add_event_listener_with_callback(event, cb.as_ref().unchecked_ref());
    cb.forget();
}

/// Call `online` / `offline` whenever the browser says the network came back / went away.
pub fn on_network_change(online: impl FnMut() + 'static, offline: impl FnMut() + 'static) {
    if let Some(w) = web_sys::window() {
        listen(&w, "online", online);
        listen(&w, "offline", offline);
    }
}

/// Call `f` whenever the page comes back to the front (the user returns to the app).
pub fn on_foreground(mut f: impl FnMut() + 'static) {
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let target = doc.clone();
    listen(&target, "visibilitychange", move || {
        if !doc.hidden() {
            f();
        }
    });
}

/// Whether the `<details>` element a `toggle` event came from is now open.
pub fn details_open(ev: &web_sys::Event) -> bool {
    ev.target()
        .and_then(|t| t.dyn_into::<web_sys::HtmlDetailsElement>().ok())
        .is_some_and(|d| d.open())
}
