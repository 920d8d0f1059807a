//! The C API against what an outside hostile-input and filesystem test found
//! (issue 16): errno kept, non-regular files, the reader callback's zero-length
//! reads, names a container cannot record, codec values in tensor info, name
//! lookups, refused threads.

mod common;
use common::*;
use llmc::ffi::container::*;
use llmc::ffi::info::llmc_last_os_error;
use llmc::{CodecId, Error as S};
use std::ffi::CString;
use std::path::{Path, PathBuf};

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("llmc-hostile-c-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn c(p: &Path) -> CString {
    CString::new(p.to_str().unwrap()).unwrap()
}

fn corpus(file: &str) -> PathBuf {
    fixtures_dir().join("corrupt").join(file)
}

fn open(path: &Path, flags: u32) -> (u32, *mut llmc_container) {
    let mut g = std::ptr::null_mut();
    // SAFETY: valid C string and out-pointer.
    let s = unsafe { llmc_container_open_file(c(path).as_ptr(), flags, &mut g) };
    (s, g)
}

#[test]
fn filesystem_failures_keep_their_errno() {
    let d = scratch("errno");
    let missing = d.join("missing.gguf");
    let out = d.join("out.llmc");
    // SAFETY: valid C strings; NULL params.
    let s = unsafe { llmc_container_compress_file(c(&missing).as_ptr(), c(&out).as_ptr(), std::ptr::null()) };
    assert_eq!((s, llmc_last_os_error()), (S::NotFound.code(), libc_enoent()));
    // An output in a folder that does not exist.
    let nowhere = d.join("no/such/dir/out.llmc");
    // SAFETY: as above.
    let s = unsafe { llmc_container_compress_file(c(&corpus("model.gguf")).as_ptr(), c(&nowhere).as_ptr(), std::ptr::null()) };
    assert_eq!((s, llmc_last_os_error()), (S::Io.code(), libc_enoent()));
    // An output under a regular file.
    let under_file = corpus("model.gguf").join("x.llmc");
    // SAFETY: as above.
    let s = unsafe { llmc_container_decompress_file(c(&corpus("model.gguf.llmc")).as_ptr(), c(&under_file).as_ptr(), 1) };
    assert_eq!((s, llmc_last_os_error()), (S::Io.code(), 20 /* ENOTDIR */));
    // A folder as the input: read fails with EISDIR, and says so (an outside
    // test found 0 here: the number was dropped on the way).
    // SAFETY: as above.
    let s = unsafe { llmc_container_compress_file(c(&d).as_ptr(), c(&out).as_ptr(), std::ptr::null()) };
    assert_eq!((s, llmc_last_os_error()), (S::Io.code(), 21 /* EISDIR */));
    // The reader API says the same of a folder (it said INVALID_ARGUMENT, errno 0).
    let mut r = std::ptr::null_mut();
    // SAFETY: a valid C string, NULL options (the defaults), a valid out-pointer.
    let s = unsafe { llmc::ffi::reader::llmc_reader_open(c(&d).as_ptr(), std::ptr::null(), &mut r) };
    assert_eq!((s, llmc_last_os_error(), r.is_null()), (S::Io.code(), 21, true));
    // A call that succeeds resets it.
    // SAFETY: as above.
    let s = unsafe { llmc_container_decompress_file(c(&corpus("model.gguf.llmc")).as_ptr(), c(&out).as_ptr(), 1) };
    assert_eq!((s, llmc_last_os_error()), (0, 0));
    let (s, _) = open(&d.join("nope.llmc"), 0);
    assert_eq!((s, llmc_last_os_error()), (S::NotFound.code(), libc_enoent()));
}

fn libc_enoent() -> i32 {
    2
}

#[test]
fn non_regular_files_are_not_read_without_end() {
    // /dev/zero: refused after its 64-byte header, not read until memory runs out.
    for flags in [LLMC_OPEN_NO_MMAP, 0, LLMC_OPEN_NO_MMAP | LLMC_OPEN_NO_VERIFY] {
        let (s, g) = open(Path::new("/dev/zero"), flags);
        assert!(g.is_null());
        assert_eq!(s, S::BadMagic.code(), "flags {flags}");
    }
    // A FIFO carrying a real container opens: a version-1 container read to the
    // size its header declares, a current one record by record to its trailer
    // (an outside test found every current container refused with a checksum
    // mismatch: only the version-1 header was read). A cut one is truncated.
    let d = scratch("fifo");
    let original = fixture("corrupt/model.gguf");
    let current = llmc::model::compress(&original, &llmc::CompressParams::default(), None).unwrap();
    assert!(u16::from_le_bytes([current[4], current[5]]) > 1);
    let cut = current[..current.len() - 1].to_vec();
    for (k, (bytes, want)) in [(fixture("corrupt/model.gguf.llmc"), 0), (current, 0), (cut, S::SrcTruncated.code())].into_iter().enumerate() {
        let fifo = d.join(format!("c{k}.llmc"));
        assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
        let complete = want == 0;
        let writer = {
            let fifo = fifo.clone();
            std::thread::spawn(move || {
                let mut f = std::fs::OpenOptions::new().write(true).open(&fifo).unwrap();
                std::io::Write::write_all(&mut f, &bytes).unwrap();
                if complete {
                    // More than the container: not read.
                    let _ = std::io::Write::write_all(&mut f, &[7u8; 4096]);
                }
            })
        };
        let (s, g) = open(&fifo, 0);
        writer.join().unwrap();
        assert_eq!(s, want, "container {k}");
        if s == 0 {
            // SAFETY: `g` is the handle just opened, closed once.
            unsafe {
                assert_eq!(llmc_container_original_size(g), original.len() as u64);
                llmc_container_close(g);
            }
        }
    }
}

#[test]
fn reader_callback_zero_returns_are_told_apart_by_the_last_status() {
    let (s, g) = open(&corpus("model.gguf.llmc"), 0);
    assert_eq!(s, 0);
    // SAFETY: `g` is a live handle; zero-length reads write nothing.
    unsafe {
        let size = llmc_container_original_size(g);
        // 0 without an error: nothing asked for, or the end of the file (like fread).
        assert_eq!(llmc_container_reader_callback(g.cast(), std::ptr::null_mut(), 0, 0), 0);
        assert_eq!(llmc_container_reader_callback(g.cast(), std::ptr::null_mut(), size, 0), 0);
        let mut b = [0u8; 4];
        assert_eq!(llmc_container_reader_callback(g.cast(), b.as_mut_ptr().cast(), size, 4), 0);
        assert_eq!(llmc_container_last_status(g), 0, "none of these is an error");
        assert_eq!(llmc_container_reader_callback(g.cast(), b.as_mut_ptr().cast(), 0, 4), 4);
        assert_eq!(&b, b"GGUF");
        // 0 with an error: the status says so.
        assert_eq!(llmc_container_reader_callback(g.cast(), std::ptr::null_mut(), 0, 4), 0);
        assert_eq!(llmc_container_last_status(g), S::NullPointer.code());
        llmc_container_close(g);
    }
}

#[test]
fn names_a_container_cannot_record_are_refused_before_writing() {
    let d = scratch("names");
    for (file, want) in [
        ("st-name-4097.safetensors", S::LimitExceeded),
        ("st-name-65541.safetensors", S::LimitExceeded),
        ("st-name-nul.safetensors", S::InvalidArgument),
    ] {
        let out = d.join("out.llmc");
        // SAFETY: valid C strings; NULL params.
        let s = unsafe { llmc::ffi::gguf_names::llmc_safetensors_compress_file(c(&corpus(file)).as_ptr(), c(&out).as_ptr(), std::ptr::null()) };
        assert_eq!(s, want.code(), "{file}");
        assert!(std::fs::read_dir(&d).unwrap().next().is_none(), "{file}: nothing written");
    }
    // A GGUF given as safetensors is not one (not "declared size exceeds limit").
    let out = d.join("out.llmc");
    // SAFETY: as above.
    let s = unsafe { llmc::ffi::gguf_names::llmc_safetensors_compress_file(c(&corpus("model.gguf")).as_ptr(), c(&out).as_ptr(), std::ptr::null()) };
    assert_eq!(s, S::SafetensorsInvalid.code());
}

#[test]
fn tensor_info_names_every_codec_and_never_a_frameless_tensor() {
    for file in ["model.gguf.llmc", "model.safetensors.llmc"] {
        let (s, g) = open(&corpus(file), 0);
        assert_eq!(s, 0);
        let mut n = 0u64;
        // SAFETY: live handle, valid out-pointers; `info` is sized by struct_size.
        unsafe {
            assert_eq!(llmc_container_n_tensors(g, &mut n), 0);
            for i in 0..n {
                let mut info: llmc_tensor_info = std::mem::zeroed();
                info.struct_size = std::mem::size_of::<llmc_tensor_info>() as u32;
                assert_eq!(llmc_container_tensor_info(g, i, &mut info), 0);
                assert!(CodecId::from_code(info.codec).is_some(), "{file} tensor {i}: codec {}", info.codec);
                assert!(info.size <= llmc_container_original_size(g));
                let name = std::ffi::CStr::from_ptr(info.name);
                let mut j = u64::MAX;
                assert_eq!(llmc_container_find_tensor(g, name.as_ptr(), &mut j), 0);
                assert_eq!(j, i);
            }
            llmc_container_close(g);
        }
    }
    // The forged containers whose tensor has no frame (1 TiB of "zeros") do not open.
    for file in ["bomb-frameless-tensor-1tib.llmc", "model-gguf-tensor-frameless.llmc"] {
        let (s, g) = open(&corpus(file), 0);
        assert!(g.is_null());
        assert_eq!(s, S::Corrupt.code(), "{file}");
    }
    // A frameless padding region opens; it is no tensor.
    let (s, g) = open(&corpus("bomb-frameless-1gib.llmc"), 0);
    assert_eq!(s, 0);
    let mut n = 7u64;
    // SAFETY: live handle, valid out-pointer.
    unsafe {
        assert_eq!(llmc_container_n_tensors(g, &mut n), 0);
        llmc_container_close(g);
    }
    assert_eq!(n, 0);
    let header = std::fs::read_to_string(fixtures_dir().join("../include/llmc.h")).unwrap();
    assert!(header.contains("#define LLMC_CODEC_ZERO 256"), "the frameless codec value is named, and no frame codec id (8 bits)");
}

/// A safetensors file of `n` one-element F32 tensors named `t{i}`.
fn many_tensors(n: usize) -> Vec<u8> {
    let tensors: Vec<st::Tensor> = (0..n)
        .map(|i| st::Tensor { name: format!("t{i}"), dtype: "F32".into(), shape: serde_json::json!([1]), data: (i as f32).to_le_bytes().to_vec() })
        .collect();
    st::write(&tensors, None)
}

#[test]
fn name_lookups_find_every_entry_and_only_those() {
    let file = many_tensors(5000);
    let container = llmc::model::compress(&file, &llmc::CompressParams::default(), None).unwrap();
    let mut g = std::ptr::null_mut();
    // SAFETY: `container` outlives the handle, closed below.
    unsafe { assert_eq!(llmc_container_open_buffer(container.as_ptr().cast(), container.len(), 0, &mut g), 0) };
    for i in (0..5000).step_by(7) {
        let name = CString::new(format!("t{i}")).unwrap();
        let mut k = u64::MAX;
        let mut v = [0u8; 4];
        // SAFETY: live handle, valid strings and buffers.
        unsafe {
            assert_eq!(llmc_container_find_tensor(g, name.as_ptr(), &mut k), 0);
            assert_eq!(llmc_container_read_tensor(g, std::ptr::null(), k, v.as_mut_ptr().cast(), 4, std::ptr::null_mut()), 0);
        }
        assert_eq!(f32::from_le_bytes(v), i as f32);
    }
    for missing in ["t5000", "t", "", "t01", "T1"] {
        let name = CString::new(missing).unwrap();
        let mut k = 0u64;
        // SAFETY: as above.
        assert_eq!(unsafe { llmc_container_find_tensor(g, name.as_ptr(), &mut k) }, S::NotFound.code(), "{missing:?}");
    }
    // SAFETY: opened above, closed once.
    unsafe { llmc_container_close(g) };
}

#[test]
fn thread_counts_are_capped() {
    use llmc::thread_count;
    assert_eq!(thread_count(0, 10), 1);
    assert_eq!(thread_count(8, 3), 3);
    assert_eq!(thread_count(u32::MAX, 1 << 20), llmc::limits::MAX_THREADS as usize);
}

/// Runs in a child process whose threads all ask for a 100 TB stack.
#[test]
fn a_refused_thread_is_a_status_not_a_panic() {
    if std::env::var_os("LLMC_HOSTILE_CHILD").is_some() {
        let d = scratch("threads-child");
        // SAFETY: valid C strings.
        let s = unsafe { llmc_container_decompress_file(c(&corpus("model.gguf.llmc")).as_ptr(), c(&d.join("o")).as_ptr(), 4) };
        assert_eq!(s, S::Allocation.code());
        assert_ne!(llmc_last_os_error(), 0);
        // SAFETY: as above; one thread starts none.
        let s = unsafe { llmc_container_decompress_file(c(&corpus("model.gguf.llmc")).as_ptr(), c(&d.join("o")).as_ptr(), 1) };
        assert_eq!(s, 0);
        // Compressing: the SHA-256 thread falls back to hashing inline, the
        // refused workers fail the call; on one thread it succeeds.
        for (threads, want) in [(4, S::Allocation.code()), (1, 0)] {
            let mut p = std::mem::MaybeUninit::<llmc::ffi::types::llmc_params>::uninit();
            // SAFETY: valid for writing an llmc_params; init fills every field.
            let mut p = unsafe {
                llmc::ffi::frames::llmc_params_init(p.as_mut_ptr());
                p.assume_init()
            };
            p.n_threads = threads;
            // SAFETY: valid C strings and an initialised llmc_params.
            let s = unsafe { llmc_container_compress_file(c(&corpus("model.gguf")).as_ptr(), c(&d.join("c.llmc")).as_ptr(), &p) };
            assert_eq!(s, want, "{threads} threads");
        }
        return;
    }
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "a_refused_thread_is_a_status_not_a_panic", "--test-threads=1", "--nocapture"])
        .env("LLMC_HOSTILE_CHILD", "1")
        .env("RUST_MIN_STACK", "100000000000000")
        .output()
        .unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && text.contains("1 passed"), "{text}");
}

#[test]
fn a_container_file_cut_short_opens_as_truncated_and_a_damaged_one_does_not() {
    // An interrupted download: mapped, read into memory, or read at offsets.
    let d = scratch("cut");
    let whole = std::fs::read(corpus("model.gguf.llmc")).unwrap();
    let cut = d.join("cut.llmc");
    std::fs::write(&cut, &whole[..whole.len() * 2 / 3]).unwrap();
    for flags in [0, LLMC_OPEN_NO_MMAP] {
        let (s, g) = open(&cut, flags);
        assert_eq!((s, g.is_null()), (S::SrcTruncated.code(), true), "flags {flags}");
    }
    let mut damaged = whole.clone();
    let n = damaged.len();
    damaged[n - 3] ^= 0x40; // inside the trailer's checksum
    let bad = d.join("bad.llmc");
    std::fs::write(&bad, &damaged).unwrap();
    let (s, g) = open(&bad, 0);
    assert!(s != 0 && s != S::SrcTruncated.code() && g.is_null(), "status {s}");
}
