//! chart.svg: throughput and memory per row, one above the other (plotters, SVG backend only).

use anyhow::{Result, anyhow};
use plotters::prelude::*;

use super::table::num;
use crate::model::Row;

/// A short bar label: "2-bindgen cl article" -> tier number, mode initials, engine.
fn short_label(r: &Row) -> String {
    let [tier, mode, engine] = r.configuration.names();
    let tier = tier.trim_start_matches("tier-");
    let mode: String = mode.chars().take(2).collect();
    format!("{tier} {mode} {engine}")
}

const BAR: RGBColor = RGBColor(0x2f, 0x6f, 0xb0);
const INVALID: RGBColor = RGBColor(150, 150, 150);
const RSS: RGBColor = RGBColor(0xb8, 0xcf, 0xe6);
const PSS: RGBColor = RGBColor(0xc0, 0x50, 0x30);

/// One set of bars: a value and a colour per row, and the bar's side margin in pixels.
struct Layer {
    values: Vec<f64>,
    colors: Vec<RGBColor>,
    margin: u32,
    /// Print each value above its bar.
    labelled: bool,
}

fn finite(v: f64) -> f64 {
    if v.is_finite() { v } else { 0.0 }
}

/// One bar chart, a segment per row, the layers drawn over each other in order.
fn panel(
    area: &DrawingArea<SVGBackend, plotters::coord::Shift>,
    caption: &str,
    y_desc: &str,
    labels: &[String],
    layers: &[Layer],
) -> Result<()> {
    let err = |e: &dyn std::fmt::Display| anyhow!("drawing chart: {e}");
    let n = labels.len().max(1);
    let y_max = layers
        .iter()
        .flat_map(|l| l.values.iter().copied().map(finite))
        .fold(1.0, f64::max);
    let mut chart = ChartBuilder::on(area)
        .caption(caption, ("sans-serif", 16))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        // A discrete i32 range includes its end: 0..n-1 is n segments.
        .build_cartesian_2d((0..n as i32 - 1).into_segmented(), 0.0..y_max * 1.12)
        .map_err(|e| err(&e))?;
    let fmt = |v: &SegmentValue<i32>| match v {
        SegmentValue::CenterOf(i) => labels.get(*i as usize).cloned().unwrap_or_default(),
        _ => String::new(),
    };
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(n)
        .x_label_formatter(&fmt)
        .y_label_formatter(&|v| format!("{v:.0}"))
        .light_line_style(WHITE)
        .y_desc(y_desc)
        .draw()
        .map_err(|e| err(&e))?;
    for layer in layers {
        chart
            .draw_series(layer.values.iter().zip(&layer.colors).enumerate().map(
                |(i, (&v, color))| {
                    let i = i as i32;
                    let mut bar = Rectangle::new(
                        [
                            (SegmentValue::Exact(i), 0.0),
                            (SegmentValue::Exact(i + 1), finite(v)),
                        ],
                        color.filled(),
                    );
                    bar.set_margin(0, 0, layer.margin, layer.margin);
                    bar
                },
            ))
            .map_err(|e| err(&e))?;
        if layer.labelled {
            chart
                .draw_series(layer.values.iter().enumerate().map(|(i, &v)| {
                    EmptyElement::at((SegmentValue::CenterOf(i as i32), finite(v)))
                        + Text::new(num(v), (-12, -16), ("sans-serif", 13).into_font())
                }))
                .map_err(|e| err(&e))?;
        }
    }
    Ok(())
}

/// Renders the chart into an SVG string. Invalid rows' throughput is drawn grey.
pub fn render_svg(rows: &[Row], title: &str) -> Result<String> {
    let n = rows.len().max(1) as u32;
    let width = (140 + 110 * n).clamp(640, 2400);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, 860)).into_drawing_area();
        let err = |e: &dyn std::fmt::Display| anyhow!("drawing chart: {e}");
        root.fill(&WHITE).map_err(|e| err(&e))?;
        let root = root
            .titled(title, ("sans-serif", 20))
            .map_err(|e| err(&e))?;
        let (top, bottom) = root.split_vertically(410);
        let labels: Vec<String> = rows.iter().map(short_label).collect();
        let column = |f: fn(&Row) -> f64| rows.iter().map(f).collect::<Vec<f64>>();
        let same = |c: RGBColor| vec![c; rows.len()];
        panel(
            &top,
            "throughput req/s",
            "req/s",
            &labels,
            &[Layer {
                values: column(|r| r.m.requests_per_sec),
                colors: rows
                    .iter()
                    .map(|r| if r.valid { BAR } else { INVALID })
                    .collect(),
                margin: 10,
                labelled: true,
            }],
        )?;
        panel(
            &bottom,
            "peak memory MB (light: RSS, dark: PSS)",
            "MB",
            &labels,
            &[
                Layer {
                    values: column(|r| r.m.memory_rss_max_mb),
                    colors: same(RSS),
                    margin: 10,
                    labelled: false,
                },
                Layer {
                    values: column(|r| r.m.memory_pss_max_mb),
                    colors: same(PSS),
                    margin: 22,
                    labelled: true,
                },
            ],
        )?;
        root.present().map_err(|e| err(&e))?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use qr_core::Engine;
    use qr_harness::Tier;

    use super::*;
    use crate::model::tests::cluster;
    use crate::model::{Measured, RunSample};

    #[test]
    fn svg_has_a_bar_and_a_label_per_row() {
        let row = |tier: Tier, engine: Option<Engine>, rps: f64| {
            Row::aggregate(
                cluster(tier, engine),
                &[RunSample {
                    m: Measured {
                        requests_per_sec: rps,
                        memory_rss_max_mb: 50.0,
                        memory_pss_max_mb: 30.0,
                        requests_ok: 10,
                        ..Measured::default()
                    },
                    processes_max: 1,
                    server_exit_ok: true,
                    fixed_rate: None,
                }],
            )
        };
        let rows = [
            row(Tier::Tier0, None, 1464.0),
            row(Tier::Tier4, Some(Engine::Article), 7212.0),
        ];
        let svg = render_svg(&rows, "rusty-qr").unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..80]);
        assert!(svg.contains("0 cl js") && svg.contains("4 cl article"));
        assert!(svg.matches("<rect").count() >= 2 + 2 * 2);
        let value = |v: &str| svg.contains(&format!("\n{v}\n</text>"));
        assert!(value("1464") && value("7212"), "values above the bars");
        // One row and many rows draw too.
        render_svg(&rows[..1], "one").unwrap();
        let many: Vec<Row> = (0..12)
            .map(|i| row(Tier::Tier1, Some(Engine::Fast), i as f64))
            .collect();
        render_svg(&many, "many").unwrap();
    }
}
