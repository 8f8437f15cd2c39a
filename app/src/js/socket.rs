//! The sync WebSocket: binary frames to and from our origin's `/sync`, its handlers kept alive
//! exactly as long as the socket is in use.

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{BinaryType, MessageEvent, WebSocket};

pub struct Socket {
    ws: WebSocket,
    /// The handlers the browser calls; they must outlive every call, see [`Socket::close`].
    handlers: Vec<Closure<dyn FnMut(JsValue)>>,
}

/// `ws(s)://<this host><path>`.
fn url(path: &str) -> Option<String> {
    let loc = web_sys::window()?.location();
    let scheme = if loc.protocol().ok()? == "https:" {
        "wss"
    } else {
        "ws"
    };
    Some(format!("{scheme}://{}{path}", loc.host().ok()?))
}

impl Socket {
    /// Start opening a socket to `path` on our origin; `None` if the browser refuses at once. The
    /// handlers fire until [`Socket::close`]; `on_close` also when the socket never opened.
    pub fn open(
        path: &str,
        mut on_open: impl FnMut() + 'static,
        mut on_message: impl FnMut(Vec<u8>) + 'static,
        mut on_close: impl FnMut() + 'static,
    ) -> Option<Socket> {
        let ws = WebSocket::new(&url(path)?).ok()?;
        ws.set_binary_type(BinaryType::Arraybuffer);
        let open = Closure::<dyn FnMut(JsValue)>::new(move |_| on_open());
        let message = Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
            let Ok(e) = e.dyn_into::<MessageEvent>() else {
                return;
            };
            let Ok(buf) = e.data().dyn_into::<js_sys::ArrayBuffer>() else {
                return;
            };
            on_message(js_sys::Uint8Array::new(&buf).to_vec());
        });
        let close = Closure::<dyn FnMut(JsValue)>::new(move |_| on_close());
        ws.set_onopen(Some(open.as_ref().unchecked_ref()));
        ws.set_onmessage(Some(message.as_ref().unchecked_ref()));
        ws.set_onclose(Some(close.as_ref().unchecked_ref()));
        Some(Socket {
            ws,
            handlers: vec![open, message, close],
        })
    }

    /// Send one binary frame. A frame the browser refuses (the socket is closing) is lost like one
    /// dropped on the way: the socket's close handler reconnects, and a fresh sync follows.
    pub fn send(&self, bytes: &[u8]) {
        let _ = self.ws.send_with_u8_array(bytes);
    }

    /// Close the socket, detaching its handlers first so none fires into a dropped closure.
    pub fn close(self) {
        self.ws.set_onopen(None);
        self.ws.set_onmessage(None);
        self.ws.set_onclose(None);
        let _ = self.ws.close();
        // The handlers may be on the call stack right now (we can be inside on_close): drop them
        // later.
        let handlers = self.handlers;
        super::dom::set_timeout(move || drop(handlers), 0);
    }
}
