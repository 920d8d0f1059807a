//! Frame mutations: truncation, header fields, the chunk table, and (resealed,
//! so they get past the CRCs) payload fields of each codec.

use crate::bases::Base;
use crate::corpus::Api::{FrameDecode, FrameInfo};
use crate::hostile::reseal;
use crate::mutate::{bump_u32, flip, get_u32, put, with};
use crate::Corpus;
use llmc::Error::*;

/// Where a frame's chunk table entries and payloads are.
struct Layout {
    n: usize,
    /// (start, len) of every payload.
    payloads: Vec<(usize, usize)>,
}

impl Layout {
    fn of(frame: &[u8]) -> Layout {
        let f = llmc::frame::parse(frame).unwrap();
        let payloads = f.chunks.iter().map(|c| (c.payload.as_ptr() as usize - frame.as_ptr() as usize, c.payload.len())).collect();
        Layout { n: f.chunks.len(), payloads }
    }

    fn entry(&self, chunk: usize) -> usize {
        32 + 8 * chunk
    }

    fn payload(&self, chunk: usize) -> usize {
        self.payloads[chunk].0
    }
}

fn resealed(base: &[u8], edit: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    with(base, |f| {
        edit(f);
        reseal(f);
    })
}

pub fn add(c: &mut Corpus, base: &Base) {
    let b = &base.bytes;
    let stem = base.file.trim_end_matches(".llmf");
    let name = |what: &str| format!("{stem}-{what}.llmf");
    let l = Layout::of(b);
    c.add(base.file, b.clone(), FrameDecode, &base.from, "unmutated", Ok(())).unverified(Ok(()));
    c.also(base.file, FrameInfo, &base.from, "unmutated", Ok(()));
    let bf = base.file;

    // Cases every codec gets.
    let cut = l.payload(1) + 5;
    c.add(&name("cut-in-payload"), b[..cut].to_vec(), FrameDecode, bf, &format!("truncated to {cut} bytes, inside chunk 1's payload"), Err(SrcTruncated)).unverified(Err(SrcTruncated));
    c.add(&name("trailing-byte"), with(b, |f| f.push(0)), FrameDecode, bf, "one zero byte appended", Err(Corrupt)).unverified(Err(Corrupt));
    c.also(&name("trailing-byte"), FrameInfo, bf, "one zero byte appended (frame info reads the frame at the start)", Ok(()));
    let at = l.entry(1) + 4;
    c.add(&name("chunk-crc-flipped"), with(b, |f| flip(f, at * 8 + 3)), FrameDecode, bf, &format!("bit 3 of byte {at}: chunk 1's CRC in the table"), Err(ChecksumMismatch)).unverified(Ok(()));
    let at = l.payload(1) + l.payloads[1].1 / 2;
    c.add(&name("payload-flipped"), with(b, |f| flip(f, at * 8)), FrameDecode, bf, &format!("bit 0 of byte {at}, inside chunk 1's payload; CRCs not resealed"), Err(ChecksumMismatch));
    c.also(&name("payload-flipped"), FrameInfo, bf, "as for frame_decode: info reads no payload", Ok(()));
    let shifted = with(b, |f| {
        let (s0, s1) = (get_u32(f, l.entry(0)), get_u32(f, l.entry(1)));
        put(f, l.entry(0), &(s0 - 1).to_le_bytes());
        put(f, l.entry(1), &(s1 + 1).to_le_bytes());
    });
    let how = "chunk table: chunk 0's payload size minus 1, chunk 1's plus 1 (same total; CRCs not resealed)";
    // A stored payload must be exactly its content: the table check catches it.
    let status = if stem == "stored" { Err(Corrupt) } else { Err(ChecksumMismatch) };
    c.add(&name("chunk-sizes-shifted"), shifted, FrameDecode, bf, how, status).unverified(Err(Corrupt));
    c.add(&name("flag-ignorable"), resealed(b, |f| f[7] |= 0x10), FrameDecode, bf, "flags bit 4 set (may be ignored); resealed", Ok(())).unverified(Ok(()));
    if matches!(stem, "bf16" | "q4k") {
        header_and_table(c, base, &l);
    }
    let payload = |c: &mut Corpus, what: &str, how: &str, edit: &dyn Fn(&mut Vec<u8>, usize)| {
        let p0 = l.payload(0);
        let how = format!("chunk 0's payload (at byte {p0}): {how}; resealed");
        c.add(&name(what), resealed(b, |f| edit(f, p0)), FrameDecode, bf, &how, Err(Corrupt)).unverified(Err(Corrupt));
    };
    match stem {
        "bf16" => bf16(c, &payload),
        "q4k" => q4k(c, &payload),
        "q4k-fields" => {
            assert_eq!(b[l.payload(0)], 2, "the q4k-fields base must code its first chunk in mode 2");
            q4k_fields(c, &payload)
        }
        "fields" | "fields-q5-plain" => fields(c, &payload),
        "fields-q5" => fields_fold(c, &payload),
        "fields-q8-ranks" => fields_ranks(c, &payload),
        "zstd" => {
            zstd(c, &payload);
            skippable_after(c, base, &l);
        }
        "strings" => {
            strings(c, &payload);
            skippable_after(c, base, &l);
        }
        "words" => {
            assert_eq!(b[l.payload(0)], 3, "the words base must code its first chunk in mode 3");
            words(c, &payload);
            short_words(c, base, &l);
            skippable_after(c, base, &l);
        }
        _ => {}
    }
    match stem {
        "bf16-crc" => content_checksum(c, base, &l),
        "stored" | "q4k" => relabelled(c, base),
        _ => {}
    }
}

/// A frame with a content checksum catches what no chunk decoder can see.
fn content_checksum(c: &mut Corpus, base: &Base, l: &Layout) {
    let (b, bf) = (&base.bytes, base.file);
    let at = l.payload(1) + l.payloads[1].1 - 1;
    let how = format!("bit 2 of byte {at} (a raw mantissa field at the end of chunk 1's payload); resealed: only the content checksum can tell");
    c.add("bf16-crc-raw-field-resealed.llmf", resealed(b, |f| flip(f, at * 8 + 2)), FrameDecode, bf, &how, Err(ChecksumMismatch));
    let at = b.len() - 2;
    c.add("bf16-crc-checksum-flipped.llmf", with(b, |f| flip(f, at * 8)), FrameDecode, bf, &format!("bit 0 of byte {at}, in the content checksum"), Err(ChecksumMismatch)).unverified(Ok(()));
}

/// A valid frame whose header names another codec (resealed).
fn relabelled(c: &mut Corpus, base: &Base) {
    let (b, bf) = (&base.bytes, base.file);
    let (file, codec) = match bf {
        "stored.llmf" => ("stored-as-zstd.llmf", llmc::CodecId::Zstd),
        _ => ("q4k-as-bf16.llmf", llmc::CodecId::Bf16),
    };
    let how = format!("codec id changed to {} ({}); resealed", codec as u8, codec.name());
    c.add(file, resealed(b, |f| f[6] = codec as u8), FrameDecode, bf, &how, Err(Corrupt)).unverified(Err(Corrupt));
}

/// Header fields and the chunk table in depth (on the two dedicated codecs).
fn header_and_table(c: &mut Corpus, base: &Base, l: &Layout) {
    let b = &base.bytes;
    let stem = base.file.trim_end_matches(".llmf");
    let name = |what: &str| format!("{stem}-{what}.llmf");
    let bf = base.file;
    c.add(&name("cut-in-magic"), b[..2].to_vec(), FrameDecode, bf, "truncated to 2 bytes", Err(SrcTruncated)).unverified(Err(SrcTruncated));
    c.add(&name("cut-in-header"), b[..20].to_vec(), FrameDecode, bf, "truncated to 20 bytes", Err(SrcTruncated)).unverified(Err(SrcTruncated));
    let cut = l.entry(l.n) - 3;
    c.add(&name("cut-in-table"), b[..cut].to_vec(), FrameDecode, bf, &format!("truncated to {cut} bytes, inside the chunk table"), Err(SrcTruncated));
    c.also(&name("cut-in-table"), FrameInfo, bf, "as for frame_decode", Err(SrcTruncated));
    c.add(&name("cut-last-byte"), b[..b.len() - 1].to_vec(), FrameDecode, bf, "last byte removed", Err(SrcTruncated)).unverified(Err(SrcTruncated));
    c.add(&name("bad-magic"), with(b, |f| f[0] = b'X'), FrameDecode, bf, "magic LLMF -> XLMF", Err(BadMagic));
    c.add(&name("version-2"), resealed(b, |f| f[4] = 2), FrameDecode, bf, "format version 2; resealed", Err(VersionUnsupported));
    c.add(&name("header-flipped"), with(b, |f| flip(f, 8 * 8 + 1)), FrameDecode, bf, "bit 1 of the content size, header check not resealed", Err(ChecksumMismatch));
    c.add(&name("codec-99"), resealed(b, |f| f[6] = 99), FrameDecode, bf, "codec id 99; resealed", Err(CodecUnsupported));
    c.add(&name("flag-must-understand"), resealed(b, |f| f[7] |= 0x02), FrameDecode, bf, "flags bit 1 (unknown, must be understood); resealed", Err(VersionUnsupported));
    c.add(&name("content-2^41"), resealed(b, |f| put(f, 8, &(1u64 << 41).to_le_bytes())), FrameDecode, bf, "content size 2^41 (over the 2^40 limit); resealed", Err(LimitExceeded));
    c.also(&name("content-2^41"), FrameInfo, bf, "as for frame_decode", Err(LimitExceeded));
    // The largest content allowed, in the largest chunks: the table is missing.
    let elem = llmc::frame_info(b).unwrap().codec.element_size();
    let chunk = (1u32 << 28) / elem * elem;
    let n_chunks = (1u64 << 40) / u64::from(chunk);
    let huge = resealed(b, |f| {
        put(f, 8, &(n_chunks * u64::from(chunk)).to_le_bytes());
        put(f, 16, &chunk.to_le_bytes());
        put(f, 20, &(n_chunks as u32).to_le_bytes());
    });
    let how = format!("content {n_chunks} chunks of {chunk} bytes (at most 2^40, consistent) but no chunk table; resealed");
    c.add(&name("content-2^40-no-table"), huge, FrameDecode, bf, &how, Err(SrcTruncated));
    let n = l.n as u32;
    c.add(&name("chunk-count-plus-1"), resealed(b, |f| put(f, 20, &(n + 1).to_le_bytes())), FrameDecode, bf, "chunk count + 1; resealed", Err(Corrupt));
    c.add(&name("chunk-size-512"), resealed(b, |f| put(f, 16, &512u32.to_le_bytes())), FrameDecode, bf, "chunk size 512 (below 1 KiB); resealed", Err(Corrupt));
    let tiny = resealed(b, |f| {
        let (s0, s1) = (get_u32(f, l.entry(0)), get_u32(f, l.entry(1)));
        put(f, l.entry(0), &8u32.to_le_bytes());
        put(f, l.entry(1), &(s0 + s1 - 8).to_le_bytes());
    });
    c.add(&name("payload-below-minimum"), tiny, FrameDecode, bf, "chunk 0 claims an 8-byte payload (chunk 1 takes the rest): less than its content can compress to; resealed", Err(Corrupt));
    let size = llmc::frame_info(b).unwrap().content_size;
    c.also(bf, FrameDecode, bf, &format!("unmutated, read with max_output = {} (one byte less than its content)", size - 1), Err(LimitExceeded)).max_output(size - 1);
}

type PayloadCase<'a> = dyn Fn(&mut Corpus, &str, &str, &dyn Fn(&mut Vec<u8>, usize)) + 'a;

fn bf16(c: &mut Corpus, payload: &PayloadCase<'_>) {
    payload(c, "mode-7", "mode byte 7 (unknown)", &|f, p| f[p] = 7);
    payload(c, "mode-stored", "mode byte 0 (stored) on a coded payload: wrong length", &|f, p| f[p] = 0);
    payload(c, "lanes-16", "lanes_log2 4 (16 lanes, not allowed)", &|f, p| f[p + 1] = 4);
    payload(c, "table-len-plus-1", "alphabet length + 1 (sizes no longer add up)", &|f, p| f[p + 2] += 1);
    payload(c, "words-plus-1", "n_words + 1", &|f, p| bump_u32(f, p + 4, 1));
    payload(c, "esc-count-huge", "escape count 2^31 (more than the chunk's words)", &|f, p| put(f, p + 8, &(1u32 << 31).to_le_bytes()));
    let states = |f: &[u8], p: usize| p + 16 + usize::from(u16::from_le_bytes([f[p + 2], f[p + 3]])) + get_u32(f, p + 12) as usize;
    payload(c, "state-below-L", "lane 0's initial state 0 (below L = 2^16)", &|f, p| {
        let at = states(f, p);
        put(f, at, &0u32.to_le_bytes());
    });
    payload(c, "mode-1", "mode byte 1 on a payload whose lanes carry raw bytes (3): its raw fields are short", &|f, p| f[p] = 1);
    payload(c, "state-flipped", "bit 20 of lane 5's initial state (the final states no longer come back to their start)", &|f, p| {
        let at = states(f, p) + 20;
        flip(f, at * 8 + 20);
    });
    payload(c, "alphabet-first-byte", "alphabet byte 0 (n_regular - 1) + 1", &|f, p| f[p + 16] = f[p + 16].wrapping_add(1));
}

fn q4k(c: &mut Corpus, payload: &PayloadCase<'_>) {
    payload(c, "mode-9", "mode byte 9 (unknown)", &|f, p| f[p] = 9);
    payload(c, "mode-stored", "mode byte 0 (stored) on a windowed payload: wrong length", &|f, p| f[p] = 0);
    payload(c, "stream-len-huge", "header stream 0's length 2^24 (past the payload)", &|f, p| put(f, p + 1, &(1u32 << 24).to_le_bytes()));
    payload(c, "stream-len-minus-1", "header stream 0's length - 1", &|f, p| bump_u32(f, p + 1, -1));
    payload(c, "stream-mode-7", "header stream 0's mode byte 7 (unknown)", &|f, p| f[p + 5] = 7);
}

/// Payload mode 2 (headers as fields): the counts and sizes checked before
/// anything is decoded.
fn q4k_fields(c: &mut Corpus, payload: &PayloadCase<'_>) {
    payload(c, "mode-1", "mode byte 1 (header streams) on a fields payload", &|f, p| f[p] = 1);
    payload(c, "lanes-256", "lanes_log2 8 (256 lanes, not a lane count)", &|f, p| f[p + 1] = 8);
    payload(c, "tables-0", "the scales' table count 0", &|f, p| f[p + 3] = 0);
    payload(c, "tables-17", "the mins' table count 17 (more than a map nibble names)", &|f, p| f[p + 4] = 17);
    payload(c, "map-past-tables", "context map byte 0 = 0xff: dmin contexts 0 and 1 name table 15", &|f, p| f[p + 5] = 0xff);
    payload(c, "words-huge", "n_words 2^30 (past the payload)", &|f, p| {
        let tables = 1 + usize::from(f[p + 2]) + usize::from(f[p + 3]) + usize::from(f[p + 4]);
        put(f, p + 46 + 2 * tables, &(1u32 << 30).to_le_bytes());
    });
}

fn fields(c: &mut Corpus, payload: &PayloadCase<'_>) {
    payload(c, "block-209", "layout block size 209 (the runs no longer tile it)", &|f, p| put(f, p, &209u16.to_le_bytes()));
    payload(c, "no-streams", "layout with 0 streams", &|f, p| f[p + 2] = 0);
    payload(c, "runs-overlap", "stream 0's run starts at 1 (overlaps stream 1)", &|f, p| put(f, p + 4, &1u16.to_le_bytes()));
}

/// A layout with a field coded as ranks (`u16 block, u8 streams | 0x40, u16 at,
/// u16 n`, `n` values, then the three streams' runs).
fn fields_ranks(c: &mut Corpus, payload: &PayloadCase<'_>) {
    payload(c, "ranks-n-0", "an empty list of values", &|f, p| put(f, p + 5, &0u16.to_le_bytes()));
    payload(c, "ranks-n-1", "a list of 1 value (the rest of the list read as the streams' runs)", &|f, p| put(f, p + 5, &1u16.to_le_bytes()));
    payload(c, "ranks-n-max", "a list of 65535 values (past the payload)", &|f, p| put(f, p + 5, &u16::MAX.to_le_bytes()));
    payload(c, "ranks-n-2", "a list of 2 values (the rest of the list read as the streams' runs)", &|f, p| put(f, p + 5, &2u16.to_le_bytes()));
    payload(c, "ranks-at-1", "the ranked field at 1 (its bytes are no two one-byte streams)", &|f, p| put(f, p + 3, &1u16.to_le_bytes()));
    payload(c, "ranks-at-2", "the ranked field at 2 (inside the quants' run)", &|f, p| put(f, p + 3, &2u16.to_le_bytes()));
    payload(c, "ranks-at-33", "the ranked field at 33 (its second byte past the 34-byte block's quants run end)", &|f, p| put(f, p + 3, &33u16.to_le_bytes()));
    payload(c, "ranks-at-max", "the ranked field at 65535 (past the block)", &|f, p| put(f, p + 3, &u16::MAX.to_le_bytes()));
    payload(c, "ranks-flag-cleared", "the ranks flag cleared (the list read as the streams' runs)", &|f, p| f[p + 2] &= !0x40);
    payload(c, "ranks-streams-63", "the ranks flag and 63 streams", &|f, p| f[p + 2] = 0x40 | 63);
}

/// A layout with a fold (`u16 block, u8 streams | 0x80, u8 kind, u16 at`, then
/// the four streams' runs: `u8 n_runs, u16 start, u16 len` each).
fn fields_fold(c: &mut Corpus, payload: &PayloadCase<'_>) {
    payload(c, "fold-kind-0", "fold kind 0 (none is numbered 0)", &|f, p| f[p + 3] = 0);
    payload(c, "fold-kind-2", "fold kind 2 (unknown)", &|f, p| f[p + 3] = 2);
    payload(c, "fold-kind-3", "fold kind 3 (unknown)", &|f, p| f[p + 3] = 3);
    payload(c, "fold-kind-128", "fold kind 128 (unknown)", &|f, p| f[p + 3] = 128);
    payload(c, "fold-kind-255", "fold kind 255 (unknown)", &|f, p| f[p + 3] = 255);
    payload(c, "fold-past-block", "fold at 3: its 20 bytes reach past the 22-byte block", &|f, p| put(f, p + 4, &3u16.to_le_bytes()));
    payload(c, "fold-at-19", "fold at 19 (past the block)", &|f, p| put(f, p + 4, &19u16.to_le_bytes()));
    payload(c, "fold-at-1024", "fold at 1024 (past the block)", &|f, p| put(f, p + 4, &1024u16.to_le_bytes()));
    payload(c, "fold-at-max", "fold at 65535 (past any block)", &|f, p| put(f, p + 4, &u16::MAX.to_le_bytes()));
    payload(c, "fold-streams-0", "a fold and no streams (count byte 0x80)", &|f, p| f[p + 2] = 0x80);
    payload(c, "fold-streams-65", "count byte 0x80 | 65: a fold, the ranks flag (bit 6) and one stream, which cannot hold a ranked field", &|f, p| f[p + 2] = 0x80 | 65);
    payload(c, "fold-block-0", "block size 0 under a fold", &|f, p| put(f, p, &0u16.to_le_bytes()));
    payload(c, "fold-block-20", "block size 20 (the fold fits, the runs do not tile it)", &|f, p| put(f, p, &20u16.to_le_bytes()));
    payload(c, "fold-block-209", "block size 209 (the runs no longer tile it)", &|f, p| put(f, p, &209u16.to_le_bytes()));
    payload(c, "fold-runs-overlap", "stream 0's run starts at 1 (overlaps stream 1)", &|f, p| put(f, p + 7, &1u16.to_le_bytes()));
    payload(c, "fold-qs-run-short", "the qs stream's run 15 bytes long (a gap in the block)", &|f, p| put(f, p + 6 + 15 + 3, &15u16.to_le_bytes()));
}

/// Mode 2: the counts a decoder checks before it allocates or writes.
fn strings(c: &mut Corpus, payload: &PayloadCase<'_>) {
    payload(c, "records-plus-1", "record count + 1 (the lengths frame holds one fewer)", &|f, p| f[p + 1] = f[p + 1].wrapping_add(1));
    payload(c, "records-minus-1", "record count - 1 (a length left over)", &|f, p| f[p + 1] = f[p + 1].wrapping_sub(1));
    payload(c, "records-2^32-1", "record count 2^32-1 (eight bytes each: past the chunk)", &|f, p| put(f, p + 1, &u32::MAX.to_le_bytes()));
    payload(c, "lengths-past-end", "lengths frame size 2^32-1 (past the payload)", &|f, p| put(f, p + 5, &u32::MAX.to_le_bytes()));
    payload(c, "mode-1", "mode byte 1 (one zstd frame) on a strings payload", &|f, p| f[p] = 1);
}

/// Mode 3: a frame of the words' differences.
fn words(c: &mut Corpus, payload: &PayloadCase<'_>) {
    payload(c, "mode-2", "mode byte 2 (GGUF strings) on a words payload", &|f, p| f[p] = 2);
    payload(c, "mode-4", "mode byte 4 (unknown)", &|f, p| f[p] = 4);
    payload(c, "mode-255", "mode byte 255 (unknown)", &|f, p| f[p] = 255);
    payload(c, "zstd-magic", "first byte of the zstd frame magic + 1", &|f, p| f[p + 1] = f[p + 1].wrapping_add(1));
    payload(c, "stored", "mode byte 0 (stored) on a words payload: wrong length", &|f, p| f[p] = 0);
    zstd_frame(c, payload);
}

/// Chunk 0 of `words.llmf` replaced by a valid mode-3 payload of its first 4092
/// bytes: zstd decodes it without complaint, and the decoder's length check
/// refuses it.
fn short_words(c: &mut Corpus, base: &Base, l: &Layout) {
    let src = crate::bases::words_source();
    let p = llmc::CompressParams { chunk_size: 4096, ..Default::default() };
    let short = llmc::frame::compress(&llmc::frame::Method::ZstdWords { level: 19 }, &src[..4092], &p).unwrap();
    let (sp, sl) = Layout::of(&short).payloads[0];
    assert_eq!(short[sp], 3, "the short payload must be mode 3");
    let (p0, l0) = l.payloads[0];
    let bytes = resealed(&base.bytes, |f| {
        f.splice(p0..p0 + l0, short[sp..sp + sl].iter().copied());
        put(f, l.entry(0), &(sl as u32).to_le_bytes());
    });
    let how = format!("chunk 0's payload replaced by the mode-3 payload of its first 4092 bytes ({sl} bytes, table resealed): a valid zstd frame 4 bytes short");
    c.add(&format!("{}-short-frame.llmf", base.file.trim_end_matches(".llmf")), bytes, FrameDecode, base.file, &how, Err(Corrupt)).unverified(Err(Corrupt));
}

/// Chunk 0's payload with a skippable zstd frame (12 bytes) after its last frame:
/// libzstd's one-shot decoders skip it, FORMAT.md §9 allows one frame only.
fn skippable_after(c: &mut Corpus, base: &Base, l: &Layout) {
    const SKIPPABLE: [u8; 12] = [0x50, 0x2A, 0x4D, 0x18, 4, 0, 0, 0, 1, 2, 3, 4];
    let (p0, l0) = l.payloads[0];
    let bytes = resealed(&base.bytes, |f| {
        f.splice(p0 + l0..p0 + l0, SKIPPABLE);
        put(f, l.entry(0), &((l0 + SKIPPABLE.len()) as u32).to_le_bytes());
    });
    let how = format!("a skippable zstd frame (12 bytes) appended to chunk 0's payload ({l0} bytes, table resealed): one frame only (§9)");
    c.add(&format!("{}-skippable-frame-after.llmf", base.file.trim_end_matches(".llmf")), bytes, FrameDecode, base.file, &how, Err(Corrupt)).unverified(Err(Corrupt));
}

/// The zstd frame after the mode byte, as the bases' chunk 0 has it (1–4 KiB of
/// content, no checksum: a frame header byte of 0x60, a two-byte content size
/// less 256, then the first block's header): what zstd and the length check refuse.
fn zstd_frame(c: &mut Corpus, payload: &PayloadCase<'_>) {
    let fcs = |delta: i32| move |f: &mut Vec<u8>, p: usize| {
        assert_eq!(f[p + 5], 0x60, "the zstd frame header changed shape");
        let v = u16::from_le_bytes([f[p + 6], f[p + 7]]) as i32 + delta;
        put(f, p + 6, &(v as u16).to_le_bytes());
    };
    payload(c, "content-size-minus-4", "the zstd frame's content size 4 bytes short of the chunk", &fcs(-4));
    payload(c, "content-size-minus-1", "the zstd frame's content size 1 byte short of the chunk", &fcs(-1));
    payload(c, "content-size-plus-4", "the zstd frame's content size 4 bytes past the chunk", &fcs(4));
    payload(c, "frame-reserved-bit", "the zstd frame header's reserved bit set", &|f, p| f[p + 5] |= 0x08);
    payload(c, "frame-checksum-flag", "the zstd frame header's checksum flag set (no checksum follows)", &|f, p| f[p + 5] |= 0x04);
    payload(c, "block-type-reserved", "the first zstd block's type 3 (reserved)", &|f, p| f[p + 8] |= 0x06);
}

fn zstd(c: &mut Corpus, payload: &PayloadCase<'_>) {
    payload(c, "mode-5", "mode byte 5 (unknown)", &|f, p| f[p] = 5);
    payload(c, "zstd-magic", "first byte of the zstd frame magic + 1", &|f, p| f[p + 1] = f[p + 1].wrapping_add(1));
    payload(c, "mode-stored", "mode byte 0 (stored) on a zstd payload: wrong length", &|f, p| f[p] = 0);
    zstd_frame(c, payload);
}
