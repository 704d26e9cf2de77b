//! Rebuilds the crate when a SQLite migration changes (`sqlx::migrate!` embeds them at compile
//! time). Never does anything else.

fn main() {
    println!("cargo:rerun-if-changed=../../migrations/sqlite");
}
