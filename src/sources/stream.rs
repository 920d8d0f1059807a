//! Decoding whatever llmc wrote — a frame, a container, a per-stream file — from
//! a stream, in one pass, in order.

use crate::container::SourceKind;
use crate::engine::input::Input;
use crate::engine::stream::{decode_frame_with, Decoder, Sink};
use crate::error::{Error, Result};
use crate::format::frame;
use crate::format::limits::MAX_CONTENT_SIZE;
use crate::params::DecodeOptions;

/// What a stream held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Held {
    Frame,
    Container(SourceKind),
    /// The paper's five-stream format (decoded in memory).
    PerStream,
}

#[derive(Debug, Clone, Copy)]
pub struct Decoded {
    pub held: Held,
    /// Bytes written to the sink.
    pub output_size: u64,
    /// Bytes read from the input.
    pub input_size: u64,
    /// The workers wrote the output themselves (direct mode): the caller sets
    /// its length to `output_size` (zero regions are holes).
    pub direct: bool,
}

/// Decodes the frame, container or per-stream file that `input` holds (and
/// nothing after it), writing the result to `sink` in order, on `workers`
/// threads (0 = the caller's). `verify_sha` checks a container's SHA-256.
pub fn decode(input: &mut Input<'_>, opts: &DecodeOptions, workers: usize, verify_sha: bool, sink: Sink<'_>) -> Result<Decoded> {
    decode_with(input, &Decoder::new(opts)?, opts, workers, verify_sha, sink)
}

/// [`decode`] with a given decoder: in direct mode (see
/// [`Decoder::direct`]) frames and version-2 containers are written by the
/// workers, and only other formats reach `sink`.
pub fn decode_with(input: &mut Input<'_>, decoder: &Decoder<'_>, opts: &DecodeOptions, workers: usize, verify_sha: bool, sink: Sink<'_>) -> Result<Decoded> {
    let magic: [u8; 4] = input.array()?;
    input.unread(&magic);
    let mut written = 0u64;
    let mut direct_bytes = 0u64;
    let mut counted = |b: &[u8]| -> Result<()> {
        written += b.len() as u64;
        sink(b)
    };
    let held = match &magic {
        b"LLMF" => {
            let header: [u8; frame::HEADER_SIZE] = input.array()?;
            let d = decode_frame_with(decoder, input, &header, workers, &mut counted)?;
            direct_bytes = if decoder.writes_direct() { d.header.content_size } else { 0 };
            if !input.at_end()? {
                return Err(Error::Corrupt);
            }
            Held::Frame
        }
        b"LLMC" => {
            let s = crate::container::stream::decode(input, decoder, opts, workers, verify_sha, &mut counted)?;
            direct_bytes = if decoder.writes_direct() { s.original_size } else { 0 };
            Held::Container(s.kind)
        }
        b"LLMS" => {
            // Its streams follow one another while the original interleaves
            // them: they are read at their offsets, from the file itself or,
            // for a stream, from a copy in an unlinked temporary file (never
            // from memory).
            let spooled;
            let file = match input.file().filter(|_| input.position() == 0) {
                Some(f) => f,
                None => {
                    spooled = crate::engine::io::spool(input, MAX_CONTENT_SIZE)?;
                    &spooled
                }
            };
            let len = file.metadata().map_err(|_| Error::Io)?.len();
            crate::sources::baseline::perstream::decode(&crate::codec::zstd_reader::FileAt { file, len }, opts.max_output, &mut counted)?;
            input.skip_to_end()?;
            Held::PerStream
        }
        _ => return Err(Error::BadMagic),
    };
    Ok(Decoded { held, output_size: written.max(direct_bytes), input_size: input.position(), direct: direct_bytes > 0 })
}
