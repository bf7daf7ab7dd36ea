//! How pages write amounts, dates, times, numbers, phone numbers and TIN scopes: one way each,
//! so every page and every CSV agrees.

use domain::Cents;
use domain::access::Scope;

/// 12345 -> "12,345".
pub fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// A timestamp as people in the plan's time zone read it: "Nov 23, 2026 2:05 PM PT".
pub fn pacific(at: chrono::DateTime<chrono::Utc>) -> String {
    let offset = domain::clock::pacific_offset(at);
    let local = at.with_timezone(&offset);
    local.format("%b %-d, %Y %-I:%M %p PT").to_string()
}

/// An amount as a page shows it: `$1,234.50`, `-$12.00`.
pub fn money(c: Cents) -> String {
    let sign = if c.0 < 0 { "-" } else { "" };
    let plain = Cents(c.0.abs()).to_string();
    let (whole, cents) = plain.split_once('.').unwrap_or((&plain, "00"));
    let whole: i64 = whole.parse().unwrap_or(0);
    format!("{sign}${}.{cents}", thousands(whole))
}

/// A date of service or receipt as offices write it.
pub fn us_date(d: chrono::NaiveDate) -> String {
    d.format("%m/%d/%Y").to_string()
}

/// The TINs a scope allows, for the page and the audit record.
pub fn scope_tins(scope: &Scope) -> String {
    match scope {
        Scope::Tins(t) => t
            .iter()
            .map(|t| t.digits().to_string())
            .collect::<Vec<_>>()
            .join(","),
        Scope::Nothing => String::new(),
    }
}

/// "7145550100" -> "(714) 555-0100"; anything else as given.
pub fn phone_label(phone: &str) -> String {
    let d: String = phone.chars().filter(char::is_ascii_digit).collect();
    let d = match d.strip_prefix('1') {
        Some(rest) if rest.len() == 10 => rest.to_string(),
        _ => d,
    };
    if d.len() == 10 {
        format!("({}) {}-{}", &d[..3], &d[3..6], &d[6..])
    } else {
        phone.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_thousands() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(thousands(-4500), "-4,500");
    }

    #[test]
    fn amounts() {
        assert_eq!(money(Cents(0)), "$0.00");
        assert_eq!(money(Cents(5)), "$0.05");
        assert_eq!(money(Cents(123_456)), "$1,234.56");
        assert_eq!(money(Cents(-1200)), "-$12.00");
        assert_eq!(money(Cents(100_000_000)), "$1,000,000.00");
    }

    #[test]
    fn scope_as_recorded() {
        let a = domain::Tin::parse("951234567").unwrap();
        let b = domain::Tin::parse("331234567").unwrap();
        assert_eq!(scope_tins(&Scope::Tins(vec![a, b])), "951234567,331234567");
        assert_eq!(scope_tins(&Scope::Nothing), "");
    }

    #[test]
    fn dates_and_phones_as_offices_write_them() {
        let d = chrono::NaiveDate::from_ymd_opt(2026, 3, 7).unwrap();
        assert_eq!(us_date(d), "03/07/2026");
        assert_eq!(phone_label("17145550100"), "(714) 555-0100");
        assert_eq!(phone_label("555-01"), "555-01");
    }
}
