//! The danvan PWA (Leptos, client-side rendered, wasm32): works offline from IndexedDB and syncs
//! through the shared sans-IO client when a connection exists.

// A bundle built with one feature does not use everything the other needs.
#![cfg_attr(not(all(feature = "field", feature = "office")), allow(dead_code))]

#[cfg(feature = "office")]
mod desk;
mod driver;
#[cfg(feature = "field")]
mod field;
mod i18n;
mod js;
#[cfg(feature = "office")]
mod org_admin;
#[cfg(feature = "office")]
mod plan_editor;
mod state;
#[cfg(feature = "field")]
mod sync_screen;
mod tasks;
mod ui;

use wasm_bindgen::prelude::*;

#[wasm_bindgen(start)]
pub fn main() {
    leptos::mount::mount_to_body(ui::App);
}
