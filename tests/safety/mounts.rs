//! Safety cases: mounts (issue 12).

#[allow(unused_imports)]
use super::*;
