//! The integration tests, one binary: linking the crate once instead of
//! once per file keeps a cold `cargo test` short on a small machine.
//! Each module is one area: the CLI, the scan and its cache, the layout
//! commands, tracker links, promotion, the explorer (journeys, snapshots,
//! a real pseudo-terminal) and safety with real files.

mod cache;
mod catalog;
mod cli;
mod common;
mod compare;
mod create;
mod curves;
mod formats;
mod help;
mod links;
mod promote;
mod pty;
mod rollup;
mod safety;
mod sources;
mod tui;
mod watch;
