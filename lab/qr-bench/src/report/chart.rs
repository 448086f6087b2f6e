//! chart.svg, README width: one group per tier and mode with its engines side by side, on a log
//! axis so that a 700 req/s bar and a 30,000 req/s bar both read; each bar's host ceiling (the same
//! engine's) is a black tick above it. Below, peak memory per bar. plotters, SVG backend only.

use anyhow::{Result, anyhow};
use plotters::coord::{CoordTranslate, Shift};
use plotters::prelude::*;

use super::ceiling_table::ceiling_of;
use super::table::num;
use crate::model::Row;

/// The chart's size in pixels: wide enough for every group at README width.
const SIZE: (u32, u32) = (960, 820);

const INVALID: RGBColor = RGBColor(150, 150, 150);
const RSS: RGBColor = RGBColor(0xd6, 0xd6, 0xd6);

/// A bar's colour by engine: the pure tiers' JS and Python, then the Rust engines.
fn engine_color(engine: &str) -> RGBColor {
    match engine {
        "js" | "py" => RGBColor(0x6a, 0x9a, 0x4a),
        "article" => RGBColor(0xd0, 0x7a, 0x2a),
        _ => RGBColor(0x2f, 0x6f, 0xb0),
    }
}

/// One bar: where it sits on the x axis, and its row.
struct Bar<'a> {
    x: f64,
    width: f64,
    row: &'a Row,
}

/// The groups' labels ("1-sidecar cl": the tier column without "tier-", mode initials;
/// "3 (fastify) cl": a stack not the host's default; "4": the Rust host has no mode) and every
/// bar, in row order. Ceilings are not bars: they are ticks.
fn layout(rows: &[Row]) -> (Vec<String>, Vec<Bar<'_>>) {
    let mut groups: Vec<(String, Vec<&Row>)> = Vec::new();
    for row in rows.iter().filter(|r| !r.configuration.tier.is_ceiling()) {
        let c = &row.configuration;
        let tier_label = c.tier_label();
        let tier = tier_label.trim_start_matches("tier-");
        let label = if c.tier.has_modes() {
            format!("{tier} {}", &c.mode.name()[..2])
        } else {
            tier.to_owned()
        };
        match groups.iter_mut().find(|(l, _)| *l == label) {
            Some((_, members)) => members.push(row),
            None => groups.push((label, vec![row])),
        }
    }
    let mut bars = Vec::new();
    for (i, (_, members)) in groups.iter().enumerate() {
        let width = 0.8 / members.len() as f64;
        for (j, row) in members.iter().enumerate() {
            let x = i as f64 + 0.1 + j as f64 * width;
            bars.push(Bar { x, width, row });
        }
    }
    (groups.into_iter().map(|(l, _)| l).collect(), bars)
}

fn finite(v: f64) -> f64 {
    if v.is_finite() { v } else { 0.0 }
}

/// A rectangle from `bottom` to `top` over `bar`, `inset` of its width trimmed on each side.
fn rect(bar: &Bar, inset: f64, bottom: f64, top: f64, color: RGBColor) -> Rectangle<(f64, f64)> {
    let pad = bar.width * inset;
    Rectangle::new(
        [(bar.x + pad, bottom), (bar.x + bar.width - pad, top)],
        color.filled(),
    )
}

/// The throughput panel: log req/s, value above each bar, the host ceiling as a tick.
fn throughput(
    area: &DrawingArea<SVGBackend, Shift>,
    rows: &[Row],
    groups: &[String],
    bars: &[Bar],
) -> Result<()> {
    let err = |e: &dyn std::fmt::Display| anyhow!("drawing chart: {e}");
    let values = rows
        .iter()
        .map(|r| r.m.requests_per_sec)
        .filter(|v| *v > 0.0);
    let max = values.clone().fold(1.0, f64::max);
    let min = values.fold(max, f64::min);
    let (lo, hi) = (
        10f64.powf((min / 2.0).log10().floor()),
        10f64.powf((max * 1.5).log10().ceil()),
    );
    let n = groups.len().max(1);
    let mut chart = ChartBuilder::on(area)
        .caption(
            "throughput, req/s (log scale; black tick: the host's ceiling)",
            ("sans-serif", 16),
        )
        .margin(10)
        .x_label_area_size(28)
        .y_label_area_size(56)
        .build_cartesian_2d(0f64..n as f64, (lo..hi).log_scale())
        .map_err(|e| err(&e))?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .y_label_formatter(&|v| num(*v))
        .y_desc("req/s")
        .draw()
        .map_err(|e| err(&e))?;
    label_groups(&mut chart, groups, lo)?;
    let color = |r: &Row| {
        if r.valid {
            engine_color(r.configuration.engine_name())
        } else {
            INVALID
        }
    };
    chart
        .draw_series(bars.iter().map(|b| {
            rect(
                b,
                0.06,
                lo,
                finite(b.row.m.requests_per_sec).max(lo),
                color(b.row),
            )
        }))
        .map_err(|e| err(&e))?;
    chart
        .draw_series(bars.iter().filter_map(|b| {
            let ceiling = ceiling_of(rows, b.row)?.m.requests_per_sec;
            let y = ceiling.is_finite().then_some(ceiling)?;
            Some(PathElement::new(
                [(b.x, y), (b.x + b.width, y)],
                BLACK.stroke_width(3),
            ))
        }))
        .map_err(|e| err(&e))?;
    chart
        .draw_series(bars.iter().map(|b| {
            let v = b.row.m.requests_per_sec;
            EmptyElement::at((b.x + b.width / 2.0, finite(v).max(lo)))
                + Text::new(short(v), (-10, -14), ("sans-serif", 11).into_font())
        }))
        .map_err(|e| err(&e))?;
    Ok(())
}

/// The memory panel: peak PSS (dark) over peak RSS (light), MB.
fn memory(area: &DrawingArea<SVGBackend, Shift>, groups: &[String], bars: &[Bar]) -> Result<()> {
    let err = |e: &dyn std::fmt::Display| anyhow!("drawing chart: {e}");
    let max = bars
        .iter()
        .map(|b| finite(b.row.m.memory_rss_max_mb))
        .fold(1.0, f64::max);
    let n = groups.len().max(1);
    let mut chart = ChartBuilder::on(area)
        .caption(
            "peak memory of the process tree, MB (light: RSS, colour: PSS)",
            ("sans-serif", 16),
        )
        .margin(10)
        .x_label_area_size(28)
        .y_label_area_size(56)
        .build_cartesian_2d(0f64..n as f64, 0.0..max * 1.15)
        .map_err(|e| err(&e))?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .y_label_formatter(&|v| format!("{v:.0}"))
        .y_desc("MB")
        .draw()
        .map_err(|e| err(&e))?;
    label_groups(&mut chart, groups, 0.0)?;
    chart
        .draw_series(
            bars.iter()
                .map(|b| rect(b, 0.06, 0.0, finite(b.row.m.memory_rss_max_mb), RSS)),
        )
        .map_err(|e| err(&e))?;
    chart
        .draw_series(bars.iter().map(|b| {
            let color = engine_color(b.row.configuration.engine_name());
            rect(b, 0.22, 0.0, finite(b.row.m.memory_pss_max_mb), color)
        }))
        .map_err(|e| err(&e))?;
    chart
        .draw_series(bars.iter().map(|b| {
            let v = b.row.m.memory_pss_max_mb;
            EmptyElement::at((b.x + b.width / 2.0, finite(v)))
                + Text::new(num(v), (-8, -14), ("sans-serif", 11).into_font())
        }))
        .map_err(|e| err(&e))?;
    Ok(())
}

/// Draws each group's label under its bars, centred (about 7 px per character at this size).
fn label_groups<DB: DrawingBackend, CT: CoordTranslate<From = (f64, f64)>>(
    chart: &mut ChartContext<'_, DB, CT>,
    groups: &[String],
    bottom: f64,
) -> Result<()> {
    chart
        .draw_series(groups.iter().enumerate().map(|(i, label)| {
            let half = (label.len() * 7 / 2) as i32;
            EmptyElement::at((i as f64 + 0.5, bottom))
                + Text::new(label.clone(), (-half, 8), ("sans-serif", 13).into_font())
        }))
        .map_err(|e| anyhow!("drawing chart: {e}"))?;
    Ok(())
}

/// A bar's value in at most four characters: 712, 7.2k, 31k.
fn short(v: f64) -> String {
    if !v.is_finite() {
        "-".into()
    } else if v >= 9_999.5 {
        format!("{:.0}k", v / 1000.0)
    } else if v >= 999.5 {
        format!("{:.1}k", v / 1000.0)
    } else {
        format!("{v:.0}")
    }
}

/// The legend: a swatch per engine that appears, and the ceiling tick.
fn legend(area: &DrawingArea<SVGBackend, Shift>, bars: &[Bar]) -> Result<()> {
    let err = |e: &dyn std::fmt::Display| anyhow!("drawing chart: {e}");
    let mut engines: Vec<&str> = bars
        .iter()
        .map(|b| b.row.configuration.engine_name())
        .collect();
    engines.dedup();
    engines.sort_unstable();
    engines.dedup();
    let font = ("sans-serif", 13).into_font();
    let mut x = 70;
    for engine in engines {
        area.draw(&Rectangle::new(
            [(x, 6), (x + 14, 20)],
            engine_color(engine).filled(),
        ))
        .map_err(|e| err(&e))?;
        area.draw(&Text::new(engine.to_owned(), (x + 20, 7), font.clone()))
            .map_err(|e| err(&e))?;
        x += 110;
    }
    area.draw(&PathElement::new(
        [(x, 13), (x + 16, 13)],
        BLACK.stroke_width(3),
    ))
    .map_err(|e| err(&e))?;
    area.draw(&Text::new(
        "the host's ceiling (same engine)",
        (x + 22, 7),
        font,
    ))
    .map_err(|e| err(&e))?;
    Ok(())
}

/// Renders the chart into an SVG string. Invalid rows' throughput is drawn grey.
pub fn render_svg(rows: &[Row], title: &str) -> Result<String> {
    let (groups, bars) = layout(rows);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        let err = |e: &dyn std::fmt::Display| anyhow!("drawing chart: {e}");
        root.fill(&WHITE).map_err(|e| err(&e))?;
        let root = root
            .titled(title, ("sans-serif", 18))
            .map_err(|e| err(&e))?;
        let (key, rest) = root.split_vertically(28);
        let (top, bottom) = rest.split_vertically(460);
        legend(&key, &bars)?;
        throughput(&top, rows, &groups, &bars)?;
        memory(&bottom, &groups, &bars)?;
        root.present().map_err(|e| err(&e))?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use qr_core::Engine;
    use qr_harness::{Mode, Stack, Tier};

    use super::*;
    use crate::model::{Configuration, Measured, RunSample};

    fn row(tier: Tier, mode: Mode, engine: Option<Engine>, rps: f64) -> Row {
        row_on(tier.host().default_stack(), tier, mode, engine, rps)
    }

    fn row_on(stack: Stack, tier: Tier, mode: Mode, engine: Option<Engine>, rps: f64) -> Row {
        Row::aggregate(
            Configuration::new(tier, stack, mode, engine, None),
            &[RunSample {
                m: Measured {
                    requests_per_sec: rps,
                    memory_rss_max_mb: 50.0 + rps / 1000.0,
                    memory_pss_max_mb: 30.0,
                    requests_ok: 10,
                    ..Measured::default()
                },
                processes_max: 1,
                server_exit_ok: true,
                fixed_rate: None,
            }],
        )
    }

    /// A run shaped like the committed one: groups, engines, ceilings.
    fn rows() -> Vec<Row> {
        use Engine::{Article, Fast};
        let (cl, si) = (Mode::Cluster, Mode::Single);
        vec![
            row(Tier::Tier0, cl, None, 789.0),
            row(Tier::Tier1, cl, Some(Article), 529.0),
            row(Tier::Tier1, cl, Some(Fast), 681.0),
            row(Tier::Tier3, cl, Some(Article), 2871.0),
            row(Tier::Tier3, cl, Some(Fast), 11457.0),
            row(Tier::Tier4, si, Some(Article), 2630.0),
            row(Tier::Tier4, si, Some(Fast), 31027.0),
            row(Tier::NodeCeiling, cl, Some(Article), 14100.0),
            row(Tier::NodeCeiling, cl, Some(Fast), 14500.0),
            row(Tier::RustCeiling, si, Some(Article), 41000.0),
            row(Tier::RustCeiling, si, Some(Fast), 42000.0),
        ]
    }

    #[test]
    fn groups_hold_a_tiers_engines_and_ceilings_are_ticks_not_bars() {
        let rows = rows();
        let (groups, bars) = layout(&rows);
        assert_eq!(groups, ["0 cl", "1 cl", "3 cl", "4"]);
        assert_eq!(bars.len(), 7);
        // tier-1's two engines share group 1, side by side.
        assert!((bars[1].x - 1.1).abs() < 1e-9 && (bars[2].x - 1.5).abs() < 1e-9);
        let svg = render_svg(&rows, "rusty-qr").unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..80]);
        let text = |v: &str| svg.contains(&format!("\n{v}\n</text>"));
        assert!(text("0 cl") && text("1 cl") && text("4"), "group labels");
        assert!(
            text("789") && text("31k") && text("2.6k"),
            "values above the bars"
        );
        assert!(!text("42k"), "a ceiling is not a bar");
        // 7 throughput bars, 7 RSS and 7 PSS bars, the legend's 3 swatches, the background.
        assert!(
            svg.matches("<rect").count() >= 7 * 3 + 3,
            "{}",
            svg.matches("<rect").count()
        );
        // Black ticks: one per bar with a ceiling (tier-0's against article), and the legend's.
        assert_eq!(
            svg.matches(r##"stroke="#000000" stroke-width="3""##)
                .count(),
            7 + 1
        );
        // One row, and no ceiling at all, draw too.
        render_svg(&rows[..1], "one").unwrap();
    }

    #[test]
    fn a_tier_on_another_stack_is_its_own_group_with_its_own_stacks_ceiling() {
        let (cl, fast) = (Mode::Cluster, Some(Engine::Fast));
        let rows = vec![
            row(Tier::Tier3, cl, fast, 11457.0),
            row_on(Stack::Fastify, Tier::Tier3, cl, fast, 12000.0),
            row(Tier::NodeCeiling, cl, fast, 14500.0),
            row_on(Stack::Fastify, Tier::NodeCeiling, cl, fast, 30000.0),
        ];
        let (groups, bars) = layout(&rows);
        assert_eq!(groups, ["3 cl", "3 (fastify) cl"]);
        let ceilings: Vec<f64> = bars
            .iter()
            .map(|b| ceiling_of(&rows, b.row).unwrap().m.requests_per_sec)
            .collect();
        assert_eq!(ceilings, [14500.0, 30000.0]);
    }

    #[test]
    fn bar_values_are_short() {
        assert_eq!(short(712.4), "712");
        assert_eq!(short(7212.0), "7.2k");
        assert_eq!(short(31027.0), "31k");
        assert_eq!(short(f64::NAN), "-");
    }
}
