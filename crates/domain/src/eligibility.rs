//! Eligibility lookups as provider offices make them: the search criteria (member ID or name,
//! always with the birth date, since the lookup is plan-wide), the date of service, what a batch
//! row says, how a member's spans answer for a day, and which of the plan's notices apply.
//!
//! Dates are accepted the way offices type them: ISO `1980-01-31`, US `01/31/1980` (also
//! `1/31/1980` and `01-31-1980`) and compact `19800131`.

use crate::coded_enum;
use crate::ids::MemberId;
use crate::member::{EligibilitySpan, Member, SpanState};
use crate::plan::{LineOfBusiness, NetworkKind};
use chrono::{DateTime, Datelike, Days, NaiveDate, Utc};
use std::collections::BTreeMap;

/// Today in California (the plan's day), for the default date of service.
pub fn california_today(now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&crate::clock::pacific_offset(now))
        .date_naive()
}

/// Parses a date in one of the forms offices use. `None` when it is none of them or not a real
/// day (February 30).
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    if s.len() == 8 && s.bytes().all(|b| b.is_ascii_digit()) {
        return NaiveDate::parse_from_str(s, "%Y%m%d").ok();
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Some(d);
    }
    for sep in ['/', '-'] {
        let parts: Vec<&str> = s.split(sep).collect();
        if let [m, d, y] = parts[..]
            && y.len() == 4
            && (1..=2).contains(&m.len())
            && (1..=2).contains(&d.len())
            && [m, d, y]
                .iter()
                .all(|p| p.bytes().all(|b| b.is_ascii_digit()))
        {
            return NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
        }
    }
    None
}

/// The oldest birth date the plan accepts (anything earlier is a typing mistake).
fn oldest_birth() -> NaiveDate {
    NaiveDate::from_ymd_opt(1900, 1, 1).expect("valid")
}

/// A birth date as typed: a real day, not in the future, not before 1900.
pub fn parse_birth_date(s: &str, today: NaiveDate) -> Result<NaiveDate, String> {
    if s.trim().is_empty() {
        return Err("Enter the member's birth date, e.g. 01/31/1980.".into());
    }
    let Some(d) = parse_date(s) else {
        return Err(format!(
            "\"{}\" is not a date we can read: use MM/DD/YYYY (01/31/1980) or YYYY-MM-DD.",
            clip(s)
        ));
    };
    if d > today {
        return Err(format!(
            "The birth date {} is in the future.",
            d.format("%m/%d/%Y")
        ));
    }
    if d < oldest_birth() {
        return Err("The birth date is before 1900: check the year.".into());
    }
    Ok(d)
}

/// How far ahead a date of service may be checked: coverage is known up to a year ahead.
pub const DOS_MAX_AHEAD_DAYS: u64 = 366;
/// How far back: claims, corrected claims and disputes reach back more than a year after the
/// service, so three calendar years back covers what offices need to check.
pub const DOS_MAX_BACK_YEARS: i32 = 3;

/// The date of service as typed; empty means today.
pub fn parse_date_of_service(s: &str, today: NaiveDate) -> Result<NaiveDate, String> {
    if s.trim().is_empty() {
        return Ok(today);
    }
    let Some(d) = parse_date(s) else {
        return Err(format!(
            "\"{}\" is not a date we can read: use MM/DD/YYYY or YYYY-MM-DD, or leave it empty for today.",
            clip(s)
        ));
    };
    if d > today + Days::new(DOS_MAX_AHEAD_DAYS) {
        return Err("Eligibility can be checked up to a year ahead.".into());
    }
    let earliest = NaiveDate::from_ymd_opt(today.year() - DOS_MAX_BACK_YEARS, 1, 1).unwrap_or(d);
    if d < earliest {
        return Err(format!(
            "Eligibility can be checked back to {}.",
            earliest.format("%m/%d/%Y")
        ));
    }
    Ok(d)
}

fn clip(s: &str) -> String {
    s.trim().chars().take(30).collect()
}

/// Longest name part accepted.
const NAME_MAX: usize = 60;

fn parse_name(s: &str) -> Result<String, String> {
    let s = s.trim();
    if s.chars().count() > NAME_MAX {
        return Err(format!("A name is at most {NAME_MAX} characters."));
    }
    if s.chars()
        .any(|c| !(c.is_alphabetic() || matches!(c, ' ' | '-' | '\'' | '.')))
    {
        return Err("Use letters, spaces, hyphens and apostrophes only.".into());
    }
    Ok(s.to_string())
}

/// Who to look for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Criteria {
    Id(MemberId),
    /// Last name (any case) with an optional first name (a prefix, any case).
    Name {
        last: String,
        first: Option<String>,
    },
}

/// A complete, valid lookup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lookup {
    pub criteria: Criteria,
    pub birth_date: NaiveDate,
    pub date_of_service: NaiveDate,
}

/// The lookup form (or a batch row) as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LookupForm {
    pub member_id: String,
    pub last_name: String,
    pub first_name: String,
    pub birth_date: String,
    pub date_of_service: String,
}

/// Per-field messages, keyed by the form's field names.
pub type FieldErrors = BTreeMap<&'static str, String>;

impl LookupForm {
    /// Checks every field, so that all mistakes are shown at once. A member ID wins over a
    /// name when both are given.
    pub fn parse(&self, today: NaiveDate) -> Result<Lookup, FieldErrors> {
        let mut errors = FieldErrors::new();
        let birth = parse_birth_date(&self.birth_date, today)
            .map_err(|e| errors.insert("birth_date", e))
            .ok();
        let dos = parse_date_of_service(&self.date_of_service, today)
            .map_err(|e| errors.insert("date_of_service", e))
            .ok();
        let criteria = if !self.member_id.trim().is_empty() {
            match MemberId::parse(&self.member_id) {
                Ok(id) => Some(Criteria::Id(id)),
                Err(e) => {
                    errors.insert("member_id", format!("Not a member ID: {e}."));
                    None
                }
            }
        } else if !self.last_name.trim().is_empty() {
            let last = parse_name(&self.last_name)
                .map_err(|e| errors.insert("last_name", e))
                .ok();
            let first = parse_name(&self.first_name)
                .map_err(|e| errors.insert("first_name", e))
                .ok();
            last.map(|last| Criteria::Name {
                last,
                first: first.filter(|f| !f.is_empty()),
            })
        } else {
            errors.insert(
                "member_id",
                "Enter the member ID from the member's card, or the member's last name.".into(),
            );
            None
        };
        match (criteria, birth, dos) {
            (Some(criteria), Some(birth_date), Some(date_of_service)) if errors.is_empty() => {
                Ok(Lookup {
                    criteria,
                    birth_date,
                    date_of_service,
                })
            }
            _ => Err(errors),
        }
    }
}

/// Whether a member found by last name and birth date also matches the first name typed
/// (a prefix, any case: "Ana" finds "Ana Maria").
pub fn first_name_matches(member: &Member, first: Option<&str>) -> bool {
    first.is_none_or(|f| {
        member
            .first_name
            .to_lowercase()
            .starts_with(&f.trim().to_lowercase())
    })
}

/// The span that answers for a day: the one covering it, else the latest that ended before it,
/// else the first that starts after it. `None` only for a member without spans.
pub fn span_for(spans: &[EligibilitySpan], day: NaiveDate) -> Option<&EligibilitySpan> {
    spans
        .iter()
        .find(|s| s.covers(day))
        .or_else(|| {
            spans
                .iter()
                .filter(|s| s.state_on(day) == SpanState::Termed)
                .max_by_key(|s| s.start)
        })
        .or_else(|| {
            spans
                .iter()
                .filter(|s| s.start > day)
                .min_by_key(|s| s.start)
        })
}

coded_enum!(
    /// The answer for one row of a batch.
    BatchOutcome {
        Found = ("found", "Eligible"),
        Inactive = ("inactive", "Not eligible on the date of service"),
        NotFound = ("not_found", "No member matches"),
        Error = ("error", "Row not checked"),
    }
);

coded_enum!(
    /// How important a plan notice is.
    NoticeLevel {
        Info = ("info", "For your information"),
        Important = ("important", "Important"),
    }
);

/// Something the plan wants offices to know when they check a member: targeted by line of
/// business, health network, kind of network and the span's state; in effect between two days.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanNotice {
    pub code: String,
    pub level: NoticeLevel,
    pub title: String,
    pub body: String,
    pub line_of_business: Option<LineOfBusiness>,
    pub network: Option<String>,
    pub network_kind: Option<NetworkKind>,
    pub span_state: Option<SpanState>,
    pub effective_from: NaiveDate,
    pub effective_to: Option<NaiveDate>,
}

impl PlanNotice {
    /// Whether the notice is in effect on `day` and targets this span.
    pub fn applies(&self, span: &EligibilitySpan, kind: NetworkKind, day: NaiveDate) -> bool {
        self.effective_from <= day
            && self.effective_to.is_none_or(|t| day <= t)
            && self
                .line_of_business
                .is_none_or(|l| l == span.line_of_business)
            && self.network.as_ref().is_none_or(|n| *n == span.network)
            && self.network_kind.is_none_or(|k| k == kind)
            && self.span_state.is_none_or(|s| s == span.state_on(day))
    }
}

/// The notices for a span on a day, important first, without duplicates.
pub fn notices_for<'a>(
    notices: &'a [PlanNotice],
    span: &EligibilitySpan,
    kind: NetworkKind,
    day: NaiveDate,
) -> Vec<&'a PlanNotice> {
    let mut v: Vec<&PlanNotice> = notices
        .iter()
        .filter(|n| n.applies(span, kind, day))
        .collect();
    v.sort_by_key(|n| (n.level != NoticeLevel::Important, n.code.clone()));
    v.dedup_by(|a, b| a.code == b.code);
    v
}

/// Whether a member has a span starting after `day` (a re-enrolment to come).
pub fn has_future_span(spans: &[EligibilitySpan], day: NaiveDate) -> bool {
    spans.iter().any(|s| s.state_on(day) == SpanState::Future)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn span(a: &str, b: Option<&str>, lob: LineOfBusiness, net: &str) -> EligibilitySpan {
        EligibilitySpan::new(d(a), b.map(d), lob, net.into(), None).unwrap()
    }

    #[test]
    fn dates_in_office_forms() {
        let want = Some(d("1980-01-31"));
        for s in [
            "1980-01-31",
            "01/31/1980",
            "1/31/1980",
            "01-31-1980",
            "19800131",
            " 01/31/1980 ",
        ] {
            assert_eq!(parse_date(s), want, "{s}");
        }
        for s in [
            "02/30/1980",
            "31/01/1980",
            "1980/01/31",
            "Jan 31 1980",
            "",
            "01/31/80",
            "1e3",
        ] {
            assert_eq!(parse_date(s), None, "{s}");
        }
    }

    #[test]
    fn birth_dates() {
        let today = d("2026-06-15");
        assert_eq!(parse_birth_date("06/15/2026", today), Ok(today));
        assert!(
            parse_birth_date("06/16/2026", today)
                .unwrap_err()
                .contains("future")
        );
        assert!(
            parse_birth_date("1899-12-31", today)
                .unwrap_err()
                .contains("1900")
        );
        assert!(
            parse_birth_date("13/01/1980", today)
                .unwrap_err()
                .contains("not a date")
        );
        assert!(parse_birth_date("", today).unwrap_err().contains("Enter"));
    }

    #[test]
    fn dates_of_service() {
        let today = d("2026-06-15");
        assert_eq!(parse_date_of_service("", today), Ok(today));
        assert_eq!(
            parse_date_of_service("2026-01-02", today),
            Ok(d("2026-01-02"))
        );
        assert!(parse_date_of_service("2027-06-17", today).is_err());
        assert!(parse_date_of_service("2023-01-01", today).is_ok());
        assert!(parse_date_of_service("2022-12-31", today).is_err());
    }

    #[test]
    fn the_form_names_every_bad_field() {
        let today = d("2026-06-15");
        let f = LookupForm {
            member_id: "12".into(),
            birth_date: "2030-01-01".into(),
            date_of_service: "soon".into(),
            ..Default::default()
        };
        let e = f.parse(today).unwrap_err();
        assert_eq!(
            e.keys().copied().collect::<Vec<_>>(),
            ["birth_date", "date_of_service", "member_id"]
        );
        let e = LookupForm {
            birth_date: "01/31/1980".into(),
            ..Default::default()
        }
        .parse(today)
        .unwrap_err();
        assert!(e.contains_key("member_id"), "an ID or a name is needed");
        let ok = LookupForm {
            member_id: "m000000042".into(),
            birth_date: "01/31/1980".into(),
            ..Default::default()
        }
        .parse(today)
        .unwrap();
        assert_eq!(ok.criteria, Criteria::Id(MemberId::from_sequence(42)));
        assert_eq!(ok.date_of_service, today);
        let by_name = LookupForm {
            last_name: " O'Neil ".into(),
            first_name: "".into(),
            birth_date: "1980-01-31".into(),
            ..Default::default()
        }
        .parse(today)
        .unwrap();
        assert_eq!(
            by_name.criteria,
            Criteria::Name {
                last: "O'Neil".into(),
                first: None
            }
        );
        let bad_name = LookupForm {
            last_name: "Smith; DROP".into(),
            birth_date: "1980-01-31".into(),
            ..Default::default()
        };
        assert!(bad_name.parse(today).unwrap_err().contains_key("last_name"));
    }

    #[test]
    fn the_span_that_answers() {
        let spans = [
            span(
                "2024-01-01",
                Some("2024-06-30"),
                LineOfBusiness::MediCal,
                "CCN",
            ),
            span(
                "2024-09-01",
                Some("2025-03-31"),
                LineOfBusiness::MediCal,
                "HHN",
            ),
            span("2026-07-01", None, LineOfBusiness::OneCare, "CCN"),
        ];
        assert_eq!(span_for(&spans, d("2024-02-01")).unwrap().network, "CCN");
        assert_eq!(
            span_for(&spans, d("2024-08-01")).unwrap().start,
            d("2024-01-01"),
            "latest termed"
        );
        assert_eq!(
            span_for(&spans, d("2026-06-15")).unwrap().start,
            d("2024-09-01")
        );
        assert_eq!(
            span_for(&spans, d("2023-01-01")).unwrap().start,
            d("2024-01-01"),
            "first future"
        );
        assert!(has_future_span(&spans, d("2026-06-15")));
        assert!(!has_future_span(&spans, d("2026-07-01")));
        assert_eq!(span_for(&[], d("2026-01-01")), None);
    }

    fn notice(code: &str) -> PlanNotice {
        PlanNotice {
            code: code.into(),
            level: NoticeLevel::Info,
            title: code.into(),
            body: String::new(),
            line_of_business: None,
            network: None,
            network_kind: None,
            span_state: None,
            effective_from: d("2024-01-01"),
            effective_to: None,
        }
    }

    #[test]
    fn notices_target_and_expire() {
        let s = span("2025-01-01", None, LineOfBusiness::OneCare, "HHN");
        let day = d("2026-06-15");
        let mut onecare = notice("dsnp");
        onecare.line_of_business = Some(LineOfBusiness::OneCare);
        let mut medi = notice("medi");
        medi.line_of_business = Some(LineOfBusiness::MediCal);
        let mut delegated = notice("delegated");
        delegated.network_kind = Some(NetworkKind::Delegated);
        delegated.level = NoticeLevel::Important;
        let mut expired = notice("old");
        expired.effective_to = Some(d("2025-12-31"));
        let mut termed = notice("termed");
        termed.span_state = Some(SpanState::Termed);
        let mut other_net = notice("smg");
        other_net.network = Some("SMG".into());
        let all = [onecare, medi, delegated, expired, termed, other_net];
        let got: Vec<&str> = notices_for(&all, &s, NetworkKind::Delegated, day)
            .iter()
            .map(|n| n.code.as_str())
            .collect();
        assert_eq!(got, ["delegated", "dsnp"], "important first");
        let got: Vec<&str> = notices_for(&all, &s, NetworkKind::Community, d("2024-12-01"))
            .iter()
            .map(|n| n.code.as_str())
            .collect();
        assert_eq!(
            got,
            ["dsnp", "old"],
            "a future span is not termed; kind must match"
        );
    }
}
