//! The tree's rows on a big tree, without the terminal: how long the
//! filter's readying (`/` or an idle moment), each keystroke of a fixed
//! query sequence and a change of sort take in `tree::build_rows`, under
//! two sorts. The pseudo-terminal benchmark (`keys.py`) times the same
//! keys end to end; this one isolates the rows from drawing and loading.
//!
//!     cargo bench --bench rows -- PATH    (e.g. the tree gen_small.sh makes)

use std::collections::HashMap;
use std::time::Instant;

use runyard::catalog::{self, ScanOptions, SortKey};
use runyard::tui::query_filter::{Configs, Input};
use runyard::tui::tree::{Expansion, FilterMemo, TreeInput, build_rows};

/// Typed one key at a time, with Backspaces, Esc (empty) and a `/` query.
const QUERIES: [&str; 13] = [
    "", "s", "se", "see", "seed", "seed4", "see", "", "0", "03", "03/", "03/s", "03/se",
];

fn main() {
    let Some(root) = std::env::args().skip(1).find(|a| !a.starts_with('-')) else {
        eprintln!("usage: cargo bench --bench rows -- PATH (an outputs/ tree)");
        return;
    };
    let t = Instant::now();
    let c = catalog::scan(std::path::Path::new(&root), ScanOptions::default());
    println!(
        "{} runs, scanned in {:.2} s",
        c.runs.len(),
        t.elapsed().as_secs_f64()
    );
    let (summaries, key_metrics) = (HashMap::new(), Default::default());
    let (expansion, configs) = (Expansion::default(), Configs::default());
    println!("{:<6} {:<8} {:>9} {:>8}", "sort", "query", "ms", "rows");
    for sort in [SortKey::Time, SortKey::Size] {
        let mut memo = FilterMemo::default();
        for (i, query) in QUERIES.into_iter().enumerate() {
            let input = TreeInput {
                catalog: &c,
                summaries: &summaries,
                sort: &sort,
                reverse: false,
                query,
                expansion: &expansion,
                key_metrics: &key_metrics,
                key_values: &[],
                filter: Input {
                    configs: &configs,
                    now: jiff::Timestamp::now(),
                    window: jiff::SignedDuration::from_mins(10),
                },
            };
            if i == 0 {
                let t = Instant::now();
                memo.ready(&input);
                let ms = t.elapsed().as_secs_f64() * 1e3;
                println!("{:<6} {:<8} {ms:>9.2} {:>8}", sort.label(), "(ready)", "");
            }
            let t = Instant::now();
            let built = build_rows(&input, &mut memo);
            let ms = t.elapsed().as_secs_f64() * 1e3;
            let shown = if query.is_empty() { "(none)" } else { query };
            println!(
                "{:<6} {shown:<8} {ms:>9.2} {:>8}",
                sort.label(),
                built.rows.len()
            );
        }
    }
}
