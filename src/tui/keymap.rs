//! The explorer's keys: the table lives with the config
//! ([`crate::config::keymap`]), because `[keys]` names its rows and the
//! config checks them when it reads a file; the explorer reads it from here.

pub use crate::config::keymap::*;
