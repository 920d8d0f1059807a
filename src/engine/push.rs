//! Turning a pull decoder (one that reads an [`Input`] and writes to a sink)
//! into the push shape of zstd's streaming API: the caller feeds input pieces
//! of any size and takes output into its own buffers, in order. The decoder
//! runs on one thread of its own, which blocks when it has no input or its
//! output is full; each call returns when the caller's input is taken and no
//! more output can come without more input, when the caller's output buffer
//! is full, or when the stream ends. Memory: `QUEUE` bytes each way, plus the
//! decoder's own window.
//!
//! Waiting for the decoder costs a round trip between threads (tens of
//! microseconds on a VM), too much per piece when pieces are small. So the
//! decoder promises the bytes its exact reads will take ([`Input::on_promise`]):
//! while what is queued is less than it has promised, the stream cannot end
//! before more input comes, so a call counts those bytes as consumed and
//! returns at once, and the decoder is woken only once a useful amount has
//! arrived (`WAKE_BYTES`).

use super::input::Input;
use crate::error::{Error, Result};
use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex};

/// Bytes of input, and of output, held between the caller and the decoder.
pub const QUEUE: usize = 4 << 20;

/// A decoder waiting on a promised read is woken once this much of it (or all
/// of it) is queued, not for every small piece.
const WAKE_BYTES: usize = 64 << 10;

#[derive(Default)]
struct State {
    input: VecDeque<u8>,
    output: VecDeque<u8>,
    /// Bytes the decoder's current exact reads will still take from `input`.
    promised: u64,
    /// The decoder waits for input: for at least this many queued bytes.
    starved: bool,
    wants: usize,
    /// Reads that took bytes from `input` (how often the decoder woke).
    #[cfg(test)]
    reads: usize,
    /// The decoder finished (with its result).
    done: Option<Result<()>>,
    /// The caller is gone: the decoder must stop.
    cancelled: bool,
}

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    changed: Condvar,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn wait<'a>(&self, g: std::sync::MutexGuard<'a, State>) -> std::sync::MutexGuard<'a, State> {
        self.changed.wait(g).unwrap_or_else(|e| e.into_inner())
    }
}

/// Moves as many bytes as fit from the front of `q` into `dst` (two slice
/// copies: a byte-by-byte drain cost more than the decoding itself); returns
/// how many.
fn take_front(q: &mut VecDeque<u8>, dst: &mut [u8]) -> usize {
    let n = dst.len().min(q.len());
    let (a, b) = q.as_slices();
    let from_a = n.min(a.len());
    dst[..from_a].copy_from_slice(&a[..from_a]);
    dst[from_a..n].copy_from_slice(&b[..n - from_a]);
    q.drain(..n);
    n
}

/// Queued bytes the decoder has not promised to read: the queue's tail.
fn unpromised(g: &State) -> usize {
    g.input.len() - (g.input.len() as u64).min(g.promised) as usize
}

/// The decoder's view of the input queue.
struct QueueReader(Arc<Shared>);

impl std::io::Read for QueueReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let mut g = self.0.lock();
        // Promises come only from exact reads, which ask for no more than they
        // promised (an over-promise would report bytes after the stream as
        // consumed, and wait for bytes that never come).
        debug_assert!(g.promised == 0 || buf.len() as u64 <= g.promised, "a read past its promise");
        // A promised read waits for a useful amount; any other takes what there is.
        let wants = if g.promised > 0 { buf.len().min(WAKE_BYTES) } else { 1 };
        loop {
            if g.cancelled {
                return Err(std::io::Error::other("stream cancelled"));
            }
            if g.input.len() >= wants {
                g.starved = false;
                let n = take_front(&mut g.input, buf);
                g.promised = g.promised.saturating_sub(n as u64);
                #[cfg(test)]
                {
                    g.reads += 1;
                }
                self.0.changed.notify_all();
                return Ok(n);
            }
            g.starved = true;
            g.wants = wants;
            self.0.changed.notify_all();
            g = self.0.wait(g);
        }
    }
}

/// A push-shaped decoder.
pub struct PushDecoder {
    shared: Arc<Shared>,
    thread: Option<std::thread::JoinHandle<()>>,
    /// Bytes at the start of the caller's next input that the last step
    /// queued (the queue's length then) without reporting them consumed: the
    /// decoder may have read some of them since.
    pending: usize,
}

/// What one [`PushDecoder::step`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    pub consumed: usize,
    pub produced: usize,
    /// The stream is complete and all its output was taken.
    pub finished: bool,
}

impl PushDecoder {
    /// Starts `decode(input, sink)` on its own thread.
    pub fn start(decode: impl FnOnce(&mut Input<'_>, &mut dyn FnMut(&[u8]) -> Result<()>) -> Result<()> + Send + 'static) -> Result<PushDecoder> {
        let shared = Arc::new(Shared::default());
        let s = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("llmc-dstream".into())
            .spawn(move || {
                let mut input = Input::new(QueueReader(Arc::clone(&s))).open_ended();
                let promises = Arc::clone(&s);
                input.on_promise(move |n| promises.lock().promised += n);
                let mut sink = |bytes: &[u8]| -> Result<()> {
                    let mut rest = bytes;
                    let mut g = s.lock();
                    while !rest.is_empty() {
                        if g.cancelled {
                            return Err(Error::Io);
                        }
                        let room = QUEUE.saturating_sub(g.output.len());
                        if room == 0 {
                            g = s.wait(g);
                            continue;
                        }
                        let n = room.min(rest.len());
                        g.output.extend(&rest[..n]);
                        rest = &rest[n..];
                        s.changed.notify_all();
                    }
                    Ok(())
                };
                let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| decode(&mut input, &mut sink))).unwrap_or(Err(Error::Panic));
                let mut g = s.lock();
                g.done = Some(r);
                s.changed.notify_all();
            })
            .map_err(|e| {
                crate::error::record_os_error(&e);
                Error::Allocation
            })?;
        Ok(PushDecoder { shared, thread: Some(thread), pending: 0 })
    }

    /// Feeds `input` (as much as the queue takes) and moves decoded bytes into
    /// `output`. Blocks only while the decoder is working on what it has.
    ///
    /// Bytes count as consumed once the decoder has read them or promised to
    /// (its exact reads take them all, or the stream is cut): the others still
    /// queued are the start of `input` on the next call (which the caller
    /// presents again, its `pos` not having moved past them), so the bytes
    /// after the end of the stream are never reported consumed.
    pub fn step(&mut self, input: &[u8], output: &mut [u8]) -> Result<Step> {
        let mut produced = 0;
        let mut g = self.shared.lock();
        // `input[..covered]` is in the queue or was read by the decoder; the
        // queue holds the last of those bytes, in order.
        // It may exceed `input.len()`: a caller may present fewer bytes than
        // the last call queued (an empty call to take output).
        let mut covered = self.pending;
        let presented = input.len();
        // What the decoder has read of `input` or promised to (the other
        // queued bytes, the queue's tail, are not consumed yet), at most what
        // this call was given; the rest of `covered` is `pending` for the next
        // call, which presents those bytes again.
        let mut consumed = |g: &State, covered: usize| {
            let c = covered.saturating_sub(unpromised(g)).min(presented);
            self.pending = covered - c;
            c
        };
        loop {
            // Input into the queue; the decoder is woken once it has what it waits for.
            let room = QUEUE.saturating_sub(g.input.len());
            if covered < input.len() && room > 0 && g.done.is_none() {
                let n = room.min(input.len() - covered);
                g.input.extend(&input[covered..covered + n]);
                covered += n;
                if g.starved && g.input.len() >= g.wants {
                    self.shared.changed.notify_all();
                }
            }
            // Output out of the queue.
            if produced < output.len() && !g.output.is_empty() {
                produced += take_front(&mut g.output, &mut output[produced..]);
                self.shared.changed.notify_all();
            }
            match &g.done {
                Some(Err(e)) => return Err(*e),
                // What is still queued follows the stream's end: not consumed.
                Some(Ok(())) if g.output.is_empty() => {
                    // Finished only once the stream's last bytes were given
                    // (a shorter presentation leaves some for the next call).
                    let whole = covered.saturating_sub(unpromised(&g)) <= presented;
                    return Ok(Step { consumed: consumed(&g, covered), produced, finished: whole });
                }
                _ => {}
            }
            // After the stream's end nothing more is queued: the rest is not the stream's.
            let all_in = covered >= input.len() || g.done.is_some();
            // The caller's output is full; or nothing more can come without
            // more input; or the decoder will take everything queued and
            // still need more, so the stream cannot end without more input
            // (output of what was given may then come on a later call); or
            // there is no room to produce into.
            let needs_more = (g.starved && g.input.is_empty()) || (g.input.len() as u64) < g.promised;
            if (produced == output.len() && (!output.is_empty() || all_in || g.output.len() >= QUEUE)) || (needs_more && all_in) {
                return Ok(Step { consumed: consumed(&g, covered), produced, finished: false });
            }
            g = self.shared.wait(g);
        }
    }
}

impl Drop for PushDecoder {
    fn drop(&mut self) {
        {
            let mut g = self.shared.lock();
            g.cancelled = true;
            self.shared.changed.notify_all();
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A decoder that copies `n` bytes, doubling each.
    pub(super) fn doubler(n: usize) -> PushDecoder {
        PushDecoder::start(move |input, sink| {
            let mut buf = vec![0u8; n];
            input.read_exact(&mut buf)?;
            let doubled: Vec<u8> = buf.iter().flat_map(|&b| [b, b]).collect();
            sink(&doubled)
        })
        .unwrap()
    }

    #[test]
    fn pieces_of_any_size_come_out_in_order() {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i * 7) as u8).collect();
        let want: Vec<u8> = data.iter().flat_map(|&b| [b, b]).collect();
        for (inp, outp) in [(1usize, 7usize), (1000, 1), (65536, 100_000), (3, 1 << 20)] {
            let mut d = doubler(data.len());
            let (mut got, mut at) = (Vec::new(), 0);
            let mut buf = vec![0u8; outp];
            loop {
                let piece = &data[at..(at + inp).min(data.len())];
                let s = d.step(piece, &mut buf).unwrap();
                at += s.consumed;
                got.extend_from_slice(&buf[..s.produced]);
                if s.finished {
                    break;
                }
                assert!(s.consumed > 0 || s.produced > 0 || at == data.len(), "no progress");
            }
            assert!(got == want, "pieces {inp}/{outp}");
        }
    }

    #[test]
    fn take_front_copies_across_the_ring_s_wrap() {
        let mut q: VecDeque<u8> = VecDeque::with_capacity(8);
        q.extend(0..6u8);
        q.drain(..4);
        q.extend(6..12u8); // wraps: [4, 5] then [6..12)
        let mut out = [0u8; 5];
        assert_eq!(take_front(&mut q, &mut out), 5);
        assert_eq!(out, [4, 5, 6, 7, 8]);
        let mut big = [0u8; 10];
        assert_eq!(take_front(&mut q, &mut big), 3);
        assert_eq!(big[..3], [9, 10, 11]);
        assert!(q.is_empty());
        assert_eq!(take_front(&mut q, &mut big), 0);
    }

    /// Like `doubler`, reading 5 bytes at a time and writing as it goes, so
    /// that it keeps reading queued input after a step returned.
    fn slow_doubler(n: usize) -> PushDecoder {
        PushDecoder::start(move |input, sink| {
            let mut left = n;
            while left > 0 {
                let mut buf = vec![0u8; left.min(5)];
                input.read_exact(&mut buf)?;
                left -= buf.len();
                let doubled: Vec<u8> = buf.iter().flat_map(|&b| [b, b]).collect();
                sink(&doubled)?;
            }
            Ok(())
        })
        .unwrap()
    }

    #[test]
    fn bytes_after_the_end_of_the_stream_are_not_consumed() {
        let data: Vec<u8> = (0..10_000u32).map(|i| (i * 13) as u8).collect();
        for (piece, outp, slow) in [(1usize, 3000usize, false), (7, 1, false), (4096, 3000, false), (20_000, 3000, false), (20_000, 50_000, false), (4096, 3, true), (20_000, 7, true), (20_000, 50_000, true)] {
            let mut d = if slow { slow_doubler(data.len()) } else { doubler(data.len()) };
            let mut fed = data.clone();
            fed.extend_from_slice(b"NEXT OBJECT");
            let (mut at, mut got) = (0, Vec::new());
            let mut buf = vec![0u8; outp];
            loop {
                let end = (at + piece).min(fed.len());
                let s = d.step(&fed[at..end], &mut buf).unwrap();
                at += s.consumed;
                got.extend_from_slice(&buf[..s.produced]);
                if s.finished {
                    break;
                }
            }
            assert_eq!(at, data.len(), "pieces of {piece}, output {outp}, slow {slow}: consumed past the end");
            assert!(got.len() == 2 * data.len() && got.iter().step_by(2).eq(data.iter()), "pieces of {piece}, output {outp}, slow {slow}: bytes differ");
        }
    }

    #[test]
    fn small_pieces_of_a_promised_read_are_consumed_at_once() {
        // One exact read of the whole stream: every piece but the last is
        // queued under the promise, so each call takes it whole and returns
        // without waiting; the bytes after the stream are still not consumed.
        let data: Vec<u8> = (0..50_000u32).map(|i| (i * 31) as u8).collect();
        let mut d = doubler(data.len());
        let mut fed = data.clone();
        fed.extend_from_slice(b"NEXT OBJECT");
        let (mut at, mut got) = (0, Vec::new());
        let mut buf = vec![0u8; 1 << 20];
        let mut early = 0;
        loop {
            let end = (at + 7).min(fed.len());
            let s = d.step(&fed[at..end], &mut buf).unwrap();
            if at + 7 < data.len() {
                assert_eq!((s.consumed, s.produced, s.finished), (end - at, 0, false), "piece at {at}");
                early += 1;
            }
            at += s.consumed;
            got.extend_from_slice(&buf[..s.produced]);
            if s.finished {
                break;
            }
        }
        assert!(early > 7000);
        // The decoder took the queued bytes in one read, not one per piece.
        assert!(d.shared.lock().reads <= 2, "{} reads", d.shared.lock().reads);
        assert_eq!(at, data.len(), "consumed past the end");
        assert!(got.len() == 2 * data.len() && got.iter().step_by(2).eq(data.iter()));
    }

    #[test]
    fn a_short_stream_never_finishes_and_errors_are_reported() {
        let mut d = doubler(10);
        let mut out = [0u8; 64];
        let s = d.step(&[1, 2, 3], &mut out).unwrap();
        assert!(!s.finished && s.consumed == 3 && s.produced == 0);
        drop(d);
        let mut d = PushDecoder::start(|_, _| Err(Error::Corrupt)).unwrap();
        assert_eq!(d.step(&[1], &mut out), Err(Error::Corrupt));
    }
}

/// Callers that present input and output in the shapes the C API allows:
/// whole pieces again, shorter presentations, empty calls, full outputs.
#[cfg(test)]
mod presentation_tests {
    use super::tests::doubler;
    use super::*;

    /// `rnd(n)`: a pseudo-random number below `n` (xorshift64, from `seed`).
    fn xorshift(mut seed: u64) -> impl FnMut(usize) -> usize {
        move |n| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        }
    }

    /// The README's loop: pieces arrive (random sizes); each is presented
    /// whole again until taken, with random non-empty output buffers, calling
    /// again while input is left or the output came back full.
    #[test]
    fn readme_loop_random_pieces_and_outputs_with_trailing_bytes() {
        let mut rnd = xorshift(0x1234_5678_9abc_def1u64);
        for round in 0..300 {
            let (blocks, fan) = (1 + rnd(3000), 1 + rnd(20));
            let (data, fed) = stream_and_junk(blocks, round);
            let mut d = fanner(blocks, fan);
            let (mut at, mut avail, mut got, mut finished) = (0usize, 0usize, Vec::new(), false);
            while !finished && avail < fed.len() {
                let k = [3, 100, 5000, 70_000][rnd(4)];
                avail = (avail + 1 + rnd(k)).min(fed.len());
                loop {
                    let k = [1, 7, 100, 4096, 1 << 20][rnd(5)];
                    let mut out = vec![0u8; k];
                    let s = d.step(&fed[at..avail], &mut out).unwrap();
                    at += s.consumed;
                    got.extend_from_slice(&out[..s.produced]);
                    finished = s.finished;
                    if finished || !(at < avail || s.produced == out.len()) {
                        break;
                    }
                }
            }
            assert!(finished, "round {round}: never finished");
            assert_eq!((at, got.len()), (data.len(), data.len() * fan), "round {round}");
            assert!(got == expect(&data, fan), "round {round}: output differs");
        }
    }

    /// Reads `blocks` blocks of 10 bytes (exact reads) and writes each block
    /// repeated `fan` times.
    fn fanner(blocks: usize, fan: usize) -> PushDecoder {
        PushDecoder::start(move |input, sink| {
            for _ in 0..blocks {
                let b: [u8; 10] = input.array()?;
                for _ in 0..fan {
                    sink(&b)?;
                }
            }
            Ok(())
        })
        .unwrap()
    }

    /// `blocks` blocks of 10 bytes of a stream, and the same followed by bytes
    /// that are not the stream's.
    fn stream_and_junk(blocks: usize, round: usize) -> (Vec<u8>, Vec<u8>) {
        let data: Vec<u8> = (0..blocks * 10).map(|i| (i * 31 + round) as u8).collect();
        let mut fed = data.clone();
        fed.extend_from_slice(b"TRAILING JUNK AFTER THE STREAM");
        (data, fed)
    }

    fn expect(data: &[u8], fan: usize) -> Vec<u8> {
        data.chunks(10).flat_map(|b| std::iter::repeat_n(b, fan).flatten().copied()).collect()
    }

    /// A caller that drains output with an empty input (zstd's "flush" call)
    /// before presenting the input it still holds again.
    #[test]
    fn an_empty_input_call_between_two_presentations_does_not_duplicate_bytes() {
        let blocks = 200;
        let data: Vec<u8> = (0..blocks * 10).map(|i| (i * 7 + i / 10) as u8).collect();
        let fan = 100; // 1000 output bytes per 10 input bytes
        let mut d = fanner(blocks, fan);
        let (mut at, mut got) = (0usize, Vec::new());
        let mut small = [0u8; 1];
        let mut big = vec![0u8; 5000];
        let mut calls = 0;
        loop {
            calls += 1;
            assert!(calls < 1_000_000, "no end");
            // Present all that is left, with a 1-byte output buffer.
            let s = d.step(&data[at..], &mut small).unwrap();
            at += s.consumed;
            got.extend_from_slice(&small[..s.produced]);
            if s.finished {
                break;
            }
            // Drain output without input.
            let s = d.step(&[], &mut big).unwrap();
            assert_eq!(s.consumed, 0);
            got.extend_from_slice(&big[..s.produced]);
            if s.finished {
                break;
            }
        }
        assert_eq!((at, got.len()), (data.len(), data.len() * fan), "consumed, output length");
        assert!(got == expect(&data, fan), "output differs: {} bytes, expected {}", got.len(), data.len() * fan);
    }

    /// A call with an empty output buffer, after the decoder finished but
    /// before its output was taken, while the input presented goes on past
    /// what was queued (bytes after the stream).
    #[test]
    fn a_zero_size_output_call_after_the_decoder_finished_returns() {
        let data: Vec<u8> = (0..10u8).collect();
        let mut fed = data.clone();
        fed.extend_from_slice(b"NEXT OBJECT");
        let mut d = doubler(data.len());
        // Only the stream itself first: queued, the call returns at once.
        let s = d.step(&fed[..data.len()], &mut []).unwrap();
        let at = s.consumed;
        // Let the decoder finish (its 20 bytes of output wait in the queue).
        for _ in 0..1000 {
            if d.shared.lock().done.is_some() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        assert!(d.shared.lock().done.is_some());
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let s = d.step(&fed[at..], &mut []);
            let _ = tx.send(s);
        });
        let r = rx.recv_timeout(std::time::Duration::from_secs(5));
        assert!(r.is_ok(), "step with an empty output buffer never returned");
    }

    /// The fuzz driver's pattern: each call presents a piece of random size
    /// starting at what was consumed so far (so sometimes fewer bytes than the
    /// last call queued), with trailing bytes after the stream.
    #[test]
    fn pieces_presented_from_the_consumed_position_in_random_sizes() {
        let mut rnd = xorshift(0x9E3779B97F4A7C15u64);
        for round in 0..200 {
            let (blocks, fan) = (50 + rnd(300), 1 + rnd(50));
            let (data, fed) = stream_and_junk(blocks, round);
            let mut d = fanner(blocks, fan);
            let (mut at, mut got) = (0usize, Vec::new());
            let mut calls = 0;
            loop {
                calls += 1;
                assert!(calls < 1_000_000, "round {round}: no end");
                let piece = rnd(300);
                let end = (at + piece).min(fed.len());
                let k = [0, 1, 7, 100, 4096][rnd(5)];
                let mut out = vec![0u8; k];
                let s = d.step(&fed[at..end], &mut out).unwrap();
                assert!(s.consumed <= end - at);
                at += s.consumed;
                got.extend_from_slice(&out[..s.produced]);
                if s.finished {
                    break;
                }
            }
            assert_eq!(at, data.len(), "round {round}: consumed {at} of a {}-byte stream", data.len());
            assert!(got == expect(&data, fan), "round {round}: output differs");
        }
    }
}
