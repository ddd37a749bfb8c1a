//! Writes the baking inputs to a folder, for the Python side of the baking
//! comparison in scripts/bench.sh:
//!
//!   bench-fixtures DIR
//!
//! Files: `badge.png`, `badge.svg`, `assertion.json` (compact JSON) and
//! `verify-url.txt`.

use std::path::PathBuf;

use anyhow::Context as _;

fn main() -> anyhow::Result<()> {
    let folder: PathBuf = std::env::args_os().nth(1).context("usage: bench-fixtures DIR")?.into();
    std::fs::create_dir_all(&folder).with_context(|| format!("creating {}", folder.display()))?;

    let (assertion, verify_url) = badges_bench::assertion();
    let files = [
        ("badge.png", badges_bench::badge_png()),
        ("badge.svg", badges_bench::badge_svg()),
        ("assertion.json", assertion.into_bytes()),
        ("verify-url.txt", verify_url.into_bytes()),
    ];
    for (name, bytes) in files {
        let path = folder.join(name);
        std::fs::write(&path, &bytes).with_context(|| format!("writing {}", path.display()))?;
        println!("{name}: {} bytes", bytes.len());
    }
    Ok(())
}
