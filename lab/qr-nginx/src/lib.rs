//! nginx in front of tier 4, as a library for the `qr-nginx` binary (tier-4-nginx: nginx routing
//! `/qrcode` to qr-server and every other path to the Node app) and for qr-cluster (many
//! qr-server replicas behind one load-balanced nginx).
//!
//! `config` writes nginx's configuration and `nginx` runs nginx in its run folder (its process
//! group is `qr_harness::ProcessGroup`, as every server's). Run the tests with
//! `cargo test -p qr-nginx -- --include-ignored` (after `cargo xtask build`).

pub mod config;
pub mod nginx;
