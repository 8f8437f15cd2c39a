//! The server's integration tests, one binary (so helpers are shared and the suite links once):
//! router tests with `oneshot`, real sockets on 127.0.0.1, real SQLite files in temp dirs.

mod admin;
mod api;
mod blobs;
mod common;
mod convergence;
mod crash;
mod disk_full;
mod doc_store;
mod durable_push;
mod fanout;
mod faults;
mod fuzz;
mod holes;
mod office;
mod plan_import;
mod plan_org;
mod report;
mod storage_faults;
mod storm;
mod sync_socket;
mod unload;
