//! Password hashing: argon2id with the crate's defaults (19 MiB, 2 passes, 1 lane: the OWASP baseline),
//! stored as a PHC string (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`), so the parameters can be raised
//! later without breaking stored hashes.
//!
//! Hashing is deliberately slow (tens of milliseconds): the async wrappers run it on the blocking pool so
//! the runtime's worker thread is not stalled.

use crate::error::AppError;
use argon2::{Argon2, PasswordHasher, PasswordVerifier};

/// A well-formed argon2id hash, with the same parameters as real ones, of no known password. Verifying
/// against it costs what a real verification costs, so an unknown email is not answered faster.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$3AovTKI1yfTQCCc9cv9cXQ$R45hvaNaNuFaOLce3tHENwYbT8PYovo1swzMQa4OeTI";

/// Longest input ever hashed. Passwords are at most 128 characters (4 bytes each in UTF-8); anything longer
/// cannot match and is refused without hashing.
const MAX_PASSWORD_BYTES: usize = 512;

/// Hashes a password into a PHC string with a fresh random salt.
pub fn hash(password: &str) -> Result<String, AppError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| AppError::Dependency(format!("password hashing failed: {e}")))
}

/// Whether `password` matches the stored PHC string. A stored hash we cannot parse is corrupt data.
pub fn verify(password: &str, phc: &str) -> Result<bool, AppError> {
    if password.len() > MAX_PASSWORD_BYTES {
        return Ok(false);
    }
    match Argon2::default().verify_password(password.as_bytes(), phc) {
        Ok(()) => Ok(true),
        Err(argon2::password_hash::Error::PasswordInvalid) => Ok(false),
        Err(e) => Err(AppError::Corrupt(format!("stored password hash: {e}"))),
    }
}

/// Burns the time of one verification (unknown email), always answering "no match".
pub fn verify_dummy(password: &str) -> bool {
    let _ = verify(password, DUMMY_HASH);
    false
}

/// [`hash`] on the blocking pool.
pub async fn hash_async(password: String) -> Result<String, AppError> {
    blocking(move || hash(&password)).await?
}

/// [`verify`] on the blocking pool; with `None` (no such member) it verifies against the dummy hash.
pub async fn verify_async(password: String, phc: Option<String>) -> Result<bool, AppError> {
    blocking(move || match phc {
        Some(phc) => verify(&password, &phc),
        None => Ok(verify_dummy(&password)),
    })
    .await?
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, AppError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| AppError::Dependency(format!("password hashing task failed: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_and_verify() {
        let phc = hash("Tr0ub4dor&3 horse").expect("hashes");
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify("Tr0ub4dor&3 horse", &phc).expect("verifies"));
        assert!(!verify("tr0ub4dor&3 horse", &phc).expect("verifies"));
        assert!(!verify(&"x".repeat(10_000), &phc).expect("verifies"));
        // Same password, different salt, different hash.
        assert_ne!(phc, hash("Tr0ub4dor&3 horse").expect("hashes"));
    }

    #[test]
    fn dummy_hash_costs_what_a_real_one_costs() {
        // Same algorithm and parameters as a fresh hash, and it parses (so verification does the full work).
        let real = hash("anything at all 1").expect("hashes");
        let params = |s: &str| s.split('$').take(4).collect::<Vec<_>>().join("$");
        assert_eq!(params(DUMMY_HASH), params(&real));
        assert!(argon2::PasswordHash::new(DUMMY_HASH).is_ok());
        assert!(!verify_dummy("anything at all 1"));
        assert_eq!(verify("anything", DUMMY_HASH).ok(), Some(false));
    }

    #[test]
    fn corrupt_hash_is_an_error_not_a_mismatch() {
        assert!(matches!(
            verify("x", "not a phc string"),
            Err(AppError::Corrupt(_))
        ));
    }

    #[tokio::test]
    async fn async_wrappers() {
        let phc = hash_async("Async-password-1".into()).await.expect("hashes");
        assert!(verify_async("Async-password-1".into(), Some(phc))
            .await
            .expect("verifies"));
        assert!(!verify_async("Async-password-1".into(), None)
            .await
            .expect("verifies"));
    }
}
