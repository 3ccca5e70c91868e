//! Chart maths shared by the explorer's charts, pure and tested here:
//! TensorBoard's smoothing, round-number ticks, log scale that says what
//! it leaves out, outlier clipping to a percentile, and the point under a
//! cursor.

/// TensorBoard's scalar smoothing (its `line-chart.ts`, also W&B's "EMA -
/// TensorBoard"): a debiased exponential moving average. With weight `w`,
/// `last = w·last + (1-w)·y` starting from 0, divided by `1 - w^n` after `n`
/// values so the first points are not dragged toward zero. As TensorBoard
/// does, a non-finite value is passed through without entering the
/// average. (TensorBoard also returns a constant series as is; the
/// debiased average gives that same constant, up to rounding.) Weight 0
/// (or below) is off; weights are capped just under 1 (1 would never move).
pub fn smooth(values: &[f64], weight: f64) -> Vec<f64> {
    let mut ema = Ema::new(weight);
    values.iter().map(|&y| ema.push(y)).collect()
}

/// [`smooth`] one value at a time, for a single pass over a long curve.
#[derive(Debug, Clone, Copy)]
pub struct Ema {
    w: f64,
    last: f64,
    /// `w^n` after `n` finite values: the debiasing divisor is `1 - wn`.
    wn: f64,
}

impl Ema {
    /// A smoother of weight `weight` (0: values pass through).
    pub fn new(weight: f64) -> Ema {
        Ema {
            w: weight.clamp(0.0, 0.999),
            last: 0.0,
            wn: 1.0,
        }
    }

    /// The smoothed value after `y` (a non-finite `y` is returned as is and
    /// does not enter the average).
    pub fn push(&mut self, y: f64) -> f64 {
        if self.w == 0.0 || !y.is_finite() {
            return y;
        }
        self.last = self.last * self.w + (1.0 - self.w) * y;
        self.wn *= self.w;
        self.last / (1.0 - self.wn)
    }
}

/// Round-number ticks inside `[lo, hi]`: steps of 1, 2, 2.5 or 5 times a
/// power of ten, the coarsest that gives at least `min` ticks (at most
/// `max`). A range of zero width gives the one value.
pub fn ticks(lo: f64, hi: f64, min: usize, max: usize) -> Vec<f64> {
    if !lo.is_finite() || !hi.is_finite() || hi < lo {
        return Vec::new();
    }
    if hi == lo {
        return vec![lo];
    }
    let span = hi - lo;
    let mut best: Vec<f64> = Vec::new();
    // From coarse to fine: the first step that gives `min` ticks wins.
    let top = span.log10().ceil() as i32;
    for exp in (top - 3..=top).rev() {
        for m in [5.0, 2.5, 2.0, 1.0] {
            let step = m * 10f64.powi(exp);
            let first = (lo / step).ceil();
            let last = (hi / step).floor();
            let count = (last - first + 1.0).max(0.0) as usize;
            if count > max || count == 0 {
                continue;
            }
            // Multiply rather than add, so 0.1 steps stay 0.3, not 0.30000000000000004.
            let t: Vec<f64> = (0..count)
                .map(|i| clean((first + i as f64) * step, step))
                .collect();
            if count >= min {
                return t;
            }
            if t.len() > best.len() {
                best = t;
            }
        }
    }
    if best.is_empty() { vec![lo, hi] } else { best }
}

/// Rounds away the float noise of `v` at the precision of `step`.
fn clean(v: f64, step: f64) -> f64 {
    let digits = (-step.log10().floor() + 2.0).clamp(0.0, 15.0) as i32;
    let scale = 10f64.powi(digits);
    let r = (v * scale).round() / scale;
    if r == 0.0 { 0.0 } else { r }
}

/// Ticks for a log10 axis whose bounds are `lo`, `hi` (in log10): whole
/// powers of ten when the range spans two decades or more (thinned to at
/// most `max`), else round values of the linear range, returned in log10.
pub fn log_ticks(lo: f64, hi: f64, max: usize) -> Vec<f64> {
    if !lo.is_finite() || !hi.is_finite() || hi < lo {
        return Vec::new();
    }
    let (a, b) = (lo.ceil() as i64, hi.floor() as i64);
    if b - a >= 1 {
        let n = (b - a + 1) as usize;
        let every = n.div_ceil(max.max(1));
        return (a..=b)
            .filter(|e| ((e - a) as usize).is_multiple_of(every))
            .map(|e| e as f64)
            .collect();
    }
    ticks(10f64.powf(lo), 10f64.powf(hi), 3, max)
        .into_iter()
        .filter(|v| *v > 0.0)
        .map(f64::log10)
        .collect()
}

/// The value at fraction `p` (0–1) of the sorted finite values, by the
/// nearest rank below (so one outlier in ten is left above the 98th
/// percentile). `None` without finite values.
pub fn percentile(values: &[f64], p: f64) -> Option<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let i = ((v.len() - 1) as f64 * p.clamp(0.0, 1.0)).floor() as usize;
    Some(v[i])
}

/// How a series is turned into what a chart draws.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Options {
    /// TensorBoard's smoothing weight (0: off).
    pub smoothing: f64,
    /// A log10 y axis.
    pub log_y: bool,
    /// Clip the y range to this central share of the values (0.96: from the
    /// 2nd to the 98th percentile); `None`: the full range.
    pub clip: Option<f64>,
}

/// What a chart draws of a series: raw and smoothed points in plot space
/// (log10 when asked), the y range, and what was left out or clipped.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Prepared {
    /// Finite raw points, file order, in plot space.
    pub raw: Vec<(f64, f64)>,
    /// The smoothed points (empty when smoothing is off), in plot space.
    pub smoothed: Vec<(f64, f64)>,
    /// The y range drawn `[y0, y1]`, in plot space.
    pub y: [f64; 2],
    /// The x range drawn.
    pub x: [f64; 2],
    /// NaN or infinite values, left out.
    pub non_finite: usize,
    /// Values ≤ 0 left out of a log scale.
    pub not_positive: usize,
    /// Points outside a clipped y range (drawn on its edge).
    pub clipped: usize,
}

/// Prepares `points` for a chart: drops non-finite values, smooths the
/// rest (TensorBoard's way, on the linear values), takes log10 when asked
/// (raw and smoothed values ≤ 0 left out and counted), and picks the y
/// range, clipped to a percentile when asked (points beyond it are
/// counted and drawn on the edge).
pub fn prepare(points: &[(f64, f64)], o: Options) -> Prepared {
    let mut p = Prepared::default();
    let finite: Vec<(f64, f64)> = points
        .iter()
        .copied()
        .filter(|q| q.0.is_finite() && q.1.is_finite())
        .collect();
    p.non_finite = points.len() - finite.len();
    let ys: Vec<f64> = finite.iter().map(|q| q.1).collect();
    let smoothed = if o.smoothing > 0.0 {
        smooth(&ys, o.smoothing)
    } else {
        Vec::new()
    };
    let to_plot = |v: f64| if o.log_y { v.log10() } else { v };
    let keep = |v: f64| !o.log_y || v > 0.0;
    for (i, &(x, y)) in finite.iter().enumerate() {
        if keep(y) {
            p.raw.push((x, to_plot(y)));
        } else {
            p.not_positive += 1;
        }
        if let Some(&s) = smoothed.get(i)
            && keep(s)
        {
            p.smoothed.push((x, to_plot(s)));
        }
    }
    set_bounds(&mut p);
    if let Some(share) = o.clip {
        clip(std::slice::from_mut(&mut p), share);
    }
    p
}

/// Sets `x` and `y` of `p` to the range of its points; a range of one x
/// (or one value) becomes 1 wide around it, so a single point is drawn in
/// the middle rather than on an edge.
fn set_bounds(p: &mut Prepared) {
    let all = p.raw.iter().chain(&p.smoothed);
    let (x0, x1, y0, y1) = all.fold(
        (f64::MAX, f64::MIN, f64::MAX, f64::MIN),
        |(a, b, c, d), q| (a.min(q.0), b.max(q.0), c.min(q.1), d.max(q.1)),
    );
    if x0 > x1 {
        return;
    }
    p.x = if x1 <= x0 {
        [x0 - 0.5, x0 + 0.5]
    } else {
        [x0, x1]
    };
    p.y = if y1 <= y0 {
        [y0 - 0.5, y0 + 0.5]
    } else {
        [y0, y1]
    };
}

/// Clips the y range of `lines` together to the central `share` of all
/// their raw values (0.96: the 2nd to the 98th percentile), keeping the
/// smoothed lines in view (they are what is read) within one range's
/// width more; points beyond are counted per line and drawn on the edge.
pub fn clip(lines: &mut [Prepared], share: f64) {
    let tail = (1.0 - share.clamp(0.0, 1.0)) / 2.0;
    let raw: Vec<f64> = lines
        .iter()
        .flat_map(|p| p.raw.iter().map(|q| q.1))
        .collect();
    let (Some(lo), Some(hi)) = (percentile(&raw, tail), percentile(&raw, 1.0 - tail)) else {
        return;
    };
    let smoothed = lines.iter().flat_map(|p| p.smoothed.iter().map(|q| q.1));
    let (s_lo, s_hi) = smoothed.fold((lo, hi), |(a, b), v| (a.min(v), b.max(v)));
    let (lo, hi) = (s_lo.max(lo - (hi - lo)), s_hi.min(hi + (hi - lo)));
    let (lo, hi) = if hi <= lo {
        (lo - 0.5, lo + 0.5)
    } else {
        (lo, hi)
    };
    for p in lines.iter_mut() {
        p.clipped = p.raw.iter().filter(|q| q.1 < lo || q.1 > hi).count();
        for q in p.raw.iter_mut().chain(p.smoothed.iter_mut()) {
            q.1 = q.1.clamp(lo, hi);
        }
        if !p.raw.is_empty() {
            p.y = [lo, hi];
        }
    }
}

/// The index of the point of `points` (in file order, x rising or not)
/// nearest to `x`; `None` when there are none.
pub fn nearest(points: &[(f64, f64)], x: f64) -> Option<usize> {
    points
        .iter()
        .enumerate()
        .min_by(|a, b| (a.1.0 - x).abs().total_cmp(&(b.1.0 - x).abs()))
        .map(|(i, _)| i)
}

/// The readout under a cursor at `x`: the nearest finite point's x, its
/// raw value and its smoothed value (TensorBoard's, over every finite
/// point of the series), read from the file's values, not the drawing.
pub fn readout(points: &[(f64, f64)], smoothing: f64, x: f64) -> Option<(f64, f64, f64)> {
    let finite: Vec<(f64, f64)> = points
        .iter()
        .copied()
        .filter(|q| q.0.is_finite() && q.1.is_finite())
        .collect();
    let i = nearest(&finite, x)?;
    let ys: Vec<f64> = finite.iter().map(|q| q.1).collect();
    let s = smooth(&ys, smoothing);
    Some((finite[i].0, finite[i].1, s[i]))
}

/// How the curve moved over its last `share` of the x range: the
/// (smoothed, when `smoothing` > 0) value at the start of that stretch and
/// at the end, from the file's finite points. `None` with fewer than two
/// points in the stretch. Answers "was it still falling at the end?".
pub fn tail_change(points: &[(f64, f64)], smoothing: f64, share: f64) -> Option<(f64, f64)> {
    let finite: Vec<(f64, f64)> = points
        .iter()
        .copied()
        .filter(|q| q.0.is_finite() && q.1.is_finite())
        .collect();
    let (x0, x1) = finite
        .iter()
        .fold((f64::MAX, f64::MIN), |(a, b), q| (a.min(q.0), b.max(q.0)));
    let from = x1 - (x1 - x0) * share.clamp(0.0, 1.0);
    let ys: Vec<f64> = finite.iter().map(|q| q.1).collect();
    let s = smooth(&ys, smoothing);
    let tail: Vec<usize> = (0..finite.len()).filter(|&i| finite[i].0 >= from).collect();
    match (tail.first(), tail.last()) {
        (Some(&a), Some(&b)) if a != b => Some((s[a], s[b])),
        _ => None,
    }
}

/// What the x column measures, which says how its ticks read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XKind {
    /// Steps, epochs, samples: plain numbers (`12k` past ten thousand).
    Count,
    /// Seconds since the Unix epoch: read as time since the first point.
    WallTime,
    /// Seconds since the run started.
    Relative,
}

impl XKind {
    /// Guesses from the column's name and its first value: a time-named
    /// column past 1e8 (1973) holds Unix times.
    pub fn of(name: &str, first: f64) -> XKind {
        let n = name.to_ascii_lowercase();
        let timed = [
            "time",
            "timestamp",
            "wall",
            "elapsed",
            "seconds",
            "relative",
        ]
        .iter()
        .any(|w| n.contains(w));
        match (timed, first > 1e8) {
            (true, true) => XKind::WallTime,
            (true, false) => XKind::Relative,
            _ => XKind::Count,
        }
    }

    /// What the axis says it is in, after the column's name.
    pub fn unit(self) -> &'static str {
        match self {
            XKind::Count => "",
            XKind::WallTime => " (wall time since the first point)",
            XKind::Relative => " (time since the start)",
        }
    }
}

/// A tick's label: counts short (`2.5k`, `1.2M`), times as durations from
/// `origin` (`90s`, `12m`, `1h30m`).
pub fn tick_label(v: f64, kind: XKind, origin: f64) -> String {
    match kind {
        XKind::Count => count_label(v),
        XKind::WallTime => duration_label(v - origin),
        XKind::Relative => duration_label(v),
    }
}

fn count_label(v: f64) -> String {
    let trim = |s: String| {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    };
    let a = v.abs();
    if a >= 1e9 {
        format!("{}G", trim(format!("{:.2}", v / 1e9)))
    } else if a >= 1e6 {
        format!("{}M", trim(format!("{:.2}", v / 1e6)))
    } else if a >= 1e4 {
        format!("{}k", trim(format!("{:.1}", v / 1e3)))
    } else if a == 0.0 || a >= 1.0 {
        trim(format!("{v:.2}"))
    } else {
        let s = format!("{v:.4}");
        if s.trim_end_matches(['0', '.', '-']).is_empty() {
            format!("{v:.1e}")
        } else {
            trim(s)
        }
    }
}

fn duration_label(secs: f64) -> String {
    let s = secs.round() as i64;
    let (sign, s) = if s < 0 { ("-", -s) } else { ("", s) };
    let out = if s < 120 {
        format!("{s}s")
    } else if s < 7200 {
        let (m, r) = (s / 60, s % 60);
        if r == 0 {
            format!("{m}m")
        } else {
            format!("{m}m{r:02}s")
        }
    } else if s < 172_800 {
        let (h, m) = (s / 3600, (s % 3600) / 60);
        if m == 0 {
            format!("{h}h")
        } else {
            format!("{h}h{m:02}m")
        }
    } else {
        format!("{}d{:02}h", s / 86_400, (s % 86_400) / 3600)
    };
    format!("{sign}{out}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smoothing_is_tensorboards_debiased_ema() {
        // w = 0.5: last 0.5, 1.25, 1.625 over debias 0.5, 0.75, 0.875.
        let s = smooth(&[1.0, 2.0, 2.0], 0.5);
        assert_eq!(s[0], 1.0);
        assert!((s[1] - 1.25 / 0.75).abs() < 1e-12);
        assert!((s[2] - 1.625 / 0.875).abs() < 1e-12);
        // The first value is never pulled toward zero, however heavy.
        assert!((smooth(&[3.07e12, 1.0], 0.99)[0] - 3.07e12).abs() < 1.0);
        // NaN passes through without entering the average; constants stay.
        let n = smooth(&[1.0, f64::NAN, 3.0], 0.5);
        assert!(n[1].is_nan());
        assert!((n[2] - (0.25 + 1.5) / 0.75).abs() < 1e-12);
        assert!(
            smooth(&[2.0, 2.0], 0.9)
                .iter()
                .all(|v| (v - 2.0).abs() < 1e-12)
        );
        assert_eq!(smooth(&[1.0, 5.0], 0.0), vec![1.0, 5.0]);
    }

    #[test]
    fn ticks_are_round_and_three_to_six() {
        assert_eq!(ticks(0.0, 1.0, 3, 6), vec![0.0, 0.5, 1.0]);
        assert_eq!(ticks(0.4225, 2.31, 3, 6), vec![0.5, 1.0, 1.5, 2.0]);
        assert_eq!(ticks(0.0, 10_000.0, 3, 6), vec![0.0, 5000.0, 10_000.0]);
        let t = ticks(0.13, 0.41, 3, 6);
        assert!((3..=6).contains(&t.len()), "{t:?}");
        assert_eq!(t, vec![0.2, 0.3, 0.4]);
        for (lo, hi) in [(1e-6, 3e-6), (-5.0, 17.0), (123.0, 124.0), (0.0, 1e9)] {
            let t = ticks(lo, hi, 3, 6);
            assert!((3..=6).contains(&t.len()), "{lo} {hi}: {t:?}");
            assert!(t.iter().all(|v| (lo..=hi).contains(v)), "{t:?}");
        }
        assert_eq!(ticks(2.0, 2.0, 3, 6), vec![2.0]);
    }

    #[test]
    fn log_ticks_are_decades_when_wide() {
        assert_eq!(log_ticks(-1.0, 12.0, 6), vec![-1.0, 2.0, 5.0, 8.0, 11.0]);
        assert_eq!(log_ticks(-2.0, 0.0, 6), vec![-2.0, -1.0, 0.0]);
        let narrow = log_ticks(0.1f64.log10(), 0.4f64.log10(), 6);
        assert!(narrow.len() >= 3, "{narrow:?}");
    }

    #[test]
    fn log_scale_leaves_out_and_counts_zeros_and_negatives() {
        let pts = [
            (0.0, 0.0),
            (1.0, -1.0),
            (2.0, 10.0),
            (3.0, f64::NAN),
            (4.0, 100.0),
        ];
        let p = prepare(
            &pts,
            Options {
                log_y: true,
                ..Options::default()
            },
        );
        assert_eq!(p.raw, vec![(2.0, 1.0), (4.0, 2.0)]);
        assert_eq!((p.not_positive, p.non_finite), (2, 1));
        assert_eq!(p.y, [1.0, 2.0]);
    }

    #[test]
    fn clipping_keeps_an_outlier_off_the_scale() {
        let mut pts = vec![(0.0, 1e12)];
        pts.extend((1..20).map(|i| (i as f64, 0.1 + i as f64 * 0.01)));
        let full = prepare(&pts, Options::default());
        assert_eq!(full.y[1], 1e12);
        let p = prepare(
            &pts,
            Options {
                clip: Some(0.96),
                ..Options::default()
            },
        );
        assert!(p.y[1] < 1.0, "{:?}", p.y);
        assert_eq!(p.clipped, 1);
        assert_eq!(p.raw[0].1, p.y[1]);
    }

    #[test]
    fn tail_change_says_whether_the_end_still_moves() {
        let falling: Vec<(f64, f64)> = (0..=100).map(|i| (i as f64, 100.0 - i as f64)).collect();
        assert_eq!(tail_change(&falling, 0.0, 0.1), Some((10.0, 0.0)));
        let flat: Vec<(f64, f64)> = (0..=100).map(|i| (i as f64, 1.0)).collect();
        let (a, b) = tail_change(&flat, 0.9, 0.1).unwrap();
        assert!((a - b).abs() < 1e-9);
        assert_eq!(tail_change(&[(0.0, 1.0)], 0.0, 0.1), None);
    }

    #[test]
    fn x_ticks_read_in_the_columns_unit() {
        assert_eq!(XKind::of("step", 0.0), XKind::Count);
        assert_eq!(XKind::of("wall_time", 1.7e9), XKind::WallTime);
        assert_eq!(XKind::of("relative_time", 3.0), XKind::Relative);
        assert_eq!(tick_label(25_000.0, XKind::Count, 0.0), "25k");
        assert_eq!(tick_label(1_500_000.0, XKind::Count, 0.0), "1.5M");
        assert_eq!(tick_label(0.5, XKind::Count, 0.0), "0.5");
        assert_eq!(tick_label(1.7e9 + 5400.0, XKind::WallTime, 1.7e9), "90m");
        assert_eq!(tick_label(90.0, XKind::Relative, 0.0), "90s");
        assert_eq!(
            tick_label(3.0 * 3600.0 + 600.0, XKind::Relative, 0.0),
            "3h10m"
        );
    }

    #[test]
    fn readout_reads_the_nearest_point() {
        let pts = [(0.0, 4.0), (10.0, 2.0), (20.0, f64::NAN), (30.0, 1.0)];
        let (x, raw, s) = readout(&pts, 0.5, 24.0).unwrap();
        assert_eq!((x, raw), (30.0, 1.0));
        assert!((s - smooth(&[4.0, 2.0, 1.0], 0.5)[2]).abs() < 1e-12);
        assert_eq!(readout(&[], 0.5, 1.0), None);
    }
}
