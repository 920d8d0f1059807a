//! Fuzz entry for `checks/reader_read.rs` (the checks are shared with the
//! regression tests in `tests/fuzz_regressions.rs`).
#![no_main]

#[path = "../checks/mod.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::reader_read::run(data));
