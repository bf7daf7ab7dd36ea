//! Identifiers parsed once at the edge ("parse, don't validate"): once a value of these types
//! exists, it is well formed, so nothing downstream checks again.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Why an identifier was refused: a message a person can act on, naming what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("must be {expected} digits, got {got} characters")]
    Length { expected: usize, got: usize },
    #[error("must contain digits only")]
    NotDigits,
    #[error("an NPI starts with 1 or 2")]
    NpiFirstDigit,
    #[error("the check digit is wrong (expected {expected}); check for a typing error")]
    NpiCheckDigit { expected: u8 },
    #[error("{0}")]
    Format(&'static str),
}

fn digits_only(s: &str, expected: usize) -> Result<(), IdError> {
    if s.chars().count() != expected {
        return Err(IdError::Length {
            expected,
            got: s.chars().count(),
        });
    }
    if !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(IdError::NotDigits);
    }
    Ok(())
}

/// National Provider Identifier: 10 digits, first 1 or 2, last a Luhn check digit computed over
/// the first nine prefixed with 80840 (CMS "NPI check digit" standard).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Npi([u8; 10]);

impl Npi {
    pub fn parse(s: &str) -> Result<Self, IdError> {
        let s = s.trim();
        digits_only(s, 10)?;
        let b: [u8; 10] = s.as_bytes().try_into().expect("length checked");
        if b[0] != b'1' && b[0] != b'2' {
            return Err(IdError::NpiFirstDigit);
        }
        let expected = Self::check_digit(&b[..9]);
        if b[9] - b'0' != expected {
            return Err(IdError::NpiCheckDigit { expected });
        }
        Ok(Npi(b))
    }

    /// Luhn over the nine leading digits; the constant 24 accounts for the 80840 prefix.
    pub fn check_digit(first_nine: &[u8]) -> u8 {
        let mut sum = 24u32;
        for (i, d) in first_nine.iter().rev().enumerate() {
            let mut v = u32::from(d - b'0');
            if i % 2 == 0 {
                v *= 2;
                if v > 9 {
                    v -= 9;
                }
            }
            sum += v;
        }
        ((10 - sum % 10) % 10) as u8
    }

    /// Builds a valid NPI from a 9-digit base (first digit 1 or 2), appending the check digit.
    /// Used by the synthetic data generator.
    pub fn from_base(base: u32) -> Option<Self> {
        let s = format!("{base:09}");
        if s.len() != 9 || !(s.starts_with('1') || s.starts_with('2')) {
            return None;
        }
        let c = Self::check_digit(s.as_bytes());
        Self::parse(&format!("{s}{c}")).ok()
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("ascii digits")
    }
}

/// Taxpayer identification number (EIN): nine digits, shown as NN-NNNNNNN. Accepts either form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Tin([u8; 9]);

impl Tin {
    pub fn parse(s: &str) -> Result<Self, IdError> {
        let s = s.trim();
        let compact: String = match s.as_bytes() {
            [_, _, b'-', ..] if s.len() == 10 => s.replacen('-', "", 1),
            _ => s.to_string(),
        };
        if compact.len() != 9 || !compact.bytes().all(|b| b.is_ascii_digit()) {
            return Err(IdError::Format(
                "a TIN is 9 digits, written NN-NNNNNNN or NNNNNNNNN",
            ));
        }
        if compact == "000000000" || compact.starts_with("00") {
            return Err(IdError::Format("a TIN cannot start with 00"));
        }
        Ok(Tin(compact.as_bytes().try_into().expect("length checked")))
    }

    /// The nine digits without the dash, as stored and as sent in X12 (REF*EI).
    pub fn digits(&self) -> &str {
        std::str::from_utf8(&self.0).expect("ascii digits")
    }
}

/// The plan's member identifier: a letter prefix and digits, e.g. `M000123456` (the plan's own
/// format; CIN-like). Case-insensitive on input, stored upper case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct MemberId(String);

impl MemberId {
    pub fn parse(s: &str) -> Result<Self, IdError> {
        let s = s.trim().to_ascii_uppercase();
        let ok = (6..=20).contains(&s.len())
            && s.bytes().next().is_some_and(|b| b.is_ascii_uppercase())
            && s.bytes().all(|b| b.is_ascii_alphanumeric());
        if !ok {
            return Err(IdError::Format(
                "a member ID is 6 to 20 letters and digits, starting with a letter (as on the member's card)",
            ));
        }
        Ok(MemberId(s))
    }

    /// The generator's and the plan's canonical form for sequence number `n`.
    pub fn from_sequence(n: u64) -> Self {
        MemberId(format!("M{n:09}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Issues member IDs for new members that cannot be guessed from one another: `M`, eleven
/// digits, and a Luhn check digit (`M482109375618`), the same letters-and-digits family as
/// the plan's existing `M000012345` IDs, which keep working (nothing here changes
/// [`MemberId::parse`]).
///
/// The eleven digits are the member's sequence number under a keyed permutation of
/// 0..10^11 (the FE1 construction of Black and Rogaway: a Feistel network over 316,228 x
/// 316,228 with HMAC-SHA-256 rounds, cycle-walked into range), so IDs never collide and knowing
/// any number of them tells nothing about the others without the key. One in about 100,000
/// eleven-digit numbers is a member of a 1,000,000-member plan, so a sweep of guessed IDs finds
/// almost nobody before the lookup limits stop it (`lookup_limits`). The key comes from the
/// CSPRNG ([`MemberIdIssuer::random`]); a fixed key ([`MemberIdIssuer::from_key`]) is for
/// reproducible tests only.
#[derive(Clone)]
pub struct MemberIdIssuer {
    key: [u8; 32],
}

impl fmt::Debug for MemberIdIssuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MemberIdIssuer(key redacted)")
    }
}

impl MemberIdIssuer {
    /// Numbers issued: 0..10^11.
    pub const CAPACITY: u64 = 100_000_000_000;
    /// The Feistel halves: 316,228² ≥ 10^11.
    const HALF: u64 = 316_228;
    const ROUNDS: u8 = 8;

    /// A fresh key from the OS-seeded CSPRNG.
    pub fn random() -> Self {
        use rand::Rng as _;
        let mut key = [0u8; 32];
        rand::rng().fill(&mut key);
        MemberIdIssuer { key }
    }

    /// A known key: the same IDs every time (tests, reproducible benchmarks).
    pub fn from_key(key: [u8; 32]) -> Self {
        MemberIdIssuer { key }
    }

    /// The ID of member number `n` (below [`Self::CAPACITY`]).
    pub fn issue(&self, n: u64) -> MemberId {
        let mut x = n % Self::CAPACITY;
        loop {
            x = self.feistel(x);
            if x < Self::CAPACITY {
                break;
            }
        }
        let digits = format!("{x:011}");
        MemberId(format!("M{digits}{}", luhn(digits.as_bytes())))
    }

    /// Whether `id` has the issued shape with a correct check digit (an ID typed with one
    /// digit wrong or two swapped fails it). Older IDs never have this shape.
    pub fn is_issued_form(id: &MemberId) -> bool {
        let b = id.as_str().as_bytes();
        b.len() == 13
            && b[0] == b'M'
            && b[1..].iter().all(u8::is_ascii_digit)
            && luhn(&b[1..12]) == b[12] - b'0'
    }

    /// FE1: a permutation of 0..HALF².
    fn feistel(&self, mut x: u64) -> u64 {
        for round in 0..Self::ROUNDS {
            let (left, right) = (x / Self::HALF, x % Self::HALF);
            let w = (left + self.round(round, right) % Self::HALF) % Self::HALF;
            x = Self::HALF * right + w;
        }
        x
    }

    fn round(&self, round: u8, value: u64) -> u64 {
        use hmac::{Hmac, Mac};
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&self.key).expect("any key length");
        mac.update(&[round]);
        mac.update(&value.to_be_bytes());
        let out = mac.finalize().into_bytes();
        u64::from_be_bytes(out[..8].try_into().expect("32 bytes"))
    }
}

/// Luhn check digit of ASCII digits.
fn luhn(digits: &[u8]) -> u8 {
    let mut sum = 0u32;
    for (i, d) in digits.iter().rev().enumerate() {
        let mut v = u32::from(d - b'0');
        if i % 2 == 0 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    ((10 - sum % 10) % 10) as u8
}

/// Declares a plan-issued reference number: a fixed prefix then digits (claim, authorization,
/// dispute numbers). Kept as a macro because the three differ only in prefix and meaning.
macro_rules! plan_number {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub const PREFIX: &'static str = $prefix;

            pub fn parse(s: &str) -> Result<Self, IdError> {
                let s = s.trim().to_ascii_uppercase();
                match s.strip_prefix($prefix) {
                    Some(rest) if (6..=15).contains(&rest.len()) && rest.bytes().all(|b| b.is_ascii_digit()) => Ok(Self(s)),
                    _ => Err(IdError::Format(concat!("expected ", $prefix, " followed by 6 to 15 digits"))),
                }
            }

            pub fn from_sequence(n: u64) -> Self {
                Self(format!(concat!($prefix, "{:010}"), n))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(s: String) -> Result<Self, IdError> {
                Self::parse(&s)
            }
        }

        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0
            }
        }
    };
}

plan_number!(
    /// A claim as numbered by the plan on receipt (the payer claim control number, CLP07).
    ClaimNumber, "C"
);
plan_number!(
    /// A referral or prior authorization request number.
    AuthNumber, "A"
);
plan_number!(
    /// A provider dispute or complaint number.
    DisputeNumber, "D"
);

impl fmt::Display for Npi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for Tin {
    /// Shown as NN-NNNNNNN.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.digits();
        write!(f, "{}-{}", &d[..2], &d[2..])
    }
}

impl fmt::Display for MemberId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Npi {
    type Error = IdError;
    fn try_from(s: String) -> Result<Self, IdError> {
        Self::parse(&s)
    }
}
impl From<Npi> for String {
    fn from(v: Npi) -> String {
        v.as_str().to_string()
    }
}
impl TryFrom<String> for Tin {
    type Error = IdError;
    fn try_from(s: String) -> Result<Self, IdError> {
        Self::parse(&s)
    }
}
impl From<Tin> for String {
    fn from(v: Tin) -> String {
        v.digits().to_string()
    }
}
impl TryFrom<String> for MemberId {
    type Error = IdError;
    fn try_from(s: String) -> Result<Self, IdError> {
        Self::parse(&s)
    }
}
impl From<MemberId> for String {
    fn from(v: MemberId) -> String {
        v.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_valid_npis() {
        assert!(Npi::parse("1234567893").is_ok());
        assert!(Npi::parse("1558598797").is_ok());
    }

    #[test]
    fn npi_errors_say_what_is_wrong() {
        assert_eq!(
            Npi::parse("1234567890"),
            Err(IdError::NpiCheckDigit { expected: 3 })
        );
        assert_eq!(Npi::parse("3234567893"), Err(IdError::NpiFirstDigit));
        assert_eq!(
            Npi::parse("12345"),
            Err(IdError::Length {
                expected: 10,
                got: 5
            })
        );
        assert_eq!(Npi::parse("12345678a3"), Err(IdError::NotDigits));
    }

    #[test]
    fn tin_both_forms() {
        let t = Tin::parse("95-1234567").unwrap();
        assert_eq!(t, Tin::parse("951234567").unwrap());
        assert_eq!(t.to_string(), "95-1234567");
        assert!(Tin::parse("95-123456").is_err());
        assert!(Tin::parse("9512345678").is_err());
    }

    #[test]
    fn plan_numbers() {
        let c = ClaimNumber::from_sequence(42);
        assert_eq!(c.as_str(), "C0000000042");
        assert_eq!(ClaimNumber::parse("c0000000042").unwrap(), c);
        assert!(ClaimNumber::parse("A0000000042").is_err());
    }

    #[test]
    fn issued_member_ids_are_unique_checked_and_not_sequential() {
        let issuer = MemberIdIssuer::from_key([7; 32]);
        let ids: Vec<MemberId> = (1..=20_000).map(|n| issuer.issue(n)).collect();
        let distinct: std::collections::HashSet<&MemberId> = ids.iter().collect();
        assert_eq!(distinct.len(), ids.len(), "no collisions");
        for id in &ids {
            assert_eq!(MemberId::parse(id.as_str()).as_ref(), Ok(id));
            assert!(MemberIdIssuer::is_issued_form(id), "{id}");
        }
        assert_eq!(
            issuer.issue(42),
            MemberIdIssuer::from_key([7; 32]).issue(42)
        );
        assert_ne!(
            issuer.issue(42),
            MemberIdIssuer::from_key([8; 32]).issue(42)
        );
        // Neighbours share no structure: their numeric distance is spread over the range.
        let value = |id: &MemberId| id.as_str()[1..12].parse::<i64>().unwrap();
        let close = ids
            .windows(2)
            .filter(|w| (value(&w[0]) - value(&w[1])).abs() < 1_000_000)
            .count();
        assert!(
            close < 5,
            "{close} consecutive IDs within a million of each other"
        );
        // A typing error fails the check digit; the old form is never mistaken for the new.
        let mut typo = ids[0].as_str().as_bytes().to_vec();
        typo[5] = b'0' + (typo[5] - b'0' + 1) % 10;
        let typo = MemberId::parse(std::str::from_utf8(&typo).unwrap()).unwrap();
        assert!(!MemberIdIssuer::is_issued_form(&typo));
        assert!(!MemberIdIssuer::is_issued_form(&MemberId::from_sequence(
            12
        )));
        assert!(format!("{issuer:?}").contains("redacted"));
        // The example in the documentation and on the lookup page has the issued form.
        assert!(MemberIdIssuer::is_issued_form(
            &MemberId::parse("M482109375618").unwrap()
        ));
    }

    proptest! {
        /// Every base gives an NPI that parses, and changing any one digit breaks the check.
        #[test]
        fn generated_npis_parse_and_detect_single_digit_errors(base in 100_000_000u32..300_000_000, pos in 0usize..10, delta in 1u8..10) {
            let npi = Npi::from_base(base).unwrap();
            prop_assert!(Npi::parse(npi.as_str()).is_ok());
            let mut b = npi.as_str().as_bytes().to_vec();
            b[pos] = b'0' + (b[pos] - b'0' + delta) % 10;
            let changed = String::from_utf8(b).unwrap();
            prop_assert!(Npi::parse(&changed).is_err());
        }
    }
}
