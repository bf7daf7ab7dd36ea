//! Money in whole cents: claims arithmetic must add up to the cent, so no floats.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::ops::{Add, AddAssign, Sub};

#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Cents(pub i64);

impl Cents {
    pub const ZERO: Cents = Cents(0);

    /// Parses an X12/decimal amount such as `125`, `125.5` or `-3.25`.
    pub fn parse(s: &str) -> Option<Cents> {
        let s = s.trim();
        let (neg, s) = s.strip_prefix('-').map_or((false, s), |r| (true, r));
        let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
        if whole.is_empty() && frac.is_empty() || frac.len() > 2 {
            return None;
        }
        let w: i64 = if whole.is_empty() {
            0
        } else {
            whole.parse().ok()?
        };
        let f: i64 = match frac.len() {
            0 => 0,
            1 => frac.parse::<i64>().ok()? * 10,
            _ => frac.parse().ok()?,
        };
        let v = w.checked_mul(100)?.checked_add(f)?;
        Some(Cents(if neg { -v } else { v }))
    }

    /// `pct` percent of this amount, rounded half away from zero.
    pub fn percent(self, pct: u32) -> Cents {
        let v = self.0 * i64::from(pct);
        Cents((v + v.signum() * 50) / 100)
    }
}

impl fmt::Display for Cents {
    /// `1234.50` (X12 and CSV form; pages add the currency sign).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let a = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", a / 100, a % 100)
    }
}

impl Add for Cents {
    type Output = Cents;
    fn add(self, o: Cents) -> Cents {
        Cents(self.0 + o.0)
    }
}
impl AddAssign for Cents {
    fn add_assign(&mut self, o: Cents) {
        self.0 += o.0;
    }
}
impl Sub for Cents {
    type Output = Cents;
    fn sub(self, o: Cents) -> Cents {
        Cents(self.0 - o.0)
    }
}
impl std::iter::Sum for Cents {
    fn sum<I: Iterator<Item = Cents>>(it: I) -> Cents {
        Cents(it.map(|c| c.0).sum())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parse_forms() {
        assert_eq!(Cents::parse("125"), Some(Cents(12500)));
        assert_eq!(Cents::parse("125.5"), Some(Cents(12550)));
        assert_eq!(Cents::parse("-3.25"), Some(Cents(-325)));
        assert_eq!(Cents::parse(".5"), Some(Cents(50)));
        assert_eq!(Cents::parse("1.234"), None);
        assert_eq!(Cents::parse("abc"), None);
        assert_eq!(Cents(-5).to_string(), "-0.05");
    }

    proptest! {
        #[test]
        fn display_parse_round_trip(v in -10_000_000_000i64..10_000_000_000) {
            prop_assert_eq!(Cents::parse(&Cents(v).to_string()), Some(Cents(v)));
        }
    }
}
