//! Key material kept outside the database, and what is done with it: TOTP secrets sealed at rest
//! (XChaCha20-Poly1305) and the audit chain's MACs (HMAC-SHA256, see [`crate::audit`]).
//!
//! Keys are numbered per kind; the newest of a kind is the one used for new writes, older ones
//! still open (TOTP, until `rotate-keys` re-encrypts) or verify (audit: every key ever used stays,
//! each started a new epoch of the chain). Reading and writing the key file is storage's job.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use rand::Rng as _;
use sha2::Sha256;
use std::collections::BTreeMap;
use std::fmt;

/// 256 bits of key. Neither `Display` nor `Serialize`; `Debug` shows only a fingerprint.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretKey([u8; 32]);

impl SecretKey {
    pub fn generate() -> SecretKey {
        let mut k = [0u8; 32];
        rand::rng().fill(&mut k);
        SecretKey(k)
    }

    /// From the 64 hex digits the key file holds.
    pub fn from_hex(s: &str) -> Option<SecretKey> {
        let s = s.trim();
        if s.len() != 64 || !s.is_ascii() {
            return None;
        }
        let mut k = [0u8; 32];
        for (i, b) in k.iter_mut().enumerate() {
            *b = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()?;
        }
        Some(SecretKey(k))
    }

    /// The hex digits, for writing the key file and nothing else.
    pub fn expose_hex(&self) -> String {
        crate::audit::hex(&self.0)
    }

    /// A public name for the key (a MAC of a constant, so it tells nothing of the key): the
    /// database records it so that an instance started with another key file is refused.
    pub fn fingerprint(&self) -> String {
        self.mac(&[b"provider-portal key fingerprint"])[..16].to_string()
    }

    /// Hex HMAC-SHA256 over length-prefixed parts.
    pub fn mac(&self, parts: &[&[u8]]) -> String {
        let mut m = <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("any key length");
        for p in parts {
            m.update(&(p.len() as u64).to_be_bytes());
            m.update(p);
        }
        crate::audit::hex(&m.finalize().into_bytes())
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretKey({}…)", self.fingerprint())
    }
}

/// What a key is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum KeyKind {
    /// HMAC key of the audit chain.
    Audit,
    /// AEAD key of the TOTP secrets.
    Totp,
}

impl KeyKind {
    pub fn code(self) -> &'static str {
        match self {
            KeyKind::Audit => "audit",
            KeyKind::Totp => "totp",
        }
    }
    pub fn from_code(s: &str) -> Option<KeyKind> {
        match s {
            "audit" => Some(KeyKind::Audit),
            "totp" => Some(KeyKind::Totp),
            _ => None,
        }
    }
}

/// Why a sealed value does not open. Never carries the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    #[error("sealed with totp key {0}, which the key file does not hold")]
    UnknownKey(u32),
    #[error("does not open with totp key {0} (wrong key file, or the value was altered or moved)")]
    WrongKey(u32),
    #[error("not encrypted")]
    Clear,
    #[error("malformed")]
    Malformed,
}

/// Every key of both kinds, by number. The newest of each kind is current.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Keyring {
    keys: BTreeMap<(KeyKind, u32), SecretKey>,
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(
                self.keys
                    .iter()
                    .map(|((k, n), key)| format!("{} {n} {}", k.code(), key.fingerprint())),
            )
            .finish()
    }
}

/// Prefix of a sealed value: `k<number>:`. A base32 TOTP secret (A–Z, 2–7) never starts so.
const SEALED: char = 'k';

impl Keyring {
    /// One fresh key of each kind, numbered 1 (a first start).
    pub fn generate() -> Keyring {
        let mut r = Keyring::default();
        r.insert(KeyKind::Audit, 1, SecretKey::generate());
        r.insert(KeyKind::Totp, 1, SecretKey::generate());
        r
    }

    pub fn insert(&mut self, kind: KeyKind, number: u32, key: SecretKey) {
        self.keys.insert((kind, number), key);
    }

    pub fn remove(&mut self, kind: KeyKind, number: u32) {
        self.keys.remove(&(kind, number));
    }

    pub fn get(&self, kind: KeyKind, number: u32) -> Option<&SecretKey> {
        self.keys.get(&(kind, number))
    }

    /// The newest key of `kind`, with its number.
    pub fn current(&self, kind: KeyKind) -> Option<(u32, &SecretKey)> {
        self.keys
            .range((kind, 0)..=(kind, u32::MAX))
            .next_back()
            .map(|((_, n), k)| (*n, k))
    }

    /// Every key, oldest first within each kind.
    pub fn iter(&self) -> impl Iterator<Item = (KeyKind, u32, &SecretKey)> {
        self.keys.iter().map(|((k, n), key)| (*k, *n, key))
    }

    /// A ring with a new current key of each kind (numbered one past the newest), old ones kept.
    pub fn rotated(&self) -> Keyring {
        let mut r = self.clone();
        for kind in [KeyKind::Audit, KeyKind::Totp] {
            let next = self.current(kind).map_or(1, |(n, _)| n + 1);
            r.insert(kind, next, SecretKey::generate());
        }
        r
    }

    /// Encrypts `plain` under the current TOTP key, bound to `context` (the row it belongs to,
    /// so a sealed value copied onto another row does not open there).
    pub fn seal(&self, plain: &str, context: &str) -> String {
        let (n, key) = self
            .current(KeyKind::Totp)
            .expect("a keyring has a totp key");
        let mut nonce = [0u8; 24];
        rand::rng().fill(&mut nonce);
        let ct = XChaCha20Poly1305::new(key.0.as_slice().into())
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: plain.as_bytes(),
                    aad: context.as_bytes(),
                },
            )
            .expect("encryption does not fail");
        let mut raw = nonce.to_vec();
        raw.extend(ct);
        format!("{SEALED}{n}:{}", crate::audit::hex(&raw))
    }

    /// Opens what [`Keyring::seal`] made for the same `context`.
    pub fn open(&self, sealed: &str, context: &str) -> Result<String, SealError> {
        let n = Self::sealed_with(sealed)?;
        let key = self.get(KeyKind::Totp, n).ok_or(SealError::UnknownKey(n))?;
        let (_, body) = sealed.split_once(':').ok_or(SealError::Malformed)?;
        let raw = unhex(body).ok_or(SealError::Malformed)?;
        if raw.len() < 24 + 16 {
            return Err(SealError::Malformed);
        }
        let (nonce, ct) = raw.split_at(24);
        let nonce: [u8; 24] = nonce.try_into().map_err(|_| SealError::Malformed)?;
        let plain = XChaCha20Poly1305::new(key.0.as_slice().into())
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: ct,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| SealError::WrongKey(n))?;
        String::from_utf8(plain).map_err(|_| SealError::Malformed)
    }

    /// The TOTP key number a stored value was sealed with; `Clear` for a value stored before
    /// secrets were encrypted.
    pub fn sealed_with(stored: &str) -> Result<u32, SealError> {
        let Some(rest) = stored.strip_prefix(SEALED) else {
            return Err(SealError::Clear);
        };
        let (n, _) = rest.split_once(':').ok_or(SealError::Malformed)?;
        n.parse().map_err(|_| SealError::Malformed)
    }
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || !s.is_ascii() {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_secrets_open_only_with_their_key_and_row() {
        let ring = Keyring::generate();
        let secret = crate::mfa::new_secret();
        let sealed = ring.seal(&secret, "users.totp_secret:7");
        assert!(sealed.starts_with("k1:"), "{sealed}");
        assert!(!sealed.contains(&secret));
        assert_eq!(ring.open(&sealed, "users.totp_secret:7").unwrap(), secret);
        // Moved onto another user's row, it does not open.
        assert_eq!(
            ring.open(&sealed, "users.totp_secret:8"),
            Err(SealError::WrongKey(1))
        );
        // Another key file.
        assert_eq!(
            Keyring::generate().open(&sealed, "users.totp_secret:7"),
            Err(SealError::WrongKey(1))
        );
        assert_eq!(ring.open(&secret, "x"), Err(SealError::Clear));
        let rotated = ring.rotated();
        assert_eq!(rotated.current(KeyKind::Totp).unwrap().0, 2);
        assert!(rotated.seal(&secret, "c").starts_with("k2:"));
        assert_eq!(
            rotated.open(&sealed, "users.totp_secret:7").unwrap(),
            secret
        );
    }

    #[test]
    fn keys_never_print() {
        let k = SecretKey::generate();
        let hex = k.expose_hex();
        assert_eq!(SecretKey::from_hex(&hex), Some(k.clone()));
        assert!(!format!("{k:?}").contains(&hex));
        let ring = Keyring::generate();
        let shown = format!("{ring:?}");
        for (_, _, key) in ring.iter() {
            assert!(!shown.contains(&key.expose_hex()));
        }
        assert_eq!(SecretKey::from_hex("zz"), None);
    }
}
