//! Criterion benches of the core: article vs fast per call, then each stage of the fast engine
//! against off-the-shelf crates (symbol builders; PNG compressors over the same scanlines).
//!
//! The stages are qr-core internals, reachable only with the `internals` feature: run with
//! `cargo bench -p qr-core --features internals --bench engines` (add a filter, e.g.
//! `-- engines/`).

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use qr_core::internals::{Geometry, PngWriter, Symbol, encode};
use qr_core::{EcLevel, Engine, Format, Options};

const TARGETS: &str = include_str!("../../../contract/article-texts.txt");

fn texts() -> Vec<&'static str> {
    TARGETS.lines().filter(|l| !l.is_empty()).collect()
}

/// The same image data with filter "Up" on every scanline equal to the one before (all zeros).
fn up_filtered(raw: &[u8], stride: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let mut previous: Option<&[u8]> = None;
    for line in raw.chunks_exact(stride) {
        if previous == Some(line) {
            out.push(2);
            out.extend(std::iter::repeat_n(0, stride - 1));
        } else {
            out.extend_from_slice(line);
        }
        previous = Some(line);
    }
    out
}

fn libdeflate(level: i32, data: &[u8]) -> Vec<u8> {
    let level = libdeflater::CompressionLvl::new(level).expect("level");
    let mut c = libdeflater::Compressor::new(level);
    let mut out = vec![0; c.zlib_compress_bound(data.len())];
    let n = c.zlib_compress(data, &mut out).expect("compress");
    out.truncate(n);
    out
}

fn zlib_rs(level: i32, data: &[u8]) -> Vec<u8> {
    let mut out = vec![0; zlib_rs::compress_bound(data.len())];
    let config = zlib_rs::DeflateConfig {
        level,
        ..Default::default()
    };
    let (compressed, rc) = zlib_rs::compress_slice(&mut out, data, config);
    assert_eq!(rc, zlib_rs::ReturnCode::Ok);
    compressed.to_vec()
}

fn engines(c: &mut Criterion) {
    let texts = texts();
    let mut group = c.benchmark_group("engines");
    group.throughput(Throughput::Elements(texts.len() as u64));
    for &engine in Engine::ALL {
        let options = Options::with_engine(engine);
        let mean = texts
            .iter()
            .map(|t| qr_core::generate(t, &options).unwrap().len())
            .sum::<usize>() as f64
            / texts.len() as f64;
        eprintln!("engine {engine}: mean PNG {mean:.1} bytes");
        group.bench_function(engine.name(), |b| {
            b.iter(|| {
                for t in &texts {
                    black_box(qr_core::generate(black_box(t), &options).unwrap());
                }
            })
        });
    }
    group.finish();
}

/// The fast engine per call with one option away from the defaults, beside the defaults: what
/// `ecLevel=H` (a bigger symbol), `format=svg` and `size=1000` (uneven modules) cost.
fn options(c: &mut Criterion) {
    let texts = texts();
    let mut group = c.benchmark_group("options");
    group.throughput(Throughput::Elements(texts.len() as u64));
    let with = |change: fn(&mut Options)| {
        let mut options = Options::with_engine(Engine::Fast);
        change(&mut options);
        options
    };
    for (name, options) in [
        ("default", with(|_| {})),
        ("ecLevel=H", with(|o| o.ec_level = EcLevel::H)),
        ("format=svg", with(|o| o.format = Format::Svg)),
        ("size=1000", with(|o| o.size = Some(1000))),
    ] {
        let mean = texts
            .iter()
            .map(|t| qr_core::generate(t, &options).unwrap().len())
            .sum::<usize>() as f64
            / texts.len() as f64;
        eprintln!("options {name}: mean {mean:.1} bytes");
        group.bench_function(name, |b| {
            b.iter(|| {
                for t in &texts {
                    black_box(qr_core::generate(black_box(t), &options).unwrap());
                }
            })
        });
    }
    group.finish();
}

/// The most expensive request the contract allows, per engine and format: 512 bytes (128 crabs) at
/// `ecLevel=H` (version 25), `size=1000`, `margin=20`, both colours with alpha.
fn worst_case(c: &mut Criterion) {
    let text = "🦀".repeat(128);
    let mut group = c.benchmark_group("worst");
    group.sample_size(10);
    for &engine in Engine::ALL {
        for format in [Format::Png, Format::Svg] {
            let mut options = Options::with_engine(engine);
            options.format = format;
            options.ec_level = EcLevel::H;
            options.size = Some(qr_core::MAX_SIZE);
            options.margin = qr_core::MAX_MARGIN;
            options.dark = qr_core::Rgba([0x0b, 0x3d, 0x91, 0xc0]);
            options.light = qr_core::Rgba([0xff, 0xee, 0xdd, 0x00]);
            let bytes = qr_core::generate(&text, &options).unwrap().len();
            let name = format!("{engine}/{}", format.name());
            eprintln!("worst {name}: {bytes} bytes");
            group.bench_function(name, |b| {
                b.iter(|| black_box(qr_core::generate(black_box(&text), &options).unwrap()))
            });
        }
    }
    group.finish();
}

fn symbols(c: &mut Criterion) {
    let texts = texts();
    let mut group = c.benchmark_group("symbol");
    group.throughput(Throughput::Elements(texts.len() as u64));
    group.bench_function("fast", |b| {
        b.iter(|| {
            for t in &texts {
                black_box(encode(black_box(t.as_bytes()), EcLevel::L, None).unwrap());
            }
        })
    });
    group.bench_function("qrcodegen", |b| {
        b.iter(|| {
            for t in &texts {
                let seg = qrcodegen::QrSegment::make_bytes(black_box(t.as_bytes()));
                black_box(
                    qrcodegen::QrCode::encode_segments(&[seg], qrcodegen::QrCodeEcc::Low).unwrap(),
                );
            }
        })
    });
    group.bench_function("fast_qr", |b| {
        b.iter(|| {
            for t in &texts {
                black_box(
                    fast_qr::QRBuilder::new(black_box(t.as_bytes()))
                        .ecl(fast_qr::ECL::L)
                        .mode(fast_qr::Mode::Byte)
                        .build()
                        .unwrap(),
                );
            }
        })
    });
    group.bench_function("qrcode", |b| {
        b.iter(|| {
            for t in &texts {
                black_box(
                    qrcode::QrCode::with_error_correction_level(
                        black_box(t.as_bytes()),
                        qrcode::EcLevel::L,
                    )
                    .unwrap(),
                );
            }
        })
    });
    group.finish();
}

fn png_writers(c: &mut Criterion) {
    let texts = texts();
    let symbols: Vec<Symbol> = texts
        .iter()
        .map(|t| encode(t.as_bytes(), EcLevel::L, None).unwrap())
        .collect();
    let mut writer = PngWriter::default();
    let options = Options::default();
    let geometries: Vec<Geometry> = symbols
        .iter()
        .map(|s| Geometry::new(s.size(), &options).unwrap())
        .collect();
    let inputs: Vec<(Vec<u8>, Vec<u8>)> = symbols
        .iter()
        .zip(&geometries)
        .map(|(s, g)| {
            let raw = writer.raw(s, g);
            let stride = writer.scanlines(s, g);
            let up = up_filtered(&raw, stride);
            (raw, up)
        })
        .collect();
    type Compress = Box<dyn Fn(&[u8]) -> Vec<u8>>;
    let mut compressors: Vec<(String, Compress)> = Vec::new();
    for level in [1, 6, 9] {
        compressors.push((
            format!("miniz_oxide-{level}"),
            Box::new(move |d| miniz_oxide::deflate::compress_to_vec_zlib(d, level)),
        ));
    }
    for level in [1, 6, 12] {
        compressors.push((
            format!("libdeflate-{level}"),
            Box::new(move |d| libdeflate(level, d)),
        ));
    }
    for level in [1, 6, 9] {
        compressors.push((
            format!("zlib-rs-{level}"),
            Box::new(move |d| zlib_rs(level, d)),
        ));
    }
    let mut group = c.benchmark_group("png");
    group.throughput(Throughput::Elements(texts.len() as u64));
    let ours = symbols
        .iter()
        .zip(&geometries)
        .map(|(s, g)| writer.png(s, g, &options).len())
        .sum::<usize>() as f64
        / texts.len() as f64;
    eprintln!("png fast (whole PNG): mean {ours:.1} bytes");
    group.bench_function("fast", |b| {
        b.iter(|| {
            for (s, g) in symbols.iter().zip(&geometries) {
                black_box(writer.png(black_box(s), g, &options));
            }
        })
    });
    // PNG framing (signature, IHDR, IDAT/IEND headers and CRCs) adds 57 bytes to a zlib stream.
    for (name, compress) in &compressors {
        for (filter, pick) in [("none", 0usize), ("up", 1)] {
            let mean = inputs
                .iter()
                .map(|i| compress(if pick == 0 { &i.0 } else { &i.1 }).len() + 57)
                .sum::<usize>() as f64
                / inputs.len() as f64;
            eprintln!("png {name} filter {filter}: mean {mean:.1} bytes");
            group.bench_function(format!("{name}/{filter}"), |b| {
                b.iter(|| {
                    for i in &inputs {
                        black_box(compress(black_box(if pick == 0 { &i.0 } else { &i.1 })));
                    }
                })
            });
        }
    }
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30)
}

criterion_group! {
    name = benches;
    config = config();
    targets = engines, options, worst_case, symbols, png_writers
}
criterion_main!(benches);
