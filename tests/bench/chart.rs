//! Charting a metrics file of one million rows (target: under 0.5 s from
//! file to drawn chart). Prints each stage, and `wc -l` and `awk` reading
//! the same file for scale. Run with `cargo bench --bench chart`.

use std::io::Write;
use std::time::Instant;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::symbols::Marker;
use ratatui::widgets::{Axis, Chart, Dataset, GraphType, Widget};
use runyard::runs::RunDetails;
use runyard::tui::ui::metrics::chart_points;

const ROWS: usize = 1_000_000;

fn main() {
    let tmp = tempfile::tempdir().expect("a temporary folder");
    let run = tmp.path().join("2026-01-01_00-00-00_bench");
    std::fs::create_dir_all(run.join("metrics")).unwrap();
    let file = run.join("metrics/train_steps.csv");
    let mut w = std::io::BufWriter::new(std::fs::File::create(&file).unwrap());
    writeln!(w, "step,loss,acc").unwrap();
    for i in 0..ROWS {
        let x = i as f64;
        writeln!(
            w,
            "{i},{:.6},{:.6}",
            2.0 / (1.0 + x / 1e4) + (x * 0.37).sin() * 0.05,
            1.0 - 1.0 / (1.0 + x / 1e5)
        )
        .unwrap();
    }
    w.flush().unwrap();
    drop(w);
    let bytes = std::fs::metadata(&file).unwrap().len();
    println!(
        "metrics file: {ROWS} rows, {:.1} MiB",
        bytes as f64 / (1 << 20) as f64
    );

    for tool in [
        vec!["wc", "-l"],
        vec!["awk", "-F,", "{s+=$2} END {print s}"],
    ] {
        let t = Instant::now();
        let out = std::process::Command::new(tool[0])
            .args(&tool[1..])
            .arg(&file)
            .output();
        match out {
            Ok(o) if o.status.success() => println!(
                "{:<34} {:>7.3} s",
                tool.join(" "),
                t.elapsed().as_secs_f64()
            ),
            _ => println!("{:<34} (not available)", tool[0]),
        }
    }

    for round in 0..3 {
        let t0 = Instant::now();
        let details = RunDetails::load(&run);
        let t1 = Instant::now();
        let series = details
            .metrics
            .series
            .iter()
            .find(|s| s.name == "train/loss")
            .expect("the loss series");
        // The reader keeps a bounded number of points of a long curve
        // (thinned, with a note), so the chart never holds a million.
        assert!(
            !series.points.is_empty() && series.points.len() <= ROWS,
            "{} points",
            series.points.len()
        );
        if round == 0 {
            println!("points kept of {ROWS}: {}", series.points.len());
        }
        // The metrics pane of a 160-column terminal is about 80 columns wide.
        let width = 80;
        let data = chart_points(&series.points, 0.9, true, width);
        let t2 = Instant::now();
        let area = Rect::new(0, 0, width as u16, 14);
        let mut buf = Buffer::empty(area);
        let (y0, y1) = data
            .iter()
            .fold((f64::MAX, f64::MIN), |(a, b), p| (a.min(p.1), b.max(p.1)));
        Chart::new(vec![
            Dataset::default()
                .marker(Marker::Braille)
                .graph_type(GraphType::Line)
                .data(&data),
        ])
        .x_axis(Axis::default().bounds([0.0, ROWS as f64]))
        .y_axis(Axis::default().bounds([y0, y1]))
        .render(area, &mut buf);
        let t3 = Instant::now();
        println!(
            "runyard round {round}: read+parse {:.3} s, smooth+log+downsample {:.3} s, draw {:.4} s, total {:.3} s (target 0.5 s)",
            (t1 - t0).as_secs_f64(),
            (t2 - t1).as_secs_f64(),
            (t3 - t2).as_secs_f64(),
            (t3 - t0).as_secs_f64()
        );
    }
}
