//! Black-box tests live in `it/`; this library is empty on purpose.

#![allow(
    clippy::disallowed_methods,
    reason = "black-box tests may read the wall clock and the test environment"
)]
