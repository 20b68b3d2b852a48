//! End-to-end tests of `extract`: fallback orders, rules past the head, encodings, hostile input,
//! the bench pages.

mod bench;
mod body;
mod cases;
mod encodings;
mod fallbacks;
mod hostile;
mod support;
