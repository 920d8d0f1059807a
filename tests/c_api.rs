//! The C ABI through real C: the examples are compiled against the library built
//! for this test run and run on the fixtures.

mod common;
use common::c_build::{build, run, Link};
use common::*;

#[test]
fn header_compiles_as_c99_and_cpp() {
    for (std, cpp) in [("-std=c99", false), ("-std=c11", false), ("-std=c++11", true), ("-std=c++17", true)] {
        let name = format!("header_check{}", std.replace(['-', '='], "_").replace('+', "p"));
        let bin = build(&name, &["c_examples/header_check.c"], std, cpp, Link::Shared, &[]);
        let (ok, _) = run(&bin, &[], &[]);
        assert!(ok, "{name} ran with a failure status");
    }
}

#[test]
fn committed_header_matches_generated() {
    let generated = std::fs::read_to_string(concat!(env!("OUT_DIR"), "/llmc.h")).expect("generated header");
    let committed = std::fs::read_to_string(c_build::root().join("include/llmc.h")).expect("include/llmc.h");
    assert!(
        generated == committed,
        "include/llmc.h is out of date with src/ffi; regenerate with `LLMC_UPDATE_HEADER=1 cargo build`"
    );
}

#[test]
fn bf16_roundtrip_example_on_fixtures() {
    let bin = build("bf16_roundtrip", &["c_examples/bf16_roundtrip.c"], "-std=c99", false, Link::Static, &[]);
    let isas = isas_under_test();
    // Without and with row classes (llmc_bf16_compress_rows).
    for (rel, row) in [("bf16/all-minilm-l6-v2.layer.0.query.bf16", None), ("bf16/all-minilm-l6-v2.layer.3.output.bf16", None), ("bf16/all-minilm-l6-v2.layer.3.output.bf16", Some(1536))] {
        let path = fixtures_dir().join(rel);
        let row_arg = row.map(|r: u32| std::ffi::OsString::from(r.to_string()));
        let args: Vec<&std::ffi::OsStr> = std::iter::once(path.as_os_str()).chain(row_arg.as_deref()).collect();
        let (ok, out) = run(&bin, &args, &[]);
        assert!(ok, "{rel}: C example failed:\n{out}");
        let expected = llmc::compress_bf16_rows(&fixture(rel), row.unwrap_or(0), &Default::default()).unwrap().len();
        if row.is_some() {
            assert!(expected < llmc::compress_bf16(&fixture(rel), &Default::default()).unwrap().len(), "row classes did not pay");
        }
        for isa in &isas {
            let line = out
                .lines()
                .find(|l| l.starts_with(&format!("isa={} ", isa.name())))
                .unwrap_or_else(|| panic!("{rel}: no line for {isa:?} in:\n{out}"));
            assert!(line.contains("roundtrip=ok"), "{line}");
            assert!(line.contains(&format!("compressed={expected} ")), "C and Rust frames differ in size: {line}");
        }
        assert!(out.contains("errors: ok"), "{out}");
        eprint!("{out}");
    }
}

#[test]
fn q4k_roundtrip_example_on_fixtures() {
    let bin = build("q4k_roundtrip", &["c_examples/q4k_roundtrip.c"], "-std=c99", false, Link::Static, &[]);
    for rel in ["q4k/qwen2.5-coder-1.5b.blk.0.attn_k.q4k", "q4k/qwen2.5-coder-1.5b.blk.0.attn_q.q4k"] {
        let path = fixtures_dir().join(rel);
        let (ok, out) = run(&bin, &[path.as_os_str()], &[]);
        assert!(ok, "{rel}: C example failed:\n{out}");
        let expected = llmc::compress_q4k(&fixture(rel), &Default::default()).unwrap().len();
        for isa in isas_under_test() {
            let line = out.lines().find(|l| l.starts_with(&format!("isa={} ", isa.name()))).unwrap_or_else(|| panic!("{rel}: no {isa:?} line:\n{out}"));
            assert!(line.contains("roundtrip=ok") && line.contains(&format!("compressed={expected} ")), "{line}");
        }
        assert!(out.contains("errors: ok"), "{out}");
    }
}

#[test]
fn safetensors_loader_example_reads_tensors_by_name() {
    let bin = build("safetensors_loader", &["c_examples/safetensors_loader.c"], "-std=c99", false, Link::Static, &[]);
    let original = fetched("minilm");
    let container = c_build::out_dir().join("minilm.safetensors.llmc");
    let (ok, out) = run(&bin, &[original.as_os_str(), container.as_os_str()], &[]);
    assert!(ok && out.contains("safetensors: ok tensors=104 checked=104"), "{out}");
    let (ok, out) = run(&bin, &[original.as_os_str(), container.as_os_str(), "embeddings.word_embeddings.weight".as_ref(), "encoder.layer.5.output.dense.bias".as_ref()], &[]);
    assert!(ok && out.contains("F32   [30522, 384] 46881792 bytes mean") && out.contains("checked=2"), "{out}");
    let (ok, out) = run(&bin, &[original.as_os_str(), container.as_os_str(), "no.such.tensor".as_ref()], &[]);
    assert!(!ok && out.contains("safetensors: FAIL"), "{out}");
}

#[test]
fn gguf_loader_example_reads_every_tensor_in_parallel() {
    let bin = build("gguf_loader", &["c_examples/gguf_loader.c"], "-std=c99", false, Link::Static, &["-lpthread"]);
    let original = fixtures_dir().join("gguf/gemma-3-270m-q4_k_m.blk0.gguf");
    let container = c_build::out_dir().join("blk0.gguf.llmc");
    llmc::model::compress_file(&original, &container, &llmc::CompressParams { n_threads: 2, level: 3, ..Default::default() }, None).unwrap();
    let (ok, out) = run(&bin, &[container.as_os_str(), original.as_os_str(), "4".as_ref()], &[]);
    assert!(ok && out.contains("loader: ok tensors=14"), "{out}");
}

#[test]
fn corrupt_input_example_refuses_every_damaged_frame_and_container() {
    let bin = build("corrupt_input", &["c_examples/corrupt_input.c"], "-std=c99", false, Link::Static, &[]);
    let args = [
        fixtures_dir().join("bf16/all-minilm-l6-v2.layer.0.query.bf16").into_os_string(),
        fixtures_dir().join("q4k/qwen2.5-coder-1.5b.blk.0.attn_k.q4k").into_os_string(),
        fixtures_dir().join("gguf/gemma-3-270m-q4_k_m.blk0.gguf").into_os_string(),
        c_build::out_dir().into_os_string(),
    ];
    let refs: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
    let (ok, out) = run(&bin, &refs, &[]);
    assert!(ok && out.contains("corrupt: ok"), "{out}");
    for kind in ["bf16 frame:", "q4k frame:", "container:"] {
        assert!(out.lines().any(|l| l.starts_with(kind)), "no {kind} line in:\n{out}");
    }
}

/// `(name, value)` of every `LLMC_<GROUP>_*` enumerator or `#define` in the header.
fn header_values(header: &str, group: &str) -> Vec<(String, u32)> {
    let prefix = format!("LLMC_{group}_");
    header
        .lines()
        .filter_map(|l| {
            let l = l.trim().trim_start_matches("#define ").trim_end_matches(',');
            let (name, value) = l.split_once(" = ").or_else(|| l.split_once(' '))?;
            let name = name.trim();
            (name.starts_with(&prefix) && name[prefix.len()..].chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))
                .then(|| value.trim().parse::<u32>().ok().map(|v| (name.to_string(), v)))
                .flatten()
        })
        .collect()
}

#[test]
fn header_names_every_value_the_library_returns() {
    let header = std::fs::read_to_string(c_build::root().join("include/llmc.h")).unwrap();
    let check = |group: &str, values: Vec<(u32, String)>| {
        let named = header_values(&header, group);
        assert!(!named.is_empty(), "no LLMC_{group}_* values in the header");
        for (v, what) in &values {
            assert!(named.iter().any(|(_, n)| n == v), "LLMC_{group}_*: no name for {v} ({what})");
        }
        for (name, v) in &named {
            assert!(values.iter().any(|(w, _)| w == v), "{name} = {v} is not a value the library has");
        }
    };
    let mut statuses: Vec<(u32, String)> = llmc::error::ALL_ERRORS.iter().map(|e| (e.code(), e.name().to_string())).collect();
    statuses.push((0, "ok".into()));
    check("STATUS", statuses);
    let mut codecs: Vec<(u32, String)> = llmc::frame::CodecId::ALL.iter().map(|c| (*c as u32, c.name().to_string())).collect();
    codecs.push((llmc::model::CODEC_ZERO, "a frameless (all-zero) padding region".into()));
    check("CODEC", codecs);
    check("DTYPE", llmc::model::safetensors::Dtype::all().map(|d| (d as u32, d.name().to_string())).collect());
    let mut isas: Vec<(u32, String)> = llmc::isa::ALL_ISAS.iter().map(|i| (*i as u32, i.name().to_string())).collect();
    isas.push((0, "auto".into()));
    check("ISA", isas);
}

#[test]
fn stream_decode_example_feeds_random_pieces() {
    let bin = build("stream_decode", &["c_examples/stream_decode.c"], "-std=c99", false, Link::Static, &[]);
    let dir = std::env::temp_dir().join(format!("llmc-c-stream-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let gguf = fixtures_dir().join("gguf/gemma-3-270m-q4_k_m.blk0.gguf");
    let container = dir.join("blk0.gguf.llmc");
    let params = llmc::CompressParams { level: 3, ..Default::default() };
    std::fs::write(&container, llmc::model::compress(&std::fs::read(&gguf).unwrap(), &params, None).unwrap()).unwrap();
    let bf16 = fixtures_dir().join("bf16/all-minilm-l6-v2.layer.3.output.bf16");
    let frame = dir.join("o.llmf");
    let p = llmc::CompressParams { flags: llmc::PARAM_FLAG_CONTENT_CHECKSUM, ..Default::default() };
    std::fs::write(&frame, llmc::compress_bf16(&std::fs::read(&bf16).unwrap(), &p).unwrap()).unwrap();
    for (packed, original, threads) in [(&container, &gguf, "2"), (&container, &gguf, "1"), (&frame, &bf16, "2")] {
        let (ok, out) = run(&bin, &[packed.as_os_str(), original.as_os_str(), threads.as_ref()], &[]);
        assert!(ok && out.contains("stream_decode: ok"), "{}:\n{out}", packed.display());
        eprint!("{out}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
