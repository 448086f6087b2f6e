//! Which configurations the suite runs: one test per tier, mode, engine and stack (the list that
//! `every_engine_of_every_tier_mode_and_stack_is_run` holds complete), and the `RUSTY_QR_TIERS`
//! selection among them.

use qr_core::Engine;
use qr_harness::{Mode, ServerSpec, Stack, Tier};

use crate::conformance;

/// The configurations `RUSTY_QR_TIERS` selects (`tier-0:single,tier-4,tier-3@fastify`: a tier,
/// optionally a mode and a stack; an entry without a stack selects every stack; unset or empty:
/// all).
pub fn selected(selection: &str, spec: &ServerSpec) -> bool {
    let selection = selection.trim();
    if selection.is_empty() {
        return true;
    }
    selection
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .any(|entry| {
            let (entry, stack_name) = match entry.split_once('@') {
                Some((rest, stack)) => (rest, Some(stack)),
                None => (entry, None),
            };
            let (tier_name, mode_name) = match entry.split_once(':') {
                Some((t, m)) => (t, Some(m)),
                None => (entry, None),
            };
            let wanted_tier: Tier = parse("tier", tier_name);
            let wanted_mode: Option<Mode> = mode_name.map(|m| parse("mode", m));
            let wanted_stack: Option<Stack> = stack_name.map(|s| parse("stack", s));
            // Tier-4 has no modes: `tier-4` and `tier-4:single` both select it.
            wanted_tier == spec.tier
                && (!spec.tier.has_modes() || wanted_mode.is_none_or(|m| m == spec.mode))
                && wanted_stack.is_none_or(|s| s == spec.stack)
        })
}

/// One name of a `RUSTY_QR_TIERS` entry; a name it does not know panics with the choices.
fn parse<T: std::str::FromStr<Err = qr_harness::UnknownName>>(kind: &str, name: &str) -> T {
    name.parse()
        .unwrap_or_else(|e| panic!("RUSTY_QR_TIERS: {kind} {name:?}: {e}"))
}

/// One test per configuration, and [`CONFIGURATIONS`], the list of what they run.
macro_rules! tiers {
    ($($name:ident: $tier:ident $mode:ident $engine:ident $stack:ident;)*) => {
        $(
            #[test]
            #[ignore = "needs `cargo xtask build`; run by `cargo xtask test`"]
            fn $name() {
                conformance(Tier::$tier, Mode::$mode, $engine, Stack::$stack);
            }
        )*
        const CONFIGURATIONS: &[(Tier, Mode, Option<Engine>, Stack)] =
            &[$((Tier::$tier, Mode::$mode, $engine, Stack::$stack)),*];
    };
}

const ARTICLE: Option<Engine> = Some(Engine::Article);
const FAST: Option<Engine> = Some(Engine::Fast);

tiers! {
    tier_0_single: Tier0 Single None Express;
    tier_0_cluster: Tier0 Cluster None Express;
    tier_1_single_article: Tier1 Single ARTICLE Express;
    tier_1_single_fast: Tier1 Single FAST Express;
    tier_1_cluster_article: Tier1 Cluster ARTICLE Express;
    tier_1_cluster_fast: Tier1 Cluster FAST Express;
    tier_1_sidecar_single_article: Tier1Sidecar Single ARTICLE Express;
    tier_1_sidecar_single_fast: Tier1Sidecar Single FAST Express;
    tier_1_sidecar_cluster_article: Tier1Sidecar Cluster ARTICLE Express;
    tier_1_sidecar_cluster_fast: Tier1Sidecar Cluster FAST Express;
    tier_2_single_article: Tier2 Single ARTICLE Express;
    tier_2_single_fast: Tier2 Single FAST Express;
    tier_2_cluster_article: Tier2 Cluster ARTICLE Express;
    tier_2_cluster_fast: Tier2 Cluster FAST Express;
    tier_2_bindgen_single_article: Tier2Bindgen Single ARTICLE Express;
    tier_2_bindgen_single_fast: Tier2Bindgen Single FAST Express;
    tier_2_bindgen_cluster_article: Tier2Bindgen Cluster ARTICLE Express;
    tier_2_bindgen_cluster_fast: Tier2Bindgen Cluster FAST Express;
    tier_3_single_article: Tier3 Single ARTICLE Express;
    tier_3_single_fast: Tier3 Single FAST Express;
    tier_3_cluster_article: Tier3 Cluster ARTICLE Express;
    tier_3_cluster_fast: Tier3 Cluster FAST Express;
    tier_3_async_single_article: Tier3Async Single ARTICLE Express;
    tier_3_async_single_fast: Tier3Async Single FAST Express;
    tier_3_async_cluster_article: Tier3Async Cluster ARTICLE Express;
    tier_3_async_cluster_fast: Tier3Async Cluster FAST Express;
    tier_4_article: Tier4 Single ARTICLE Axum;
    tier_4_fast: Tier4 Single FAST Axum;
    tier_4_nginx_article: Tier4Nginx Single ARTICLE Axum;
    tier_4_nginx_fast: Tier4Nginx Single FAST Axum;
    node_ceiling_single_article: NodeCeiling Single ARTICLE Express;
    node_ceiling_single_fast: NodeCeiling Single FAST Express;
    node_ceiling_cluster_article: NodeCeiling Cluster ARTICLE Express;
    node_ceiling_cluster_fast: NodeCeiling Cluster FAST Express;
    rust_ceiling_article: RustCeiling Single ARTICLE Axum;
    rust_ceiling_fast: RustCeiling Single FAST Axum;
    py_tier_0_single: PyTier0 Single None Gunicorn;
    py_tier_0_cluster: PyTier0 Cluster None Gunicorn;
    py_tier_1_single_article: PyTier1 Single ARTICLE Gunicorn;
    py_tier_1_single_fast: PyTier1 Single FAST Gunicorn;
    py_tier_1_cluster_article: PyTier1 Cluster ARTICLE Gunicorn;
    py_tier_1_cluster_fast: PyTier1 Cluster FAST Gunicorn;
    py_tier_2_single_article: PyTier2 Single ARTICLE Gunicorn;
    py_tier_2_single_fast: PyTier2 Single FAST Gunicorn;
    py_tier_2_cluster_article: PyTier2 Cluster ARTICLE Gunicorn;
    py_tier_2_cluster_fast: PyTier2 Cluster FAST Gunicorn;
    py_tier_3_single_article: PyTier3 Single ARTICLE Gunicorn;
    py_tier_3_single_fast: PyTier3 Single FAST Gunicorn;
    py_tier_3_cluster_article: PyTier3 Cluster ARTICLE Gunicorn;
    py_tier_3_cluster_fast: PyTier3 Cluster FAST Gunicorn;
    py_ceiling_single_article: PyCeiling Single ARTICLE Gunicorn;
    py_ceiling_single_fast: PyCeiling Single FAST Gunicorn;
    py_ceiling_cluster_article: PyCeiling Cluster ARTICLE Gunicorn;
    py_ceiling_cluster_fast: PyCeiling Cluster FAST Gunicorn;
    tier_0_single_fastify: Tier0 Single None Fastify;
    tier_0_cluster_fastify: Tier0 Cluster None Fastify;
    tier_1_single_article_fastify: Tier1 Single ARTICLE Fastify;
    tier_1_single_fast_fastify: Tier1 Single FAST Fastify;
    tier_1_cluster_article_fastify: Tier1 Cluster ARTICLE Fastify;
    tier_1_cluster_fast_fastify: Tier1 Cluster FAST Fastify;
    tier_1_sidecar_single_article_fastify: Tier1Sidecar Single ARTICLE Fastify;
    tier_1_sidecar_single_fast_fastify: Tier1Sidecar Single FAST Fastify;
    tier_1_sidecar_cluster_article_fastify: Tier1Sidecar Cluster ARTICLE Fastify;
    tier_1_sidecar_cluster_fast_fastify: Tier1Sidecar Cluster FAST Fastify;
    tier_2_single_article_fastify: Tier2 Single ARTICLE Fastify;
    tier_2_single_fast_fastify: Tier2 Single FAST Fastify;
    tier_2_cluster_article_fastify: Tier2 Cluster ARTICLE Fastify;
    tier_2_cluster_fast_fastify: Tier2 Cluster FAST Fastify;
    tier_2_bindgen_single_article_fastify: Tier2Bindgen Single ARTICLE Fastify;
    tier_2_bindgen_single_fast_fastify: Tier2Bindgen Single FAST Fastify;
    tier_2_bindgen_cluster_article_fastify: Tier2Bindgen Cluster ARTICLE Fastify;
    tier_2_bindgen_cluster_fast_fastify: Tier2Bindgen Cluster FAST Fastify;
    tier_3_single_article_fastify: Tier3 Single ARTICLE Fastify;
    tier_3_single_fast_fastify: Tier3 Single FAST Fastify;
    tier_3_cluster_article_fastify: Tier3 Cluster ARTICLE Fastify;
    tier_3_cluster_fast_fastify: Tier3 Cluster FAST Fastify;
    tier_3_async_single_article_fastify: Tier3Async Single ARTICLE Fastify;
    tier_3_async_single_fast_fastify: Tier3Async Single FAST Fastify;
    tier_3_async_cluster_article_fastify: Tier3Async Cluster ARTICLE Fastify;
    tier_3_async_cluster_fast_fastify: Tier3Async Cluster FAST Fastify;
    node_ceiling_single_article_fastify: NodeCeiling Single ARTICLE Fastify;
    node_ceiling_single_fast_fastify: NodeCeiling Single FAST Fastify;
    node_ceiling_cluster_article_fastify: NodeCeiling Cluster ARTICLE Fastify;
    node_ceiling_cluster_fast_fastify: NodeCeiling Cluster FAST Fastify;
    py_tier_0_single_granian: PyTier0 Single None Granian;
    py_tier_0_cluster_granian: PyTier0 Cluster None Granian;
    py_tier_1_single_article_granian: PyTier1 Single ARTICLE Granian;
    py_tier_1_single_fast_granian: PyTier1 Single FAST Granian;
    py_tier_1_cluster_article_granian: PyTier1 Cluster ARTICLE Granian;
    py_tier_1_cluster_fast_granian: PyTier1 Cluster FAST Granian;
    py_tier_2_single_article_granian: PyTier2 Single ARTICLE Granian;
    py_tier_2_single_fast_granian: PyTier2 Single FAST Granian;
    py_tier_2_cluster_article_granian: PyTier2 Cluster ARTICLE Granian;
    py_tier_2_cluster_fast_granian: PyTier2 Cluster FAST Granian;
    py_tier_3_single_article_granian: PyTier3 Single ARTICLE Granian;
    py_tier_3_single_fast_granian: PyTier3 Single FAST Granian;
    py_tier_3_cluster_article_granian: PyTier3 Cluster ARTICLE Granian;
    py_tier_3_cluster_fast_granian: PyTier3 Cluster FAST Granian;
    py_ceiling_single_article_granian: PyCeiling Single ARTICLE Granian;
    py_ceiling_single_fast_granian: PyCeiling Single FAST Granian;
    py_ceiling_cluster_article_granian: PyCeiling Cluster ARTICLE Granian;
    py_ceiling_cluster_fast_granian: PyCeiling Cluster FAST Granian;
}

#[test]
fn every_engine_of_every_tier_mode_and_stack_is_run() {
    let mut expected = Vec::new();
    for &tier in Tier::ALL {
        let modes: &[Mode] = if tier.has_modes() {
            Mode::ALL
        } else {
            &[Mode::Single]
        };
        let engines: Vec<Option<Engine>> = if tier.uses_rust_core() {
            Engine::ALL.iter().copied().map(Some).collect()
        } else {
            vec![None]
        };
        for &mode in modes {
            for &engine in &engines {
                for &stack in tier.host().stacks() {
                    expected.push((tier, mode, engine, stack));
                }
            }
        }
    }
    let mut listed = CONFIGURATIONS.to_vec();
    let key = |&(tier, mode, engine, stack): &(Tier, Mode, Option<Engine>, Stack)| {
        (
            tier.name(),
            mode.name(),
            engine.map(Engine::name),
            stack.name(),
        )
    };
    listed.sort_by_key(key);
    expected.sort_by_key(key);
    assert_eq!(listed, expected);
}

#[test]
fn rusty_qr_tiers_selects_configurations() {
    let spec = |tier, mode| ServerSpec::new(tier, mode);
    assert!(selected("", &spec(Tier::Tier3, Mode::Cluster)));
    let selection = "tier-0:single, tier-4,tier-2-bindgen";
    assert!(selected(selection, &spec(Tier::Tier0, Mode::Single)));
    assert!(!selected(selection, &spec(Tier::Tier0, Mode::Cluster)));
    assert!(selected(selection, &spec(Tier::Tier4, Mode::Single)));
    assert!(selected(
        selection,
        &spec(Tier::Tier2Bindgen, Mode::Cluster)
    ));
    assert!(!selected(selection, &spec(Tier::Tier2, Mode::Single)));
    assert!(selected("tier-4:single", &spec(Tier::Tier4, Mode::Single)));

    let fastify = spec(Tier::Tier3, Mode::Single).on(Stack::Fastify);
    assert!(selected("tier-3", &fastify) && selected("tier-3:single@fastify", &fastify));
    assert!(selected("tier-3@fastify", &fastify));
    assert!(!selected("tier-3@express", &fastify));
    assert!(!selected(
        "tier-3@fastify",
        &spec(Tier::Tier3, Mode::Single)
    ));
}

#[test]
#[should_panic(expected = "RUSTY_QR_TIERS: tier \"tier-9\": unknown tier \"tier-9\"")]
fn rusty_qr_tiers_rejects_unknown_names() {
    selected("tier-9", &ServerSpec::new(Tier::Tier0, Mode::Single));
}
