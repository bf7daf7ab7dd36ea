//! The plan's rules for referrals and prior authorizations, maintained by plan staff:
//! - auth-required rules: "is authorization required for this code and line of business?"
//!   (a code or a code range, a line of business or all of them, required or not, and what
//!   documentation to send) — the answer of the lookup page and of the submission form;
//! - auto-approval rules: a code set for a line of business, units up to N: a matching request
//!   is approved at once, and its timeline says which rule did it.

use crate::auth::{AuthRequest, Urgency};
use crate::plan::LineOfBusiness;
use serde::{Deserialize, Serialize};

/// A CPT or HCPCS Level II code: five characters, CPT `NNNNN` / `NNNNF` / `NNNNT` / `NNNNU`,
/// HCPCS a letter and four digits. Upper-cased.
pub fn parse_procedure(s: &str) -> Result<String, &'static str> {
    let s = s.trim().to_ascii_uppercase();
    let b = s.as_bytes();
    let ok = b.len() == 5
        && ((b[..4].iter().all(u8::is_ascii_digit)
            && (b[4].is_ascii_digit() || matches!(b[4], b'F' | b'T' | b'U')))
            || (b[0].is_ascii_uppercase() && b[1..].iter().all(u8::is_ascii_digit)));
    if ok {
        Ok(s)
    } else {
        Err("a CPT or HCPCS code is five characters, like 97110 or E0601")
    }
}

/// An ICD-10-CM code, stored without the dot: a letter, two characters, then up to four more.
pub fn parse_diagnosis(s: &str) -> Result<String, &'static str> {
    let s: String = s
        .trim()
        .to_ascii_uppercase()
        .chars()
        .filter(|c| *c != '.')
        .collect();
    let b = s.as_bytes();
    let ok = (3..=7).contains(&b.len())
        && b[0].is_ascii_uppercase()
        && b[1].is_ascii_digit()
        && b.iter().all(u8::is_ascii_alphanumeric);
    if ok {
        Ok(s)
    } else {
        Err("an ICD-10-CM code is a letter, a digit and up to five more characters, like M54.5")
    }
}

/// One code or an inclusive range of codes of the same shape ("70010-76499").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeRange {
    pub from: String,
    pub to: String,
}

impl CodeRange {
    pub fn parse(s: &str) -> Result<Self, &'static str> {
        let (a, b) = s.split_once('-').unwrap_or((s, s));
        let from = parse_procedure(a)?;
        let to = parse_procedure(b)?;
        if from.as_bytes()[0].is_ascii_digit() != to.as_bytes()[0].is_ascii_digit() || to < from {
            return Err(
                "a range runs from the lower code to the higher one, both CPT or both HCPCS",
            );
        }
        Ok(CodeRange { from, to })
    }

    pub fn contains(&self, code: &str) -> bool {
        code.len() == 5 && self.from.as_str() <= code && code <= self.to.as_str()
    }

    /// How many codes it could hold, roughly (for "the narrowest rule wins").
    fn width(&self) -> u64 {
        let n = |s: &str| -> u64 {
            s.bytes()
                .fold(0u64, |acc, b| acc * 36 + u64::from(b.to_ascii_uppercase()))
        };
        n(&self.to).saturating_sub(n(&self.from))
    }
}

impl std::fmt::Display for CodeRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.from == self.to {
            f.write_str(&self.from)
        } else {
            write!(f, "{}–{}", self.from, self.to)
        }
    }
}

/// "Is authorization required?" for a code (range) and line of business.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthRule {
    pub id: i64,
    pub codes: CodeRange,
    /// `None`: every line of business.
    pub line_of_business: Option<LineOfBusiness>,
    pub required: bool,
    /// What to send (documentation needed), shown with the answer.
    pub note: String,
    /// What the service is, for the public list.
    pub description: String,
}

/// The answer of the lookup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    pub required: bool,
    /// The rule that gave the answer (`None`: no rule names the code, so none is required).
    pub rule: Option<AuthRule>,
}

/// The most specific rule for `code` and `lob` decides: one naming the line of business beats
/// one for all lines; among those, the narrowest range wins. No rule: not required.
pub fn requirement(rules: &[AuthRule], code: &str, lob: LineOfBusiness) -> Requirement {
    let best = rules
        .iter()
        .filter(|r| r.codes.contains(code) && r.line_of_business.is_none_or(|l| l == lob))
        .min_by_key(|r| (r.line_of_business.is_none(), r.codes.width(), r.id));
    Requirement {
        required: best.is_some_and(|r| r.required),
        rule: best.cloned(),
    }
}

/// A plan-configured rule that approves matching requests on receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AutoRule {
    pub id: i64,
    pub name: String,
    /// `None`: every line of business.
    pub line_of_business: Option<LineOfBusiness>,
    /// The codes it covers; every requested service must be one of them.
    pub codes: Vec<String>,
    /// Each service's units must be at most this.
    pub max_units: u32,
    /// Whether expedited requests may be auto-approved too.
    pub include_expedited: bool,
}

impl AutoRule {
    pub fn matches(&self, r: &AuthRequest) -> bool {
        self.line_of_business
            .is_none_or(|l| l == r.line_of_business)
            && (self.include_expedited || r.urgency == Urgency::Standard)
            && !r.services.is_empty()
            && r.services
                .iter()
                .all(|s| s.units <= self.max_units && self.codes.contains(&s.procedure))
    }

    /// In words, for the timeline: "Auto-approval rule 'PT starter' (Medi-Cal, 97110, up to 12 units)".
    pub fn describe(&self) -> String {
        format!(
            "Auto-approval rule “{}” ({}; {}; up to {} units each)",
            self.name,
            self.line_of_business
                .map_or("every line of business", |l| l.label()),
            self.codes.join(", "),
            self.max_units
        )
    }
}

/// The first rule (lowest id) that approves this request at once.
pub fn auto_approval<'a>(rules: &'a [AutoRule], r: &AuthRequest) -> Option<&'a AutoRule> {
    rules.iter().filter(|a| a.matches(r)).min_by_key(|a| a.id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(id: i64, codes: &str, lob: Option<LineOfBusiness>, required: bool) -> AuthRule {
        AuthRule {
            id,
            codes: CodeRange::parse(codes).unwrap(),
            line_of_business: lob,
            required,
            note: String::new(),
            description: String::new(),
        }
    }

    #[test]
    fn codes_parse() {
        assert_eq!(parse_procedure(" e0601 "), Ok("E0601".into()));
        assert!(parse_procedure("9711").is_err());
        assert!(parse_procedure("9711X").is_err());
        assert_eq!(parse_procedure("0001U"), Ok("0001U".into()));
        assert_eq!(parse_diagnosis("m54.5"), Ok("M545".into()));
        assert!(parse_diagnosis("545").is_err());
        assert!(CodeRange::parse("76499-70010").is_err());
        assert!(CodeRange::parse("70010-E0601").is_err());
        let r = CodeRange::parse("70010-76499").unwrap();
        assert!(r.contains("73721") && !r.contains("77067") && !r.contains("E0601"));
    }

    #[test]
    fn the_most_specific_rule_decides() {
        use LineOfBusiness::*;
        let rules = vec![
            rule(1, "70010-76499", None, true),
            rule(2, "71046", None, false),
            rule(3, "73721", Some(Pace), false),
        ];
        assert!(requirement(&rules, "73721", MediCal).required);
        assert!(
            !requirement(&rules, "73721", Pace).required,
            "LOB-specific wins"
        );
        assert!(
            !requirement(&rules, "71046", MediCal).required,
            "narrower wins"
        );
        let none = requirement(&rules, "99213", MediCal);
        assert!(!none.required && none.rule.is_none());
    }

    #[test]
    fn auto_approval_matches_codes_units_and_line() {
        let mut r = crate::auth::tests::request();
        r.services = vec![crate::auth::RequestedService::new("97110", 12)];
        let a = AutoRule {
            id: 1,
            name: "PT".into(),
            line_of_business: Some(LineOfBusiness::MediCal),
            codes: vec!["97110".into()],
            max_units: 12,
            include_expedited: false,
        };
        assert!(a.matches(&r));
        r.services[0].units = 13;
        assert!(!a.matches(&r));
        r.services[0].units = 6;
        r.urgency = Urgency::Expedited;
        assert!(!a.matches(&r), "expedited only when the rule says so");
        r.urgency = Urgency::Standard;
        r.line_of_business = LineOfBusiness::OneCare;
        assert!(!a.matches(&r));
        assert!(auto_approval(std::slice::from_ref(&a), &r).is_none());
    }
}
