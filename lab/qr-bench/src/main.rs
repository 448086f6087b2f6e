//! The `qr-bench` binary: the HTTP benchmark and `--calls`, as `cargo xtask bench` runs them.
//!
//! Run with `cargo xtask bench [OPTIONS]`, or `qr-bench --help` from cargo's target directory.

use clap::Parser;

fn main() -> std::process::ExitCode {
    let args = qr_bench::Args::parse();
    if let Err(e) = qr_bench::install_interrupt_handler() {
        eprintln!("qr-bench: cannot handle signals: {e}");
    }
    match qr_bench::run(&args) {
        Ok((_, true)) => std::process::ExitCode::SUCCESS,
        Ok((out, false)) => {
            eprintln!(
                "qr-bench: some configurations could not be measured (see {})",
                out.display()
            );
            std::process::ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("qr-bench: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
