//! The [`PasswordCheck`] adapter: argon2id verification (`auth::password`) on the blocking
//! thread pool, so a sign-in never stalls the async workers.

use async_trait::async_trait;
use domain::oauth::PasswordCheck;

/// argon2id in `spawn_blocking`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Argon2Passwords;

#[async_trait]
impl PasswordCheck for Argon2Passwords {
    async fn verify_password(&self, password: &str, phc: &str) -> bool {
        let (password, phc) = (password.to_owned(), phc.to_owned());
        tokio::task::spawn_blocking(move || auth::password::verify(&password, &phc))
            .await
            .unwrap_or(false)
    }
}
