//! `qr_core::generate` with every option at its default, this tree (`now`) against an earlier
//! commit's build (`before`, extracted by `run.sh`), side by side in one criterion run. Both must
//! give the same bytes for every text first: the options may not change a default answer.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const TARGETS: &str = include_str!("../../../contract/article-texts.txt");

fn default_path(c: &mut Criterion) {
    let texts: Vec<&str> = TARGETS.lines().filter(|l| !l.is_empty()).collect();
    for (now, before) in [
        (qr_core_now::Engine::Fast, qr_core_before::Engine::Fast),
        (qr_core_now::Engine::Article, qr_core_before::Engine::Article),
    ] {
        let now_options = qr_core_now::Options::with_engine(now);
        let before_options = qr_core_before::Options::with_engine(before);
        for text in &texts {
            assert!(
                qr_core_now::generate(text, &now_options).unwrap()
                    == qr_core_before::png(text, &before_options).unwrap(),
                "{now}: the bytes of {text:?} changed"
            );
        }
        let mut group = c.benchmark_group(format!("default-path/{now}"));
        group.throughput(Throughput::Elements(texts.len() as u64));
        group.bench_function("before", |b| {
            b.iter(|| {
                for t in &texts {
                    black_box(qr_core_before::png(black_box(t), &before_options).unwrap());
                }
            })
        });
        group.bench_function("now", |b| {
            b.iter(|| {
                for t in &texts {
                    black_box(qr_core_now::generate(black_box(t), &now_options).unwrap());
                }
            })
        });
        group.finish();
    }
}

criterion_group!(benches, default_path);
criterion_main!(benches);
