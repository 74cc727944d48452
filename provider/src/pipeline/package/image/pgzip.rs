//! gzip on every core, as pigz does it, with bytes that depend only on the
//! input (never on the number of threads or how the input was written).
//!
//! The input is cut into blocks of [`BLOCK`] bytes. Each block is deflated on
//! its own thread with the previous block's last 32 KiB as its dictionary,
//! and ends with a sync flush (the last one with the final block), so the
//! blocks joined in order are one deflate stream, which any gzip reader
//! reads. The header is the one `GzBuilder` writes with no name and time 0;
//! the trailer's CRC-32 and size are counted as the input arrives.
//!
//! At most [`in_flight`] blocks are being deflated at once: memory stays a
//! few MiB per thread whatever the size of the layer.

use std::collections::VecDeque;
use std::io::{self, Write};
use std::thread::JoinHandle;

use flate2::{Compress, Compression, Crc, FlushCompress, Status};

/// Input bytes per block.
pub const BLOCK: usize = 1 << 20;
/// Deflate's window: how much of the previous block a block may refer to.
const DICTIONARY: usize = 32 * 1024;

/// The gzip header: deflate, no flags, time 0, no extra flags (level 6),
/// OS unknown (255), as `GzBuilder::new()` writes it.
const HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255];

/// How many blocks may be deflated at once for `threads` threads.
fn in_flight(threads: usize) -> usize {
    threads.clamp(1, 8) + 2
}

/// A gzip writer that deflates on `threads` threads.
pub struct ParallelGz<W: Write> {
    out: W,
    level: Compression,
    block: Vec<u8>,
    /// The last [`DICTIONARY`] bytes of the block before `block`.
    dictionary: Vec<u8>,
    crc: Crc,
    pending: VecDeque<JoinHandle<io::Result<Vec<u8>>>>,
    max_pending: usize,
    header_written: bool,
}

/// Deflates `data` as one piece of a raw deflate stream: primed with
/// `dictionary`, ending with a sync flush, or with the final block when
/// `last`.
fn deflate(data: &[u8], dictionary: &[u8], level: Compression, last: bool) -> io::Result<Vec<u8>> {
    let mut c = Compress::new(level, false);
    if !dictionary.is_empty() {
        c.set_dictionary(dictionary).map_err(io::Error::other)?;
    }
    let flush = if last {
        FlushCompress::Finish
    } else {
        FlushCompress::Sync
    };
    let mut out = Vec::with_capacity(data.len() / 2 + 1024);
    loop {
        let at = usize::try_from(c.total_in())
            .unwrap_or(usize::MAX)
            .min(data.len());
        let status = c
            .compress_vec(&data[at..], &mut out, flush)
            .map_err(io::Error::other)?;
        let all_in = c.total_in() as usize == data.len();
        // Room left in `out` after a flush means the flush is complete.
        let done = match status {
            Status::StreamEnd => true,
            _ => !last && all_in && out.len() < out.capacity(),
        };
        if done {
            return Ok(out);
        }
        out.reserve(out.capacity().max(64 * 1024));
    }
}

impl<W: Write> ParallelGz<W> {
    /// A writer on as many threads as the machine has cores (up to 8).
    pub fn new(out: W, level: Compression) -> ParallelGz<W> {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        ParallelGz::with_threads(out, level, threads)
    }

    pub fn with_threads(out: W, level: Compression, threads: usize) -> ParallelGz<W> {
        ParallelGz {
            out,
            level,
            block: Vec::with_capacity(BLOCK),
            dictionary: Vec::new(),
            crc: Crc::new(),
            pending: VecDeque::new(),
            max_pending: in_flight(threads),
            header_written: false,
        }
    }

    fn header(&mut self) -> io::Result<()> {
        if !self.header_written {
            self.out.write_all(&HEADER)?;
            self.header_written = true;
        }
        Ok(())
    }

    /// Writes the oldest block's deflated bytes.
    fn write_oldest(&mut self) -> io::Result<()> {
        if let Some(h) = self.pending.pop_front() {
            let bytes = h
                .join()
                .unwrap_or_else(|_| Err(io::Error::other("a deflate thread panicked")))?;
            self.out.write_all(&bytes)?;
        }
        Ok(())
    }

    /// Hands the current block to a thread.
    fn submit(&mut self, last: bool) -> io::Result<()> {
        self.header()?;
        let block = std::mem::replace(&mut self.block, Vec::with_capacity(BLOCK));
        let start = block.len().saturating_sub(DICTIONARY);
        let next_dictionary = block[start..].to_vec();
        let dictionary = std::mem::replace(&mut self.dictionary, next_dictionary);
        while self.pending.len() >= self.max_pending {
            self.write_oldest()?;
        }
        let level = self.level;
        self.pending.push_back(std::thread::spawn(move || {
            deflate(&block, &dictionary, level, last)
        }));
        Ok(())
    }

    /// Ends the stream (the final block and the trailer) and returns the
    /// writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.submit(true)?;
        while !self.pending.is_empty() {
            self.write_oldest()?;
        }
        self.out.write_all(&self.crc.sum().to_le_bytes())?;
        self.out.write_all(&self.crc.amount().to_le_bytes())?;
        self.out.flush()?;
        Ok(self.out)
    }
}

impl<W: Write> Write for ParallelGz<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let n = data.len().min(BLOCK - self.block.len());
        self.block.extend_from_slice(&data[..n]);
        self.crc.update(&data[..n]);
        if self.block.len() == BLOCK {
            self.submit(false)?;
        }
        Ok(n)
    }

    /// Blocks are cut by size only, so a flush writes nothing early.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    /// 2.5 blocks: text with runs that cross a block boundary, then
    /// incompressible bytes.
    fn input() -> Vec<u8> {
        let mut v = Vec::new();
        let mut i = 0u32;
        while v.len() < 2 * BLOCK {
            v.extend_from_slice(format!("def f{}(x):\n    return x * {}\n", i % 977, i).as_bytes());
            i += 1;
        }
        v.extend((0..BLOCK as u32 / 2).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8));
        v
    }

    fn gz(data: &[u8], threads: usize, chunk: usize) -> Vec<u8> {
        let mut w = ParallelGz::with_threads(Vec::new(), Compression::default(), threads);
        for piece in data.chunks(chunk.max(1)) {
            w.write_all(piece).unwrap();
        }
        w.finish().unwrap()
    }

    fn gunzip(bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(bytes)
            .read_to_end(&mut out)
            .unwrap();
        out
    }

    #[test]
    fn a_gzip_reader_reads_back_the_input() {
        let data = input();
        let bytes = gz(&data, 4, 100_000);
        assert_eq!(gunzip(&bytes), data);
        assert_eq!(&bytes[..10], &HEADER);
        // The dictionary keeps text compressing across block boundaries.
        assert!(
            bytes.len() < data.len() / 2,
            "{} of {}",
            bytes.len(),
            data.len()
        );
    }

    #[test]
    fn the_bytes_do_not_depend_on_threads_or_write_sizes() {
        let data = input();
        let one = gz(&data, 1, BLOCK);
        assert_eq!(gz(&data, 2, 4096), one);
        assert_eq!(gz(&data, 8, 3 * BLOCK + 7), one);
    }

    #[test]
    fn empty_and_exact_block_inputs_are_whole_gzip_streams() {
        assert_eq!(gunzip(&gz(b"", 2, 1)), b"");
        let exact = vec![b'a'; 2 * BLOCK];
        assert_eq!(gunzip(&gz(&exact, 2, BLOCK)), exact);
    }

    #[test]
    fn gzip_reads_it_when_installed() {
        let data = input();
        let bytes = gz(&data, 2, 65536);
        let Ok(mut child) = std::process::Command::new("gzip")
            .args(["-dc"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
        else {
            println!("gzip is not installed: skipping the check by gzip itself");
            return;
        };
        let mut stdin = child.stdin.take().unwrap();
        let writer = std::thread::spawn(move || stdin.write_all(&bytes));
        let out = child.wait_with_output().unwrap();
        writer.join().unwrap().unwrap();
        assert!(out.status.success());
        assert_eq!(out.stdout, data);
    }
}
