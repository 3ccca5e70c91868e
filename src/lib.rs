//! runyard: a terminal explorer for the `outputs/` folder of machine-learning
//! projects. The library holds everything; `main.rs` only dispatches to the
//! CLI or the TUI.

#![warn(missing_docs)]

pub mod catalog;
pub mod chart;
pub mod check;
pub mod cli;
pub mod compare;
pub mod config;
pub mod demo;
pub mod fmt;
pub mod layout;
pub mod ops;
pub mod query;
pub mod runs;
pub mod sources;
pub mod tracker;
pub mod tui;
