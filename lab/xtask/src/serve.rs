//! `cargo xtask serve`: builds what one tier needs (or the playground's Wasm module), then becomes
//! its server, so that signals reach it directly and its ready line and exit status are ours.

use std::os::unix::process::CommandExt;
use std::process::Command;

use anyhow::{Context, Result};
use qr_contract::Engine;
use qr_harness::{Mode, ServerSpec, Stack, Tier, repo_root};

use crate::builds;

/// A tier's default port (`serve`'s, and nginx's for `cluster`).
pub const TIER_PORT: u16 = 42069;
/// The playground's default port: beside a tier's.
const WEB_PORT: u16 = 42070;

/// What `serve` runs: a tier, or the playground's page (web/).
#[derive(Debug, Clone, Copy)]
enum Served {
    Tier(Tier),
    Web,
}

impl std::str::FromStr for Served {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, String> {
        match name {
            "web" => Ok(Served::Web),
            _ => name
                .parse()
                .map(Served::Tier)
                .map_err(|err| format!("{err}, or web")),
        }
    }
}

/// `cargo xtask serve TIER [--mode M] [--workers N] [--port P] [--engine E] [--stack S]`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// A tier (tier-0 ... tier-4-nginx, py-tier-0 ... py-tier-3, node-ceiling, rust-ceiling,
    /// py-ceiling), or `web`: the playground page, which makes QR codes in the browser and asks a
    /// running tier for the same.
    tier: Served,
    /// Node and Python tiers only: single | cluster.
    #[arg(long, default_value = "single")]
    mode: Mode,
    /// Cluster mode's worker count [default: the CPU count].
    #[arg(long)]
    workers: Option<usize>,
    /// The port on 127.0.0.1 [default: 42069; web: 42070].
    #[arg(long)]
    port: Option<u16>,
    /// The Rust engine, every tier but tier-0 [default: fast].
    #[arg(long)]
    engine: Option<Engine>,
    /// The HTTP stack under the host's app: express | fastify (Node tiers), gunicorn | granian
    /// (Python tiers) [default: express, gunicorn].
    #[arg(long)]
    stack: Option<Stack>,
}

/// Serves the tier or the playground `args` name; `web` with a tier's option is a usage error
/// (exit status 2).
pub fn serve(args: &ServeArgs) -> Result<()> {
    match args.tier {
        Served::Tier(tier) => serve_tier(&ServerSpec {
            workers: args.workers,
            port: args.port.unwrap_or(TIER_PORT),
            engine: args.engine,
            stack: args.stack.unwrap_or(tier.host().default_stack()),
            ..ServerSpec::new(tier, args.mode)
        }),
        Served::Web if args.engine.is_some() || args.workers.is_some() || args.stack.is_some() => {
            eprintln!("error: web takes only --port (the page picks the engine)");
            std::process::exit(2);
        }
        Served::Web => serve_web(args.port.unwrap_or(WEB_PORT)),
    }
}

/// Builds, then replaces this process with the tier's server.
fn serve_tier(spec: &ServerSpec) -> Result<()> {
    spec.check_stack()?;
    builds::tier(spec.tier)?;
    let mut command = spec.command();
    eprintln!("serving {}", spec.label());
    let error = command.exec();
    Err(error).context("could not start the server")
}

/// Builds the Wasm module, then replaces this process with the playground's server (web/playground-server.js).
fn serve_web(port: u16) -> Result<()> {
    let root = repo_root();
    builds::web()?;
    let mut command = Command::new("node");
    command
        .arg(root.join("web/playground-server.js"))
        .args(["--port", &port.to_string()]);
    eprintln!(
        "serving the playground: open it, and start a tier (cargo xtask serve tier-4) for its right-hand side"
    );
    let error = command.exec();
    Err(error).context("could not start web/playground-server.js")
}
