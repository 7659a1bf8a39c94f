//! A file in the handbook CSV layout (plain, or gzip whatever its name): its header checked, then
//! its rows, each parsed with its line number. Every problem names the file and the line; reading
//! stops at the first one. Shared by `generate --replay` and `process --input`.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use flate2::read::MultiGzDecoder;
use fraudwatch_core::handbook::{self, Row};

use crate::error::Error;

/// Counts the bytes read from the file (compressed bytes for gzip), for progress.
struct Counting<R> {
    inner: R,
    read: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

pub struct HandbookFile {
    reader: Box<dyn BufRead + Send>,
    path: PathBuf,
    /// The line last read, 1-based.
    line: u64,
    buf: String,
    read: Arc<AtomicU64>,
    size: u64,
    failed: bool,
}

impl std::fmt::Debug for HandbookFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HandbookFile")
            .field("path", &self.path)
            .field("line", &self.line)
            .finish()
    }
}

impl HandbookFile {
    /// Opens `path` and checks its header.
    pub fn open(path: &Path) -> Result<HandbookFile, Error> {
        let open_err = |source| Error::ReplayOpen {
            path: path.to_path_buf(),
            source,
        };
        let file = File::open(path).map_err(open_err)?;
        let meta = file.metadata().map_err(open_err)?;
        if meta.is_dir() {
            return Err(open_err(std::io::Error::other("it is a directory")));
        }
        let read = Arc::new(AtomicU64::new(0));
        let mut raw = BufReader::with_capacity(
            1 << 16,
            Counting {
                inner: file,
                read: read.clone(),
            },
        );
        let gzip = raw.fill_buf().map_err(open_err)?.starts_with(&[0x1f, 0x8b]);
        let reader: Box<dyn BufRead + Send> = if gzip {
            Box::new(BufReader::with_capacity(1 << 16, MultiGzDecoder::new(raw)))
        } else {
            Box::new(raw)
        };
        let mut file = HandbookFile {
            reader,
            path: path.to_path_buf(),
            line: 0,
            buf: String::with_capacity(128),
            read,
            size: meta.len(),
            failed: false,
        };
        if !file.read_line()? {
            let problem = format!(
                "the file is empty; expected the header {:?}",
                handbook::HEADER
            );
            return Err(file.error(1, problem));
        }
        handbook::check_header(&file.buf).map_err(|e| file.error(1, e.problem))?;
        Ok(file)
    }

    /// An error about `line` of this file.
    pub fn error(&self, line: u64, problem: String) -> Error {
        Error::ReplayRow {
            path: self.path.clone(),
            line,
            problem,
        }
    }

    /// The line of the row last returned, 1-based.
    pub fn line(&self) -> u64 {
        self.line
    }

    /// Bytes of the file read so far, and its size.
    pub fn position(&self) -> (u64, u64) {
        (self.read.load(Ordering::Relaxed), self.size)
    }

    /// A counter of the bytes read that stays readable while the file is being iterated.
    pub fn bytes_read(&self) -> Arc<AtomicU64> {
        self.read.clone()
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads the next line into `buf`; false at the end of the file.
    fn read_line(&mut self) -> Result<bool, Error> {
        self.buf.clear();
        self.line += 1;
        match self.reader.read_line(&mut self.buf) {
            Ok(0) => Ok(false),
            Ok(_) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
                Err(self.error(self.line, format!("not UTF-8 text ({e})")))
            }
            Err(e) => Err(self.error(self.line, format!("cannot read: {e}"))),
        }
    }

    fn next_row(&mut self) -> Result<Option<Row>, Error> {
        if !self.read_line()? {
            return Ok(None);
        }
        Row::parse(&self.buf, self.line)
            .map(Some)
            .map_err(|e| self.error(e.line, e.problem))
    }
}

impl Iterator for HandbookFile {
    type Item = Result<Row, Error>;

    fn next(&mut self) -> Option<Result<Row, Error>> {
        if self.failed {
            return None;
        }
        let r = self.next_row().transpose();
        self.failed = matches!(r, Some(Err(_)));
        r
    }
}
