//! The names every launcher, test and report agrees on: the tiers of Rust adoption, the hosts and
//! the HTTP stacks each can run on, and the modes of the Node.js and Python hosts.

use std::fmt;
use std::str::FromStr;

/// A tier of Rust adoption: one way to serve `GET /qrcode`. The article's five tiers, the variants
/// a team builds next, and one ceiling per host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tier {
    /// Pure JS: npm `qrcode` inside the Node app (express or fastify, as every Node tier).
    Tier0,
    /// The Node app spawns `qr-cli` once per request.
    Tier1,
    /// The Node app talks to one long-lived `qr-cli --serve` per worker over framed stdin/stdout.
    Tier1Sidecar,
    /// The Node app calls the hand-written-ABI Wasm module.
    Tier2,
    /// The Node app calls the wasm-bindgen module.
    Tier2Bindgen,
    /// The Node app calls the napi-rs addon.
    Tier3,
    /// The Node app calls the napi-rs addon on libuv's thread pool (`generateAsync`).
    Tier3Async,
    /// The whole server in Rust (axum).
    Tier4,
    /// nginx routes `/qrcode` to tier 4 and every other path to the Node app (tier-0).
    Tier4Nginx,
    /// Not a tier: the Node app answering every valid `/qrcode` with one precomputed PNG, the most the
    /// Node host can serve when the QR work is free.
    NodeCeiling,
    /// Not a tier: qr-server (`--ceiling`) answering every valid `/qrcode` with one precomputed
    /// PNG, the most the Rust host can serve when the QR work is free.
    RustCeiling,
    /// Pure Python: the `qrcode` package (pypng) inside Flask (on gunicorn or granian).
    PyTier0,
    /// Flask spawns `qr-cli` once per request.
    PyTier1,
    /// Flask calls the hand-written-ABI Wasm module (tier-2's) through wasmtime.
    PyTier2,
    /// Flask calls the PyO3 extension, which releases the GIL while the core runs.
    PyTier3,
    /// Not a tier: Flask answering every valid `/qrcode` with one precomputed PNG, the most the
    /// Python host can serve when the QR work is free.
    PyCeiling,
}

/// The HTTP server a tier runs in: what its ceiling measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Host {
    /// Node.js, express or fastify (`node/server.js`).
    Node,
    /// Rust with axum (`qr-server`).
    Rust,
    /// Python, Flask on gunicorn or granian (`python -m rusty_qr`).
    Python,
}

impl Host {
    /// Every host, in order.
    pub const ALL: &'static [Host] = &[Host::Node, Host::Rust, Host::Python];

    /// The host's name (`node`, `rust`, `python`), as contract/cases.json's `hosts` write it.
    pub fn name(self) -> &'static str {
        match self {
            Host::Node => "node",
            Host::Rust => "rust",
            Host::Python => "python",
        }
    }

    /// The stacks this host runs on, its default first.
    pub fn stacks(self) -> &'static [Stack] {
        match self {
            Host::Node => &[Stack::Express, Stack::Fastify],
            Host::Rust => &[Stack::Axum],
            Host::Python => &[Stack::Gunicorn, Stack::Granian],
        }
    }

    /// The stack a host runs on unless told otherwise.
    pub fn default_stack(self) -> Stack {
        self.stacks()[0]
    }
}

/// The HTTP stack under a host's app: the Node framework, or the Python server under the Flask
/// app. The tiers do not know it; each host takes it as a flag (`--http`, `--server`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stack {
    /// express 5 on node:http (the Node host's default).
    Express,
    /// fastify 5 on the same node:http server (`node server.js --http fastify`).
    Fastify,
    /// axum on hyper and tokio (tier-4's only stack).
    Axum,
    /// Flask on gunicorn with the contract's own worker (the Python host's default).
    Gunicorn,
    /// Flask on granian, a Rust HTTP server, through WSGI (`python -m rusty_qr --server granian`).
    Granian,
}

impl Stack {
    /// Every stack, in order.
    pub const ALL: &'static [Stack] = &[
        Stack::Express,
        Stack::Fastify,
        Stack::Axum,
        Stack::Gunicorn,
        Stack::Granian,
    ];

    /// The stack's name, as the hosts' flags and contract/cases.json's `hosts` write it.
    pub fn name(self) -> &'static str {
        match self {
            Stack::Express => "express",
            Stack::Fastify => "fastify",
            Stack::Axum => "axum",
            Stack::Gunicorn => "gunicorn",
            Stack::Granian => "granian",
        }
    }

    /// The host that runs on this stack.
    pub fn host(self) -> Host {
        match self {
            Stack::Express | Stack::Fastify => Host::Node,
            Stack::Axum => Host::Rust,
            Stack::Gunicorn | Stack::Granian => Host::Python,
        }
    }

    /// Whether it is its host's default, which a command line need not name.
    pub fn is_default(self) -> bool {
        self.host().default_stack() == self
    }

    /// The host's flag that selects this stack (`--http fastify`), `None` for a default.
    pub fn flag(self) -> Option<[&'static str; 2]> {
        match self {
            _ if self.is_default() => None,
            Stack::Fastify => Some(["--http", "fastify"]),
            Stack::Granian => Some(["--server", "granian"]),
            _ => unreachable!("every stack but the defaults has a flag"),
        }
    }
}

/// The text whose PNG a ceiling serves for every request: its PNG is the median size of the
/// benchmark's targets for both engines (387 and 772 bytes). `node/tiers/node-ceiling.js` keeps
/// the same text; the conformance suite checks both ceilings' bytes against `qr_core::generate` of it.
pub const CEILING_TEXT: &str = "https://www.reddit.com/r/rust/top/?t=month";

impl Tier {
    /// Every tier, in order.
    pub const ALL: &'static [Tier] = &[
        Tier::Tier0,
        Tier::Tier1,
        Tier::Tier1Sidecar,
        Tier::Tier2,
        Tier::Tier2Bindgen,
        Tier::Tier3,
        Tier::Tier3Async,
        Tier::Tier4,
        Tier::Tier4Nginx,
        Tier::NodeCeiling,
        Tier::RustCeiling,
        Tier::PyTier0,
        Tier::PyTier1,
        Tier::PyTier2,
        Tier::PyTier3,
        Tier::PyCeiling,
    ];

    /// The tier's name, as accepted by `FromStr` and printed by `Display`.
    pub fn name(self) -> &'static str {
        match self {
            Tier::Tier0 => "tier-0",
            Tier::Tier1 => "tier-1",
            Tier::Tier1Sidecar => "tier-1-sidecar",
            Tier::Tier2 => "tier-2",
            Tier::Tier2Bindgen => "tier-2-bindgen",
            Tier::Tier3 => "tier-3",
            Tier::Tier3Async => "tier-3-async",
            Tier::Tier4 => "tier-4",
            Tier::Tier4Nginx => "tier-4-nginx",
            Tier::NodeCeiling => "node-ceiling",
            Tier::RustCeiling => "rust-ceiling",
            Tier::PyTier0 => "py-tier-0",
            Tier::PyTier1 => "py-tier-1",
            Tier::PyTier2 => "py-tier-2",
            Tier::PyTier3 => "py-tier-3",
            Tier::PyCeiling => "py-ceiling",
        }
    }

    /// The HTTP server that answers `/qrcode`.
    pub fn host(self) -> Host {
        match self {
            Tier::Tier4 | Tier::Tier4Nginx | Tier::RustCeiling => Host::Rust,
            Tier::PyTier0 | Tier::PyTier1 | Tier::PyTier2 | Tier::PyTier3 | Tier::PyCeiling => {
                Host::Python
            }
            _ => Host::Node,
        }
    }

    /// Whether `node/server.js` is the server process.
    pub fn is_node(self) -> bool {
        self.host() == Host::Node
    }

    /// Whether `--mode` applies: the Node and Python hosts run one process or one per CPU; tier-4
    /// is always one multi-threaded process.
    pub fn has_modes(self) -> bool {
        self.host() != Host::Rust
    }

    /// Whether the image comes from the Rust core, so its PNG bytes equal `qr_core::generate`'s
    /// (every tier but the pure ones; a ceiling serves the core's PNG of [`CEILING_TEXT`]).
    pub fn uses_rust_core(self) -> bool {
        !matches!(self, Tier::Tier0 | Tier::PyTier0)
    }

    /// Whether every valid request gets the PNG of [`CEILING_TEXT`] instead of its own text's.
    pub fn is_ceiling(self) -> bool {
        matches!(
            self,
            Tier::NodeCeiling | Tier::RustCeiling | Tier::PyCeiling
        )
    }

    /// The article's tier that this variant improves on (`None` for the article's own tiers
    /// and the ceilings).
    pub fn variant_of(self) -> Option<Tier> {
        match self {
            Tier::Tier1Sidecar => Some(Tier::Tier1),
            Tier::Tier3Async => Some(Tier::Tier3),
            Tier::Tier4Nginx => Some(Tier::Tier4),
            _ => None,
        }
    }

    /// The ceiling of this tier's host.
    pub fn ceiling(self) -> Tier {
        match self.host() {
            Host::Node => Tier::NodeCeiling,
            Host::Rust => Tier::RustCeiling,
            Host::Python => Tier::PyCeiling,
        }
    }
}

/// A mode of the Node.js and Python hosts. Tier-4 ignores it: it is always one multi-threaded
/// process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    /// One Node.js process; one Python worker process with a thread per CPU.
    Single,
    /// A primary and N worker processes (`--workers`, default: one per CPU); a Python worker has
    /// one thread.
    Cluster,
}

impl Mode {
    /// Every mode, in order.
    pub const ALL: &'static [Mode] = &[Mode::Single, Mode::Cluster];

    /// The mode's name, as accepted by `FromStr` and printed by `Display`.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Single => "single",
            Mode::Cluster => "cluster",
        }
    }
}

/// A name that [`Tier::from_str`] or [`Mode::from_str`] does not know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownName {
    kind: &'static str,
    name: String,
    expected: Vec<&'static str>,
}

impl fmt::Display for UnknownName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown {} {:?} (expected one of: {})",
            self.kind,
            self.name,
            self.expected.join(", ")
        )
    }
}

impl std::error::Error for UnknownName {}

macro_rules! named_enum {
    ($ty:ident, $kind:literal) => {
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.name())
            }
        }

        impl FromStr for $ty {
            type Err = UnknownName;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $ty::ALL
                    .iter()
                    .copied()
                    .find(|value| value.name() == s)
                    .ok_or_else(|| UnknownName {
                        kind: $kind,
                        name: s.to_owned(),
                        expected: $ty::ALL.iter().map(|value| value.name()).collect(),
                    })
            }
        }
    };
}

named_enum!(Tier, "tier");
named_enum!(Mode, "mode");
named_enum!(Host, "host");
named_enum!(Stack, "stack");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiers_and_modes_round_trip_through_their_names() {
        let names: Vec<String> = Tier::ALL.iter().map(Tier::to_string).collect();
        assert_eq!(
            names,
            [
                "tier-0",
                "tier-1",
                "tier-1-sidecar",
                "tier-2",
                "tier-2-bindgen",
                "tier-3",
                "tier-3-async",
                "tier-4",
                "tier-4-nginx",
                "node-ceiling",
                "rust-ceiling",
                "py-tier-0",
                "py-tier-1",
                "py-tier-2",
                "py-tier-3",
                "py-ceiling"
            ]
        );
        for &tier in Tier::ALL {
            assert_eq!(tier.name().parse::<Tier>(), Ok(tier));
        }
        for &mode in Mode::ALL {
            assert_eq!(mode.to_string().parse::<Mode>(), Ok(mode));
        }
        assert_eq!("cluster".parse::<Mode>(), Ok(Mode::Cluster));
    }

    #[test]
    fn every_tier_has_a_host_and_that_host_a_ceiling() {
        for &tier in Tier::ALL {
            let ceiling = tier.ceiling();
            assert!(
                ceiling.is_ceiling() && ceiling.host() == tier.host(),
                "{tier}"
            );
            assert_eq!(tier.is_node(), tier.host() == Host::Node, "{tier}");
        }
        assert_eq!(Tier::Tier4Nginx.ceiling(), Tier::RustCeiling);
        assert_eq!(Tier::Tier3Async.ceiling(), Tier::NodeCeiling);
        assert_eq!(Tier::PyTier3.ceiling(), Tier::PyCeiling);
        assert!(Tier::PyTier1.has_modes() && !Tier::PyTier1.is_node());
        assert!(Tier::Tier0.has_modes() && !Tier::Tier4.has_modes());
        assert!(!Tier::PyTier0.uses_rust_core() && Tier::PyTier2.uses_rust_core());
        assert!(!Tier::Tier4Nginx.is_node() && Tier::Tier1Sidecar.is_node());
        assert!(!Tier::Tier0.uses_rust_core() && Tier::NodeCeiling.uses_rust_core());
        assert_eq!(Tier::Tier1Sidecar.variant_of(), Some(Tier::Tier1));
        assert_eq!(Tier::Tier1.variant_of(), None);
    }

    #[test]
    fn every_host_has_its_default_stack_first_and_flags_for_the_others() {
        for &host in Host::ALL {
            assert!(host.default_stack().is_default(), "{host}");
            for &stack in host.stacks() {
                assert_eq!(stack.host(), host, "{stack}");
                assert_eq!(stack.flag().is_none(), stack.is_default(), "{stack}");
                assert_eq!(stack.name().parse::<Stack>(), Ok(stack));
            }
        }
        let listed: usize = Host::ALL.iter().map(|host| host.stacks().len()).sum();
        assert_eq!(listed, Stack::ALL.len());
        assert_eq!(Stack::Fastify.flag(), Some(["--http", "fastify"]));
        assert_eq!(Stack::Granian.flag(), Some(["--server", "granian"]));
        assert_eq!(Host::Python.default_stack(), Stack::Gunicorn);
    }

    #[test]
    fn unknown_names_are_rejected_with_the_choices() {
        let err = "tier-5".parse::<Tier>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown tier \"tier-5\" (expected one of: tier-0, tier-1, tier-1-sidecar, tier-2, \
             tier-2-bindgen, tier-3, tier-3-async, tier-4, tier-4-nginx, node-ceiling, rust-ceiling, \
             py-tier-0, py-tier-1, py-tier-2, py-tier-3, py-ceiling)"
        );
        assert!("Tier-0".parse::<Tier>().is_err());
        assert_eq!(
            "multi".parse::<Mode>().unwrap_err().to_string(),
            "unknown mode \"multi\" (expected one of: single, cluster)"
        );
    }
}
