//! CSV and JSONL metric files read as they grow: each read continues from
//! the end of the last complete line it parsed, with the parse state
//! (header, x column, curves so far) kept; a file that was replaced,
//! truncated or rewritten is read again from its start. Memory is bounded:
//! lines longer than a cap are an error on the file, only the tail of a
//! huge file is read, and curves keep a bounded number of points.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::FileExt;

use rustix::fs::Stat;
use serde_json::Value;

use super::curve::{BUCKETS, Curve, MAX_SERIES, SeriesAcc};
use super::info::kind_of;
use super::metrics::{Metrics, Naming, Scalar, Series, x_column};

/// A line longer than this is an error on its file (a 1 GB file on one
/// line must not become a 1 GB allocation).
pub(crate) const LINE_CAP: usize = 1 << 20;
/// Of a file bigger than this, only the last this-many bytes are read.
pub(crate) const TAIL_CAP: u64 = 128 << 20;
/// Bytes read at a time.
const CHUNK: usize = 1 << 18;
/// Bytes compared at the start of the file and before the resume point, to
/// notice a file rewritten in place.
const MARK: u64 = 256;

/// The bounds a reader works within (tests make them small).
#[derive(Debug, Clone, Copy)]
pub struct Caps {
    /// Longest line, bytes.
    pub line: usize,
    /// Bytes read of a file's tail when it is bigger.
    pub tail: u64,
    /// Buckets per curve (see [`super::curve`]).
    pub buckets: usize,
}

impl Default for Caps {
    fn default() -> Caps {
        Caps {
            line: LINE_CAP,
            tail: TAIL_CAP,
            buckets: BUCKETS,
        }
    }
}

/// A CSV reader over a batch of lines, kept per thread (see `csv_batch`).
type CsvReader = csv::Reader<std::io::Cursor<Vec<u8>>>;

/// What a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    /// A table with this delimiter.
    Csv(u8),
    /// One JSON object per line.
    Jsonl,
}

/// The parse state of a CSV file.
#[derive(Debug, Clone, Default)]
struct CsvState {
    headers: Option<Vec<String>>,
    /// `metric,value` pairs: each row is a scalar.
    pairs: bool,
    scalars: Vec<(String, f64)>,
    /// The first data row, until a second one makes the file a series.
    first: Option<Vec<String>>,
    /// Set at the second row: the x column (None: the row number).
    series: Option<Option<usize>>,
    row_no: u64,
    columns: Vec<Curve>,
}

/// One file's read so far.
#[derive(Debug, Clone)]
pub(crate) struct Stream {
    format: Format,
    caps: Caps,
    dev: u64,
    ino: u64,
    /// The size at the last read.
    size: u64,
    /// End of the last complete line parsed.
    offset: u64,
    /// Complete lines parsed (from `skipped` on).
    lines: u64,
    /// Bytes left unread at the start (of a file over the tail cap).
    skipped: u64,
    /// The first bytes of the file and the bytes before `offset`, as read.
    head: Vec<u8>,
    before: Vec<u8>,
    csv: CsvState,
    jsonl: SeriesAcc,
    /// An error that ended the read (CSV errors, over-long lines).
    stopped: Option<String>,
    /// The first error of a JSONL file (reading goes on past bad lines).
    error: Option<String>,
    /// The unterminated last line (a writer half-way through it).
    partial: Vec<u8>,
}

impl Stream {
    /// A stream not read yet.
    pub(crate) fn new(format: Format, caps: Caps, st: &Stat) -> Stream {
        Stream {
            format,
            caps,
            dev: st.st_dev,
            ino: st.st_ino,
            size: 0,
            offset: 0,
            lines: 0,
            skipped: 0,
            head: Vec::new(),
            before: Vec::new(),
            csv: CsvState::default(),
            jsonl: SeriesAcc::new(caps.buckets),
            stopped: None,
            error: None,
            partial: Vec::new(),
        }
    }

    /// True when `file` still continues what was read: same inode, not
    /// shorter, and the same bytes at the start and before the resume point.
    fn continues(&self, file: &File, st: &Stat) -> bool {
        let size = u64::try_from(st.st_size).unwrap_or(0);
        let same_at = |at: u64, want: &[u8]| {
            let mut got = vec![0; want.len()];
            file.read_exact_at(&mut got, at).is_ok() && got == want
        };
        st.st_dev == self.dev
            && st.st_ino == self.ino
            && size >= self.offset
            && same_at(0, &self.head)
            && same_at(self.offset - self.before.len() as u64, &self.before)
    }

    /// Reads what was added since the last call (everything, the first
    /// time or when the file was rewritten). Returns the bytes parsed and
    /// whether it started over.
    pub(crate) fn update(&mut self, mut file: File, st: &Stat) -> (u64, bool) {
        let size = u64::try_from(st.st_size).unwrap_or(0);
        let fresh = self.size == 0 && self.offset == 0;
        let restart = !fresh && !self.continues(&file, st);
        if fresh || restart {
            *self = Stream::new(self.format, self.caps, st);
        } else if size == self.size {
            // Nothing was added: nothing to parse.
            return (0, false);
        }
        if self.stopped.is_some() {
            self.size = size;
            return (0, restart);
        }
        let start = self.offset;
        if self.offset == 0 {
            self.head = read_at(&file, 0, MARK);
            if size > self.caps.tail {
                self.skip_to_tail(&mut file, size);
            }
        }
        if let Err(e) = self.read_from(&mut file, size) {
            self.stopped = Some(format!("cannot read: {e}"));
        }
        let back = self.offset.min(MARK);
        self.before = read_at(&file, self.offset - back, back);
        // What was seen, which may be more than fstat said a moment ago.
        self.size = size.max(self.offset + self.partial.len() as u64);
        (self.offset - start + self.partial.len() as u64, restart)
    }

    /// For a file over the tail cap: the header line (CSV), then only the
    /// last `tail` bytes, from the first line that starts in them.
    fn skip_to_tail(&mut self, file: &mut File, size: u64) {
        if let Format::Csv(_) = self.format {
            let first = read_at(file, 0, self.caps.line as u64 + 1);
            match first.iter().position(|&b| b == b'\n') {
                Some(nl) => {
                    self.batch(&first[..=nl]);
                    self.offset = nl as u64 + 1;
                    self.lines = 1;
                }
                None => {
                    self.stopped = Some(self.too_long());
                    return;
                }
            }
        }
        let from = size - self.caps.tail;
        let probe = read_at(file, from, self.caps.line as u64 + 1);
        match probe.iter().position(|&b| b == b'\n') {
            Some(nl) if from + nl as u64 + 1 > self.offset => {
                let at = from + nl as u64 + 1;
                self.skipped = at - self.offset;
                self.offset = at;
            }
            Some(_) => {}
            None => self.stopped = Some(self.too_long()),
        }
    }

    fn too_long(&self) -> String {
        format!(
            "{}: longer than the {} cap for one line (not read further)",
            self.at(self.lines + 1),
            crate::fmt::size(self.caps.line as u64)
        )
    }

    /// Names line `n` in a message.
    fn at(&self, n: u64) -> String {
        if self.skipped == 0 {
            format!("line {n}")
        } else {
            format!("line {n} of the part read")
        }
    }

    /// Parses complete lines from `offset` to the end of the file, keeping
    /// an unterminated last line aside.
    fn read_from(&mut self, file: &mut File, size: u64) -> std::io::Result<()> {
        self.partial.clear();
        if self.stopped.is_some() {
            return Ok(());
        }
        file.seek(SeekFrom::Start(self.offset))?;
        let mut pending: Vec<u8> = Vec::new();
        // Sized to what fstat said is left (most metrics files are a few
        // hundred bytes: zeroing a full chunk for each showed in a cold
        // `ls`); a file that grew since is read on in more turns.
        let left = usize::try_from(size.saturating_sub(self.offset)).unwrap_or(CHUNK);
        let mut buf = vec![0u8; left.clamp(4096, CHUNK)];
        loop {
            let n = match file.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            pending.extend_from_slice(&buf[..n]);
            if let Some(nl) = pending.iter().rposition(|&b| b == b'\n') {
                let batch = &pending[..=nl];
                if batch.len() > self.caps.line
                    && let Some(long) = batch
                        .split_inclusive(|&b| b == b'\n')
                        .position(|l| l.len() > self.caps.line + 1)
                {
                    // Lines before the long one still count.
                    let ok: usize = batch
                        .split_inclusive(|&b| b == b'\n')
                        .take(long)
                        .map(<[u8]>::len)
                        .sum();
                    let (good, _) = batch.split_at(ok);
                    let good = good.to_vec();
                    self.consume(&good);
                    if self.stopped.is_none() {
                        self.stopped = Some(self.too_long());
                    }
                    return Ok(());
                }
                let batch = batch.to_vec();
                self.consume(&batch);
                pending.drain(..=nl);
                if self.stopped.is_some() {
                    return Ok(());
                }
            }
            if pending.len() > self.caps.line {
                self.stopped = Some(self.too_long());
                return Ok(());
            }
        }
        self.partial = pending;
        Ok(())
    }

    /// Parses a run of complete lines and moves the resume point past them.
    fn consume(&mut self, batch: &[u8]) {
        self.batch(batch);
        self.offset += batch.len() as u64;
        self.lines += batch.iter().filter(|&&b| b == b'\n').count() as u64;
    }

    /// Parses complete lines (line numbers continue from `lines`).
    fn batch(&mut self, batch: &[u8]) {
        match self.format {
            Format::Csv(d) => {
                if let Err(e) = self.csv_batch(batch, d, false) {
                    self.stopped = Some(e);
                }
            }
            Format::Jsonl => {
                let base = self.lines;
                for (i, line) in batch.split_inclusive(|&b| b == b'\n').enumerate() {
                    self.jsonl_line(line, base + i as u64 + 1, false);
                }
            }
        }
    }

    fn csv_batch(&mut self, batch: &[u8], delimiter: u8, partial: bool) -> Result<(), String> {
        // Building a CSV reader compiles its state machine, which costs more
        // than parsing a small metrics file (an eighth of a cold `ls` went
        // there): each thread keeps one reader per delimiter and rewinds it
        // onto each batch.
        thread_local! {
            static READERS: std::cell::RefCell<Vec<(u8, CsvReader)>> =
                const { std::cell::RefCell::new(Vec::new()) };
        }
        READERS.with_borrow_mut(|readers| {
            let i = match readers.iter().position(|r| r.0 == delimiter) {
                Some(i) => i,
                None => {
                    let reader = csv::ReaderBuilder::new()
                        .has_headers(false)
                        .flexible(true)
                        .trim(csv::Trim::All)
                        .delimiter(delimiter)
                        .from_reader(std::io::Cursor::new(Vec::new()));
                    readers.push((delimiter, reader));
                    readers.len() - 1
                }
            };
            let reader = &mut readers[i].1;
            let buf = reader.get_mut().get_mut();
            buf.clear();
            buf.extend_from_slice(batch);
            // Back to the start, state and line numbers reset: as new.
            reader
                .seek_raw(SeekFrom::Start(0), csv::Position::new())
                .map_err(|e| format!("{}: {e}", self.at(self.lines + 1)))?;
            let mut record = csv::ByteRecord::new();
            let result = loop {
                match reader.read_byte_record(&mut record) {
                    Ok(false) => break Ok(()),
                    Ok(true) => {
                        let n = self.lines + record.position().map_or(1, |p| p.line());
                        if let Err(e) = self.csv_row(&record, n, partial) {
                            break Err(e);
                        }
                    }
                    Err(e) => break Err(format!("{}: {e}", self.at(self.lines + 1))),
                }
            };
            // A big batch's bytes are not kept alive by the thread.
            if reader.get_ref().get_ref().capacity() > CHUNK {
                *reader.get_mut().get_mut() = Vec::new();
            }
            result
        })
    }

    fn csv_row(&mut self, r: &csv::ByteRecord, n: u64, partial: bool) -> Result<(), String> {
        let text = |f: &[u8]| String::from_utf8_lossy(f).into_owned();
        let Some(expected) = self.csv.headers.as_ref().map(Vec::len) else {
            let fields: Vec<String> = r.iter().map(text).collect();
            let lower: Vec<String> = fields.iter().map(|h| h.to_ascii_lowercase()).collect();
            self.csv.pairs = fields.len() == 2
                && ["metric", "name", "key"].contains(&lower[0].as_str())
                && ["value", "score", "val"].contains(&lower[1].as_str());
            self.csv.headers = Some(fields);
            return Ok(());
        };
        if r.len() != expected {
            // A writer half-way through its last row: it will be whole next time.
            if partial {
                return Ok(());
            }
            return Err(format!(
                "{}: {} fields where the header has {expected}",
                self.at(n),
                r.len()
            ));
        }
        let c = &mut self.csv;
        if c.pairs {
            if let Some(v) = number(&r[1]) {
                c.scalars.push((text(&r[0]), v));
            }
            return Ok(());
        }
        if c.series.is_none() {
            let Some(first) = c.first.take() else {
                c.first = Some(r.iter().map(text).collect());
                return Ok(());
            };
            // Several rows: a series per column against the step/epoch
            // column, else the first column when numeric, else the row number.
            let headers = c.headers.as_deref().unwrap_or_default();
            let x = x_column(headers.iter().map(String::as_str))
                .and_then(|x| headers.iter().position(|h| h == x))
                .or_else(|| first.first()?.parse::<f64>().ok().map(|_| 0));
            c.series = Some(x);
            // At most MAX_SERIES curves (and the x column) a file.
            c.columns = vec![Curve::new(self.caps.buckets); expected.min(MAX_SERIES + 1)];
            add_row(c, |i| first.get(i)?.parse().ok());
        }
        add_row(c, |i| number(r.get(i)?));
        Ok(())
    }

    fn jsonl_line(&mut self, raw: &[u8], n: u64, partial: bool) {
        let Ok(line) = std::str::from_utf8(raw) else {
            let at = self.at(n);
            self.error.get_or_insert(format!("{at}: not valid UTF-8"));
            return;
        };
        if line.trim().is_empty() {
            return;
        }
        match serde_json::from_str::<Value>(&super::relax_json(line)) {
            Ok(Value::Object(row)) => self.jsonl.push(&row),
            Ok(other) => {
                let at = self.at(n);
                self.error.get_or_insert(format!(
                    "{at}: expected an object, found {}",
                    kind_of(&other)
                ));
            }
            // A run still training may be half-way through writing its last line.
            Err(_) if partial => {}
            Err(e) => {
                let at = self.at(n);
                self.error
                    .get_or_insert(format!("{at}: not valid JSON ({e})"));
            }
        }
    }

    /// Adds what was read to `m`: scalars or series, the error, and a note
    /// when the file was read in part or its curves thinned.
    pub(crate) fn emit(&self, naming: &Naming, rel: &str, m: &mut Metrics) {
        if !self.partial.is_empty() && self.stopped.is_none() {
            // The unterminated last line counts now, but is not kept: the
            // writer may not be done with it.
            let mut with = self.clone();
            with.partial.clear();
            let line = self.partial.clone();
            match self.format {
                Format::Csv(d) => {
                    if let Err(e) = with.csv_batch(&line, d, true) {
                        with.stopped = Some(e);
                    }
                }
                Format::Jsonl => with.jsonl_line(&line, self.lines + 1, true),
            }
            return with.emit(naming, rel, m);
        }
        let mut stride = 1;
        let rows;
        match self.format {
            Format::Csv(_) => {
                let c = &self.csv;
                rows = c.row_no;
                let headers = c.headers.as_deref().unwrap_or_default();
                for (k, v) in &c.scalars {
                    m.scalars.push(Scalar {
                        name: naming.name(k),
                        value: *v,
                        file: rel.into(),
                    });
                }
                if let Some(first) = &c.first {
                    // One good row: its numbers are scalars.
                    let x = x_column(headers.iter().map(String::as_str));
                    for (h, v) in headers
                        .iter()
                        .zip(first)
                        .filter(|(h, _)| Some(h.as_str()) != x)
                    {
                        if let Ok(v) = v.parse::<f64>() {
                            m.scalars.push(Scalar {
                                name: naming.name(h),
                                value: v,
                                file: rel.into(),
                            });
                        }
                    }
                }
                if let Some(x) = c.series {
                    for (col, curve) in c.columns.iter().enumerate() {
                        if Some(col) != x && curve.count() > 0 {
                            stride = stride.max(curve.stride());
                            m.series.push(Series::of_curve(
                                naming.name(&headers[col]),
                                x.map_or("index".into(), |x| headers[x].to_ascii_lowercase()),
                                curve,
                                rel,
                            ));
                        }
                    }
                }
            }
            Format::Jsonl => {
                rows = self.jsonl.rows;
                let x = self.jsonl.x_name();
                for (col, curve) in self.jsonl.curves() {
                    stride = stride.max(curve.stride());
                    m.series
                        .push(Series::of_curve(naming.name(col), x.clone(), curve, rel));
                }
            }
        }
        if let Some(e) = self.stopped.as_ref().or(self.error.as_ref()) {
            m.errors.push(format!("{rel}: {e}"));
        }
        let dropped = match self.format {
            // Columns past the cap have no curve (a one-row file has none
            // at all: its numbers are scalars).
            Format::Csv(_) if self.csv.columns.is_empty() => 0,
            Format::Csv(_) => self
                .csv
                .headers
                .as_ref()
                .map_or(0, |h| h.len().saturating_sub(self.csv.columns.len()) as u64),
            Format::Jsonl => self.jsonl.dropped,
        };
        if dropped > 0 {
            m.notes.push(format!(
                "{rel}: more than {MAX_SERIES} metrics: the rest were not read"
            ));
        }
        if self.skipped > 0 {
            m.notes.push(format!(
                "{rel}: {}, only its last {} read: curves start part-way",
                crate::fmt::size(self.size),
                crate::fmt::size(self.caps.tail)
            ));
        }
        if stride > 1 {
            m.notes.push(format!(
                "{rel}: {rows} rows, thinned to the min and max of each {stride}"
            ));
        }
    }
}

/// A CSV field as a number.
fn number(field: &[u8]) -> Option<f64> {
    std::str::from_utf8(field).ok()?.parse().ok()
}

/// Adds one data row of a series CSV (`get` reads a column) to its curves.
fn add_row(c: &mut CsvState, get: impl Fn(usize) -> Option<f64>) {
    let x = c.series.flatten();
    let xv = match x {
        Some(x) => get(x),
        None => Some(c.row_no as f64),
    };
    c.row_no += 1;
    let Some(xv) = xv else { return };
    for (col, curve) in c.columns.iter_mut().enumerate() {
        if Some(col) == x {
            continue;
        }
        if let Some(y) = get(col) {
            curve.push((xv, y));
        }
    }
}

/// Up to `len` bytes of `file` at `at` (fewer at the end of the file).
fn read_at(file: &File, at: u64, len: u64) -> Vec<u8> {
    let mut out = Vec::new();
    let mut reader = std::io::Read::take(ReadAt { file, at }, len);
    let _ = reader.read_to_end(&mut out);
    out
}

/// Reads a file from a position without moving its cursor.
struct ReadAt<'a> {
    file: &'a File,
    at: u64,
}

impl Read for ReadAt<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.file.read_at(buf, self.at)?;
        self.at += n as u64;
        Ok(n)
    }
}
