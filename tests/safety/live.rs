//! Safety cases: live (issue 12).

#[allow(unused_imports)]
use super::*;
