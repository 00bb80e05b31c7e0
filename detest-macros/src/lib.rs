//! `#[detest(...)]` (see issue 2/5).
