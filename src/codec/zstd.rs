//! zstd chunks (through zstd-sys), for regions no dedicated codec models: GGUF
//! metadata, unknown tensor types. The payload is one zstd frame; a chunk that
//! zstd would not shrink is stored (payload = mode byte 0 + bytes).

use crate::error::{Error, Result};

const MODE_STORED: u8 = 0;
const MODE_ZSTD: u8 = 1;

/// Appends the payload of `src` compressed at `level` to `out`.
pub fn encode_chunk(src: &[u8], level: i32, out: &mut Vec<u8>) -> Result<()> {
    // SAFETY: pure function of its argument.
    let bound = unsafe { zstd_sys::ZSTD_compressBound(src.len()) };
    let at = out.len();
    out.push(MODE_ZSTD);
    out.reserve(bound);
    // SAFETY: the destination has `bound` bytes of spare capacity past `at + 1`, the
    // source is a valid slice; zstd writes at most `bound` bytes and reports how many.
    let n = unsafe {
        zstd_sys::ZSTD_compress(out.as_mut_ptr().add(at + 1).cast(), bound, src.as_ptr().cast(), src.len(), level)
    };
    // SAFETY: pure function of its argument.
    if unsafe { zstd_sys::ZSTD_isError(n) } != 0 {
        out.truncate(at);
        return Err(Error::Generic);
    }
    if n >= src.len() {
        out.truncate(at);
        out.push(MODE_STORED);
        out.extend_from_slice(src);
        return Ok(());
    }
    // SAFETY: zstd initialised the first `n` bytes after `at + 1`.
    unsafe { out.set_len(at + 1 + n) };
    Ok(())
}

/// A zstd decompression context kept across chunks: creating one per call costs
/// more than decoding a small chunk (a few-KB tensor).
pub struct DCtx(core::ptr::NonNull<zstd_sys::ZSTD_DCtx>);

// SAFETY: a ZSTD_DCtx has no thread affinity; `&mut self` keeps its use exclusive.
unsafe impl Send for DCtx {}

impl DCtx {
    pub fn new() -> Option<DCtx> {
        // SAFETY: no arguments; returns NULL on allocation failure.
        core::ptr::NonNull::new(unsafe { zstd_sys::ZSTD_createDCtx() }).map(DCtx)
    }
}

impl Drop for DCtx {
    fn drop(&mut self) {
        // SAFETY: created by ZSTD_createDCtx, freed once here.
        unsafe { zstd_sys::ZSTD_freeDCtx(self.0.as_ptr()) };
    }
}

/// [`decode_chunk`] with a context reused across calls (made on first use).
pub fn decode_chunk_with(payload: &[u8], out: &mut [u8], dctx: &mut Option<DCtx>) -> Result<()> {
    if payload.first() != Some(&MODE_ZSTD) {
        return decode_chunk(payload, out);
    }
    if dctx.is_none() {
        *dctx = DCtx::new();
    }
    let Some(ctx) = dctx else { return decode_chunk(payload, out) };
    let body = &payload[1..];
    // SAFETY: `ctx` is a live context used by this call alone; `out` and `body`
    // are valid slices; zstd never writes past `out.len()` and validates its input.
    let n = unsafe { zstd_sys::ZSTD_decompressDCtx(ctx.0.as_ptr(), out.as_mut_ptr().cast(), out.len(), body.as_ptr().cast(), body.len()) };
    // SAFETY: pure function of its argument.
    if unsafe { zstd_sys::ZSTD_isError(n) } != 0 || n != out.len() {
        return Err(Error::Corrupt);
    }
    Ok(())
}

/// Decodes a payload into exactly `out.len()` bytes.
pub fn decode_chunk(payload: &[u8], out: &mut [u8]) -> Result<()> {
    let (&mode, body) = payload.split_first().ok_or(Error::SrcTruncated)?;
    match mode {
        MODE_STORED if body.len() == out.len() => {
            out.copy_from_slice(body);
            Ok(())
        }
        MODE_ZSTD => {
            // SAFETY: `out` and `body` are valid slices; zstd never writes past
            // `out.len()` and validates its input.
            let n = unsafe { zstd_sys::ZSTD_decompress(out.as_mut_ptr().cast(), out.len(), body.as_ptr().cast(), body.len()) };
            // SAFETY: pure function of its argument.
            if unsafe { zstd_sys::ZSTD_isError(n) } != 0 || n != out.len() {
                return Err(Error::Corrupt);
            }
            Ok(())
        }
        _ => Err(Error::Corrupt),
    }
}
