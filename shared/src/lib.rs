//! Code shared by the PWA and the server: document identities, the Automerge schema, the wire
//! protocol and the sans-IO sync client. No IO here: it builds for wasm32 and x86_64 alike.

pub mod api;
pub mod client;
pub mod driver;
pub mod export;
pub mod ids;
pub mod report;
pub mod schema;
pub mod status;
pub mod text;
pub mod unsynced;
pub mod vocab;
pub mod wire;

pub use client::{Event, SyncClient};
pub use ids::{DocKey, DocKind, DocumentId, Quarter};
