//! End-to-end tests of `extract`: fallback orders, encodings, hostile input, the bench pages.

mod bench;
mod cases;
mod encodings;
mod fallbacks;
mod hostile;
mod support;
