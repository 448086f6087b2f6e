//! What every rusty-qr tool and test shares about servers: the tier names, one typed server
//! configuration and the command that starts it, where builds land, a real process launcher (on a
//! process-group handle) and its process tree's memory and CPU from /proc, the HTTP contract as
//! data, the HTTP test client, load with every answer accounted for, and the pinned tools.
//!
//! Used by `cargo xtask` (soak included), the conformance suite (`tests/conformance/`), the fault
//! tests (`tests/faults/`), qr-server's tests and the benchmark. Run its own tests with `cargo test -p qr-harness`.

pub mod contract;
pub mod http;
pub mod load;
pub mod paths;
mod process_group;
pub mod procs;
pub mod python;
mod server_process;
mod spec;
mod tier;
pub mod tools;

pub use paths::repo_root;
pub use process_group::{ProcessGroup, end_with_launcher};
pub use server_process::Server;
pub use spec::{ServerSpec, cpus};
pub use tier::{CEILING_TEXT, Host, Mode, Stack, Tier, UnknownName};
