//! Password hashing with argon2id (OWASP-recommended; parameters are the crate's defaults,
//! m=19 MiB, t=2, p=1). Hashing is deliberately slow: call it off the async runtime.

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

/// Hashes a password to a PHC string (`$argon2id$v=19$...`) with a fresh random salt.
pub fn hash(password: &str) -> String {
    Argon2::default()
        .hash_password(password.as_bytes())
        .expect("argon2 with default parameters cannot fail")
        .to_string()
}

/// True when `password` matches the stored PHC string. A malformed hash never matches.
pub fn verify(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn hash_and_verify() {
        let h = super::hash("correct horse battery staple");
        assert!(h.starts_with("$argon2id$"));
        assert!(super::verify("correct horse battery staple", &h));
        assert!(!super::verify("correct horse battery stapler", &h));
        assert!(!super::verify("x", "not a hash"));
    }
}
