//! Frames as streams: decoding a frame as its bytes arrive (header, chunk
//! table, then payloads in bounded windows, decoded in parallel and written in
//! order), and assembling a frame whose payloads arrive in order.

use super::input::Input;
use super::io::read_at_full;
use std::fs::File;
use std::os::unix::fs::FileExt;
use super::output::Output;
use super::pipeline::{self, Buffers, Slab, Slabs};
use crate::codec::{self, Method, Scratch};
use crate::error::{Error, Result};
use crate::format::checksum::crc32c;
use crate::format::frame::{self, CodecId, FrameHeader, CHUNK_ENTRY_SIZE, HEADER_SIZE};
use crate::isa;
use crate::kernels::Kernels;
use crate::params::{CompressParams, DecodeOptions};

/// Payloads below this size are read by the reading thread even where workers
/// read their own.
const SMALL_PAYLOAD: usize = 16 << 10;

/// Bytes of chunks (compressed and decoded) a stream keeps in flight beyond one
/// window of small chunks: large chunks shrink the window down to one.
const WINDOW_BYTES: u64 = 48 << 20;

/// Jobs in flight for `workers` threads and chunks of `chunk_size` bytes (the
/// weight of decode jobs is their chunk's size, so larger chunks in the
/// stream shrink the window, down to one job).
pub fn window(workers: usize, chunk_size: u64) -> pipeline::Window {
    let by_bytes = (WINDOW_BYTES / chunk_size.max(1)).max(1) as usize;
    pipeline::Window { jobs: pipeline::window_for(workers).min(by_bytes), bytes: WINDOW_BYTES, small: 0 }
}

/// Jobs in flight for decoding on `workers` threads, chunks of at most
/// `chunk_size` bytes: [`window`]'s, where jobs of chunks under 32 KiB do not
/// count (see [`pipeline::Window`]): with three in flight, a worker woke for
/// each tiny tensor, and `decompress -T 1` of 100,000 of them spent most of its
/// time switching threads.
pub fn decode_window(workers: usize, chunk_size: u64) -> pipeline::Window {
    // A decode job weighs twice its chunk (payload and output).
    pipeline::Window { small: pipeline::SMALL_WEIGHT, ..window(workers, chunk_size) }
}

impl pipeline::Weighed for Job {
    fn weight(&self) -> u64 {
        match self {
            // Payload and decoded bytes; the payload is at most about the size
            // of its content for every codec but stored-heavy ones.
            // A payload read into memory counts at its own size where it is
            // larger (hostile input: a tiny chunk with a large payload is not a
            // small job).
            Job::Chunk { len, payload, .. } => *len as u64 + (*len as u64).max(match payload {
                Payload::Bytes(b) => b.len() as u64,
                Payload::At { .. } => 0,
            }),
            Job::Zeros(_) => 0,
        }
    }
}

/// Where decoded bytes go, in order.
pub type Sink<'s> = &'s mut dyn FnMut(&[u8]) -> Result<()>;

/// One unit of decoding work read from a stream.
pub enum Job {
    /// A chunk's payload, to decode into `len` bytes with `codec`; the bytes
    /// go to offset `out_at` of the output.
    Chunk { codec: CodecId, payload: Payload, crc: u32, len: usize, check: ContentCheck, out_at: u64 },
    /// `len` zero bytes (a frameless container region).
    Zeros(u64),
}

/// Where a chunk's payload is.
pub enum Payload {
    /// Read by the producer.
    Bytes(Slab),
    /// `len` bytes at `offset` of the input file, read by the worker.
    At { offset: u64, len: usize },
}

/// How a chunk takes part in its frame's content checksum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentCheck {
    None,
    /// Part of a checksummed frame; `Some(crc)` on its last chunk.
    Part { first: bool, last: Option<u32> },
}

/// A decoded job, on its way to the sink.
pub enum Done {
    Bytes(Slab, ContentCheck),
    Zeros(u64),
    /// Written by the worker at its offset; the CRC32C of the bytes when the
    /// frame has a content checksum.
    Written { len: u64, check: ContentCheck, crc: u32 },
}

/// Reads one frame's chunk table and then its payloads, one job at a time.
/// Memory: the table (8 bytes per chunk, read as it arrives).
pub struct FrameReader {
    pub header: FrameHeader,
    /// Output offset of the frame's first byte.
    base: u64,
    table: Vec<u8>,
    next: usize,
    /// Bytes of input the frame occupied so far.
    pub frame_size: u64,
}

impl FrameReader {
    /// Starts a frame whose 32 header bytes were read into `header`: checks
    /// the header (chunks larger than `max_chunk` are `LimitExceeded`: each
    /// chunk in flight is held whole), reads the chunk table and checks every
    /// payload size.
    pub fn start(input: &mut Input<'_>, header: &[u8; HEADER_SIZE], base: u64, max_chunk: u64) -> Result<FrameReader> {
        let h = frame::parse_header(header)?;
        if u64::from(h.chunk_size).min(h.content_size) > max_chunk {
            return Err(Error::LimitExceeded);
        }
        let mut table = Vec::new();
        input.read_into(&mut table, u64::from(h.n_chunks) * CHUNK_ENTRY_SIZE as u64)?;
        let mut r = FrameReader { header: h, base, table, next: 0, frame_size: 0 };
        let mut size = (HEADER_SIZE + r.table.len()) as u64;
        for i in 0..h.n_chunks as usize {
            let (comp, _) = r.entry(i);
            if comp < codec::min_payload(h.codec, r.content_len(i)) {
                return Err(Error::Corrupt);
            }
            size += comp as u64;
        }
        r.frame_size = size + if h.has_content_checksum() { 4 } else { 0 };
        Ok(r)
    }

    fn entry(&self, i: usize) -> (usize, u32) {
        let e = &self.table[i * CHUNK_ENTRY_SIZE..][..CHUNK_ENTRY_SIZE];
        (u32::from_le_bytes(e[..4].try_into().expect("4")) as usize, u32::from_le_bytes(e[4..].try_into().expect("4")))
    }

    fn content_len(&self, i: usize) -> usize {
        let c = u64::from(self.header.chunk_size);
        (self.header.content_size - i as u64 * c).min(c) as usize
    }

    /// The next chunk's job (its payload read into a buffer from `buffers`,
    /// or with `direct` from a file input, left for the worker to read), or
    /// `None` after the last one (and the content checksum) was read.
    pub fn next_job(&mut self, input: &mut Input<'_>, buffers: &Slabs, direct: bool) -> Result<Option<Job>> {
        let n = self.header.n_chunks as usize;
        if self.next == n {
            return Ok(None);
        }
        let i = self.next;
        let (comp, crc) = self.entry(i);
        // Small payloads come with the reader's read-ahead (one `pread` serves
        // many tiny tensors) rather than a `pread` of the worker's own.
        let payload = if direct && input.file().is_some() && comp >= SMALL_PAYLOAD {
            let offset = input.position();
            input.skip(comp as u64)?;
            Payload::At { offset, len: comp }
        } else {
            let mut payload = buffers.take_unfilled(comp);
            input.read_slab(&mut payload, comp as u64)?;
            Payload::Bytes(payload)
        };
        self.next += 1;
        let check = if self.header.has_content_checksum() {
            let last = if i + 1 == n { Some(u32::from_le_bytes(input.array()?)) } else { None };
            ContentCheck::Part { first: i == 0, last }
        } else {
            ContentCheck::None
        };
        let out_at = self.base + i as u64 * u64::from(self.header.chunk_size);
        Ok(Some(Job::Chunk { codec: self.header.codec, payload, crc, len: self.content_len(i), check, out_at }))
    }
}

/// The decoding side of a stream pipeline: workers turn jobs into bytes, the
/// ordered writer checks content checksums and hands bytes to the sink. In
/// direct mode (a file input and a regular-file output) the workers read their
/// payloads with `pread` and write their bytes with `pwrite` at their offsets,
/// so reading, decoding and writing all spread over the threads.
pub struct Decoder<'o> {
    opts: &'o DecodeOptions,
    kernels: &'static Kernels,
    /// Payloads the producer read.
    inputs: Slabs,
    outputs: Slabs,
    /// Workers read their payloads from this file (`pread`).
    read_from: Option<&'o File>,
    /// Workers write their bytes to this file (`pwrite`).
    write_to: Option<&'o File>,
    writes: Writes,
    /// The OS error number of the first failed `pread` of a worker, kept for
    /// the caller's thread (`last_os_error`) as a failed write's is.
    read_os_error: std::sync::atomic::AtomicI32,
}

/// Direct-mode writes, done by whichever worker is free. Two workers writing
/// one file at once serialise on its inode lock in the kernel, and the one
/// waiting spins there (a tenth of the CPU of `decompress -T 2` to tmpfs). So a
/// worker queues its bytes and goes on decoding while another writes them: the
/// worker holding `turn` drains the queue, and a worker that finds `turn` taken
/// leaves its bytes to it. Memory: at most [`MAX_QUEUED`] chunks and
/// [`MAX_QUEUED_BYTES`] wait (beyond that a worker waits for its turn and writes).
#[derive(Default)]
struct Writes {
    turn: std::sync::Mutex<()>,
    queue: std::sync::Mutex<Vec<(Slab, u64)>>,
    /// The OS error number of the first failed write (0 if it had none); later
    /// jobs stop, and the run fails with `Io` (the number kept for the caller's
    /// thread: `last_os_error`).
    failed: std::sync::Mutex<Option<i32>>,
}

/// Jobs in flight per worker in direct mode (see [`Decoder::run`]).
const DIRECT_JOBS_PER_WORKER: usize = 6;

/// Chunks (and bytes) queued for writing beyond which a worker waits for its
/// turn to write.
const MAX_QUEUED: usize = 4;
const MAX_QUEUED_BYTES: usize = 8 << 20;

fn locked<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl<'o> Decoder<'o> {
    pub fn new(opts: &'o DecodeOptions) -> Result<Decoder<'o>> {
        let kernels = Kernels::get(isa::resolve(opts.isa)?).ok_or(Error::IsaUnsupported)?;
        Ok(Decoder {
            opts,
            kernels,
            inputs: Slabs::default(),
            outputs: Slabs::default(),
            read_from: None,
            write_to: None,
            writes: Writes::default(),
            read_os_error: std::sync::atomic::AtomicI32::new(0),
        })
    }

    /// Direct mode: payloads are read from `input` and bytes written to
    /// `output` by the workers (zero regions are left as holes: the caller
    /// sets the output's length at the end).
    pub fn direct(mut self, input: &'o File, output: &'o File) -> Self {
        self.read_from = Some(input);
        self.write_to = Some(output);
        self
    }

    /// Workers read their payloads from `input` (`pread`), and the bytes go to
    /// the sink in order: with one worker, the caller's thread then only writes
    /// (reading and writing on one thread left it the slower of the two).
    pub fn read_direct(mut self, input: &'o File) -> Self {
        self.read_from = Some(input);
        self
    }

    /// Whether the workers write the output themselves.
    pub fn writes_direct(&self) -> bool {
        self.write_to.is_some()
    }

    /// Whether a worker's write failed (the run's `Io` came from the output,
    /// not the input).
    pub fn write_failed(&self) -> bool {
        locked(&self.writes.failed).is_some()
    }

    /// Whether the workers read their payloads themselves.
    pub fn reads_direct(&self) -> bool {
        self.read_from.is_some()
    }

    /// Runs the pipeline: `produce` reads jobs in order (on the caller's
    /// thread), `workers` threads decode, `sink` receives the bytes in order
    /// (in direct mode only the zero regions' bytes are not written at all).
    /// Returns the number of bytes decoded.
    pub fn run(&self, workers: usize, window: pipeline::Window, produce: impl FnMut(&Slabs) -> Result<Option<Job>>, sink: Sink<'_>) -> Result<u64> {
        // As many as the pipeline starts: the direct-write window below grows
        // with it (`-T 4294967295` asked for a queue of 36 TB).
        let workers = workers.min(crate::format::limits::MAX_THREADS as usize);
        let mut produce = produce;
        let mut content: Option<(u32, u64)> = None;
        let mut total = 0u64;
        let verify = self.opts.verify_checksums;
        let mut check_content = move |check: ContentCheck, crc: u32, len: u64| -> Result<()> {
            if let ContentCheck::Part { first, last } = check {
                let so_far = if first { None } else { content };
                let combined = match so_far {
                    Some((c, _)) => crate::format::checksum::crc32c_combine(c, crc, len),
                    None => crc,
                };
                content = Some((combined, 0));
                if let Some(expected) = last {
                    if verify && combined != expected {
                        return Err(Error::ChecksumMismatch);
                    }
                }
            }
            Ok(())
        };
        // Direct writes leave only a few bytes per job waiting for its turn in
        // order, so more jobs may be in flight (the byte bound still holds):
        // one slow chunk (a 4 MiB string table, zstd) no longer stalls the
        // other workers once five jobs are out. Measured on `decompress -T 2`
        // of gemma to tmpfs, eight alternated runs: median 0.127 s with 5 jobs
        // in flight, 0.119 s with 12 (two workers get 13 here).
        let window = match self.write_to {
            Some(_) => pipeline::Window { jobs: window.jobs.max(DIRECT_JOBS_PER_WORKER * workers + 1), ..window },
            None => window,
        };
        let run = pipeline::run(
            workers,
            window,
            || produce(&self.inputs),
            WorkerState::default,
            |job, state| self.work(job, state),
            |done| match done {
                Done::Zeros(len) => {
                    total += len;
                    if self.write_to.is_some() {
                        Ok(())
                    } else {
                        write_zeros(sink, len)
                    }
                }
                Done::Written { len, check, crc } => {
                    total += len;
                    check_content(check, crc, len)
                }
                Done::Bytes(out, check) => {
                    total += out.len() as u64;
                    if check != ContentCheck::None {
                        check_content(check, crc32c(&out), out.len() as u64)?;
                    }
                    let r = sink(&out);
                    self.outputs.give(out);
                    r
                }
            },
        );
        // A worker's write or read failed: its OS error number for this thread.
        let read = self.read_os_error.load(std::sync::atomic::Ordering::Relaxed);
        match *locked(&self.writes.failed) {
            Some(code) if code != 0 => crate::error::record_os_code(code),
            _ if read != 0 => crate::error::record_os_code(read),
            _ => {}
        }
        run?;
        debug_assert!(locked(&self.writes.queue).is_empty(), "every queued chunk was written");
        match *locked(&self.writes.failed) {
            Some(_) => Err(Error::Io),
            None => Ok(total),
        }
    }

    fn work(&self, job: Job, state: &mut WorkerState) -> Result<Done> {
        let scratch = &mut state.scratch;
        match job {
            Job::Zeros(len) => Ok(Done::Zeros(len)),
            Job::Chunk { codec, payload, crc, len, check, out_at } => {
                if locked(&self.writes.failed).is_some() {
                    return Err(Error::Io);
                }
                let mut out = self.outputs.take(len)?;
                let decoded = match payload {
                    Payload::Bytes(b) => {
                        let r = super::frames::decode_payload(codec, &b, crc, &mut out, self.kernels, scratch, self.opts.verify_checksums);
                        self.inputs.give(b);
                        r
                    }
                    Payload::At { offset, len } => {
                        let file = self.read_from.ok_or(Error::InvalidArgument)?;
                        // One buffer per worker, reused for every payload. A
                        // private copy: its checksum and its decode see the same
                        // bytes whatever happens to the file meanwhile (a map
                        // of the input would not guarantee that, and saved only
                        // 2-3 % of the CPU of `decompress -T 2`).
                        if state.read.len() < len {
                            state.read.resize(len, 0);
                        }
                        let b = &mut state.read[..len];
                        let got = read_at_full(file, b, offset).map_err(|e| {
                            let code = e.raw_os_error().unwrap_or(0);
                            let _ = self.read_os_error.compare_exchange(0, code, std::sync::atomic::Ordering::Relaxed, std::sync::atomic::Ordering::Relaxed);
                            Error::from(e)
                        })?;
                        match got {
                            n if n == len => super::frames::decode_payload(codec, b, crc, &mut out, self.kernels, scratch, self.opts.verify_checksums),
                            _ => Err(Error::SrcTruncated),
                        }
                    }
                };
                if let Err(e) = decoded {
                    self.outputs.give(out);
                    return Err(e);
                }
                match self.write_to {
                    Some(file) => {
                        let crc = if check == ContentCheck::None { 0 } else { crc32c(&out) };
                        self.write_direct(file, out, out_at)?;
                        Ok(Done::Written { len: len as u64, check, crc })
                    }
                    None => Ok(Done::Bytes(out, check)),
                }
            }
        }
    }
}

/// What each worker thread keeps between jobs.
#[derive(Default)]
struct WorkerState {
    scratch: Scratch,
    /// Payloads the worker reads itself (`pread`), grown to the largest.
    read: Vec<u8>,
}

impl Decoder<'_> {
    /// Queues `out` for writing at `at` and writes queued chunks if no other
    /// worker is (see [`Writes`]). Every queued chunk is written before the
    /// workers end: the writer checks the queue again after giving up its turn.
    fn write_direct(&self, file: &File, out: Slab, at: u64) -> Result<()> {
        let w = &self.writes;
        let full = {
            let mut q = locked(&w.queue);
            q.push((out, at));
            q.len() > MAX_QUEUED || q.iter().map(|(b, _)| b.len()).sum::<usize>() > MAX_QUEUED_BYTES
        };
        loop {
            let turn = if full {
                locked(&w.turn)
            } else {
                match w.turn.try_lock() {
                    Ok(t) => t,
                    Err(std::sync::TryLockError::Poisoned(e)) => e.into_inner(),
                    // The worker writing now will write these bytes too.
                    Err(std::sync::TryLockError::WouldBlock) => return Ok(()),
                }
            };
            loop {
                let next = locked(&w.queue).pop();
                let Some((bytes, at)) = next else { break };
                // After a failure the rest is dropped: the run fails anyway.
                if locked(&w.failed).is_none() {
                    if let Err(e) = file.write_all_at(&bytes, at) {
                        locked(&w.failed).get_or_insert(e.raw_os_error().unwrap_or(0));
                    }
                }
                self.outputs.give(bytes);
            }
            drop(turn);
            if locked(&w.queue).is_empty() {
                return match *locked(&w.failed) {
                    Some(_) => Err(Error::Io),
                    None => Ok(()),
                };
            }
        }
    }
}

/// Hands `len` zero bytes to `sink`, 64 KiB at a time.
pub fn write_zeros(sink: Sink<'_>, mut len: u64) -> Result<()> {
    static ZEROS: [u8; 1 << 16] = [0; 1 << 16];
    while len > 0 {
        let n = len.min(ZEROS.len() as u64) as usize;
        sink(&ZEROS[..n])?;
        len -= n as u64;
    }
    Ok(())
}

/// What [`decode_frame`] read.
#[derive(Debug, Clone, Copy)]
pub struct Decoded {
    pub header: FrameHeader,
}

/// Decodes one frame from `input`, whose 32 header bytes were already read
/// into `header`, with `decoder` (in direct mode, the workers write it).
/// Output goes to `sink` in order; `workers` threads decode (0 = the caller's
/// thread). Memory: the chunk table and a window of chunks.
pub fn decode_frame_with(decoder: &Decoder<'_>, input: &mut Input<'_>, header: &[u8; HEADER_SIZE], workers: usize, sink: Sink<'_>) -> Result<Decoded> {
    let mut frame = FrameReader::start(input, header, 0, decoder.opts.max_chunk)?;
    let workers = if frame.header.n_chunks > 1 { workers } else { 0 };
    let direct = decoder.reads_direct();
    decoder.run(workers, decode_window(workers, u64::from(frame.header.chunk_size)), |buffers| frame.next_job(input, buffers, direct), sink)?;
    Ok(Decoded { header: frame.header })
}

/// Builds one frame from payloads that arrive in chunk order. On a seekable
/// output the payloads are written as they come and the chunk table (and the
/// `lead` bytes reserved before the frame, e.g. a container's region record)
/// is filled in at the end; otherwise the frame is kept until it is complete.
pub struct FrameAssembler {
    header: [u8; HEADER_SIZE],
    n_chunks: usize,
    table: Vec<u8>,
    lead_len: usize,
    /// Where the lead starts (streamed), or the frame so far (buffered).
    streamed_at: Option<u64>,
    buffer: Vec<u8>,
    payload_bytes: u64,
    content_crc: Option<crc_fast::Digest>,
    /// A content checksum computed by the caller.
    fixed_crc: Option<u32>,
}

impl FrameAssembler {
    pub fn new(out: &mut Output, lead_len: usize, method: &Method, flags: u8, content_size: u64, chunk_size: u32) -> Result<FrameAssembler> {
        let n_chunks = content_size.div_ceil(u64::from(chunk_size));
        let n = u32::try_from(n_chunks).map_err(|_| Error::LimitExceeded)?;
        let header = frame::header_bytes(method.codec(), method.param(), flags, content_size, chunk_size, n);
        let table_len = n_chunks as usize * CHUNK_ENTRY_SIZE;
        let content_crc = (flags & frame::FLAG_CONTENT_CHECKSUM != 0).then(|| crc_fast::Digest::new(crc_fast::CrcAlgorithm::Crc32Iscsi));
        let mut a = FrameAssembler { header, n_chunks: n_chunks as usize, table: Vec::with_capacity(table_len), lead_len, streamed_at: None, buffer: Vec::new(), payload_bytes: 0, content_crc, fixed_crc: None };
        if out.seekable() {
            a.streamed_at = Some(out.position());
            out.write_zeros((lead_len + HEADER_SIZE + table_len) as u64)?;
        }
        Ok(a)
    }

    /// Feeds the content a checksum covers (only with the content-checksum flag).
    pub fn content(&mut self, bytes: &[u8]) {
        if let Some(d) = self.content_crc.as_mut() {
            d.update(bytes);
        }
    }

    /// Sets the content checksum instead of feeding the content.
    pub fn set_content_checksum(&mut self, crc: u32) {
        self.fixed_crc = Some(crc);
    }

    pub fn push(&mut self, out: &mut Output, payload: &[u8]) -> Result<()> {
        let size = u32::try_from(payload.len()).map_err(|_| Error::SizeOverflow)?;
        self.table.extend_from_slice(&size.to_le_bytes());
        self.table.extend_from_slice(&crc32c(payload).to_le_bytes());
        self.payload_bytes += payload.len() as u64;
        if self.streamed_at.is_some() {
            out.write(payload)?;
        } else {
            self.buffer.extend_from_slice(payload);
        }
        Ok(())
    }

    /// Completes the frame; `lead(frame_size)` gives the `lead_len` bytes that
    /// go before it. Returns the frame's size.
    pub fn finish(self, out: &mut Output, lead: impl FnOnce(u64) -> Vec<u8>) -> Result<u64> {
        if self.table.len() != self.n_chunks * CHUNK_ENTRY_SIZE {
            return Err(Error::InvalidArgument);
        }
        let checksum = self.content_crc.map(|d| self.fixed_crc.unwrap_or(d.finalize() as u32).to_le_bytes());
        let frame_size = (HEADER_SIZE + self.table.len()) as u64 + self.payload_bytes + checksum.map_or(0, |c| c.len() as u64);
        let lead = lead(frame_size);
        debug_assert_eq!(lead.len(), self.lead_len);
        match self.streamed_at {
            Some(at) => {
                if let Some(c) = checksum {
                    out.write(&c)?;
                }
                let mut head = lead;
                head.extend_from_slice(&self.header);
                head.extend_from_slice(&self.table);
                out.patch(at, &head)?;
            }
            None => {
                out.write(&lead)?;
                out.write(&self.header)?;
                out.write(&self.table)?;
                out.write(&self.buffer)?;
                if let Some(c) = checksum {
                    out.write(&c)?;
                }
            }
        }
        Ok(frame_size)
    }
}

/// A chunk read for coding, and where it starts in the content.
struct Chunk {
    at: u64,
    bytes: Slab,
}

impl pipeline::Weighed for Chunk {
    fn weight(&self) -> u64 {
        self.bytes.weight()
    }
}

/// Compresses `content_size` bytes of `input` into one frame on `out`, reading
/// and coding a window of chunks at a time on `workers` threads (0 = the
/// caller's). Gives the same bytes as [`super::frames::compress`].
pub fn compress_frame(method: &Method, input: &mut Input<'_>, content_size: u64, params: &CompressParams, workers: usize, out: &mut Output) -> Result<u64> {
    let method = &super::frames::as_asked(method, params);
    let elem = method.element_size();
    if !content_size.is_multiple_of(u64::from(elem)) {
        return Err(Error::InvalidArgument);
    }
    if content_size > crate::format::limits::MAX_CONTENT_SIZE {
        return Err(Error::LimitExceeded);
    }
    let chunk_size = params.resolve_chunk_size(elem, method.default_chunk_size(), content_size)?;
    let kernels = Kernels::get(isa::resolve(params.isa)?).ok_or(Error::IsaUnsupported)?;
    let mut a = FrameAssembler::new(out, 0, method, params.frame_flags(), content_size, chunk_size)?;
    // Chunks and payloads reused (see `container::build::build_stream`).
    let buffers = Slabs::default();
    let payload_buffers = Buffers::default();
    let mut left = content_size;
    pipeline::run(
        workers,
        window(workers, u64::from(chunk_size)),
        || {
            if left == 0 {
                return Ok(None);
            }
            let len = left.min(u64::from(chunk_size));
            let mut chunk = buffers.take_unfilled(len as usize);
            input.read_slab(&mut chunk, len)?;
            let at = content_size - left;
            left -= len;
            Ok(Some(Chunk { at, bytes: chunk }))
        },
        || (),
        |chunk: Chunk, ()| {
            let mut p = payload_buffers.take_empty();
            codec::encode_chunk(method, &chunk.bytes, chunk.at, kernels, &mut p).map(|()| (chunk.bytes, p))
        },
        |(chunk, p)| {
            a.content(&chunk);
            buffers.give(chunk);
            let pushed = a.push(out, &p);
            payload_buffers.give(p);
            pushed
        },
    )?;
    a.finish(out, |_| Vec::new())
}
