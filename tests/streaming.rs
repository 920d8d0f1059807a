//! Streaming compress and decompress through the CLI: pipes (`-`), cut and
//! damaged streams, outputs that are not regular files, and container version
//! 2 read in one pass.

mod common;

use common::{fixture, fixtures_dir};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const LLMC: &str = env!("CARGO_BIN_EXE_llmc");

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("llmc-streaming-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn llmc(args: &[&str]) -> Output {
    Command::new(LLMC).args(args).output().unwrap()
}

/// `llmc ARGS` with `input` on stdin; returns its output.
fn piped(args: &[&str], input: &[u8]) -> Output {
    let mut child = Command::new(LLMC).args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let data = input.to_vec();
    let writer = std::thread::spawn(move || {
        // The child may stop reading early (a cut or damaged stream).
        let _ = stdin.write_all(&data);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// A safetensors file of bf16 and f32 tensors made from real fixture tensors.
fn safetensors() -> Vec<u8> {
    let bf16 = fixture("bf16/all-minilm-l6-v2.layer.3.output.bf16");
    let q = fixture("bf16/all-minilm-l6-v2.layer.0.query.bf16");
    let f32: Vec<u8> = q.chunks(2).flat_map(|w| [0, 0, w[0], w[1]]).collect();
    let t = |name: &str, dtype: &str, data: &[u8], elem: usize| common::st::Tensor { name: name.into(), dtype: dtype.into(), shape: serde_json::json!([data.len() / elem]), data: data.to_vec() };
    common::st::write(&[t("a.weight", "BF16", &bf16, 2), t("b.weight", "F32", &f32, 4), t("c.bias", "BF16", &q[..4096], 2)], None)
}

/// The three kinds of input the issue names: a frame, a GGUF container, a
/// safetensors container — original bytes and compressed bytes.
fn cases(dir: &Path) -> Vec<(&'static str, Vec<u8>, Vec<u8>)> {
    let mut out = Vec::new();
    let bf16 = fixtures_dir().join("bf16/all-minilm-l6-v2.layer.3.intermediate.bf16");
    let frame = dir.join("frame.llmc");
    assert!(llmc(&["compress", "--codec", "bf16", p(&bf16), "-o", p(&frame)]).status.success());
    out.push(("frame", std::fs::read(&bf16).unwrap(), std::fs::read(&frame).unwrap()));
    let gguf = fixtures_dir().join("gguf/gemma-3-270m-q4_k_m.blk0.gguf");
    let c = dir.join("gguf.llmc");
    let o = llmc(&["compress", "--level", "3", p(&gguf), "-o", p(&c)]);
    assert!(o.status.success(), "{}", stderr(&o));
    out.push(("gguf container", std::fs::read(&gguf).unwrap(), std::fs::read(&c).unwrap()));
    let st = dir.join("model.safetensors");
    std::fs::write(&st, safetensors()).unwrap();
    let c = dir.join("st.llmc");
    let o = llmc(&["compress", p(&st), "-o", p(&c)]);
    assert!(o.status.success(), "{}", stderr(&o));
    out.push(("safetensors container", std::fs::read(&st).unwrap(), std::fs::read(&c).unwrap()));
    out
}

#[test]
fn a_pipe_decodes_each_kind_byte_for_byte() {
    let dir = scratch("pipe");
    for (what, original, packed) in cases(&dir) {
        for threads in ["1", "2"] {
            let o = piped(&["decompress", "-T", threads, "-", "-o", "-"], &packed);
            assert!(o.status.success(), "{what}: {}", stderr(&o));
            assert!(o.stdout == original, "{what}, {threads} threads: decoded bytes differ");
            let o = piped(&["decompress", "--verify", "-T", threads, "-"], &packed);
            assert!(o.status.success() && o.stdout == original, "{what} with --verify: {}", stderr(&o));
        }
    }
}

#[test]
fn compressing_from_a_pipe_gives_the_same_bytes_as_from_a_file() {
    let dir = scratch("compress-pipe");
    let gguf = fixtures_dir().join("gguf/gemma-3-270m-q4_k_m.blk0.gguf");
    let from_file = dir.join("a.llmc");
    assert!(llmc(&["compress", "--level", "3", "-T", "2", p(&gguf), "-o", p(&from_file)]).status.success());
    let o = piped(&["compress", "--level", "3", "-T", "1", "-", "-o", "-"], &std::fs::read(&gguf).unwrap());
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(o.stdout == std::fs::read(&from_file).unwrap(), "stdin -> stdout differs from file -> file");
    let bf16 = fixtures_dir().join("bf16/all-minilm-l6-v2.layer.3.output.bf16");
    let frame = dir.join("f.llmc");
    assert!(llmc(&["compress", "--codec", "bf16", "--content-checksum", p(&bf16), "-o", p(&frame)]).status.success());
    let o = piped(&["compress", "--codec", "bf16", "--content-checksum", "-", "-o", "-"], &std::fs::read(&bf16).unwrap());
    assert!(o.status.success() && o.stdout == std::fs::read(&frame).unwrap(), "frame through a pipe: {}", stderr(&o));
    // Same bytes as the in-memory frame compressor.
    let params = llmc::CompressParams { flags: llmc::PARAM_FLAG_CONTENT_CHECKSUM, ..Default::default() };
    assert!(llmc::compress_bf16(&std::fs::read(&bf16).unwrap(), &params).unwrap() == o.stdout);
}

/// GGUF and safetensors from a pipe are compressed in one pass, planned from
/// their metadata (no copy of the input): the same bytes as from a file, bytes
/// after the last tensor included; a stream cut short fails and leaves no file.
#[test]
fn a_model_from_a_pipe_is_compressed_in_one_pass_with_the_bytes_of_a_file() {
    let dir = scratch("model-pipe");
    let mut st = safetensors();
    let mut gguf = std::fs::read(fixtures_dir().join("gguf/gemma-3-270m-q4_k_m.blk0.gguf")).unwrap();
    // Bytes after the last tensor, which the metadata does not announce.
    st.extend_from_slice(&fixture("bf16/all-minilm-l6-v2.layer.0.query.bf16")[..1000]);
    gguf.extend_from_slice(&[0u8; 24]);
    for (what, original) in [("safetensors with a tail", st), ("gguf with padding after its last tensor", gguf)] {
        let file = dir.join("in");
        std::fs::write(&file, &original).unwrap();
        let from_file = dir.join("a.llmc");
        let o = llmc(&["compress", "--level", "3", p(&file), "-o", p(&from_file), "-f"]);
        assert!(o.status.success(), "{what}: {}", stderr(&o));
        let o = piped(&["compress", "--level", "3", "-T", "2", "-", "-o", "-"], &original);
        assert!(o.status.success(), "{what}: {}", stderr(&o));
        assert!(o.stdout == std::fs::read(&from_file).unwrap(), "{what}: stdin -> stdout differs from file -> file");
        let back = piped(&["decompress", "-", "-o", "-"], &o.stdout);
        assert!(back.status.success() && back.stdout == original, "{what}: round trip");
        // Cut inside the metadata, inside a tensor, and one byte short.
        for cut in [100, original.len() / 2, original.len() - 1 - 1000.min(original.len() / 4)] {
            let target = dir.join("cut.llmc");
            let o = piped(&["compress", "-", "-o", p(&target)], &original[..cut]);
            assert!(!o.status.success() && !target.exists(), "{what} cut at {cut}: {}", stderr(&o));
            assert!(stderr(&o).contains("standard input"), "{what} cut at {cut}: {}", stderr(&o));
        }
    }
    // More after the last tensor than a stream may carry: a clear refusal.
    let mut st = safetensors();
    st.resize(st.len() + llmc::stream::MAX_STREAM_TAIL as usize + 1, 7);
    let o = piped(&["compress", "-", "-o", "-"], &st);
    assert!(!o.status.success() && stderr(&o).contains("compress it from a file"), "{}", stderr(&o));
    // Not a model: what to do instead.
    let o = piped(&["compress", "-", "-o", "-"], &fixture("bf16/all-minilm-l6-v2.layer.0.query.bf16"));
    assert!(!o.status.success() && stderr(&o).contains("--codec"), "{}", stderr(&o));
}

#[test]
fn a_stream_cut_anywhere_fails_and_names_the_truncation() {
    let dir = scratch("cut");
    for (what, _, packed) in cases(&dir) {
        let n = packed.len();
        let mut cuts: Vec<usize> = vec![0, 1, 5, 6, 15, 16, 17, 51, 52, 53, 84, 100, n / 3, n / 2, n - 100, n - 64, n - 63, n - 1];
        cuts.extend((1..24).map(|k| n * k / 24));
        for cut in cuts.into_iter().filter(|&c| c < n) {
            let o = piped(&["decompress", "-", "-o", "-"], &packed[..cut]);
            assert!(!o.status.success(), "{what} cut at {cut} of {n} decoded without an error");
            let e = stderr(&o);
            assert!(e.contains("truncated") || e.contains("not an llmc") || (cut == 0 && e.contains("is empty")), "{what} cut at {cut}: {e}");
            // A file output never appears under its final name.
            let cut_file = dir.join("cut.llmc");
            std::fs::write(&cut_file, &packed[..cut]).unwrap();
            let back = dir.join("back.bin");
            let o = llmc(&["decompress", p(&cut_file), "-o", p(&back)]);
            assert!(!o.status.success() && !back.exists(), "{what} cut at {cut}: {}", stderr(&o));
        }
    }
    let left: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).filter(|n| n.contains("llmc-tmp")).collect();
    assert!(left.is_empty(), "temporaries left: {left:?}");
}

#[test]
fn flipped_bits_in_a_stream_are_refused() {
    let dir = scratch("flip");
    for (what, original, packed) in cases(&dir) {
        let n = packed.len();
        let step = (n / 97).max(1);
        for at in (0..n).step_by(step).chain(0..64).chain(n - 80..n) {
            let mut bad = packed.clone();
            bad[at] ^= 1 << (at % 8);
            let o = piped(&["decompress", "-", "-o", "-"], &bad);
            assert!(!o.status.success() || o.stdout == original, "{what}: bit flip at {at} decoded to wrong bytes");
        }
    }
}

#[test]
fn trailing_garbage_after_a_container_is_refused() {
    let dir = scratch("trailing");
    for (what, _, mut packed) in cases(&dir) {
        packed.push(0);
        let o = piped(&["decompress", "-", "-o", "-"], &packed);
        assert!(!o.status.success(), "{what} with a trailing byte was accepted");
    }
}

#[test]
fn special_outputs_are_written_through_and_links_followed() {
    let dir = scratch("special");
    let (_, original, packed) = cases(&dir).swap_remove(1);
    let packed_path = dir.join("in.llmc");
    std::fs::write(&packed_path, &packed).unwrap();

    // A symlink to a regular file: the link stays, its target gets the bytes.
    let target = dir.join("target.gguf");
    std::fs::write(&target, b"old").unwrap();
    let link = dir.join("link.gguf");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let o = llmc(&["decompress", p(&packed_path), "-o", p(&link)]);
    assert!(!o.status.success() && stderr(&o).contains("already exists"), "an existing link target needs --force: {}", stderr(&o));
    let o = llmc(&["decompress", p(&packed_path), "-o", p(&link), "--force"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink(), "the link was replaced");
    assert!(std::fs::read(&target).unwrap() == original);

    // A FIFO: the reader gets the bytes, the node stays a FIFO.
    let fifo = dir.join("fifo");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read(fifo).unwrap())
    };
    let o = llmc(&["decompress", p(&packed_path), "-o", p(&fifo)]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(reader.join().unwrap() == original, "the FIFO's reader got other bytes");
    assert!(std::os::unix::fs::FileTypeExt::is_fifo(&std::fs::symlink_metadata(&fifo).unwrap().file_type()));

    // A symlink to stdout: the bytes reach the process's stdout, the link stays.
    let to_stdout = dir.join("to-stdout");
    std::os::unix::fs::symlink("/dev/stdout", &to_stdout).unwrap();
    let o = llmc(&["decompress", p(&packed_path), "-o", p(&to_stdout)]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(o.stdout == original, "stdout got {} bytes, not the original's {}", o.stdout.len(), original.len());
    assert!(std::fs::symlink_metadata(&to_stdout).unwrap().file_type().is_symlink(), "the link was replaced");

    // A private character device like /dev/null (needs mknod: root, as in CI).
    let null = dir.join("null");
    let made = Command::new("mknod").arg(&null).args(["c", "1", "3"]).status().is_ok_and(|s| s.success());
    assert!(made || std::env::var_os("CI").is_none(), "mknod failed under CI: the device case would be skipped");
    if made {
        let o = llmc(&["decompress", p(&packed_path), "-o", p(&null)]);
        assert!(o.status.success(), "{}", stderr(&o));
        assert!(std::os::unix::fs::FileTypeExt::is_char_device(&std::fs::symlink_metadata(&null).unwrap().file_type()), "the device node was replaced");
        let o = llmc(&["compress", "--codec", "bf16", p(&fixtures_dir().join("bf16/all-minilm-l6-v2.layer.0.query.bf16")), "-o", p(&null)]);
        assert!(o.status.success(), "{}", stderr(&o));
        assert!(std::os::unix::fs::FileTypeExt::is_char_device(&std::fs::symlink_metadata(&null).unwrap().file_type()));
    }
}

#[test]
fn version_1_containers_still_decode_from_files_and_pipes() {
    let c = fixture("corrupt/model.gguf.llmc");
    assert_eq!(&c[4..6], &[1, 0], "the fixture is a version-1 container");
    let original = fixture("corrupt/model.gguf");
    let o = piped(&["decompress", "--verify", "-", "-o", "-"], &c);
    assert!(o.status.success() && o.stdout == original, "{}", stderr(&o));
    let dir = scratch("v1");
    let back = dir.join("back.gguf");
    let o = llmc(&["decompress", p(&fixtures_dir().join("corrupt/model.gguf.llmc")), "-o", p(&back)]);
    assert!(o.status.success() && std::fs::read(&back).unwrap() == original, "{}", stderr(&o));
}

#[test]
fn a_frameless_region_bomb_streams_in_small_pieces() {
    // A version-2 container whose one region declares 1 GiB of zeros in a
    // record of 36 bytes: the decoder writes zeros 64 KiB at a time.
    use llmc::model::{write, Region, Role, SourceKind};
    let size = 1u64 << 30;
    let mut c = write::header(SourceKind::Gguf, 3);
    let region = Region { orig_offset: 0, orig_size: size, frame_offset: (c.len() + 36) as u64, frame_size: 0, role: Role::Padding };
    c.extend_from_slice(&write::region_record(&region));
    let index = write::index(&[region], &[]);
    c.extend_from_slice(&write::end_record(size, index.len() as u64));
    let index_at = c.len() as u64;
    c.extend_from_slice(&index);
    c.extend_from_slice(&write::trailer(size, index_at, index.len() as u64, &[0; 32]));
    let mut zeros = 0u64;
    let mut sink = |b: &[u8]| {
        assert!(b.len() <= 1 << 16 && b.iter().all(|&x| x == 0), "zeros come 64 KiB at a time");
        zeros += b.len() as u64;
        Ok(())
    };
    let opts = llmc::DecodeOptions::default();
    let d = llmc::stream::decode(&mut llmc::stream::Input::new(&c[..]), &opts, 0, false, &mut sink).unwrap();
    assert_eq!((d.output_size, zeros), (size, size));
    // The random-access reader agrees with the one-pass reader.
    let index = llmc::model::Index::open(&c).unwrap();
    assert_eq!(index.original_size, size);
}
