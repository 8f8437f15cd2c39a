//! The sync socket: opened once the documents are loaded, what arrives fed to the sync client, and
//! after a loss a reconnect with the backoff of `shared::driver::Backoff`, or at once when the
//! network comes back or the app returns to the front.

use super::{handle, with};
use crate::js::dom;
use crate::js::socket::Socket;
use leptos::prelude::{GetUntracked, Set};

/// Open the WebSocket unless one is open or opening.
pub(super) fn connect() {
    let go = with(|d| {
        if d.connecting || d.socket.is_some() {
            return false;
        }
        d.connecting = true;
        true
    });
    if go != Some(true) {
        return;
    }
    // The commune in the URL lets a proxy in front of several nodes send a commune's phones to
    // one node (docs/nginx), where each note then costs one node, not all.
    let commune = with(|d| d.session.user.commune_id.clone()).flatten();
    let path = commune.map_or("/sync".into(), |c| format!("/sync?commune={c}"));
    match Socket::open(&path, on_open, on_message, on_close) {
        Some(socket) => {
            with(|d| d.socket = Some(socket));
        }
        None => {
            with(|d| d.connecting = false);
            schedule_reconnect();
        }
    }
}

fn on_open() {
    let events = with(|d| {
        d.connecting = false;
        d.client.connected()
    });
    handle(events.unwrap_or_default());
}

fn on_message(bytes: Vec<u8>) {
    let events = with(|d| d.client.receive(&bytes)).unwrap_or_default();
    handle(events);
}

/// How often failed connection attempts ask the server whether this device is still signed in.
const SIGNED_IN_CHECK_MS: f64 = 30_000.0;

fn on_close() {
    // A socket closed by the server, or attempts that keep failing, may mean this device's login
    // ended (revoked, password changed): the server is asked — at once for a socket that was up,
    // at most every 30 s for failed attempts (a flaky 2G link fails often).
    let now = js_sys::Date::now();
    let ask = with(|d| {
        let ask = d.client.is_connected() || now - d.signed_in_checked >= SIGNED_IN_CHECK_MS;
        if ask {
            d.signed_in_checked = now;
        }
        ask
    }) == Some(true);
    close();
    if ask {
        wasm_bindgen_futures::spawn_local(async {
            if !super::durable::still_signed_in().await {
                return;
            }
            schedule_reconnect();
        });
    } else {
        schedule_reconnect();
    }
}

/// Forget the current socket (the sync client starts afresh on the next one).
pub(super) fn close() {
    let old = with(|d| {
        d.client.disconnected();
        d.connecting = false;
        d.ui.online.set(false);
        d.socket.take()
    });
    if let Some(Some(socket)) = old {
        socket.close();
    }
}

/// Try again after the backoff's next wait (never once the server has signed this device out).
pub(super) fn schedule_reconnect() {
    if with(|d| d.ui.signed_out.get_untracked()) == Some(true) {
        return;
    }
    let Some(delay) = with(|d| d.backoff.next_delay(random())) else {
        return;
    };
    dom::set_timeout(connect, delay);
}

/// A random number for the backoff's jitter. If the browser's RNG fails, 0 means no jitter: the
/// plain doubling wait.
fn random() -> u32 {
    let mut bytes = [0u8; 4];
    let _ = getrandom::fill(&mut bytes);
    u32::from_le_bytes(bytes)
}

/// Reconnect right away when the browser says the network is back or the app comes to the front;
/// drop the socket when the browser says we are offline (it may otherwise linger half-open).
pub(super) fn install_wakeups() {
    dom::on_network_change(
        || {
            with(|d| d.backoff.reset());
            connect();
        },
        close,
    );
    dom::on_foreground(connect);
}
