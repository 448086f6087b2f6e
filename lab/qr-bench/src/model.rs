//! The benchmark's values, and nothing that runs or prints them: which server configurations a
//! run measures, one repeat's sample, the rows and results of the HTTP benchmark, and the
//! per-call results of `--calls`. The runner produces these; the report reads them.
//!
//! | module | job |
//! | --- | --- |
//! | `configuration` | which servers a run measures, and the label columns that name them |
//! | `row` | one repeat's sample, and the row its repeats fold into |
//! | `results` | what a run writes: results.json's and calls.json's documents |
//! | `utc_stamp` | the run's start as `YYYYMMDDTHHMMSSZ` |
//! | `workload` | what the requests ask for: each target alone, or with each of the option sets |

mod configuration;
#[cfg(test)]
pub(crate) mod fixtures;
mod results;
mod row;
mod utc_stamp;
mod workload;

pub use self::configuration::{Configuration, configurations};
pub use self::results::{CallRow, CallsResults, Config, CriterionRow, Machine, Results};
pub use self::row::{FixedRate, Measured, Row, RunSample};
pub use self::utc_stamp::utc_stamp;
pub use self::workload::Workload;
