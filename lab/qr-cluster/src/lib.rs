//! Many hosts on one machine, as a library for the `qr-cluster` binary and its tests: `netns`
//! makes and removes a network namespace and veth pair per replica, `cluster` starts the replicas
//! in them behind one load-balanced nginx (the qr-nginx crate's configuration and process).
//! Run the tests with `cargo test -p qr-cluster -- --include-ignored` (as root, after
//! `cargo xtask build`).

pub mod cluster;
pub mod netns;
