//! Tidy tests live in `tests/tidy.rs`; this library is empty on purpose. It never ships.
