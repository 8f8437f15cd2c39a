//! The danvan PWA (Leptos, client-side rendered, wasm32): works offline from IndexedDB and syncs
//! through the shared sans-IO client when a connection exists.

mod desk;
mod driver;
mod js;
mod org_admin;
mod plan_editor;
mod state;
mod tasks;
mod ui;

use wasm_bindgen::prelude::*;

#[wasm_bindgen(start)]
pub fn main() {
    leptos::mount::mount_to_body(ui::App);
}
