//! Byte counts: allocated and apparent sizes, and a run's split into parts.

use serde::Serialize;

use crate::layout::RunPart;

/// Bytes on disk (allocated blocks) and apparent bytes (file lengths).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Usage {
    /// Allocated bytes: what deleting frees. Hard links count once.
    pub disk: u64,
    /// Sum of file lengths; differs from `disk` for sparse or tiny files.
    pub apparent: u64,
}

impl Usage {
    /// Adds another count to this one.
    pub fn add(&mut self, other: Usage) {
        self.disk += other.disk;
        self.apparent += other.apparent;
    }
}

/// What one run holds on disk, split the way cleanup sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RunUsage {
    /// `tmp/`: ephemeral.
    pub tmp: Usage,
    /// `cache/`: ephemeral.
    pub cache: Usage,
    /// `checkpoints/`, all of it.
    pub checkpoints: Usage,
    /// The part of `checkpoints/` a prune would delete (see `layout::prune_names`).
    pub prunable: Usage,
    /// `data/`.
    pub data: Usage,
    /// Everything else: config, run_info, logs, metrics, plots, the folders themselves.
    pub other: Usage,
    /// Files (and symlinks) counted.
    pub files: u64,
    /// Folders counted, the run's own included.
    pub dirs: u64,
    /// Bytes of hard-linked files already counted in another place.
    pub shared: u64,
    /// Newest modification time seen, in seconds since the epoch.
    pub newest_mtime: Option<i64>,
}

impl RunUsage {
    /// Everything the run holds.
    pub fn total(&self) -> Usage {
        let mut t = Usage::default();
        for u in [
            self.tmp,
            self.cache,
            self.checkpoints,
            self.data,
            self.other,
        ] {
            t.add(u);
        }
        t
    }

    /// Ephemeral bytes: `tmp/` and `cache/`.
    pub fn ephemeral(&self) -> Usage {
        let mut t = self.tmp;
        t.add(self.cache);
        t
    }

    /// What a full cleanup frees: ephemeral data plus pruned checkpoints.
    pub fn reclaimable(&self) -> Usage {
        let mut t = self.ephemeral();
        t.add(self.prunable);
        t
    }

    /// The count for one part of the run.
    pub fn part_mut(&mut self, part: RunPart) -> &mut Usage {
        match part {
            RunPart::Tmp => &mut self.tmp,
            RunPart::Cache => &mut self.cache,
            RunPart::Checkpoints => &mut self.checkpoints,
            RunPart::Data => &mut self.data,
            RunPart::Other => &mut self.other,
        }
    }

    /// Adds another run's counts (for roll-ups to model, task and root).
    pub fn add(&mut self, o: &RunUsage) {
        self.tmp.add(o.tmp);
        self.cache.add(o.cache);
        self.checkpoints.add(o.checkpoints);
        self.prunable.add(o.prunable);
        self.data.add(o.data);
        self.other.add(o.other);
        self.files += o.files;
        self.dirs += o.dirs;
        self.shared += o.shared;
        self.newest_mtime = self.newest_mtime.max(o.newest_mtime);
    }
}
