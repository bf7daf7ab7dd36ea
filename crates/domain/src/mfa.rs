//! Multi-factor sign-in: RFC 6238 TOTP (SHA-1, 6 digits, 30-second steps, one step of clock
//! skew: what every authenticator app supports) and one-time recovery codes. The step a code
//! matched is returned so the caller can refuse a replay (see
//! [`crate::session::totp_step_fresh`]); storage records it atomically.

use rand::Rng as _;
use sha2::{Digest, Sha256};
use totp_rs::{Builder, Secret, Totp};

/// Shown in the authenticator app next to the account name.
pub const ISSUER: &str = "Provider Portal";
/// Recovery codes issued at enrolment; each works once.
pub const RECOVERY_CODES: usize = 10;

/// A fresh 160-bit secret (RFC 4226 §4 recommends 160 bits), base32 as stored and shown.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 20];
    rand::rng().fill(&mut bytes);
    Secret::from(bytes).to_base32()
}

fn totp(secret_b32: &str, account: &str) -> Option<Totp> {
    let secret = Secret::try_from_base32(secret_b32).ok()?;
    Builder::new()
        .with_secret(secret)
        .with_issuer(Some(ISSUER))
        .with_account_name(account)
        .build()
        .ok()
}

/// The `otpauth://` URL an authenticator app scans.
pub fn provisioning_url(secret_b32: &str, account: &str) -> Option<String> {
    totp(secret_b32, account)?.to_url().ok()
}

/// The time step `code` is valid for at `unix_time` (allowing one step either side), or `None`.
/// Spaces in the typed code are ignored.
pub fn matching_step(secret_b32: &str, code: &str, unix_time: u64) -> Option<u64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    totp(secret_b32, "check")?.check(&code, unix_time)
}

/// The code for `unix_time` (tests and the demo's scripted sign-in use it).
pub fn code_at(secret_b32: &str, unix_time: u64) -> Option<String> {
    Some(totp(secret_b32, "code")?.generate(unix_time).to_string())
}

/// Ten codes like `7KQ4-M2XD-9TPC`: 60 bits each from an unambiguous alphabet.
pub fn new_recovery_codes() -> Vec<String> {
    const ALPHABET: &[u8] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
    let mut rng = rand::rng();
    (0..RECOVERY_CODES)
        .map(|_| {
            let raw: String = (0..12)
                .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
                .collect();
            format!("{}-{}-{}", &raw[0..4], &raw[4..8], &raw[8..12])
        })
        .collect()
}

/// What is stored for a recovery code. The codes carry 60 random bits, so a fast hash suffices
/// (no dictionary to try); typing is forgiven: case, spaces and dashes do not matter.
pub fn recovery_hash(code: &str) -> String {
    let norm: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    crate::audit::hex(&Sha256::digest(norm.as_bytes()))
}

/// Whether the typed text looks like a recovery code rather than a six-digit TOTP code.
pub fn looks_like_recovery_code(typed: &str) -> bool {
    typed.chars().filter(|c| c.is_ascii_alphanumeric()).count() == 12
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_matches_its_step_and_the_neighbours_only() {
        let s = new_secret();
        assert_eq!(s.len(), 32, "160 bits in base32");
        let t = 1_790_000_000;
        let code = code_at(&s, t).unwrap();
        assert_eq!(matching_step(&s, &code, t), Some(t / 30));
        assert_eq!(
            matching_step(&s, &code, t + 30),
            Some(t / 30),
            "one step of skew"
        );
        assert_eq!(matching_step(&s, &code, t + 90), None);
        assert_eq!(matching_step(&s, "12345", t), None);
        assert_eq!(matching_step(&s, "abcdef", t), None);
        let spaced = format!("{} {}", &code[..3], &code[3..]);
        assert_eq!(matching_step(&s, &spaced, t), Some(t / 30));
    }

    #[test]
    fn rfc6238_sha1_vector() {
        // RFC 6238 appendix B, SHA-1, T = 59: 94287082 (8 digits) -> 287082 (6 digits).
        let secret = Secret::from(b"12345678901234567890".to_vec()).to_base32();
        assert_eq!(code_at(&secret, 59).unwrap(), "287082");
    }

    #[test]
    fn provisioning_url_names_issuer_and_account() {
        let url = provisioning_url(&new_secret(), "front.desk").unwrap();
        assert!(url.starts_with("otpauth://totp/"), "{url}");
        assert!(url.contains("issuer=Provider%20Portal"), "{url}");
    }

    #[test]
    fn recovery_codes_are_distinct_and_forgiving() {
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), RECOVERY_CODES);
        let mut hashes: Vec<_> = codes.iter().map(|c| recovery_hash(c)).collect();
        hashes.sort();
        hashes.dedup();
        assert_eq!(hashes.len(), RECOVERY_CODES);
        let c = &codes[0];
        assert_eq!(
            recovery_hash(c),
            recovery_hash(&c.to_lowercase().replace('-', " "))
        );
        assert!(looks_like_recovery_code(c));
        assert!(!looks_like_recovery_code("123456"));
    }
}
