//! Safety cases: links (issue 12).

#[allow(unused_imports)]
use super::*;
