//! Rebuilds the crate when a migration changes: `sqlx::migrate!` embeds the migration files,
//! and Cargo does not see them otherwise.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
