//! zstd chunks (through zstd-sys), for regions no dedicated codec models: GGUF
//! metadata, unknown tensor types. The payload is a mode byte and one zstd frame
//! (mode 1), two for GGUF strings (mode 2, [`super::strings`]), or one of the
//! differences of 32-bit words (mode 3, [`super::words`]); a chunk that zstd
//! would not shrink is stored (payload = mode byte 0 + bytes).

use crate::error::{Error, Result};

const MODE_STORED: u8 = 0;
const MODE_ZSTD: u8 = 1;
/// GGUF strings, lengths and bytes apart (container version 4 on).
const MODE_STRINGS: u8 = 2;
/// 32-bit words as differences (container version 9 on).
const MODE_WORDS: u8 = 3;

/// Appends the payload of `src` compressed at `level` to `out`.
pub fn encode_chunk(src: &[u8], level: i32, out: &mut Vec<u8>) -> Result<()> {
    let at = out.len();
    out.push(MODE_ZSTD);
    compress_frame(src, level, out)?;
    if out.len() - at > src.len() {
        store(src, at, out);
    }
    Ok(())
}

/// Appends the payload of `src`, a run of GGUF strings, at `level` to `out`: the
/// lengths and the bytes apart ([`super::strings`]) when `src` starts with a
/// string, else as [`encode_chunk`]; stored if neither shrinks it.
pub fn encode_strings_chunk(src: &[u8], level: i32, out: &mut Vec<u8>) -> Result<()> {
    let Some(body) = super::strings::encode_body(src, level)? else { return encode_chunk(src, level, out) };
    let at = out.len();
    if body.len() >= src.len() {
        store(src, at, out);
    } else {
        out.push(MODE_STRINGS);
        out.extend_from_slice(&body);
    }
    Ok(())
}

/// Appends the payload of `src`, a GGUF array of 32-bit numbers, at `level` to
/// `out`: the words' differences (mode 3) unless the words as they are (mode 1)
/// code strictly smaller at level 1 (numbers without order), so that the costly
/// level runs once; stored if neither shrinks it.
pub fn encode_words_chunk(src: &[u8], level: i32, out: &mut Vec<u8>) -> Result<()> {
    let differences = super::words::differences(src);
    let (mut as_is, mut as_differences) = (Vec::new(), Vec::new());
    compress_frame(src, 1, &mut as_is)?;
    compress_frame(&differences, 1, &mut as_differences)?;
    if as_is.len() < as_differences.len() {
        return encode_chunk(src, level, out);
    }
    let at = out.len();
    out.push(MODE_WORDS);
    compress_frame(&differences, level, out)?;
    if out.len() - at > src.len() {
        store(src, at, out);
    }
    Ok(())
}

/// Appends the stored payload of `src` (mode 0) to `out`.
pub fn stored_chunk(src: &[u8], out: &mut Vec<u8>) {
    store(src, out.len(), out);
}

fn store(src: &[u8], at: usize, out: &mut Vec<u8>) {
    out.truncate(at);
    out.push(MODE_STORED);
    out.extend_from_slice(src);
}

/// Sources up to this size are compressed with a context kept per thread:
/// `ZSTD_compress` makes and frees one per call, most of the cost of a tiny
/// tensor (a file of 200,000 of them spent a third of its time there). Larger
/// ones keep the one-shot call, so no thread keeps a large context (level 19
/// on megabytes) alive. `ZSTD_compressCCtx` at a level gives `ZSTD_compress`'s
/// bytes.
const SMALL_SOURCE: usize = 64 << 10;

/// A thread's zstd compression context for small sources (`None` if zstd
/// could not make one: the one-shot call then serves).
struct SmallCctx(Option<core::ptr::NonNull<zstd_sys::ZSTD_CCtx>>);

impl SmallCctx {
    fn new() -> SmallCctx {
        // SAFETY: no arguments; a null result is handled.
        SmallCctx(core::ptr::NonNull::new(unsafe { zstd_sys::ZSTD_createCCtx() }))
    }
}

impl Drop for SmallCctx {
    fn drop(&mut self) {
        if let Some(c) = self.0 {
            // SAFETY: made by ZSTD_createCCtx, freed once, at the thread's end.
            unsafe { zstd_sys::ZSTD_freeCCtx(c.as_ptr()) };
        }
    }
}

thread_local! {
    static SMALL_CCTX: std::cell::OnceCell<SmallCctx> = const { std::cell::OnceCell::new() };
}

/// Appends one zstd frame of `src` at `level` to `out`.
pub(super) fn compress_frame(src: &[u8], level: i32, out: &mut Vec<u8>) -> Result<()> {
    // SAFETY: pure function of its argument.
    let bound = unsafe { zstd_sys::ZSTD_compressBound(src.len()) };
    let at = out.len();
    out.reserve(bound);
    let dst = out.as_mut_ptr().wrapping_add(at);
    let n = if src.len() <= SMALL_SOURCE {
        SMALL_CCTX.with(|c| match c.get_or_init(SmallCctx::new).0 {
            // SAFETY: as below, with a context of this thread's own (never shared).
            Some(cctx) => unsafe { zstd_sys::ZSTD_compressCCtx(cctx.as_ptr(), dst.cast(), bound, src.as_ptr().cast(), src.len(), level) },
            // SAFETY: as below.
            None => unsafe { zstd_sys::ZSTD_compress(dst.cast(), bound, src.as_ptr().cast(), src.len(), level) },
        })
    } else {
        // SAFETY: the destination has `bound` bytes of spare capacity past `at`, the
        // source is a valid slice; zstd writes at most `bound` bytes and reports how many.
        unsafe { zstd_sys::ZSTD_compress(dst.cast(), bound, src.as_ptr().cast(), src.len(), level) }
    };
    // SAFETY: pure function of its argument.
    if unsafe { zstd_sys::ZSTD_isError(n) } != 0 {
        return Err(Error::Generic);
    }
    // SAFETY: zstd initialised the first `n` bytes after `at`.
    unsafe { out.set_len(at + n) };
    Ok(())
}

/// `Corrupt` unless `src` is exactly one zstd frame: libzstd's one-shot decoders
/// also accept several frames back to back, and skippable frames, which the
/// format does not allow (a strict decoder written from FORMAT.md would refuse
/// them).
fn one_frame(src: &[u8]) -> Result<()> {
    // A skippable frame alone counts as one frame to zstd (and decodes to
    // nothing): refused by its magic (from an independent review).
    if is_skippable(src) {
        return Err(Error::Corrupt);
    }
    // SAFETY: `src` is a valid slice; zstd reads the frame's headers within it.
    let n = unsafe { zstd_sys::ZSTD_findFrameCompressedSize(src.as_ptr().cast(), src.len()) };
    // SAFETY: pure function of its argument.
    if unsafe { zstd_sys::ZSTD_isError(n) } != 0 || n != src.len() {
        return Err(Error::Corrupt);
    }
    Ok(())
}

/// Whether `src` starts with the magic of a zstd skippable frame
/// (0x184D2A50 to 0x184D2A5F, little-endian).
pub(super) fn is_skippable(src: &[u8]) -> bool {
    src.get(..4).is_some_and(|m| u32::from_le_bytes(m.try_into().expect("4 bytes")) & 0xFFFF_FFF0 == 0x184D_2A50)
}

/// Decodes one zstd frame, all of `src`, into the start of `out`; returns its
/// length. Content that does not fit is corrupt, and so is anything but one frame.
pub(super) fn decompress_frame(src: &[u8], out: &mut [u8]) -> Result<usize> {
    one_frame(src)?;
    // SAFETY: `out` and `src` are valid slices; zstd never writes past
    // `out.len()` and validates its input.
    let n = unsafe { zstd_sys::ZSTD_decompress(out.as_mut_ptr().cast(), out.len(), src.as_ptr().cast(), src.len()) };
    // SAFETY: pure function of its argument.
    if unsafe { zstd_sys::ZSTD_isError(n) } != 0 {
        return Err(Error::Corrupt);
    }
    Ok(n)
}

/// The content size a zstd frame's header declares, if it declares one.
pub(super) fn frame_content_size(src: &[u8]) -> Option<u64> {
    // SAFETY: `src` is a valid slice; zstd reads at most its header from it.
    let size = unsafe { zstd_sys::ZSTD_getFrameContentSize(src.as_ptr().cast(), src.len()) };
    // The two largest values mean "unknown" and "error".
    (size < u64::MAX - 1).then_some(size)
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
    match payload.split_first() {
        Some((&MODE_ZSTD, body)) if decompress_frame_with(body, out, dctx)? == out.len() => Ok(()),
        Some((&MODE_ZSTD, _)) => Err(Error::Corrupt),
        Some((&MODE_STRINGS, body)) => super::strings::decode_body(body, out, dctx),
        Some((&MODE_WORDS, body)) => decode_words(decompress_frame_with(body, out, dctx)?, out),
        _ => decode_chunk(payload, out),
    }
}

/// Mode 3 after its frame decoded `n` bytes into `out`: exactly the chunk,
/// then the words' running sums.
fn decode_words(n: usize, out: &mut [u8]) -> Result<()> {
    if n != out.len() {
        return Err(Error::Corrupt);
    }
    super::words::running_sums(out);
    Ok(())
}

/// [`decompress_frame`] with a context reused across calls (made on first
/// use; if it cannot be made, a one-off context as before).
pub(super) fn decompress_frame_with(src: &[u8], out: &mut [u8], dctx: &mut Option<DCtx>) -> Result<usize> {
    one_frame(src)?;
    if dctx.is_none() {
        *dctx = DCtx::new();
    }
    let Some(ctx) = dctx else { return decompress_frame(src, out) };
    // SAFETY: `ctx` is a live context used by this call alone; `out` and `src`
    // are valid slices; zstd never writes past `out.len()` and validates its input.
    let n = unsafe { zstd_sys::ZSTD_decompressDCtx(ctx.0.as_ptr(), out.as_mut_ptr().cast(), out.len(), src.as_ptr().cast(), src.len()) };
    // SAFETY: pure function of its argument.
    if unsafe { zstd_sys::ZSTD_isError(n) } != 0 {
        return Err(Error::Corrupt);
    }
    Ok(n)
}

/// Decodes a payload into exactly `out.len()` bytes.
pub fn decode_chunk(payload: &[u8], out: &mut [u8]) -> Result<()> {
    let (&mode, body) = payload.split_first().ok_or(Error::SrcTruncated)?;
    match mode {
        MODE_STORED if body.len() == out.len() => {
            out.copy_from_slice(body);
            Ok(())
        }
        MODE_ZSTD if decompress_frame(body, out)? == out.len() => Ok(()),
        MODE_STRINGS => super::strings::decode_body(body, out, &mut None),
        MODE_WORDS => decode_words(decompress_frame(body, out)?, out),
        _ => Err(Error::Corrupt),
    }
}

/// One zstd frame written piece by piece (the per-stream baseline's streams):
/// the same parameters as [`encode_chunk`] for `pledged` bytes of content.
pub struct StreamEncoder {
    cctx: *mut zstd_sys::ZSTD_CCtx,
    out: Vec<u8>,
    /// Frame bytes handed to the sink so far.
    written: u64,
}

// SAFETY: the context is owned by the encoder alone and used only through
// `&mut self`; zstd contexts may move between threads.
unsafe impl Send for StreamEncoder {}

impl StreamEncoder {
    pub fn new(level: i32, pledged: u64) -> Result<StreamEncoder> {
        // SAFETY: no arguments; returns NULL when out of memory.
        let cctx = unsafe { zstd_sys::ZSTD_createCCtx() };
        if cctx.is_null() {
            return Err(Error::Allocation);
        }
        let e = StreamEncoder { cctx, out: vec![0u8; 1 << 17], written: 0 };
        // SAFETY: a live context; plain integer parameters.
        let (a, b) = unsafe {
            (
                zstd_sys::ZSTD_CCtx_setParameter(cctx, zstd_sys::ZSTD_cParameter::ZSTD_c_compressionLevel, level),
                zstd_sys::ZSTD_CCtx_setPledgedSrcSize(cctx, pledged as core::ffi::c_ulonglong),
            )
        };
        // SAFETY: pure functions of their arguments.
        if unsafe { zstd_sys::ZSTD_isError(a) != 0 || zstd_sys::ZSTD_isError(b) != 0 } {
            return Err(Error::InvalidArgument);
        }
        Ok(e)
    }

    fn step(&mut self, data: &[u8], end: bool, sink: &mut dyn FnMut(&[u8]) -> Result<()>) -> Result<()> {
        let mut i = zstd_sys::ZSTD_inBuffer { src: data.as_ptr().cast(), size: data.len(), pos: 0 };
        let op = if end { zstd_sys::ZSTD_EndDirective::ZSTD_e_end } else { zstd_sys::ZSTD_EndDirective::ZSTD_e_continue };
        loop {
            let mut o = zstd_sys::ZSTD_outBuffer { dst: self.out.as_mut_ptr().cast(), size: self.out.len(), pos: 0 };
            // SAFETY: a live context; the buffers describe valid slices (`out`
            // writable, `data` readable) and zstd keeps to their sizes.
            let r = unsafe { zstd_sys::ZSTD_compressStream2(self.cctx, &mut o, &mut i, op) };
            // SAFETY: pure function of its argument.
            if unsafe { zstd_sys::ZSTD_isError(r) } != 0 {
                // More or fewer bytes than pledged, or out of memory.
                return Err(Error::InvalidArgument);
            }
            self.written += o.pos as u64;
            sink(&self.out[..o.pos])?;
            let done = if end { r == 0 } else { i.pos == i.size };
            if done {
                return Ok(());
            }
        }
    }

    /// Compresses `data`, handing finished frame bytes to `sink`.
    pub fn write(&mut self, data: &[u8], sink: &mut dyn FnMut(&[u8]) -> Result<()>) -> Result<()> {
        self.step(data, false, sink)
    }

    /// Ends the frame; returns its size in bytes.
    pub fn finish(mut self, sink: &mut dyn FnMut(&[u8]) -> Result<()>) -> Result<u64> {
        self.step(&[], true, sink)?;
        Ok(self.written)
    }
}

impl Drop for StreamEncoder {
    fn drop(&mut self) {
        // SAFETY: created by ZSTD_createCCtx in `new`, freed once here.
        unsafe { zstd_sys::ZSTD_freeCCtx(self.cctx) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_both_ways(payload: &[u8], len: usize) -> Result<Vec<u8>> {
        let mut a = vec![0u8; len];
        decode_chunk(payload, &mut a)?;
        let mut b = vec![0u8; len];
        decode_chunk_with(payload, &mut b, &mut None)?;
        assert_eq!(a, b);
        Ok(a)
    }

    #[test]
    fn words_roundtrip_as_differences_or_as_they_are() {
        // Scores counting down (what mode 3 is for), with a ragged tail.
        let mut scores: Vec<u8> = (0..20_000u32).flat_map(|i| (-(i as f32)).to_le_bytes()).collect();
        scores.extend_from_slice(&[9, 8]);
        let mut p = Vec::new();
        encode_words_chunk(&scores, 3, &mut p).unwrap();
        assert_eq!(p[0], MODE_WORDS);
        assert!(p.len() < 1000, "{}", p.len());
        assert_eq!(decode_both_ways(&p, scores.len()).unwrap(), scores);
        // Numbers without order but with a small alphabet: differences lose,
        // so the words are coded as they are (mode 1).
        let mut x = 0x9e37_79b9u32;
        let unordered: Vec<u8> = (0..20_000)
            .flat_map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                [1.0f32, 2.0, 3.0, 4.0][(x % 4) as usize].to_le_bytes()
            })
            .collect();
        p.clear();
        encode_words_chunk(&unordered, 3, &mut p).unwrap();
        assert_eq!(p[0], MODE_ZSTD);
        assert_eq!(decode_both_ways(&p, unordered.len()).unwrap(), unordered);
        // Nothing shrinks noise: stored.
        let noise: Vec<u8> = (0..4096).map(|_| { x ^= x << 13; x ^= x >> 17; x ^= x << 5; x as u8 }).collect();
        p.clear();
        encode_words_chunk(&noise, 3, &mut p).unwrap();
        assert_eq!(p[0], MODE_STORED);
        assert_eq!(decode_both_ways(&p, noise.len()).unwrap(), noise);
    }

    #[test]
    fn words_of_the_wrong_length_are_corrupt() {
        let scores: Vec<u8> = (0..1000u32).flat_map(|i| (-(i as f32)).to_le_bytes()).collect();
        let mut p = Vec::new();
        encode_words_chunk(&scores, 3, &mut p).unwrap();
        for len in [scores.len() - 1, scores.len() + 1, scores.len() + 4] {
            assert_eq!(decode_both_ways(&p, len).unwrap_err(), Error::Corrupt, "{len}");
        }
        for cut in [1, 2, p.len() / 2, p.len() - 1] {
            assert!(decode_both_ways(&p[..cut], scores.len()).is_err(), "{cut}");
        }
    }

    #[test]
    fn a_body_of_anything_but_one_frame_is_corrupt() {
        // From an independent review: libzstd's one-shot decoders take frames
        // back to back and skippable frames; §9 allows one frame. Every mode
        // that holds zstd frames (1, 3, and both of mode 2's) refuses them.
        let src: Vec<u8> = (0..8192u32).flat_map(|i| (i * 3).to_le_bytes()).collect();
        let skippable = [0x50, 0x2A, 0x4D, 0x18, 4, 0, 0, 0, 1, 2, 3, 4];
        for mode in [MODE_ZSTD, MODE_WORDS] {
            let body = if mode == MODE_WORDS { crate::codec::words::differences(&src) } else { src.clone() };
            let mut two = vec![mode];
            compress_frame(&body[..1000], 3, &mut two).unwrap();
            compress_frame(&body[1000..], 3, &mut two).unwrap();
            assert_eq!(decode_both_ways(&two, src.len()).unwrap_err(), Error::Corrupt, "mode {mode}: two frames");
            let mut one = vec![mode];
            compress_frame(&body, 3, &mut one).unwrap();
            assert_eq!(decode_both_ways(&one, src.len()).unwrap(), src, "mode {mode}: one frame");
            one.extend_from_slice(&skippable);
            assert_eq!(decode_both_ways(&one, src.len()).unwrap_err(), Error::Corrupt, "mode {mode}: a skippable frame after");
        }
        // A skippable frame in place of the frame, where the content is empty.
        assert_eq!(decode_both_ways(&[&[MODE_ZSTD][..], &skippable].concat(), 0).unwrap_err(), Error::Corrupt, "a skippable frame alone");
        // Mode 2 of four empty strings: its bytes frame holds nothing, and a
        // skippable frame in its place is refused.
        let empty = [0u8; 32];
        let mut p = Vec::new();
        encode_strings_chunk(&empty, 3, &mut p).unwrap();
        assert_eq!(p[0], MODE_STRINGS);
        assert_eq!(decode_both_ways(&p, empty.len()).unwrap(), empty);
        let m = u32::from_le_bytes(p[5..9].try_into().unwrap()) as usize;
        p.truncate(9 + m);
        p.extend_from_slice(&skippable);
        assert_eq!(decode_both_ways(&p, empty.len()).unwrap_err(), Error::Corrupt, "mode 2: a skippable frame for the bytes");
        // Mode 2's two frames: a skippable frame after the bytes frame.
        let strings: Vec<u8> = (0..3000u32).flat_map(|i| { let t = format!("tok{i}"); let mut r = (t.len() as u64).to_le_bytes().to_vec(); r.extend_from_slice(t.as_bytes()); r }).collect();
        let mut p = Vec::new();
        encode_strings_chunk(&strings, 3, &mut p).unwrap();
        assert_eq!(p[0], MODE_STRINGS);
        assert_eq!(decode_both_ways(&p, strings.len()).unwrap(), strings);
        p.extend_from_slice(&skippable);
        assert_eq!(decode_both_ways(&p, strings.len()).unwrap_err(), Error::Corrupt, "mode 2: a skippable frame after");
    }
}
