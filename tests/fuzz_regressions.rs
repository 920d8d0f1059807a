//! Replays kept fuzz reproducers (`fuzz/regressions/TARGET/*`, minimised inputs
//! that once crashed a target) and the seed corpora through the very checks the
//! fuzz targets run (`fuzz/checks/`), so a fixed crash stays fixed in `cargo test`.

#[path = "../fuzz/checks/mod.rs"]
mod checks;

use std::path::Path;

/// Runs `run` on every file in `dir`; returns how many there were.
fn replay(dir: &Path, run: fn(&[u8])) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    let mut n = 0;
    for e in entries {
        let path = e.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        eprintln!("replaying {}", path.display());
        run(&data);
        n += 1;
    }
    n
}

#[test]
fn kept_reproducers_pass_their_targets() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions");
    let mut total = 0;
    for (name, run) in checks::TARGETS {
        total += replay(&root.join(name), *run);
    }
    // Every kept reproducer belongs to a known target.
    for e in std::fs::read_dir(&root).unwrap() {
        let name = e.unwrap().file_name();
        assert!(checks::TARGETS.iter().any(|(t, _)| **t == *name), "unknown target dir {name:?}");
    }
    assert!(total > 0, "no reproducers found under {}", root.display());
}
