//! Curves with bounded memory: every point up to a cap, then the lowest and
//! highest point of each run of `stride` points, so a 10-million-row log
//! costs a few hundred KiB and still shows its spikes (a NaN or a loss
//! blow-up is an extreme, so it is always kept).

use serde_json::{Map, Value};

use super::json_number;
use super::summary::Stats;

/// Buckets a curve keeps before it halves its resolution: at most twice as
/// many points (each bucket keeps its lowest and highest), plus the first
/// and the last.
pub(crate) const BUCKETS: usize = 1 << 15;

/// Curves one file may hold: past this, further columns are not read (a
/// file of 100,000 distinct keys would otherwise take minutes and GiBs).
pub(crate) const MAX_SERIES: usize = 2000;

/// A point and its index in the file's order.
type At = (u64, (f64, f64));

#[derive(Debug, Clone, Copy)]
struct Bucket {
    lo: At,
    hi: At,
}

impl Bucket {
    fn of(p: At) -> Bucket {
        Bucket { lo: p, hi: p }
    }

    fn take(&mut self, p: At) {
        if p.1.1.total_cmp(&self.lo.1.1).is_lt() {
            self.lo = p;
        }
        if p.1.1.total_cmp(&self.hi.1.1).is_gt() {
            self.hi = p;
        }
    }

    fn merge(a: Bucket, b: Bucket) -> Bucket {
        let mut m = a;
        m.take(b.lo);
        m.take(b.hi);
        m
    }
}

/// One curve's points as they arrive, bounded (see the module doc).
#[derive(Debug, Clone)]
pub(crate) struct Curve {
    count: u64,
    stride: u64,
    buckets: Vec<Bucket>,
    open: Option<(Bucket, u64)>,
    first: Option<At>,
    last: Option<At>,
    cap: usize,
    /// Exact over every point pushed, whatever the thinning kept.
    stats: Stats,
}

impl Curve {
    /// An empty curve that keeps at most `cap` buckets (at least 2).
    pub(crate) fn new(cap: usize) -> Curve {
        Curve {
            count: 0,
            stride: 1,
            buckets: Vec::new(),
            open: None,
            first: None,
            last: None,
            cap: cap.max(2),
            stats: Stats::default(),
        }
    }

    /// Adds the next point.
    pub(crate) fn push(&mut self, p: (f64, f64)) {
        self.stats.push(p);
        let at = (self.count, p);
        self.count += 1;
        self.first.get_or_insert(at);
        self.last = Some(at);
        let (bucket, n) = match self.open.take() {
            None => (Bucket::of(at), 1),
            Some((mut b, n)) => {
                b.take(at);
                (b, n + 1)
            }
        };
        if n < self.stride {
            self.open = Some((bucket, n));
            return;
        }
        self.buckets.push(bucket);
        if self.buckets.len() >= self.cap {
            // Halve the resolution: neighbours merge, keeping their extremes.
            let merged: Vec<Bucket> = self
                .buckets
                .chunks(2)
                .map(|c| c.iter().copied().reduce(Bucket::merge).unwrap_or(c[0]))
                .collect();
            self.buckets = merged;
            self.stride *= 2;
        }
    }

    /// Last, best, NaN count... of every point pushed (see [`Stats`]).
    pub(crate) fn stats(&self) -> Stats {
        self.stats
    }

    /// Points pushed so far.
    pub(crate) fn count(&self) -> u64 {
        self.count
    }

    /// How many points each kept pair stands for (1: every point is kept).
    pub(crate) fn stride(&self) -> u64 {
        self.stride
    }

    /// The kept points in file order: the first, each bucket's extremes,
    /// the last.
    pub(crate) fn points(&self) -> Vec<(f64, f64)> {
        let mut out: Vec<(f64, f64)> = Vec::with_capacity(self.buckets.len() * 2 + 3);
        let mut at: Option<u64> = None;
        let mut put = |p: At| {
            if at.is_none_or(|i| p.0 > i) {
                at = Some(p.0);
                out.push(p.1);
            }
        };
        if let Some(f) = self.first {
            put(f);
        }
        for b in self
            .buckets
            .iter()
            .chain(self.open.as_ref().map(|(b, _)| b))
        {
            let (a, c) = if b.lo.0 <= b.hi.0 {
                (b.lo, b.hi)
            } else {
                (b.hi, b.lo)
            };
            put(a);
            put(c);
        }
        if let Some(l) = self.last {
            put(l);
        }
        out
    }
}

/// Collects rows (JSON objects) into one curve per numeric column, as they come.
#[derive(Debug, Clone)]
pub(crate) struct SeriesAcc {
    /// The x column, chosen at the first row.
    x: Option<Option<String>>,
    /// Rows seen.
    pub(crate) rows: u64,
    columns: Vec<(String, Curve)>,
    /// Column name → its place in `columns`: rows find their columns in
    /// constant time, however many there are.
    index: std::collections::HashMap<String, usize>,
    /// Columns left out past [`MAX_SERIES`].
    pub(crate) dropped: u64,
    cap: usize,
}

impl Default for SeriesAcc {
    fn default() -> SeriesAcc {
        SeriesAcc::new(BUCKETS)
    }
}

impl SeriesAcc {
    /// An accumulator whose curves keep at most `cap` buckets.
    pub(crate) fn new(cap: usize) -> SeriesAcc {
        SeriesAcc {
            x: None,
            rows: 0,
            columns: Vec::new(),
            index: std::collections::HashMap::new(),
            dropped: 0,
            cap,
        }
    }

    /// Adds one row.
    pub(crate) fn push(&mut self, row: &Map<String, Value>) {
        let x = self
            .x
            .get_or_insert_with(|| {
                super::metrics::x_column(row.keys().map(String::as_str)).map(str::to_string)
            })
            .clone();
        let xv = match &x {
            Some(name) => row.get(name).and_then(json_number),
            None => Some(self.rows as f64),
        };
        self.rows += 1;
        let Some(xv) = xv else { return };
        for (k, v) in row {
            if Some(k) == x.as_ref() {
                continue;
            }
            let Some(y) = json_number(v) else { continue };
            match self.index.get(k) {
                Some(&i) => self.columns[i].1.push((xv, y)),
                None if self.columns.len() >= MAX_SERIES => self.dropped += 1,
                None => {
                    let mut curve = Curve::new(self.cap);
                    curve.push((xv, y));
                    self.index.insert(k.clone(), self.columns.len());
                    self.columns.push((k.clone(), curve));
                }
            }
        }
    }

    /// The x column's name (`index` when rows have none).
    pub(crate) fn x_name(&self) -> String {
        self.x.clone().flatten().unwrap_or_else(|| "index".into())
    }

    /// Each column and its kept points.
    pub(crate) fn curves(&self) -> impl Iterator<Item = (&str, &Curve)> {
        self.columns.iter().map(|(c, k)| (c.as_str(), k))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn below_the_cap_every_point_is_kept() {
        let mut c = Curve::new(8);
        for i in 0..7 {
            c.push((i as f64, (i * i) as f64));
        }
        let want: Vec<(f64, f64)> = (0..7).map(|i| (i as f64, (i * i) as f64)).collect();
        assert_eq!(c.points(), want);
        assert_eq!(c.stride(), 1);
    }

    #[test]
    fn above_the_cap_memory_is_bounded_and_extremes_first_and_last_stay() {
        let mut c = Curve::new(64);
        let n = 100_000u64;
        for i in 0..n {
            let y = match i {
                31_337 => 1e9,
                77_777 => f64::NAN,
                50_000 => -5.0,
                _ => (i % 10) as f64,
            };
            c.push((i as f64, y));
        }
        let p = c.points();
        assert!(p.len() <= 2 * 64 + 3, "{}", p.len());
        assert!(c.stride() > 1);
        assert_eq!(c.count(), n);
        assert_eq!(p.first(), Some(&(0.0, 0.0)));
        assert_eq!(p.last(), Some(&((n - 1) as f64, ((n - 1) % 10) as f64)));
        assert!(p.contains(&(31_337.0, 1e9)));
        assert!(p.contains(&(50_000.0, -5.0)));
        assert!(p.iter().any(|q| q.0 == 77_777.0 && q.1.is_nan()));
        assert!(p.windows(2).all(|w| w[0].0 < w[1].0), "file order");
    }
}
