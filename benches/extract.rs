//! Placeholder replaced by the extraction benchmark (domaind extractor vs a full-DOM baseline).

fn main() {}
