//! Photos beside sync: uploaded one at a time (each resumable) while connected, and their states
//! (on the phone only / uploaded) shown on the screens.

use super::with;
use crate::js;
use crate::js::dom;
use leptos::prelude::Set;

/// Upload the photos the server does not have yet, one at a time (each resumable).
pub(super) async fn upload() {
    let states = js::photo_states().await;
    for (sha, _, _) in states.iter().filter(|p| !p.1) {
        match js::upload_photo(sha).await {
            Ok(200..=299) => {}
            Ok(status) => dom::console_warn(&format!("photo {sha}: upload answered {status}")),
            // No connection: try again on the next round.
            Err(_) => break,
        }
    }
    refresh_photos().await;
}

/// Show the photos' states (on the phone only / uploaded).
pub async fn refresh_photos() {
    let states = js::photo_states().await;
    with(|d| d.ui.photos.set(states));
}
