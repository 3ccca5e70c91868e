//! The roll-ups checked against the way they were worked out before
//! issue 18, on varied fixtures built in memory.

use super::*;
use crate::catalog::scan::RunFound;
use crate::catalog::{Catalog, ScanEvent, Usage};
use crate::runs::{RunInfo, Scalar, SeriesSummary, Stats};
use crate::tui::app::Settings;
use crate::tui::theme::Theme;
use crate::tui::tree::Shown;

/// The roll-up as it was worked out before issue 18, each figure a pass
/// of its own over every run: what the new one must equal.
mod old {
    use super::super::*;

    pub fn judging_metric(app: &App, keys: &[RunKey]) -> Option<(String, bool)> {
        let task = &app.catalog.runs[*keys.first()?].task;
        if keys.iter().all(|&k| &app.catalog.runs[k].task == task)
            && let Some(km) = app.settings.key_metrics.get(task)
        {
            return Some((km.name.clone(), km.lower_is_better));
        }
        let mut names: HashMap<(String, bool), usize> = Default::default();
        for &k in keys {
            if let Some((name, _, lower)) = app.key_metric(k) {
                *names.entry((name, lower)).or_default() += 1;
            }
        }
        names
            .into_iter()
            .max_by(|a, b| a.1.cmp(&b.1).then(b.0.0.cmp(&a.0.0)))
            .map(|(m, _)| m)
    }

    pub fn best_run(app: &App, keys: &[RunKey]) -> Option<(String, RunKey, f64)> {
        let (metric, lower) = judging_metric(app, keys)?;
        keys.iter()
            .filter_map(|&k| Some((k, app.loaded.summaries.get(&k)?.metric(&metric)?)))
            .filter(|(_, v)| !v.is_nan())
            .max_by(|a, b| {
                if lower {
                    b.1.total_cmp(&a.1)
                } else {
                    a.1.total_cmp(&b.1)
                }
            })
            .map(|(k, v)| (metric, k, v))
    }

    fn best_by_task(app: &App) -> Vec<(usize, String, RunKey, f64)> {
        (0..app.catalog.tasks.len())
            .filter_map(|ti| {
                let keys = app.visible_runs_of(Node::Task(ti));
                best_run(app, &keys).map(|(m, k, v)| (ti, m, k, v))
            })
            .collect()
    }

    fn ranking(app: &App, keys: &[RunKey]) -> Option<Ranking> {
        let (metric, lower) = judging_metric(app, keys)?;
        let ranked: Vec<(RunKey, f64)> = keys
            .iter()
            .filter_map(|&k| Some((k, app.loaded.summaries.get(&k)?.metric(&metric)?)))
            .filter(|(_, v)| !v.is_nan())
            .collect();
        let path = |k: RunKey| &app.catalog.runs[k].path;
        let mut ranked = ranked;
        ranked.sort_by(|a, b| {
            if lower {
                a.1.total_cmp(&b.1)
            } else {
                b.1.total_cmp(&a.1)
            }
            .then_with(|| path(a.0).cmp(path(b.0)))
        });
        ranked.truncate(RANKED);
        Some((metric, lower, ranked))
    }

    /// The old roll-up, less the key metric counts it did not keep.
    pub fn compute(app: &App, node: Node) -> Group {
        let c = &app.catalog;
        let keys = app.runs_of(Some(node));
        let mut counts = [0usize; 5];
        for &k in &keys {
            counts[app.status(k) as usize] += 1;
        }
        let newest = keys.iter().filter_map(|&k| c.runs[k].last_write()).max();
        let problems = keys
            .iter()
            .filter(|&&k| {
                !c.runs[k].errors.is_empty()
                    || app
                        .loaded
                        .summaries
                        .get(&k)
                        .is_some_and(|s| !s.errors.is_empty())
            })
            .count();
        let (best, shown) = if node == Node::Root {
            (best_by_task(app), shown_digest(app))
        } else {
            (
                best_run(app, &keys)
                    .map(|(m, k, v)| (0, m, k, v))
                    .into_iter()
                    .collect(),
                None,
            )
        };
        Group {
            runs: keys.len(),
            counts,
            usage: c.rollup(&keys),
            latest: c.latest(keys.iter().copied()),
            best,
            problems,
            ranking: ranking(app, &keys),
            at: app.now,
            newest,
            shown,
            inputs: inputs(app),
            metrics: Vec::new(),
        }
    }
}

/// A little generator, so the fixture is varied yet the same each run.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

const NOW: i64 = 1_764_158_400; // 2025-11-26T12:00:00Z

/// Tasks judged different ways (`asr` by a configured lower-is-better
/// metric, the others by their runs' most common key metric, of both
/// directions), models of a few runs, runs with and without summaries,
/// sizes or errors, statuses of every kind, some written within the
/// active window, and many equal values and times.
fn fixture(seed: u64) -> App {
    let mut rng = Rng(seed);
    let mut c = Catalog::new(std::path::Path::new("/outputs"));
    let tasks = ["asr", "ocr", "recsys", "seg"];
    let mut key = 0;
    for (ti, task) in tasks.iter().enumerate() {
        for model in 0..3 + ti {
            for run in 0..2 + rng.below(9) {
                // Run ids of a few days (equal across models: ties on
                // time), and some names that are no run id.
                let name = if rng.below(6) == 0 {
                    format!("trial{run}")
                } else {
                    format!("2025-11-2{}_10-00-00_seed{run}", rng.below(3))
                };
                let model = format!("m{model}");
                let path = format!("/outputs/experiments/{task}/{model}/{name}").into();
                // Folder times on a few minutes: some runs are active.
                let written = NOW - 60 * rng.below(20) as i64;
                c.apply(ScanEvent::Run(RunFound {
                    key,
                    task: task.to_string(),
                    model,
                    name,
                    path,
                    dir_mtime: Some(written),
                    time: None,
                }));
                if rng.below(5) > 0 {
                    let mut usage = RunUsage {
                        tmp: Usage {
                            disk: 4096 * rng.below(4),
                            apparent: 100,
                        },
                        files: 3,
                        dirs: 2,
                        ..RunUsage::default()
                    };
                    usage.newest_mtime = Some(written - 60 * rng.below(3) as i64);
                    let errors = if rng.below(8) == 0 {
                        vec!["tmp: permission denied".into()]
                    } else {
                        Vec::new()
                    };
                    c.apply(ScanEvent::RunDone {
                        key,
                        usage,
                        errors,
                        stamps: Default::default(),
                    });
                }
                key += 1;
            }
        }
    }
    let mut settings = Settings::new(jiff::SignedDuration::from_mins(10), Theme::new(true));
    settings.key_metrics.insert(
        "asr".into(),
        crate::config::KeyMetric {
            name: "test/wer".into(),
            lower_is_better: true,
        },
    );
    let mut app = App::new(c, settings);
    app.now = Timestamp::from_second(NOW).unwrap();
    let statuses = ["finished", "FAILED", " running ", "weird", "done"];
    for k in 0..key {
        if rng.below(6) == 0 {
            continue;
        }
        let value = |rng: &mut Rng| match rng.below(12) {
            0 => f64::NAN,
            v => v as f64 / 8.0,
        };
        let scalar = |name: &str, value: f64| Scalar {
            name: name.into(),
            value,
            file: "metrics/m.json".into(),
        };
        // Key metrics of either direction, most often val/acc.
        let mut key_metrics = Vec::new();
        match rng.below(5) {
            0 => {}
            1 => key_metrics.push(scalar("val/loss", value(&mut rng))),
            2 => key_metrics.push(scalar("val/ndcg", value(&mut rng))),
            _ => key_metrics.push(scalar("val/acc", value(&mut rng))),
        }
        let mut scalars = vec![scalar("test/wer", value(&mut rng))];
        if rng.below(2) == 0 {
            scalars.push(scalar("val/acc", value(&mut rng)));
        }
        let series = if rng.below(3) == 0 {
            let mut stats = Stats::default();
            stats.push((1.0, value(&mut rng)));
            vec![SeriesSummary {
                name: "val/loss".into(),
                file: "m.csv".into(),
                x: "step".into(),
                better: Some(Better::Lower),
                stats,
            }]
        } else {
            Vec::new()
        };
        let info = (rng.below(4) > 0).then(|| RunInfo {
            status: Some(statuses[rng.below(5) as usize].into()),
            ..RunInfo::default()
        });
        let errors = if rng.below(10) == 0 {
            vec!["run_info.json: bad JSON".into()]
        } else {
            Vec::new()
        };
        app.loaded.summaries.insert(
            k,
            RunSummary {
                info,
                key_metrics,
                scalars,
                series,
                errors,
            },
        );
    }
    app
}

/// Every row that has a roll-up.
fn nodes(app: &App) -> Vec<Node> {
    let mut out = vec![Node::Root];
    for (ti, t) in app.catalog.tasks.iter().enumerate() {
        out.push(Node::Task(ti));
        out.extend((0..t.models.len()).map(|mi| Node::Model(ti, mi)));
    }
    out
}

fn assert_same(app: &App, node: Node, new: &Group) {
    let mut old = old::compute(app, node);
    old.metrics = new.metrics.clone();
    assert_eq!(*new, old, "{node:?}");
}

fn forget(app: &App) {
    app.loaded.groups.borrow_mut().clear();
}

#[test]
fn every_row_adds_up_as_when_each_figure_was_its_own_pass() {
    let mut judged_apart = false;
    for seed in 0..12 {
        let app = fixture(seed);
        // Alone, in any order: root first (its tasks kept), tasks
        // first (the root made of them), each row from nothing.
        let mut orders = vec![nodes(&app), nodes(&app)];
        orders[1].reverse();
        for order in orders {
            forget(&app);
            for &node in &order {
                assert_same(&app, node, &group(&app, node));
            }
        }
        for node in nodes(&app) {
            forget(&app);
            assert_same(&app, node, &group(&app, node));
        }
        let root = group(&app, Node::Root);
        let ranking = root.ranking.as_ref().expect("runs have key metrics");
        judged_apart |= (0..app.catalog.tasks.len()).any(|ti| {
            group(&app, Node::Task(ti))
                .ranking
                .as_ref()
                .is_some_and(|r| r.0 != ranking.0)
        });
        let c = root.counts;
        assert!(c.iter().filter(|&&n| n > 0).count() >= 4, "{c:?} {seed}");
    }
    // The root's ranking was made from runs of a task judged otherwise.
    assert!(judged_apart);
}

#[test]
fn the_roots_best_runs_follow_the_filter() {
    for seed in 0..12 {
        let mut app = fixture(seed);
        let unfiltered = group(&app, Node::Root);
        let mut rng = Rng(seed + 100);
        // A query hides runs (which ones is the tree's business).
        app.tree.query = "seed".into();
        app.tree.shown = Shown::of_keys((0..app.catalog.runs.len()).filter(|_| rng.below(3) > 0));
        // Reworked from the kept root, then from nothing.
        let kept = group(&app, Node::Root);
        assert_same(&app, Node::Root, &kept);
        forget(&app);
        assert_same(&app, Node::Root, &group(&app, Node::Root));
        assert_eq!(kept.counts, unfiltered.counts);
        // Only one task's runs shown: no best run for the others.
        let first: Vec<RunKey> = app.runs_of(Some(Node::Task(0)));
        app.tree.shown = Shown::of_keys(first[..2].iter().copied());
        let kept = group(&app, Node::Root);
        assert_same(&app, Node::Root, &kept);
        assert!(kept.best.iter().all(|b| b.0 == 0), "{:?}", kept.best);
    }
}

#[test]
fn a_single_task_is_judged_as_the_task_judges() {
    for seed in 0..6 {
        let mut app = fixture(seed);
        let asr = app.catalog.tasks[0].clone();
        app.catalog.tasks = vec![asr];
        forget(&app);
        let root = group(&app, Node::Root);
        assert_same(&app, Node::Root, &root);
        assert_eq!(root.ranking.as_ref().unwrap().0, "test/wer");
    }
}

#[test]
fn an_idle_status_becomes_the_active_one() {
    let words = [None, Some("running"), Some("Done"), Some("oom"), Some("?")];
    for w in words {
        for active in [false, true] {
            let idle = Status::of(w, false);
            assert_eq!(status(idle, active), Status::of(w, active), "{w:?}");
        }
    }
}

#[test]
fn statuses_follow_the_clock() {
    let mut app = fixture(3);
    let busy = group(&app, Node::Root);
    // An hour later every run is idle: running runs become stalled.
    app.now = Timestamp::from_second(NOW + 3600).unwrap();
    let idle = group(&app, Node::Root);
    assert_same(&app, Node::Root, &idle);
    assert_same(&app, Node::Task(1), &group(&app, Node::Task(1)));
    assert!(busy.counts[Status::Running as usize] > 0);
    assert_eq!(idle.counts[Status::Running as usize], 0);
}
