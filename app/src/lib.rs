//! The danvan PWA (Leptos, client-side rendered, wasm32): works offline from IndexedDB and syncs
//! through the shared sans-IO client when a connection exists.

mod driver;
mod js;
mod state;
mod ui;

use wasm_bindgen::prelude::*;

#[wasm_bindgen(start)]
pub fn main() {
    leptos::mount::mount_to_body(ui::App);
}
