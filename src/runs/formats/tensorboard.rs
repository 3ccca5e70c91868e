//! TensorBoard event files (`events.out.tfevents.*`): a sequence of records
//! `u64 length (LE)`, `u32 masked CRC-32C of the length`, the serialized
//! `tensorflow.Event`, `u32 masked CRC-32C of the data`. Scalars are
//! summary values holding a `simple_value` (PyTorch's `SummaryWriter`, TF1)
//! or a one-number tensor (TF2); histograms, images and text are skipped.
//!
//! Read as they grow, like CSV files: each read continues from the end of
//! the last complete record. A truncated last record is a writer half-way
//! through it (a live run): the read stops there and resumes next time. A
//! record whose checksum does not match ends the read with a message naming
//! the byte offset; what was read before it stays.

use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::FileExt;

use rustix::fs::Stat;

use crate::runs::curve::{Curve, MAX_SERIES};
use crate::runs::metrics::{Metrics, Series};
use crate::runs::stream::Caps;

/// A record longer than this is not decoded (an image or a big histogram,
/// never a scalar): it is skipped, its length checked but not its data.
const RECORD_CAP: u64 = 16 << 20;
/// Bytes read at a time.
const CHUNK: usize = 1 << 20;
/// Bytes compared at the start of the file to notice one rewritten in place.
const MARK: u64 = 256;

/// `tensorflow.Event`, the fields runyard reads (others are skipped by
/// the decoder).
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct Event {
    /// Seconds since the epoch.
    #[prost(double, tag = "1")]
    pub wall_time: f64,
    /// The global step.
    #[prost(int64, tag = "2")]
    pub step: i64,
    /// `brain.Event:2` in the first record.
    #[prost(string, optional, tag = "3")]
    pub file_version: Option<String>,
    /// The logged values.
    #[prost(message, optional, tag = "5")]
    pub summary: Option<Summary>,
}

/// `tensorflow.Summary`.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct Summary {
    /// One value per tag logged at this step.
    #[prost(message, repeated, tag = "1")]
    pub value: Vec<SummaryValue>,
}

/// `tensorflow.Summary.Value`.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct SummaryValue {
    /// The metric's name.
    #[prost(string, tag = "1")]
    pub tag: String,
    /// TF1 / PyTorch scalars.
    #[prost(float, optional, tag = "2")]
    pub simple_value: Option<f32>,
    /// TF2 values: a scalar is a tensor holding one number.
    #[prost(message, optional, tag = "8")]
    pub tensor: Option<TensorProto>,
    /// Which plugin wrote it (`scalars`, `histograms`, `images`...).
    #[prost(message, optional, tag = "9")]
    pub metadata: Option<SummaryMetadata>,
}

/// `tensorflow.SummaryMetadata`.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct SummaryMetadata {
    /// The plugin's name and data.
    #[prost(message, optional, tag = "1")]
    pub plugin_data: Option<PluginData>,
}

/// `tensorflow.SummaryMetadata.PluginData`.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct PluginData {
    /// `scalars`, `histograms`, `images`, `text`...
    #[prost(string, tag = "1")]
    pub plugin_name: String,
}

/// `tensorflow.TensorProto`, the fields a scalar uses.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct TensorProto {
    /// `DataType`: 1 float, 2 double.
    #[prost(int32, tag = "1")]
    pub dtype: i32,
    /// The shape: a scalar has no dimension (or only dimensions of 1).
    #[prost(message, optional, tag = "2")]
    pub tensor_shape: Option<TensorShape>,
    /// The values as raw little-endian bytes.
    #[prost(bytes = "vec", tag = "4")]
    pub tensor_content: Vec<u8>,
    /// Float values.
    #[prost(float, repeated, tag = "5")]
    pub float_val: Vec<f32>,
    /// Double values.
    #[prost(double, repeated, tag = "6")]
    pub double_val: Vec<f64>,
}

/// `tensorflow.TensorShapeProto`.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct TensorShape {
    /// The dimensions.
    #[prost(message, repeated, tag = "2")]
    pub dim: Vec<Dim>,
}

/// `tensorflow.TensorShapeProto.Dim`.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct Dim {
    /// The size of the dimension.
    #[prost(int64, tag = "1")]
    pub size: i64,
}

/// The CRC-32C (Castagnoli) table, reflected polynomial `0x82F63B78`.
const CRC_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                (c >> 1) ^ 0x82F6_3B78
            } else {
                c >> 1
            };
            k += 1;
        }
        table[i] = c;
        i += 1;
    }
    table
};

/// CRC-32C of `data` (a 1 KB table: a crate for one checksum would be more).
pub fn crc32c(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc = CRC_TABLE[((crc ^ u32::from(b)) & 0xff) as usize] ^ (crc >> 8);
    }
    !crc
}

/// TensorFlow's masked CRC: a CRC stored in the data it covers would make
/// CRCs of CRCs trivial, so the stored value is rotated and offset.
pub fn masked_crc(data: &[u8]) -> u32 {
    let crc = crc32c(data);
    (crc.rotate_right(15)).wrapping_add(0xa282_ead8)
}

/// The one number a summary value holds as a scalar, if it is one.
pub(crate) fn scalar_of(v: &SummaryValue) -> Option<f64> {
    if let Some(plugin) = v.metadata.as_ref().and_then(|m| m.plugin_data.as_ref())
        && !plugin.plugin_name.is_empty()
        && plugin.plugin_name != "scalars"
    {
        return None;
    }
    if let Some(x) = v.simple_value {
        return Some(f64::from(x));
    }
    let t = v.tensor.as_ref()?;
    // A histogram is a tensor too, of shape [k, 3]: only one number counts.
    if t.tensor_shape
        .as_ref()
        .is_some_and(|s| s.dim.iter().any(|d| d.size != 1))
    {
        return None;
    }
    match (t.float_val.as_slice(), t.double_val.as_slice()) {
        ([x], []) => return Some(f64::from(*x)),
        ([], [x]) => return Some(*x),
        _ => {}
    }
    let c = t.tensor_content.as_slice();
    match (t.dtype, c.len()) {
        (1, 4) => Some(f64::from(f32::from_le_bytes(c.try_into().ok()?))),
        (2, 8) => Some(f64::from_le_bytes(c.try_into().ok()?)),
        _ => None,
    }
}

/// When the writer started, from the earliest event file's name
/// (`events.out.tfevents.<unix seconds>.<host>.<pid>.<n>`): Lightning's
/// version folders carry no time of their own.
pub(crate) fn start_fact(place: &super::Place) -> Option<super::Fact> {
    let (secs, file) = place
        .files
        .iter()
        .filter_map(|f| {
            let name = f.rsplit('/').next()?;
            let secs: i64 = name
                .strip_prefix("events.out.tfevents.")?
                .split('.')
                .next()?
                .parse()
                .ok()?;
            Some((secs, f))
        })
        .min()?;
    let time = super::time_of_ms(secs.checked_mul(1000)?)?;
    Some(super::Fact::new("started_at", time, file))
}

/// One record taken from the front of `buf`.
#[derive(Debug, PartialEq)]
pub(crate) enum Record<'a> {
    /// A whole record whose checksums match: its data, and its length with
    /// the framing.
    Whole(&'a [u8], u64),
    /// A record over the cap whose length checks: skip this many bytes.
    Oversize(u64),
    /// Not all of it is there yet.
    Partial,
    /// A checksum does not match (`true`: the length's).
    BadCrc(bool),
}

/// Splits the record at the front of `buf`.
pub(crate) fn next_record(buf: &[u8]) -> Record<'_> {
    let Some(head) = buf.get(..12) else {
        return Record::Partial;
    };
    let len_bytes: [u8; 8] = head[..8].try_into().unwrap_or_default();
    let len_crc = u32::from_le_bytes(head[8..12].try_into().unwrap_or_default());
    if masked_crc(&len_bytes) != len_crc {
        return Record::BadCrc(true);
    }
    let len = u64::from_le_bytes(len_bytes);
    let total = len.saturating_add(16);
    if len > RECORD_CAP {
        return Record::Oversize(total);
    }
    let Some(rest) = buf.get(12..12 + len as usize + 4) else {
        return Record::Partial;
    };
    let (data, crc) = rest.split_at(len as usize);
    let crc = u32::from_le_bytes(crc.try_into().unwrap_or_default());
    if masked_crc(data) != crc {
        return Record::BadCrc(false);
    }
    Record::Whole(data, total)
}

/// One event file's read so far.
#[derive(Debug, Clone)]
pub(crate) struct EventStream {
    caps: Caps,
    dev: u64,
    ino: u64,
    /// The size at the last read.
    size: u64,
    /// End of the last complete record.
    offset: u64,
    /// The first bytes of the file, as read.
    head: Vec<u8>,
    curves: Vec<(String, Curve)>,
    index: HashMap<String, usize>,
    /// Tags left out past [`MAX_SERIES`].
    dropped: u64,
    /// Records too big to decode, skipped.
    oversize: u64,
    /// Why the read ended for good (a bad checksum, an undecodable record).
    stopped: Option<String>,
}

impl EventStream {
    /// A stream not read yet.
    pub(crate) fn new(caps: Caps, st: &Stat) -> EventStream {
        EventStream {
            caps,
            dev: st.st_dev,
            ino: st.st_ino,
            size: 0,
            offset: 0,
            head: Vec::new(),
            curves: Vec::new(),
            index: HashMap::new(),
            dropped: 0,
            oversize: 0,
            stopped: None,
        }
    }

    /// True when `file` still continues what was read.
    fn continues(&self, file: &File, st: &Stat) -> bool {
        let size = u64::try_from(st.st_size).unwrap_or(0);
        let mut got = vec![0; self.head.len()];
        st.st_dev == self.dev
            && st.st_ino == self.ino
            && size >= self.offset
            && file.read_exact_at(&mut got, 0).is_ok()
            && got == self.head
    }

    /// Reads the records added since the last call. Returns the bytes
    /// parsed and whether it started over.
    pub(crate) fn update(&mut self, mut file: File, st: &Stat) -> (u64, bool) {
        let size = u64::try_from(st.st_size).unwrap_or(0);
        let fresh = self.size == 0 && self.offset == 0;
        let restart = !fresh && !self.continues(&file, st);
        if restart {
            *self = EventStream::new(self.caps, st);
        } else if !fresh && size == self.size {
            return (0, false);
        }
        self.size = size;
        if self.stopped.is_some() {
            return (0, restart);
        }
        let start = self.offset;
        if let Err(e) = self.read_from(&mut file) {
            self.stopped = Some(format!("cannot read: {e}"));
        }
        if self.head.len() < MARK as usize {
            let mut head = vec![0; MARK.min(self.offset) as usize];
            if file.read_exact_at(&mut head, 0).is_ok() {
                self.head = head;
            }
        }
        (self.offset - start, restart)
    }

    /// Parses whole records from `offset` to the end of the file.
    fn read_from(&mut self, file: &mut File) -> std::io::Result<()> {
        file.seek(SeekFrom::Start(self.offset))?;
        let mut buf: Vec<u8> = Vec::new();
        let mut chunk = vec![0u8; CHUNK];
        loop {
            let mut pos = 0usize;
            loop {
                match next_record(&buf[pos..]) {
                    Record::Whole(data, total) => {
                        if let Err(e) = self.event(data) {
                            self.stopped = Some(format!(
                                "the record at byte {} is not a TensorFlow event ({e})",
                                self.offset
                            ));
                            return Ok(());
                        }
                        pos += total as usize;
                        self.offset += total;
                    }
                    Record::Oversize(total) => {
                        let end = self.offset.saturating_add(total);
                        if end > file.metadata()?.len() {
                            // Not all written yet: skipped when it is.
                            return Ok(());
                        }
                        self.oversize += 1;
                        self.offset = end;
                        file.seek(SeekFrom::Start(end))?;
                        buf.clear();
                        pos = 0;
                    }
                    Record::Partial => break,
                    Record::BadCrc(len) => {
                        let what = if len { "length" } else { "data" };
                        self.stopped = Some(format!(
                            "bad CRC of the record {what} at byte {}: not read further",
                            self.offset
                        ));
                        return Ok(());
                    }
                }
            }
            buf.drain(..pos);
            let n = loop {
                match file.read(&mut chunk) {
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    other => break other?,
                }
            };
            if n == 0 {
                // What is left is a record still being written.
                return Ok(());
            }
            buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// Adds one event's scalars to the curves.
    fn event(&mut self, data: &[u8]) -> Result<(), prost::DecodeError> {
        let ev = <Event as prost::Message>::decode(data)?;
        let Some(summary) = ev.summary else {
            return Ok(());
        };
        let step = ev.step as f64;
        for v in &summary.value {
            let Some(y) = scalar_of(v) else { continue };
            match self.index.get(&v.tag) {
                Some(&i) => self.curves[i].1.push((step, y)),
                None if self.curves.len() >= MAX_SERIES => self.dropped += 1,
                None => {
                    let mut c = Curve::new(self.caps.buckets);
                    c.push((step, y));
                    self.index.insert(v.tag.clone(), self.curves.len());
                    self.curves.push((v.tag.clone(), c));
                }
            }
        }
        Ok(())
    }

    /// Adds what was read to `m`: one series per tag (x: the step), the
    /// error that ended the read, notes on what was left out.
    pub(crate) fn emit(&self, rel: &str, m: &mut Metrics) {
        let mut stride = 1;
        for (tag, curve) in &self.curves {
            stride = stride.max(curve.stride());
            m.series
                .push(Series::of_curve(tag.clone(), "step".into(), curve, rel));
        }
        if let Some(e) = &self.stopped {
            m.errors.push(format!("{rel}: {e}"));
        }
        if self.dropped > 0 {
            m.notes.push(format!(
                "{rel}: more than {MAX_SERIES} tags: the rest were not read"
            ));
        }
        if self.oversize > 0 {
            m.notes.push(format!(
                "{rel}: {} records over {} skipped (images or histograms)",
                self.oversize,
                crate::fmt::size(RECORD_CAP)
            ));
        }
        if stride > 1 {
            m.notes.push(format!(
                "{rel}: thinned to the min and max of each {stride}"
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32c_matches_the_standard_check_value() {
        // The CRC-32C check value of "123456789" (RFC 3720).
        assert_eq!(crc32c(b"123456789"), 0xE306_9283);
        assert_eq!(crc32c(b""), 0);
    }

    fn frame(data: &[u8]) -> Vec<u8> {
        let len = (data.len() as u64).to_le_bytes();
        let mut out = len.to_vec();
        out.extend(masked_crc(&len).to_le_bytes());
        out.extend(data);
        out.extend(masked_crc(data).to_le_bytes());
        out
    }

    #[test]
    fn records_split_check_and_wait() {
        let rec = frame(b"hello");
        assert_eq!(next_record(&rec), Record::Whole(b"hello", 21));
        assert_eq!(next_record(&rec[..20]), Record::Partial);
        assert_eq!(next_record(&rec[..5]), Record::Partial);
        let mut bad = rec.clone();
        bad[13] ^= 1;
        assert_eq!(next_record(&bad), Record::BadCrc(false));
        let mut bad = rec;
        bad[0] ^= 1;
        assert_eq!(next_record(&bad), Record::BadCrc(true));
    }

    fn value(tag: &str) -> SummaryValue {
        SummaryValue {
            tag: tag.into(),
            simple_value: None,
            tensor: None,
            metadata: None,
        }
    }

    #[test]
    fn scalars_from_simple_values_and_tensors_only() {
        let mut v = value("loss");
        v.simple_value = Some(0.5);
        assert_eq!(scalar_of(&v), Some(0.5));
        let mut v = value("acc");
        v.tensor = Some(TensorProto {
            dtype: 1,
            tensor_shape: Some(TensorShape { dim: vec![] }),
            tensor_content: 0.25f32.to_le_bytes().to_vec(),
            float_val: vec![],
            double_val: vec![],
        });
        assert_eq!(scalar_of(&v), Some(0.25));
        let mut d = v.clone();
        d.tensor = Some(TensorProto {
            dtype: 2,
            tensor_shape: None,
            tensor_content: vec![],
            float_val: vec![],
            double_val: vec![0.125],
        });
        assert_eq!(scalar_of(&d), Some(0.125));
        // A histogram: shape [2, 3], and its plugin says so.
        let mut h = value("weights");
        h.tensor = Some(TensorProto {
            dtype: 2,
            tensor_shape: Some(TensorShape {
                dim: vec![Dim { size: 2 }, Dim { size: 3 }],
            }),
            tensor_content: vec![0; 48],
            float_val: vec![],
            double_val: vec![],
        });
        assert_eq!(scalar_of(&h), None);
        let mut img = value("img");
        img.simple_value = Some(1.0);
        img.metadata = Some(SummaryMetadata {
            plugin_data: Some(PluginData {
                plugin_name: "images".into(),
            }),
        });
        assert_eq!(scalar_of(&img), None);
    }
}
