//! Two-stage pipelines for the backup's byte streams: compression runs on its own thread
//! while rows are read and encoded, decompression on its own thread while lines are parsed.
//! Chunks cross a bounded channel, so memory stays at a few megabytes whatever the size.

use std::io::{self, Read, Write};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::thread::JoinHandle;

const CHUNK: usize = 1 << 20;
const DEPTH: usize = 4;

/// A `Write` whose bytes are written by `inner` on another thread.
pub struct ThreadedWriter<W: Write + Send + 'static> {
    buf: Vec<u8>,
    tx: Option<SyncSender<Vec<u8>>>,
    worker: Option<JoinHandle<io::Result<W>>>,
}

impl<W: Write + Send + 'static> ThreadedWriter<W> {
    /// Start the writer thread.
    pub fn new(mut inner: W) -> Self {
        let (tx, rx) = sync_channel::<Vec<u8>>(DEPTH);
        let worker = std::thread::Builder::new()
            .name("mf-backup-write".into())
            .spawn(move || {
                for chunk in rx {
                    inner.write_all(&chunk)?;
                }
                Ok(inner)
            })
            .ok();
        ThreadedWriter {
            buf: Vec::with_capacity(CHUNK),
            tx: Some(tx),
            worker,
        }
    }

    fn send(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK));
        let sent = self.tx.as_ref().map(|tx| tx.send(chunk));
        match sent {
            Some(Ok(())) => Ok(()),
            // The worker stopped: its error is reported by `finish`.
            _ => Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "the backup's writer thread stopped",
            )),
        }
    }

    /// Flush the last chunk, wait for the thread, and hand back `inner`.
    pub fn finish(mut self) -> io::Result<W> {
        let sent = self.send();
        drop(self.tx.take());
        let worker = self
            .worker
            .take()
            .ok_or_else(|| io::Error::other("the backup's writer thread did not start"))?;
        let inner = worker
            .join()
            .map_err(|_| io::Error::other("the backup's writer thread panicked"))??;
        sent?;
        Ok(inner)
    }
}

impl<W: Write + Send + 'static> Write for ThreadedWriter<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<W: Write + Send + 'static> Drop for ThreadedWriter<W> {
    fn drop(&mut self) {
        drop(self.tx.take());
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
    }
}

/// A `Read` fed by `inner` being read on another thread.
pub struct ThreadedReader {
    rx: Option<Receiver<io::Result<Vec<u8>>>>,
    chunk: Vec<u8>,
    at: usize,
    worker: Option<JoinHandle<()>>,
}

impl ThreadedReader {
    /// Start the reader thread.
    pub fn new<R: Read + Send + 'static>(mut inner: R) -> Self {
        let (tx, rx) = sync_channel::<io::Result<Vec<u8>>>(DEPTH);
        let worker = std::thread::Builder::new()
            .name("mf-backup-read".into())
            .spawn(move || loop {
                let mut chunk = vec![0u8; CHUNK];
                let mut filled = 0;
                let result = loop {
                    match inner.read(&mut chunk[filled..]) {
                        Ok(0) => break Ok(()),
                        Ok(n) => {
                            filled += n;
                            if filled == chunk.len() {
                                break Ok(());
                            }
                        }
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => break Err(e),
                    }
                };
                chunk.truncate(filled);
                let done = filled == 0;
                let stop = match result {
                    Err(e) => {
                        if filled > 0 {
                            let _ = tx.send(Ok(chunk));
                        }
                        let _ = tx.send(Err(e));
                        true
                    }
                    Ok(()) => tx.send(Ok(chunk)).is_err() || done,
                };
                if stop {
                    return;
                }
            })
            .ok();
        ThreadedReader {
            rx: Some(rx),
            chunk: Vec::new(),
            at: 0,
            worker,
        }
    }
}

impl Read for ThreadedReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.at == self.chunk.len() {
            let Some(rx) = &self.rx else {
                return Ok(0);
            };
            match rx.recv() {
                Ok(Ok(chunk)) if chunk.is_empty() => {
                    self.rx = None;
                    return Ok(0);
                }
                Ok(Ok(chunk)) => {
                    self.chunk = chunk;
                    self.at = 0;
                }
                Ok(Err(e)) => {
                    self.rx = None;
                    return Err(e);
                }
                Err(_) => {
                    self.rx = None;
                    return Err(io::Error::other("the backup's reader thread stopped"));
                }
            }
        }
        let n = out.len().min(self.chunk.len() - self.at);
        out[..n].copy_from_slice(&self.chunk[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

impl Drop for ThreadedReader {
    fn drop(&mut self) {
        // Dropping the receiver makes the thread's next send fail, so it ends.
        drop(self.rx.take());
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_cross_both_ways_unchanged_and_errors_arrive() {
        let data: Vec<u8> = (0..5_000_000u32).map(|i| (i % 251) as u8).collect();
        let mut w = ThreadedWriter::new(Vec::new());
        for part in data.chunks(777) {
            w.write_all(part).unwrap();
        }
        assert_eq!(w.finish().unwrap(), data);
        let mut r = ThreadedReader::new(std::io::Cursor::new(data.clone()));
        let mut back = Vec::new();
        r.read_to_end(&mut back).unwrap();
        assert_eq!(back, data);

        struct Failing;
        impl Read for Failing {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                Err(io::Error::other("disk on fire"))
            }
        }
        let mut r = ThreadedReader::new(Failing);
        let err = r.read_to_end(&mut Vec::new()).unwrap_err();
        assert!(err.to_string().contains("disk on fire"));
        // A reader dropped early stops its thread.
        let mut r = ThreadedReader::new(std::io::Cursor::new(data));
        let mut some = [0u8; 10];
        r.read_exact(&mut some).unwrap();
        drop(r);
    }
}
