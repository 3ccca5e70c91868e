//! Safety cases: promote (issue 12).

#[allow(unused_imports)]
use super::*;
