//! (e) Each row against its host's ceiling on the same stack: which ceiling that is (the chart's
//! ticks too), the share of its req/s the row reaches, and where the row's CPU per request goes
//! (host, core, boundary).

use qr_core::Engine;

use super::http_tables::counterpart;
use super::table::{Table, num};
use crate::model::{CallRow, Row};

/// The ceiling `r` is measured against: its host's ceiling on the same stack with the same engine
/// (tier-0, pure JS, against `article`, the nearer in PNG size); none if that did not run.
pub(super) fn ceiling_of<'a>(rows: &'a [Row], r: &Row) -> Option<&'a Row> {
    let c = &r.configuration;
    counterpart(
        rows,
        r,
        c.tier.ceiling(),
        Some(c.engine.unwrap_or(Engine::Article)),
    )
}

/// Where one request's server CPU goes, in µs: the host (its ceiling's CPU per request), the
/// core (timed per call in-process; tier-0's JS encoder is all that is left) and the boundary
/// (the rest: crossing into Rust, copies, processes, pipes; none for tier-0).
fn split(r: &Row, ceiling: &Row, core: &[CallRow]) -> (f64, f64, f64) {
    let total = r.cpu_us_per_request;
    let host = ceiling.cpu_us_per_request.min(total);
    let Some(engine) = r.configuration.engine else {
        return (host, total - host, f64::NAN);
    };
    let core_us = core
        .iter()
        .find(|c| c.engine == engine.name())
        .map_or(f64::NAN, |c| c.median_us.min(total - host));
    (host, core_us, total - host - core_us)
}

fn percent(part: f64, whole: f64) -> String {
    let p = 100.0 * part / whole;
    if p.is_finite() {
        format!("{p:.0}%")
    } else {
        "-".into()
    }
}

/// (e) Each row against its host's ceiling on the same stack: the share of the ceiling's req/s it
/// reaches, and where its CPU per request goes. `None` when no ceiling ran.
pub(super) fn ceiling_table(rows: &[Row], core: &[CallRow]) -> Option<Table> {
    let mut t = Table::new(&[
        "tier",
        "mode",
        "engine",
        "req/s",
        "ceiling req/s",
        "share of ceiling",
        "CPU µs/req",
        "host µs",
        "core µs",
        "boundary µs",
        "host / core / boundary",
    ]);
    for r in rows.iter().filter(|r| !r.configuration.tier.is_ceiling()) {
        let Some(ceiling) = ceiling_of(rows, r) else {
            continue;
        };
        let (host, core_us, boundary) = split(r, ceiling, core);
        let total = r.cpu_us_per_request;
        let [tier, mode, engine] = r.configuration.names();
        t.rows.push(vec![
            tier,
            mode,
            engine,
            num(r.m.requests_per_sec),
            format!(
                "{} ({})",
                num(ceiling.m.requests_per_sec),
                ceiling.configuration.mode
            ),
            percent(r.m.requests_per_sec, ceiling.m.requests_per_sec),
            num(total),
            num(host),
            num(core_us),
            num(boundary),
            format!(
                "{} / {} / {}",
                percent(host, total),
                percent(core_us, total),
                percent(boundary, total)
            ),
        ]);
    }
    (!t.rows.is_empty()).then_some(t)
}

#[cfg(test)]
mod tests {
    use qr_harness::{Stack, Tier};

    use super::*;
    use crate::model::fixtures::{cluster, cluster_on, rows, sample, single};

    #[test]
    fn rows_are_put_against_their_hosts_ceiling_with_the_same_engine() {
        let mut rows = rows();
        rows.extend([
            // CPU per request: 2 s over the requests served.
            Row::aggregate(
                single(Tier::RustCeiling, Engine::Fast),
                &[sample(8000.0, 100, 0)],
            ),
            Row::aggregate(
                single(Tier::RustCeiling, Engine::Article),
                &[sample(9000.0, 100, 0)],
            ),
            Row::aggregate(
                cluster(Tier::NodeCeiling, Some(Engine::Article)),
                &[sample(200.0, 50, 0)],
            ),
        ]);
        let core = [CallRow {
            median_us: 10_000.0,
            error: None,
            ..CallRow::failed("core", "fast", "default", "test", String::new())
        }];
        let t = ceiling_table(&rows, &core).unwrap();
        assert_eq!(t.rows.len(), 3, "ceilings get no row of their own");
        // tier-0 (JS) against the Node ceiling with the article engine; its encoder is the rest.
        assert_eq!(
            t.rows[0][4..],
            [
                "200 (cluster)",
                "50%",
                "200000",
                "40000",
                "160000",
                "-",
                "20% / 80% / -"
            ]
        );
        // tier-4 fast against the fast ceiling, in single mode though the row ran in cluster.
        assert_eq!(
            t.rows[2][4..],
            [
                "8000 (single)",
                "50%",
                "50000",
                "20000",
                "10000",
                "20000",
                "40% / 20% / 40%"
            ]
        );
        // No core timing for article: the split says so rather than guessing.
        assert_eq!(t.rows[1][8], "-");
        assert!(ceiling_table(&rows[..3], &core).is_none());
    }

    #[test]
    fn a_row_on_another_stack_is_put_against_that_stacks_ceiling() {
        let fast = Some(Engine::Fast);
        let rows = [
            // 2 s of CPU over the requests served.
            Row::aggregate(
                cluster(Tier::NodeCeiling, fast),
                &[sample(10_000.0, 100, 0)],
            ),
            Row::aggregate(
                cluster_on(Tier::NodeCeiling, Stack::Fastify, fast),
                &[sample(20_000.0, 200, 0)],
            ),
            Row::aggregate(
                cluster_on(Tier::Tier3, Stack::Fastify, fast),
                &[sample(5000.0, 50, 0)],
            ),
            Row::aggregate(cluster(Tier::Tier3, fast), &[sample(5000.0, 50, 0)]),
        ];
        let t = ceiling_table(&rows, &[]).unwrap();
        let cells: Vec<&[String]> = t.rows.iter().map(|r| &r[..8]).collect();
        assert_eq!(
            cells,
            [
                [
                    "tier-3 (fastify)",
                    "cluster",
                    "fast",
                    "5000",
                    "20000 (cluster)",
                    "25%",
                    "40000",
                    "10000"
                ],
                [
                    "tier-3",
                    "cluster",
                    "fast",
                    "5000",
                    "10000 (cluster)",
                    "50%",
                    "40000",
                    "20000"
                ],
            ]
        );
        // Without its own stack's ceiling a row has none: another stack's is another host.
        assert!(ceiling_of(&rows[1..], &rows[3]).is_none());
    }
}
