//! Which server configurations a run measures: one [`Configuration`] names a row (tier, stack,
//! mode, engine, workers), and [`configurations`] expands the command line's tiers, stacks, modes
//! and engines into them.

use std::fmt;
use std::ops::Deref;

use qr_core::Engine;
use qr_harness::{Host, Mode, ServerSpec, Stack, Tier};
use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};

/// One benchmarked server configuration: the harness's [`ServerSpec`] on an ephemeral port,
/// which names a row by tier (and its stack, unless the host's default), mode and engine (`js`
/// for tier-0, which has no Rust engine).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Configuration(ServerSpec);

impl Configuration {
    /// `tier` on `stack` in `mode` with `engine` and `workers`, on a port picked at start.
    pub fn new(
        tier: Tier,
        stack: Stack,
        mode: Mode,
        engine: Option<Engine>,
        workers: Option<usize>,
    ) -> Self {
        Configuration(ServerSpec {
            engine,
            workers,
            ..ServerSpec::new(tier, mode).on(stack)
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

    /// The tier column: the tier's name, with its stack when that is not its host's default
    /// (`tier-3`, `tier-3 (fastify)`, `py-tier-3 (granian)`).
    pub fn tier_label(&self) -> String {
        if self.0.stack.is_default() {
            self.0.tier.to_string()
        } else {
            format!("{} ({})", self.0.tier, self.0.stack)
        }
    }

    /// The label columns of every table: tier (with its stack), mode, engine.
    pub fn names(&self) -> [String; 3] {
        [
            self.tier_label(),
            self.0.mode.to_string(),
            self.engine_name().to_owned(),
        ]
    }

    /// The label as a file name: `tier-3-cluster-fast`, `tier-3-fastify-cluster-fast`.
    pub fn slug(&self) -> String {
        self.to_string().replace(['(', ')'], "").replace(' ', "-")
    }
}

impl Deref for Configuration {
    type Target = ServerSpec;

    fn deref(&self) -> &ServerSpec {
        &self.0
    }
}

/// `tier-4 single article`, `tier-0 cluster js`, `tier-3 (fastify) cluster fast`.
impl fmt::Display for Configuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [tier, mode, engine] = self.names();
        write!(f, "{tier} {mode} {engine}")
    }
}

/// results.json's `tier`, `stack` (only when not the host's default: a row without one ran on
/// its host's default, as every row did before stacks), `mode`, `engine` and `workers` of a row.
impl Serialize for Configuration {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let stack = (!self.0.stack.is_default()).then_some(self.0.stack.name());
        let mut s =
            serializer.serialize_struct("Configuration", 4 + usize::from(stack.is_some()))?;
        s.serialize_field("tier", self.0.tier.name())?;
        if let Some(stack) = stack {
            s.serialize_field("stack", stack)?;
        }
        s.serialize_field("mode", self.0.mode.name())?;
        s.serialize_field("engine", self.engine_name())?;
        s.serialize_field("workers", &self.0.workers)?;
        s.end()
    }
}

/// The stacks `tier` runs on: those of `stacks` that are its host's, in the host's order, or the
/// host's default when `stacks` lists none of them.
fn stacks_of(tier: Tier, stacks: &[Stack]) -> Vec<Stack> {
    let host = tier.host();
    let listed: Vec<Stack> = host
        .stacks()
        .iter()
        .copied()
        .filter(|stack| stacks.contains(stack))
        .collect();
    if listed.is_empty() {
        vec![host.default_stack()]
    } else {
        listed
    }
}

/// Expands tiers x stacks x modes x engines. Each tier runs on each of `stacks` its host has, or on
/// its host's default if none. Tier-0 and py-tier-0 run once per mode with no engine; the Rust
/// host's tiers are one multi-threaded process, so they run once per engine (reported as mode
/// "single"), and so does tier-3-async, whose point is one Node process on every core (with it,
/// the Node ceiling runs in single mode too).
/// Node and Python clusters get `workers` workers.
pub fn configurations(
    tiers: &[Tier],
    stacks: &[Stack],
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
        for stack in stacks_of(tier, stacks) {
            for &mode in &tier_modes {
                for &engine in &tier_engines {
                    let cluster = tier.has_modes() && mode == Mode::Cluster;
                    let configuration =
                        Configuration::new(tier, stack, mode, engine, cluster.then_some(workers));
                    if !out.contains(&configuration) {
                        out.push(configuration);
                    }
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
        let all = configurations(Tier::ALL, &[], &[Mode::Cluster], &[Engine::Article], 2);
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
            &[],
            &[Mode::Single, Mode::Cluster],
            &[Engine::Article],
            2,
        );
        assert_eq!(both.len(), 1);
    }

    #[test]
    fn each_tier_runs_on_each_listed_stack_of_its_host_else_on_its_default() {
        let tiers = [Tier::Tier3, Tier::NodeCeiling, Tier::Tier4, Tier::PyTier3];
        let labels = |stacks: &[Stack]| -> Vec<String> {
            configurations(&tiers, stacks, &[Mode::Cluster], &[Engine::Fast], 2)
                .iter()
                .map(ToString::to_string)
                .collect()
        };
        assert_eq!(
            labels(&[Stack::Granian, Stack::Fastify, Stack::Express]),
            [
                "tier-3 cluster fast",
                "tier-3 (fastify) cluster fast",
                "node-ceiling cluster fast",
                "node-ceiling (fastify) cluster fast",
                "tier-4 single fast",
                "py-tier-3 (granian) cluster fast",
            ]
        );
        // Python listed none of its stacks: gunicorn, its default; no stack at all: every default.
        assert_eq!(
            labels(&[Stack::Fastify]),
            [
                "tier-3 (fastify) cluster fast",
                "node-ceiling (fastify) cluster fast",
                "tier-4 single fast",
                "py-tier-3 cluster fast",
            ]
        );
        assert_eq!(labels(&[]), labels(&[Stack::Express, Stack::Gunicorn]));
    }

    #[test]
    fn a_stack_is_named_only_when_it_is_not_the_hosts_default() {
        let express = Configuration::new(
            Tier::Tier3,
            Stack::Express,
            Mode::Cluster,
            Some(Engine::Fast),
            Some(2),
        );
        let fastify = Configuration::new(
            Tier::Tier3,
            Stack::Fastify,
            Mode::Cluster,
            Some(Engine::Fast),
            Some(2),
        );
        assert_eq!(express.names(), ["tier-3", "cluster", "fast"]);
        assert_eq!(fastify.names(), ["tier-3 (fastify)", "cluster", "fast"]);
        assert_eq!(
            (express.slug(), fastify.slug()),
            (
                "tier-3-cluster-fast".to_owned(),
                "tier-3-fastify-cluster-fast".to_owned()
            )
        );
        let granian = Configuration::new(Tier::PyTier0, Stack::Granian, Mode::Single, None, None);
        assert_eq!(granian.to_string(), "py-tier-0 (granian) single py");
        assert_eq!(granian.stack, Stack::Granian, "the server starts on it");
    }
}
