//! Roster parsing and roster import into the embedded store, in-process,
//! for generated attendance exports of 5,000 and 50,000 rows. The import
//! writes to a new SQLite file for every iteration, created outside the
//! timed part. The 500,000-row figure comes from the `bench-import`
//! program, because ten samples of it would take minutes.

use std::time::Duration;

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

use badges_shared::import::parse_roster;
use badges_shared::service::import::import_roster;

const SIZES: [usize; 2] = [5_000, 50_000];

fn parsing(c: &mut Criterion) {
    let mut group = c.benchmark_group("parse_roster");
    group.sample_size(10);
    for rows in SIZES {
        let csv = badges_bench::attendance_csv(rows);
        let options = badges_bench::import_options(rows);
        group.throughput(Throughput::Elements(rows as u64));
        group.bench_function(BenchmarkId::from_parameter(rows), |b| {
            b.iter(|| parse_roster(black_box(&csv), &options).expect("the roster parses"))
        });
    }
    group.finish();
}

fn importing(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a Tokio runtime");
    let badge_id = badges_bench::badge_id();
    let mut group = c.benchmark_group("import_roster");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(15));
    for rows in SIZES {
        let csv = badges_bench::attendance_csv(rows);
        let options = badges_bench::import_options(rows);
        group.throughput(Throughput::Elements(rows as u64));
        group.bench_function(BenchmarkId::from_parameter(rows), |b| {
            b.iter_batched(
                || {
                    let folder = tempfile::tempdir().expect("a temporary data folder");
                    let app = badges_bench::embedded_app(folder.path()).expect("the embedded app opens");
                    runtime.block_on(app.store.create_badge(&badges_bench::badge_class())).expect("the badge is created");
                    (folder, app)
                },
                |(folder, app)| {
                    let report = runtime
                        .block_on(import_roster(&app, &badge_id, String::new(), black_box(&csv), &options))
                        .expect("the roster imports");
                    // The folder is returned, so its removal is not timed.
                    (folder, report)
                },
                BatchSize::PerIteration,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, parsing, importing);
criterion_main!(benches);
