//! The streaming decoder, in zstd's shape: create a context, feed input
//! pieces of any size, receive the output in order into your own buffers,
//! free. It decodes frames and containers (version 2; version 1 containers
//! keep their index at the end and are refused: open them as a buffer).

use super::boundary::{bytes, bytes_mut, call, store};
use super::types::llmc_status;
use crate::engine::push::PushDecoder;
use crate::engine::stream::Decoder;
use crate::error::Error;
use crate::params::DecodeOptions;
use core::ffi::c_void;

/// Input of one `llmc_dstream_decompress` call: `size` bytes at `src`, of
/// which the first `pos` are already consumed (updated by the call).
#[repr(C)]
pub struct llmc_inbuf {
    pub src: *const c_void,
    pub size: usize,
    pub pos: usize,
}

/// Output of one `llmc_dstream_decompress` call: room for `size` bytes at
/// `dst`, of which the first `pos` are already used (updated by the call).
#[repr(C)]
pub struct llmc_outbuf {
    pub dst: *mut c_void,
    pub size: usize,
    pub pos: usize,
}

/// `llmc_dstream_create` flag: check a container's SHA-256 at its end (chunk
/// checksums and the container's index are always checked).
pub const LLMC_DSTREAM_VERIFY_SHA256: u32 = 1;
const KNOWN_DSTREAM_FLAGS: u32 = LLMC_DSTREAM_VERIFY_SHA256;

/// A streaming decoder (opaque).
pub struct llmc_dstream {
    inner: PushDecoder,
    /// The first error, reported again by every later call.
    failed: Option<Error>,
}

/// Creates a streaming decoder. `n_threads` worker threads decode chunks in
/// parallel (0 or 1: one; at most 256), started when the first
/// chunk is read; the decoder also runs one thread of its own, which reads the
/// stream as you feed it (started here). `llmc_dstream_free` joins them all.
/// `flags`: 0 or `LLMC_DSTREAM_VERIFY_SHA256`. On failure `*out` is NULL (when
/// `out` is not).
///
/// Pieces of any size are cheap: while the decoder is inside a frame's
/// payload (it knows how many bytes it still needs), a call queues its input
/// and returns at once, and the decoder's thread wakes once 64 KiB or the rest
/// of what it needs has arrived. Only where the stream could end does a call
/// wait for the decoder (a round trip of some microseconds). The 232 MB gemma
/// container fed 4 KiB at a time decodes at about 1 GB/s, 64 bytes at a time
/// at 0.4 GB/s (2-core AMD EPYC).
///
/// Memory: at most 4 MiB of queued input and 4 MiB of queued output, a window
/// of chunks (about 48 MiB), 8 bytes per chunk of the frame being read and 33
/// bytes per container region. Never the whole input or output: a stream
/// declaring chunks over 32 MiB (`LLMC_MAX_STREAM_CHUNK`) fails with
/// `LLMC_STATUS_LIMIT_EXCEEDED`. Thread-safe.
///
/// # Safety
/// `out` is NULL or valid for writing one pointer.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn llmc_dstream_create(n_threads: u32, flags: u32, out: *mut *mut llmc_dstream) -> llmc_status {
    call(|| {
        if out.is_null() {
            return Err(Error::NullPointer);
        }
        // SAFETY: checked non-null; valid for one pointer per the contract. A
        // failed create leaves NULL there.
        unsafe { out.write_unaligned(core::ptr::null_mut()) };
        if flags & !KNOWN_DSTREAM_FLAGS != 0 {
            return Err(Error::InvalidArgument);
        }
        let verify_sha = flags & LLMC_DSTREAM_VERIFY_SHA256 != 0;
        let opts = DecodeOptions { n_threads, ..Default::default() };
        let workers = n_threads.clamp(1, 256) as usize;
        let inner = PushDecoder::start(move |input, sink| {
            // Version-1 containers and per-stream files end only where the
            // input does, which a fed stream never says: refused.
            let lead: [u8; 6] = input.array()?;
            if lead[..4] == *b"LLMS" || (lead[..4] == *b"LLMC" && lead[4..6] == [1, 0]) {
                return Err(Error::VersionUnsupported);
            }
            input.unread(&lead);
            let decoder = Decoder::new(&opts)?;
            crate::sources::stream::decode_with(input, &decoder, &opts, workers, verify_sha, sink).map(|_| ())
        })?;
        let d = Box::into_raw(Box::new(llmc_dstream { inner, failed: None }));
        // SAFETY: checked non-null; the caller passes a valid out-pointer.
        unsafe { out.write_unaligned(d) };
        Ok(())
    })
}

/// Feeds `input` from `input->pos` and writes decoded bytes to `output` from
/// `output->pos`, advancing both. Returns when the input given is taken and no
/// more output can come without more input, when the input given is taken and
/// the stream cannot end before more arrives (output of what was given may
/// then come on a later call), when `output` is full, or when the stream ends:
/// then `*finished` is 1 (the bytes after the stream's end are left
/// unconsumed). Call again while input is left or `output` came back full
/// (give it room each time: an output with no room left is full at once, so a
/// loop that passes a zero-size output never makes progress). A
/// stream whose input ends before `*finished` is 1 was truncated: no call says
/// so, since only the caller knows its input has ended; treat it as
/// `LLMC_STATUS_SRC_TRUNCATED` (the output so far is not the whole file). An
/// error (a damaged stream: `LLMC_STATUS_CORRUPT`, `_CHECKSUM_MISMATCH`, ...)
/// is returned by this and every later call.
/// Not thread-safe for one stream: one call at a time (any thread);
/// different streams are independent.
///
/// # Safety
/// `ds` is NULL or a live stream; `output` and `input` are NULL or valid, their
/// `dst` holding `size` writable bytes and `src` `size` readable ones, not
/// overlapping; `finished` is NULL or valid for writing an int.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn llmc_dstream_decompress(ds: *mut llmc_dstream, output: *mut llmc_outbuf, input: *mut llmc_inbuf, finished: *mut i32) -> llmc_status {
    call(|| {
        // SAFETY: NULL or a live stream per the contract.
        let ds = unsafe { ds.as_mut() }.ok_or(Error::NullPointer)?;
        // SAFETY: NULL or valid buffer descriptions per the contract.
        let (output, input) = unsafe { (output.as_mut(), input.as_mut()) };
        let (output, input) = (output.ok_or(Error::NullPointer)?, input.ok_or(Error::NullPointer)?);
        if input.pos > input.size || output.pos > output.size {
            return Err(Error::InvalidArgument);
        }
        // SAFETY: `src` holds `size` readable bytes and `dst` `size` writable
        // ones, per the contract; the two do not overlap.
        let (src, dst) = unsafe { (bytes(input.src, input.size)?, bytes_mut(output.dst, output.size)?) };
        if let Some(e) = ds.failed {
            return Err(e);
        }
        let step = ds.inner.step(&src[input.pos..], &mut dst[output.pos..]).inspect_err(|&e| ds.failed = Some(e))?;
        input.pos += step.consumed;
        output.pos += step.produced;
        // SAFETY: NULL or valid per the contract.
        unsafe { store(finished, i32::from(step.finished)) };
        Ok(())
    })
}

/// Frees a streaming decoder (stopping its threads); NULL is ignored. No other
/// call may be using it.
///
/// # Safety
/// `ds` is NULL or a stream from `llmc_dstream_create`, not freed before.
#[no_mangle]
pub unsafe extern "C" fn llmc_dstream_free(ds: *mut llmc_dstream) {
    if !ds.is_null() {
        // SAFETY: `ds` came from llmc_dstream_create and is freed once.
        drop(unsafe { Box::from_raw(ds) });
    }
}

