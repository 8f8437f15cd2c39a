//! The shared crate's integration tests, one binary: schema versioning against the version-1
//! fixtures, and the sans-IO sync client against automerge's own sync.

mod migration;
mod sync_client;
