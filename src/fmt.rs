//! Text shown to people: sizes, ages, metric values, and names made safe
//! for a terminal.

use std::borrow::Cow;

use humansize::{BINARY, format_size};
use jiff::{SignedDuration, Timestamp};

/// `1.5 MiB`; `0 B` for zero.
pub fn size(bytes: u64) -> String {
    format_size(bytes, BINARY)
}

/// A compact size for narrow columns: `812B`, `4.0K`, `640K`, `1.2M`, `4.7G`.
pub fn size_short(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["B", "K", "M", "G", "T", "P"];
    let mut v = bytes as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes}B")
    } else if v < 10.0 {
        format!("{v:.1}{}", UNITS[unit])
    } else {
        format!("{:.0}{}", v.min(1023.0), UNITS[unit])
    }
}

/// A name with control characters and invalid UTF-8 shown escaped, so a
/// hostile file name can never move the cursor or change colours.
pub fn escape(name: &str) -> Cow<'_, str> {
    if !name.chars().any(needs_escape) {
        return Cow::Borrowed(name);
    }
    let mut out = String::with_capacity(name.len() + 8);
    for c in name.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if needs_escape(c) => out.extend(c.escape_unicode()),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Escapes an OS string: invalid UTF-8 bytes become `\xNN`.
pub fn escape_os(name: &std::ffi::OsStr) -> String {
    use std::os::unix::ffi::OsStrExt;
    let bytes = name.as_bytes();
    let mut out = String::new();
    for chunk in bytes.utf8_chunks() {
        out.push_str(&escape(chunk.valid()));
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

/// Control characters, line and paragraph separators, and the invisible
/// formatting characters that can make a name read as another: bidi
/// embeddings, overrides and isolates (U+202A–202E, U+2066–2069), the
/// direction marks (LRM, RLM, the Arabic letter mark), zero-width space,
/// word joiner and invisible operators (U+2060–2064), and the BOM. ZWNJ and
/// ZWJ stay: scripts and emoji need them, and they move nothing.
fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}'
                | '\u{2029}'
                | '\u{202a}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}'
                | '\u{200b}'
                | '\u{200e}'
                | '\u{200f}'
                | '\u{061c}'
                | '\u{2060}'..='\u{2064}'
                | '\u{feff}'
        )
}

/// `5m ago`, `3h ago`, `2d ago`, `in the future`.
pub fn age(then: Timestamp, now: Timestamp) -> String {
    let d = now.duration_since(then);
    if d < SignedDuration::ZERO {
        return "just now".into();
    }
    let s = d.as_secs();
    match s {
        0..60 => "just now".into(),
        60..3600 => format!("{}m ago", s / 60),
        3600..86_400 => format!("{}h ago", s / 3600),
        86_400..5_184_000 => format!("{}d ago", s / 86_400),
        _ => format!("{}mo ago", s / 2_592_000),
    }
}

/// A timestamp in local time, `2025-12-04 14:32`.
pub fn local_time(t: Timestamp) -> String {
    time_in(t, &jiff::tz::TimeZone::system())
}

/// A timestamp in a given time zone, with the zone: `2025-12-04 14:32 CET`.
/// The zone is always written because run ids carry the wall-clock time
/// of the machine that ran them: beside one, a time without its zone
/// reads as a contradiction when the zones differ.
pub fn time_in(t: Timestamp, tz: &jiff::tz::TimeZone) -> String {
    t.to_zoned_datetime(tz.clone())
        .strftime("%Y-%m-%d %H:%M %Z")
        .to_string()
}

/// `1 path`, `2 paths`, `0 paths`: a count and its noun, English plural
/// by adding `s` (see [`count_as`] for the others).
pub fn count(n: impl Into<u64>, one: &str) -> String {
    let n = n.into();
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {one}s")
    }
}

/// A count with an irregular plural: `1 entry`, `3 entries`.
pub fn count_as(n: impl Into<u64>, one: &str, many: &str) -> String {
    let n = n.into();
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Shortens a path to `width` columns by cutting its middle, keeping the
/// start and the last component whole when it fits (`experiments/ocr/…/
/// epoch_3.pt`): the file name is what tells paths apart.
pub fn shorten_path(path: &str, width: usize) -> String {
    use unicode_width::UnicodeWidthStr;
    if path.width() <= width {
        return path.to_string();
    }
    let name = path.rsplit('/').next().unwrap_or(path);
    let name_w = name.width();
    // `…/` plus the name, and at least a few characters of the start.
    if name_w + 2 >= width {
        // Not even the name fits: keep its end, where extensions and numbers are.
        let mut tail: Vec<char> = Vec::new();
        let mut w = 0;
        for c in name.chars().rev() {
            let cw = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
            if w + cw + 1 > width {
                break;
            }
            tail.push(c);
            w += cw;
        }
        let mut out = String::from("…");
        out.extend(tail.into_iter().rev());
        return out;
    }
    let room = width - name_w - 2;
    let mut head = String::new();
    let mut w = 0;
    for c in path.chars() {
        let cw = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
        if w + cw > room {
            break;
        }
        head.push(c);
        w += cw;
    }
    format!("{head}…/{name}")
}

/// A metric value with about four significant digits.
pub fn metric(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let a = v.abs();
    if (1e-3..1e6).contains(&a) {
        let digits = (3 - a.log10().floor() as i32).clamp(0, 6) as usize;
        let s = format!("{v:.digits$}");
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    } else {
        format!("{v:.3e}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_control_characters() {
        assert_eq!(escape("plain name"), "plain name");
        assert_eq!(escape("a\nb"), "a\\nb");
        assert_eq!(escape("\x1b[31mred"), "\\u{1b}[31mred");
        assert_eq!(escape("bidi\u{202e}txt"), "bidi\\u{202e}txt");
        // Isolates, marks and zero-width characters hide or reorder text.
        for c in [
            '\u{2066}', '\u{2069}', '\u{200e}', '\u{200f}', '\u{061c}', '\u{200b}', '\u{2060}',
            '\u{feff}',
        ] {
            let s = format!("a{c}b");
            assert_eq!(
                escape(&s),
                format!("a\\u{{{:x}}}b", c as u32),
                "{:x}",
                c as u32
            );
        }
        // Joiners that scripts and emoji need are left as they are.
        assert_eq!(escape("a\u{200d}b"), "a\u{200d}b");
        use std::os::unix::ffi::OsStrExt;
        let raw = std::ffi::OsStr::from_bytes(b"bad\xffname\n");
        assert_eq!(escape_os(raw), "bad\\xffname\\n");
    }

    #[test]
    fn metric_values_read_well() {
        assert_eq!(metric(0.87), "0.87");
        assert_eq!(metric(0.123456), "0.1235");
        assert_eq!(metric(1234.5678), "1235");
        assert_eq!(metric(12.0), "12");
        assert_eq!(metric(0.00001234), "1.234e-5");
        assert_eq!(metric(0.0), "0");
    }

    #[test]
    fn ages() {
        let now = Timestamp::from_second(1_000_000).unwrap();
        let ago = |s: i64| age(Timestamp::from_second(1_000_000 - s).unwrap(), now);
        assert_eq!(ago(5), "just now");
        assert_eq!(ago(300), "5m ago");
        assert_eq!(ago(7200), "2h ago");
        assert_eq!(ago(3 * 86400), "3d ago");
    }

    #[test]
    fn counts_agree_with_their_nouns() {
        assert_eq!(count(1u64, "path"), "1 path");
        assert_eq!(count(0u64, "path"), "0 paths");
        assert_eq!(count(20u64, "file"), "20 files");
        assert_eq!(count_as(1u64, "entry", "entries"), "1 entry");
        assert_eq!(count_as(3u64, "entry", "entries"), "3 entries");
    }

    #[test]
    fn long_paths_keep_their_file_name() {
        let p =
            "experiments/ocr/t5-small/2025-12-01_14-32-00_lr3e-4/checkpoints/epoch03_valAcc0.87.pt";
        let s = shorten_path(p, 50);
        assert!(s.ends_with("/epoch03_valAcc0.87.pt"), "{s}");
        assert!(s.starts_with("experiments/"), "{s}");
        assert!(
            unicode_width::UnicodeWidthStr::width(s.as_str()) <= 50,
            "{s}"
        );
        assert_eq!(shorten_path("short/name", 50), "short/name");
        let tiny = shorten_path(p, 10);
        assert!(tiny.starts_with('…') && tiny.ends_with(".pt"), "{tiny}");
        assert!(unicode_width::UnicodeWidthStr::width(tiny.as_str()) <= 10);
    }

    #[test]
    fn times_carry_their_zone() {
        let t: Timestamp = "2025-12-04T13:32:00Z".parse().unwrap();
        assert_eq!(time_in(t, &jiff::tz::TimeZone::UTC), "2025-12-04 13:32 UTC");
    }

    #[test]
    fn sizes() {
        assert_eq!(size(0), "0 B");
        assert_eq!(size(1536), "1.50 KiB");
        assert_eq!(size_short(812), "812B");
        assert_eq!(size_short(4096), "4.0K");
        assert_eq!(size_short(655_360), "640K");
        assert_eq!(size_short(5_067_689_984), "4.7G");
    }
}
