//! Which server configurations a run measures: one [`Configuration`] names a row (tier, mode,
//! engine, workers), and [`configurations`] expands the command line's tiers, modes and engines
//! into them.

use std::fmt;
use std::ops::Deref;

use qr_core::Engine;
use qr_harness::{Host, Mode, ServerSpec, Tier};
use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};

/// One benchmarked server configuration: the harness's [`ServerSpec`] on an ephemeral port,
/// which names a row by tier, mode and engine (`js` for tier-0, which has no Rust engine).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Configuration(ServerSpec);

impl Configuration {
    /// `tier` in `mode` with `engine` and `workers`, on a port picked at start.
    pub fn new(tier: Tier, mode: Mode, engine: Option<Engine>, workers: Option<usize>) -> Self {
        Configuration(ServerSpec {
            engine,
            workers,
            ..ServerSpec::new(tier, mode)
        })
    }

    /// The engine column: the Rust engine's name, or `js` for tier-0 and `py` for py-tier-0.
    pub fn engine_name(&self) -> &'static str {
        let pure = if self.0.tier.host() == Host::Python {
            "py"
        } else {
            "js"
        };
        self.0.engine.map_or(pure, Engine::name)
    }

    /// The label columns of every table: tier, mode, engine.
    pub fn names(&self) -> [&'static str; 3] {
        [self.0.tier.name(), self.0.mode.name(), self.engine_name()]
    }
}

impl Deref for Configuration {
    type Target = ServerSpec;

    fn deref(&self) -> &ServerSpec {
        &self.0
    }
}

/// `tier-4 single article`, `tier-0 cluster js`.
impl fmt::Display for Configuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [tier, mode, engine] = self.names();
        write!(f, "{tier} {mode} {engine}")
    }
}

/// results.json's `tier`, `mode`, `engine` and `workers` of a row.
impl Serialize for Configuration {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let [tier, mode, engine] = self.names();
        let mut s = serializer.serialize_struct("Configuration", 4)?;
        s.serialize_field("tier", tier)?;
        s.serialize_field("mode", mode)?;
        s.serialize_field("engine", engine)?;
        s.serialize_field("workers", &self.0.workers)?;
        s.end()
    }
}

/// Expands tiers x modes x engines. Tier-0 and py-tier-0 run once per mode with no engine; the Rust
/// host's tiers are one multi-threaded process, so they run once per engine (reported as mode
/// "single"), and so does tier-3-async, whose point is one Node process on every core (with it,
/// the Node ceiling runs in single mode too).
/// Node and Python clusters get `workers` workers.
pub fn configurations(
    tiers: &[Tier],
    modes: &[Mode],
    engines: &[Engine],
    workers: usize,
) -> Vec<Configuration> {
    let mut out: Vec<Configuration> = Vec::new();
    for &tier in tiers {
        let mut tier_modes = if tier.has_modes() && tier != Tier::Tier3Async {
            modes.to_vec()
        } else {
            vec![Mode::Single]
        };
        // tier-3-async is one process: its share of the ceiling is against one process too.
        if tier == Tier::NodeCeiling && tiers.contains(&Tier::Tier3Async) {
            tier_modes.push(Mode::Single);
        }
        let tier_engines: Vec<Option<Engine>> = if !tier.uses_rust_core() {
            vec![None]
        } else {
            engines.iter().copied().map(Some).collect()
        };
        for &mode in &tier_modes {
            for &engine in &tier_engines {
                let cluster = tier.has_modes() && mode == Mode::Cluster;
                let configuration =
                    Configuration::new(tier, mode, engine, cluster.then_some(workers));
                if !out.contains(&configuration) {
                    out.push(configuration);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configurations_expand_like_the_article() {
        let all = configurations(Tier::ALL, &[Mode::Cluster], &[Engine::Article], 2);
        let labels: Vec<String> = all.iter().map(ToString::to_string).collect();
        assert_eq!(
            labels,
            [
                "tier-0 cluster js",
                "tier-1 cluster article",
                "tier-1-sidecar cluster article",
                "tier-2 cluster article",
                "tier-2-bindgen cluster article",
                "tier-3 cluster article",
                "tier-3-async single article",
                "tier-4 single article",
                "tier-4-nginx single article",
                "node-ceiling cluster article",
                "node-ceiling single article",
                "rust-ceiling single article",
                "py-tier-0 cluster py",
                "py-tier-1 cluster article",
                "py-tier-2 cluster article",
                "py-tier-3 cluster article",
                "py-ceiling cluster article",
            ]
        );
        assert_eq!(all[0].workers, Some(2));
        assert_eq!(all[6].workers, None, "tier-3-async: one process");
        assert_eq!(all[7].workers, None);
        assert_eq!(all[0].engine, None);
        assert!(all.iter().all(|c| c.port == 0));
        // Tier-4 runs once whatever the modes.
        let both = configurations(
            &[Tier::Tier4],
            &[Mode::Single, Mode::Cluster],
            &[Engine::Article],
            2,
        );
        assert_eq!(both.len(), 1);
    }
}
