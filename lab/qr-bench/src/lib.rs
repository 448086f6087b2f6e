//! rusty-qr's benchmark: every tier under oha's load, with the server's whole process tree
//! watched for CPU and memory; tables, results.json, report.md and chart.svg. The requests are
//! the article's (`--workload default`) or each target with each of a fixed mix of option sets
//! (`--workload options`). With `--calls`, the cost of each boundary per call instead, without
//! options and with them.
//!
//! Run with `cargo xtask bench [--quick] [--tiers ...] [--stacks ...] [--workload options]` (or
//! `qr-bench --help` from cargo's target directory).
//!
//! The crate in layers, each depending only on those below it:
//!
//! | module | job |
//! | --- | --- |
//! | `run` | the top: runner, then report; writes the outputs and prints the tables |
//! | `runner` | starts servers (`qr_harness::Server`), drives oha, watches `/proc`, times calls (the Node and Python tiers' with lab/qr-bench/call-timers/); produces model values |
//! | `report` | model values to tables, report.md, results.json, chart.svg, calls.md |
//! | `model` | the values: configurations, samples, rows, results; no I/O |
//! | `cli`, `stats` | the command line; medians and spreads |

mod cli;
mod model;
mod report;
mod run;
mod runner;
mod stats;

pub use cli::Args;
pub use run::run;
pub use runner::install_interrupt_handler;
