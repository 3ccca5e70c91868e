//! Safety cases: cli (issue 12).

#[allow(unused_imports)]
use super::*;
