//! The danvan PWA (Leptos, client-side rendered, wasm32): works offline from IndexedDB and syncs
//! through the shared sans-IO client when a connection exists. Built as two bundles: `field/` only
//! in the phones' bundle, `office/` only in the aggregating level's; `common/`, `driver/` and the
//! browser bridge `js/` in both.

// A bundle built with one feature does not use everything the other needs.
#![cfg_attr(not(all(feature = "field", feature = "office")), allow(dead_code))]

mod common;
mod driver;
#[cfg(feature = "field")]
mod field;
mod js;
#[cfg(feature = "office")]
mod office;

use wasm_bindgen::prelude::*;

#[wasm_bindgen(start)]
pub fn main() {
    // A panic aborts the wasm; its message on the console is what a bug report can quote.
    std::panic::set_hook(Box::new(|info| js::dom::console_error(&info.to_string())));
    js::dom::mark("danvan:wasm-start");
    leptos::mount::mount_to_body(common::frame::App);
}
