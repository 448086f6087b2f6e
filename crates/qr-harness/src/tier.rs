//! The names every launcher, test and report agrees on: the tiers of Rust adoption and the modes
//! of the Node.js host.

use std::fmt;
use std::str::FromStr;

/// A tier of Rust adoption: one way to serve `GET /qrcode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tier {
    /// Pure JS: npm `qrcode` inside express.
    Tier0,
    /// express spawns `qr-cli` once per request.
    Tier1,
    /// express calls the hand-written-ABI Wasm module.
    Tier2,
    /// express calls the wasm-bindgen module.
    Tier2Bindgen,
    /// express calls the napi-rs addon.
    Tier3,
    /// The whole server in Rust (axum).
    Tier4,
}

impl Tier {
    /// Every tier, in order.
    pub const ALL: &'static [Tier] = &[
        Tier::Tier0,
        Tier::Tier1,
        Tier::Tier2,
        Tier::Tier2Bindgen,
        Tier::Tier3,
        Tier::Tier4,
    ];

    /// The tier's name, as accepted by `FromStr` and printed by `Display`.
    pub fn name(self) -> &'static str {
        match self {
            Tier::Tier0 => "tier-0",
            Tier::Tier1 => "tier-1",
            Tier::Tier2 => "tier-2",
            Tier::Tier2Bindgen => "tier-2-bindgen",
            Tier::Tier3 => "tier-3",
            Tier::Tier4 => "tier-4",
        }
    }

    /// Whether the Node.js host serves this tier (all but tier-4).
    pub fn is_node(self) -> bool {
        self != Tier::Tier4
    }

    /// Whether the image comes from the Rust core (tiers 1 to 4), so its PNG bytes equal
    /// `qr_core::png`'s.
    pub fn uses_rust_core(self) -> bool {
        self != Tier::Tier0
    }
}

/// A mode of the Node.js host. Tier-4 ignores it: it is always one multi-threaded process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    /// One Node.js process.
    Single,
    /// A primary and N worker processes (`--workers`, default: one per CPU).
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
                "tier-2",
                "tier-2-bindgen",
                "tier-3",
                "tier-4"
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
    fn unknown_names_are_rejected_with_the_choices() {
        let err = "tier-5".parse::<Tier>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown tier \"tier-5\" (expected one of: tier-0, tier-1, tier-2, tier-2-bindgen, tier-3, tier-4)"
        );
        assert!("Tier-0".parse::<Tier>().is_err());
        assert_eq!(
            "multi".parse::<Mode>().unwrap_err().to_string(),
            "unknown mode \"multi\" (expected one of: single, cluster)"
        );
    }
}
