//! Codecs: how one chunk of content becomes one payload and back.

pub mod bf16;
pub mod fields;
pub mod profiles;
pub mod q4k;
pub mod ranks;
pub mod rows;
pub mod stream;
pub mod stream_rows;
pub mod strings;
pub mod words;
pub mod zstd;
pub mod zstd_reader;

use crate::error::{Error, Result};
use crate::format::checksum::RunningCrc;
use crate::format::frame::CodecId;
use crate::kernels::Kernels;

/// Per-thread decoder scratch, reused across chunks and frames.
#[derive(Default)]
pub struct Scratch {
    bf16: bf16::DecodeScratch,
    bytes: stream::StreamScratch,
    field: Vec<u8>,
    zstd: Option<zstd::DCtx>,
}

impl Scratch {
    /// Runs `f` with this thread's reusable scratch (a fresh one if the
    /// thread's is in use further up the stack): decode tables are tens of KiB,
    /// and zeroing new ones costs more than decoding a small frame.
    pub fn with_local<R>(f: impl FnOnce(&mut Scratch) -> R) -> R {
        thread_local! {
            static LOCAL: std::cell::RefCell<Scratch> = std::cell::RefCell::default();
        }
        LOCAL.with(|s| match s.try_borrow_mut() {
            Ok(mut s) => f(&mut s),
            Err(_) => f(&mut Scratch::default()),
        })
    }
}

/// How to code a buffer: a codec and its parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Method {
    Bf16,
    /// bf16 with one table per chunk whose lanes start at `RANS_L` (payload
    /// mode 1 only: what readers of container version 3 decode), as
    /// `PARAM_FLAG_NO_ROW_CLASSES` asks.
    Bf16Plain,
    /// bf16 values in rows of `row` values, the content starting at column
    /// `phase`: chunks may give each class of rows its own table (mode 2).
    Bf16Rows { row: u32, phase: u32 },
    /// [`Method::Fields`] for a matrix of one-stream-byte-per-element blocks
    /// (byte planes) in rows of `row` elements, starting at column `phase`:
    /// streams may give each class of rows its own table (stream mode 4).
    FieldsRows { layout: fields::Layout, row: u32, phase: u32 },
    Stored,
    Zstd { level: i32 },
    /// zstd for a run of GGUF strings: lengths and bytes apart (zstd payload
    /// mode 2; container version 4 on).
    ZstdStrings { level: i32 },
    /// zstd for a GGUF array of 32-bit numbers: the differences of consecutive
    /// words (zstd payload mode 3, [`words`]; container version 9 on).
    ZstdWords { level: i32 },
    Fields(fields::Layout),
    Q4k,
}

impl Method {
    pub fn codec(&self) -> CodecId {
        match self {
            Method::Bf16 | Method::Bf16Plain | Method::Bf16Rows { .. } => CodecId::Bf16,
            Method::Stored => CodecId::Stored,
            Method::Zstd { .. } | Method::ZstdStrings { .. } | Method::ZstdWords { .. } => CodecId::Zstd,
            Method::Fields(_) | Method::FieldsRows { .. } => CodecId::Fields,
            Method::Q4k => CodecId::Q4k,
        }
    }

    /// Content and chunk sizes must be multiples of this.
    pub fn element_size(&self) -> u32 {
        match self {
            Method::Fields(layout) | Method::FieldsRows { layout, .. } => u32::from(layout.block_size),
            other => other.codec().element_size(),
        }
    }

    /// Default uncompressed chunk size. Q4_K chunks carry seventeen streams, so
    /// they default to about 4 MiB (29127 blocks) to spread per-stream tables and
    /// states, and give the small header streams enough symbols for 64 lanes.
    pub fn default_chunk_size(&self) -> u32 {
        let elem = self.element_size();
        let target = match self {
            Method::Q4k => 4 << 20,
            _ => crate::format::limits::DEFAULT_CHUNK_SIZE,
        };
        target / elem * elem
    }

    /// Where a chunk starting `at` bytes into the content sits in its rows.
    pub fn row_shape(&self, at: u64) -> Option<rows::RowShape> {
        let (row, phase) = match *self {
            Method::Bf16Rows { row, phase } | Method::FieldsRows { row, phase, .. } => (u64::from(row), u64::from(phase)),
            _ => return None,
        };
        (row > 0).then(|| rows::RowShape { row: row as usize, first_col: ((phase + at / u64::from(self.element_size())) % row) as usize })
    }

    /// This method told that its content is a matrix with rows of `row`
    /// elements (1-D tensors stay as they are): bf16 and single byte planes
    /// get row classes.
    pub fn with_rows(self, row: Option<u64>) -> Method {
        match (self, row.and_then(|r| u32::try_from(r).ok())) {
            (Method::Bf16, Some(row)) if row > 0 => Method::Bf16Rows { row, phase: 0 },
            // One-byte elements (FP8, int8): a single byte plane.
            (Method::Fields(layout), Some(row)) if row > 0 && layout == fields::Layout::planes(1) => Method::FieldsRows { layout, row, phase: 0 },
            (m, _) => m,
        }
    }

    /// The same method with one table per chunk (no row classes), for bf16 the
    /// lanes of readers from before row classes, for folded quants the blocks
    /// as they are, and for GGUF numeric arrays the words as they are: what
    /// readers from before row classes decode.
    pub fn without_rows(self) -> Method {
        match self {
            Method::Bf16 | Method::Bf16Rows { .. } => Method::Bf16Plain,
            Method::Fields(layout) | Method::FieldsRows { layout, .. } => Method::Fields(fields::Layout { fold: None, ranks: None, ..layout }),
            Method::ZstdWords { level } => Method::Zstd { level },
            m => m,
        }
    }

    /// The same method for a batch of tiny tensors in one frame (content
    /// without rows): row classes off, every other mode kept (unlike
    /// [`Method::without_rows`], which gives what older readers decode).
    pub fn for_batch(self) -> Method {
        match self {
            Method::Bf16Rows { .. } => Method::Bf16,
            Method::FieldsRows { layout, .. } => Method::Fields(layout),
            m => m,
        }
    }

    /// Whether chunks fold their blocks before the split (container version 8 on).
    pub fn folds(&self) -> bool {
        matches!(self, Method::Fields(l) | Method::FieldsRows { layout: l, .. } if l.fold.is_some())
    }

    /// Whether chunks may code a field as ranks (container version 11 on).
    pub fn ranks(&self) -> bool {
        matches!(self, Method::Fields(l) | Method::FieldsRows { layout: l, .. } if l.ranks.is_some())
    }

    /// The method for the part of the content that starts `at` bytes in (a
    /// tensor cut into regions: each region's frame starts at its own column).
    pub fn from_offset(&self, at: u64) -> Method {
        match (self, self.row_shape(at)) {
            (Method::Bf16Rows { .. }, Some(s)) => Method::Bf16Rows { row: s.row as u32, phase: s.first_col as u32 },
            (Method::FieldsRows { layout, .. }, Some(s)) => Method::FieldsRows { layout: layout.clone(), row: s.row as u32, phase: s.first_col as u32 },
            _ => self.clone(),
        }
    }

    /// The frame header's informational codec parameter.
    pub fn param(&self) -> u32 {
        match self {
            Method::Zstd { level } | Method::ZstdStrings { level } | Method::ZstdWords { level } => *level as u32,
            _ => 0,
        }
    }
}

/// Appends the payload of one chunk to `out`. `chunk` is non-empty and a
/// multiple of the element size, and starts `at` bytes into the content.
pub fn encode_chunk(method: &Method, chunk: &[u8], at: u64, kernels: &Kernels, out: &mut Vec<u8>) -> Result<()> {
    match method {
        Method::Bf16 => bf16::encode_chunk(chunk, None, true, kernels, out),
        Method::Bf16Plain => bf16::encode_chunk(chunk, None, false, kernels, out),
        Method::Bf16Rows { .. } => bf16::encode_chunk(chunk, method.row_shape(at), true, kernels, out),
        Method::Stored => out.extend_from_slice(chunk),
        Method::Zstd { level } => zstd::encode_chunk(chunk, *level, out)?,
        Method::ZstdStrings { level } => zstd::encode_strings_chunk(chunk, *level, out)?,
        Method::ZstdWords { level } => zstd::encode_words_chunk(chunk, *level, out)?,
        Method::Fields(layout) => fields::encode_chunk(chunk, layout, None, kernels, out)?,
        Method::FieldsRows { layout, .. } => fields::encode_chunk(chunk, layout, method.row_shape(at), kernels, out)?,
        Method::Q4k => q4k::encode_chunk(chunk, kernels, out),
    }
    Ok(())
}

/// Decodes one payload into `out`, whose length is the chunk's content length.
/// The payload lies wholly inside its frame: an overrun inside it is `Corrupt`.
pub fn decode_chunk(codec: CodecId, payload: &[u8], out: &mut [u8], kernels: &Kernels, scratch: &mut Scratch) -> Result<()> {
    decode_payload(codec, payload, out, kernels, scratch, &mut RunningCrc::off()).map_err(Error::overrun_is_corrupt)
}

/// [`decode_chunk`], also giving the payload's CRC32C, computed as the decoder
/// reads the payload (see [`RunningCrc`]). The CRC always covers the whole
/// payload, whether the decode succeeds or not.
pub fn decode_chunk_checked(codec: CodecId, payload: &[u8], out: &mut [u8], kernels: &Kernels, scratch: &mut Scratch) -> (Result<()>, u32) {
    let mut crc = RunningCrc::new(payload);
    let decoded = decode_payload(codec, payload, out, kernels, scratch, &mut crc).map_err(Error::overrun_is_corrupt);
    (decoded, crc.finish().expect("a checksum was asked for"))
}

fn decode_payload(codec: CodecId, payload: &[u8], out: &mut [u8], kernels: &Kernels, scratch: &mut Scratch, crc: &mut RunningCrc<'_>) -> Result<()> {
    match codec {
        CodecId::Bf16 => bf16::decode_chunk(payload, out, kernels, &mut scratch.bf16),
        CodecId::Stored => {
            if payload.len() != out.len() {
                return Err(Error::Corrupt);
            }
            out.copy_from_slice(payload);
            Ok(())
        }
        CodecId::Zstd => zstd::decode_chunk_with(payload, out, &mut scratch.zstd),
        CodecId::Fields => {
            fields::decode_chunk(payload, out, kernels, &mut scratch.bytes, &mut scratch.field, crc)
        }
        CodecId::Q4k => {
            q4k::decode_chunk(payload, out, kernels, &mut scratch.bytes, &mut scratch.field, crc)
        }
    }
}

/// Smallest payload able to hold `content_len` bytes (rejects absurd declared sizes).
pub fn min_payload(codec: CodecId, content_len: usize) -> usize {
    match codec {
        CodecId::Bf16 => bf16::min_payload(content_len),
        CodecId::Q4k => q4k::min_payload(content_len),
        CodecId::Stored => content_len,
        // zstd needs at least a 3-byte block header and a byte per 128 KiB block.
        CodecId::Zstd => content_len >> 16,
        // Constant streams have no ratio limit: only the caller's cap bounds
        // what a field-split frame may declare.
        CodecId::Fields => fields::MIN_PAYLOAD,
    }
}

/// Bytes a chunk may need beyond its content when it falls back to storing.
pub fn stored_overhead(codec: CodecId) -> u64 {
    match codec {
        CodecId::Stored => 0,
        CodecId::Bf16 | CodecId::Zstd => 1,
        // Layout (a few bytes per stream) plus a length and mode per stream.
        CodecId::Q4k => 1,
        CodecId::Fields => 1024,
    }
}
