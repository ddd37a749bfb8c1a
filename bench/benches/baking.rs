//! Baking and reading back the Assertion in a 68 KB PNG and a 20 KB SVG,
//! in-process. Each iteration is one image; `round_trip` is one bake
//! followed by one read of the result, the figure that scripts/bench.sh
//! compares with openbadges-bakery. `crc32` is a CRC-32 pass over the whole
//! PNG, the part of the PNG work that no baker that checks CRCs can skip.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

use badges_shared::images::{bake_png, bake_svg, unbake};

fn baking(c: &mut Criterion) {
    let png = badges_bench::badge_png();
    let svg = badges_bench::badge_svg();
    let (assertion, verify_url) = badges_bench::assertion();
    let baked_png = bake_png(&png, &assertion).expect("the PNG bakes");
    let baked_svg = bake_svg(&svg, &assertion, &verify_url).expect("the SVG bakes");

    let mut group = c.benchmark_group("baking");
    group.throughput(Throughput::Elements(1));
    group.bench_function(BenchmarkId::new("bake", "png"), |b| {
        b.iter(|| bake_png(black_box(&png), black_box(&assertion)).expect("the PNG bakes"))
    });
    group.bench_function(BenchmarkId::new("bake", "svg"), |b| {
        b.iter(|| bake_svg(black_box(&svg), black_box(&assertion), black_box(&verify_url)).expect("the SVG bakes"))
    });
    group.bench_function(BenchmarkId::new("unbake", "png"), |b| {
        b.iter(|| unbake(black_box(&baked_png)).expect("the baked PNG reads back"))
    });
    group.bench_function(BenchmarkId::new("unbake", "svg"), |b| {
        b.iter(|| unbake(black_box(&baked_svg)).expect("the baked SVG reads back"))
    });
    group.bench_function(BenchmarkId::new("round_trip", "png"), |b| {
        b.iter(|| {
            let baked = bake_png(black_box(&png), black_box(&assertion)).expect("the PNG bakes");
            unbake(&baked).expect("the baked PNG reads back")
        })
    });
    group.bench_function(BenchmarkId::new("round_trip", "svg"), |b| {
        b.iter(|| {
            let baked = bake_svg(black_box(&svg), black_box(&assertion), black_box(&verify_url)).expect("the SVG bakes");
            unbake(&baked).expect("the baked SVG reads back")
        })
    });
    // Both the baker and the reader check the CRC-32 of every PNG chunk,
    // so a PNG round trip costs at least two CRC passes over the file.
    group.bench_function(BenchmarkId::new("crc32", "png"), |b| {
        b.iter(|| {
            let mut crc = flate2::Crc::new();
            crc.update(black_box(&png));
            crc.sum()
        })
    });
    group.finish();
}

criterion_group!(benches, baking);
criterion_main!(benches);
