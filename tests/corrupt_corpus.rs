//! Replays the corrupt-input corpus (`fixtures/corrupt/`, written by
//! `examples/make_corrupt`): every file through the API its manifest entry
//! names, on every ISA, with checksum verification on (and off where the entry
//! says), must give exactly the expected status; frames and container opens
//! also through the C ABI.

mod common;
use common::corpus::{parse_status, status_name, Api, Case, Status};
use common::*;
use llmc::model::Index;
use llmc::{CompressParams, DecodeOptions, Isa};
use std::collections::BTreeSet;
use std::path::PathBuf;

fn dir() -> PathBuf {
    fixtures_dir().join("corrupt")
}

fn manifest() -> Vec<Case> {
    let text = std::fs::read(dir().join("manifest.json")).expect("fixtures/corrupt/manifest.json");
    let v: serde_json::Value = serde_json::from_slice(&text).unwrap();
    v["cases"].as_array().expect("a list of cases").iter().map(Case::from_json).collect()
}

fn read(file: &str) -> Vec<u8> {
    fixture(&format!("corrupt/{file}"))
}

/// What an `Ok` case must produce: the same as its unmutated base, when that
/// base is itself a corpus file.
fn base_of(case: &Case) -> Option<Vec<u8>> {
    dir().join(&case.base).is_file().then(|| read(&case.base))
}

fn opts(case: &Case, isa: Isa, verify: bool) -> DecodeOptions {
    let max_output = case.max_output.unwrap_or(DecodeOptions::default().max_output);
    DecodeOptions { isa: Some(isa), verify_checksums: verify, max_output, ..Default::default() }
}

/// Runs one case's API with or without verification; `Ok` only if the output
/// also matches what the unmutated base gives.
fn run(case: &Case, bytes: &[u8], isa: Isa, verify: bool) -> Result<Status, String> {
    let o = opts(case, isa, verify);
    let base = base_of(case);
    let same = |out: Vec<u8>, expected: Option<Vec<u8>>| match expected {
        Some(e) if e != out => Err("succeeded with an output that differs from its base's".to_string()),
        _ => Ok(Ok(())),
    };
    match case.api {
        Api::FrameDecode => match llmc::decompress(bytes, &o) {
            Err(e) => Ok(Err(e)),
            Ok(out) => same(out, base.map(|b| llmc::decompress(&b, &DecodeOptions::default()).unwrap())),
        },
        Api::FrameInfo => match llmc::frame_info(bytes) {
            Err(e) => Ok(Err(e)),
            Ok(info) if base.as_ref().is_some_and(|b| llmc::frame_info(b).unwrap() != info) => Err(format!("info {info:?} differs from its base's")),
            Ok(_) => Ok(Ok(())),
        },
        Api::ContainerRead => match llmc::model::decompress(bytes, &o) {
            Err(e) => Ok(Err(e)),
            Ok(out) => {
                // The rebuilt file must be the model file the base container was made from.
                let original = base.and_then(|b| llmc::model::decompress(&b, &DecodeOptions::default()).ok());
                let original = original.or_else(|| dir().join(case.file.trim_end_matches(".llmc")).is_file().then(|| read(case.file.trim_end_matches(".llmc"))));
                same(out, original)
            }
        },
        Api::GgufParse => Ok(llmc::model::gguf::parse(bytes).map(|_| ())),
        Api::SafetensorsParse => Ok(llmc::model::safetensors::parse(bytes).map(|_| ())),
        Api::ContainerCompress => match llmc::model::compress(bytes, &CompressParams { isa: Some(isa), ..Default::default() }, None) {
            Err(e) => Ok(Err(e)),
            Ok(c) => same(llmc::model::decompress(&c, &o).map_err(|e| format!("its container does not decode: {e}"))?, Some(bytes.to_vec())),
        },
    }
}

/// ISAs worth running an API on: parsers have no kernels.
fn isas_for(api: Api) -> Vec<Isa> {
    match api {
        Api::GgufParse | Api::SafetensorsParse | Api::FrameInfo => vec![Isa::Scalar],
        _ => isas_under_test(),
    }
}

#[test]
fn every_file_gets_its_exact_status_on_every_isa() {
    let mut failures = Vec::new();
    let cases = manifest();
    for case in &cases {
        let bytes = read(&case.file);
        let modes = [(true, Some(case.status)), (false, case.unverified)];
        for isa in isas_for(case.api) {
            for (verify, want) in modes {
                let Some(want) = want else { continue };
                let got = std::panic::catch_unwind(|| run(case, &bytes, isa, verify)).unwrap_or_else(|_| Err("panicked".into()));
                let got = got.map(status_name);
                if got.as_deref() != Ok(status_name(want).as_str()) {
                    failures.push(format!("{} ({}, {isa:?}, verify {verify}): want {}, got {got:?} [{}]", case.file, case.api.name(), status_name(want), case.how));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), cases.len(), failures.join("\n"));
}

#[test]
fn frames_get_the_same_status_through_the_c_abi() {
    use llmc::ffi::frames::*;
    use llmc::ffi::types::llmc_frame_info;
    let mut checked = 0;
    for case in manifest().iter().filter(|c| c.max_output.is_none()) {
        let bytes = read(&case.file);
        let want = case.status.err().map_or(0, |e| e.code());
        match case.api {
            Api::FrameDecode => {
                // Room for the declared content when the header can be read at all.
                let size = llmc::frame_info(&bytes).map_or(0, |i| i.content_size as usize);
                let mut dst = vec![0u8; size.max(1)];
                for isa in isas_under_test() {
                    let mut d: *mut llmc_dctx = std::ptr::null_mut();
                    let mut written = 0usize;
                    // SAFETY: valid out-pointer; the context is used by this thread only and freed.
                    let got = unsafe {
                        assert_eq!(llmc_dctx_create(&mut d), 0);
                        assert_eq!(llmc_dctx_set_isa(d, isa as u32), 0);
                        let s = llmc_decompress_dctx(d, bytes.as_ptr().cast(), bytes.len(), dst.as_mut_ptr().cast(), dst.len(), &mut written);
                        llmc_dctx_free(d);
                        s
                    };
                    assert_eq!(got, want, "{} on {isa:?}: C status {got}", case.file);
                    assert_eq!(written, if want == 0 { size } else { 0 }, "{}", case.file);
                }
                // SAFETY: `bytes` and `dst` are live buffers of the stated sizes.
                let got = unsafe { llmc_decompress(bytes.as_ptr().cast(), bytes.len(), dst.as_mut_ptr().cast(), dst.len(), std::ptr::null_mut()) };
                assert_eq!(got, want, "{}: llmc_decompress", case.file);
            }
            Api::FrameInfo => {
                // SAFETY: an all-zero llmc_frame_info is valid; struct_size set before the call.
                let mut info: llmc_frame_info = unsafe { std::mem::zeroed() };
                info.struct_size = std::mem::size_of::<llmc_frame_info>() as u32;
                // SAFETY: live buffers of the stated sizes.
                let got = unsafe { llmc_frame_info_get(bytes.as_ptr().cast(), bytes.len(), &mut info) };
                assert_eq!(got, want, "{}: llmc_frame_info_get", case.file);
            }
            _ => continue,
        }
        checked += 1;
    }
    assert!(checked > 50, "only {checked} frame cases");
}

#[test]
fn containers_that_fail_to_open_fail_alike_through_the_c_abi() {
    use llmc::ffi::container::*;
    use llmc::ffi::gguf_names::*;
    let mut refused = 0;
    for case in manifest().iter().filter(|c| c.api == Api::ContainerRead) {
        let bytes = read(&case.file);
        // An open that fails decides the case's status; one that succeeds leaves
        // the verdict to the reads.
        let want = match Index::open(&bytes) {
            Err(_) => case.status.err().map_or(0, |e| e.code()),
            Ok(_) => 0,
        };
        for flags in [0, LLMC_OPEN_NO_VERIFY] {
            let mut g: *mut llmc_gguf = std::ptr::null_mut();
            // SAFETY: `bytes` outlives the handle, closed right after; `g` is a valid out-pointer.
            let got = unsafe { llmc_gguf_open_buffer(bytes.as_ptr().cast(), bytes.len(), flags, &mut g) };
            // SAFETY: NULL or the handle just opened.
            unsafe { llmc_gguf_close(g) };
            assert_eq!(got, want, "{} (flags {flags}): llmc_gguf_open_buffer", case.file);
        }
        refused += usize::from(want != 0);
    }
    assert!(refused > 20, "only {refused} containers refused at open");
}

#[test]
fn the_manifest_lists_every_file_and_only_files_that_exist() {
    let cases = manifest();
    let listed: BTreeSet<String> = cases.iter().map(|c| c.file.clone()).collect();
    let mut present = BTreeSet::new();
    for entry in std::fs::read_dir(dir()).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if name != "manifest.json" && name != "README.md" {
            present.insert(name);
        }
    }
    let unlisted: Vec<_> = present.difference(&listed).collect();
    let missing: Vec<_> = listed.difference(&present).collect();
    assert!(unlisted.is_empty() && missing.is_empty(), "not in the manifest: {unlisted:?}; listed but absent: {missing:?}");
    // Every API is exercised, and most cases must fail.
    for api in [Api::FrameDecode, Api::FrameInfo, Api::ContainerRead, Api::GgufParse, Api::SafetensorsParse, Api::ContainerCompress] {
        assert!(cases.iter().any(|c| c.api == api && c.status.is_err()), "no failing {} case", api.name());
    }
    let errors = cases.iter().filter(|c| c.status.is_err()).count();
    assert!(errors * 10 >= cases.len() * 8, "only {errors} of {} cases expect an error", cases.len());
}

#[test]
fn status_names_are_the_c_headers() {
    let header = std::fs::read_to_string(c_build::root().join("include/llmc.h")).unwrap();
    for e in llmc::error::ALL_ERRORS {
        let line = format!("{} = {},", status_name(Err(e)), e.code());
        assert!(header.contains(&line), "include/llmc.h lacks `{line}`");
        assert_eq!(parse_status(&status_name(Err(e))), Some(Err(e)));
    }
    assert!(header.contains("LLMC_STATUS_OK = 0,"));
}
