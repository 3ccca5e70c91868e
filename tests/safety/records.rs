//! Safety cases: records (issue 12).

#[allow(unused_imports)]
use super::*;
