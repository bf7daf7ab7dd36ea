//! Clinical alerts "at a glance" for a PCP office: care gaps of its assigned members, computed
//! from claims history (service lines' procedures and claims' diagnoses). Pure rules; the
//! caller brings the member, the claims facts and today's date.
//!
//! The three measures follow NCQA HEDIS definitions (HEDIS MY2024/MY2025 Volume 2 technical
//! specifications), simplified to what claims alone can show:
//!
//! - **Well-care visit** (HEDIS WCV, "Child and Adolescent Well-Care Visits"): members 3-21
//!   years old as of December 31 of the measurement year need at least one comprehensive
//!   well-care visit during the measurement year. Qualifying: the preventive-medicine E/M codes
//!   of the HEDIS "Well-Care" value set for these ages, CPT 99382-99385 (new patient) and
//!   99392-99395 (established patient).
//! - **Breast cancer screening** (HEDIS BCS-E): women 50-74 as of December 31 of the
//!   measurement year need a mammogram from October 1 two years before the measurement year
//!   through December 31 of the measurement year (27 months). HEDIS reports women 52-74 because
//!   its look-back starts at 50; the plan starts outreach at 50, as the measure's name says.
//!   Qualifying: CPT 77065, 77066, 77067 (diagnostic and screening mammography; HEDIS
//!   "Mammography" value set).
//! - **HbA1c test for members with diabetes** (HEDIS "Comprehensive Diabetes Care" HbA1c
//!   testing indicator, now folded into "Glycemic Status Assessment for Patients With Diabetes",
//!   GSD): members 18-75 as of December 31 with diabetes need an HbA1c test during the
//!   measurement year. Diabetes, from claims: a diagnosis of type 1 or type 2 diabetes (ICD-10-CM
//!   E10.*, E11.*) on a claim in the measurement year or the year before (HEDIS identifies
//!   diabetes over the same two years). Qualifying: CPT 83036, 83037 (HbA1c lab tests) and the
//!   CPT II result codes 3044F, 3046F, 3051F, 3052F (an HbA1c result reported with a visit).
//!
//! The measurement year is the calendar year of the day the alerts are computed (California
//! date); every open gap is due by December 31 of that year.

use crate::coded_enum;
use crate::member::{Sex, age_on};
use chrono::{Datelike, NaiveDate};

coded_enum!(
    /// The care gaps the portal alerts offices about.
    Measure {
        WellCare = ("well_care", "Well-care visit (ages 3-21)"),
        BreastScreening = ("breast_screening", "Breast cancer screening (women 50-74)"),
        DiabetesHba1c = ("diabetes_hba1c", "HbA1c test (diabetes, ages 18-75)"),
    }
);

/// CPT preventive-medicine visits that count as a well-care visit for ages 3-21.
pub const WELL_CARE_CODES: &[&str] = &[
    "99382", "99383", "99384", "99385", "99392", "99393", "99394", "99395",
];
/// CPT mammography codes (screening 77067, diagnostic 77065 and 77066).
pub const MAMMOGRAPHY_CODES: &[&str] = &["77065", "77066", "77067"];
/// HbA1c lab tests and the CPT II codes reporting an HbA1c result.
pub const HBA1C_CODES: &[&str] = &["83036", "83037", "3044F", "3046F", "3051F", "3052F"];

/// One service line from a claim: when and which procedure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    pub date: NaiveDate,
    pub procedure: String,
}

/// One diagnosis from a claim (ICD-10-CM without the dot) and the claim's date of service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnosis {
    pub date: NaiveDate,
    pub code: String,
}

/// What the rules need to know of a member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Patient {
    pub birth_date: NaiveDate,
    pub sex: Sex,
}

/// A measure that applies to a member, open (the alert) or closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gap {
    pub measure: Measure,
    pub open: bool,
    /// The latest qualifying service in the claims considered, if any (inside the window when
    /// the gap is closed; before it when open).
    pub last_service: Option<NaiveDate>,
    /// First day a qualifying service counts.
    pub window_start: NaiveDate,
    /// Last day to close the gap for this measurement year (December 31).
    pub due_by: NaiveDate,
}

impl Gap {
    /// The alert in words, for the office's worklist.
    pub fn words(&self) -> String {
        let since = self.window_start.format("%m/%d/%Y");
        let year = self.due_by.year();
        match (self.measure, self.open) {
            (Measure::WellCare, true) => format!("No well-care visit yet in {year}"),
            (Measure::WellCare, false) => format!("Well-care visit done in {year}"),
            (Measure::BreastScreening, true) => format!("No mammogram since {since}"),
            (Measure::BreastScreening, false) => format!("Mammogram on file since {since}"),
            (Measure::DiabetesHba1c, true) => format!("Diabetes: no HbA1c test yet in {year}"),
            (Measure::DiabetesHba1c, false) => format!("Diabetes: HbA1c tested in {year}"),
        }
    }
}

/// The measurement year a day falls in.
pub fn measurement_year(today: NaiveDate) -> i32 {
    today.year()
}

fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a valid calendar date")
}

/// The earliest day of service any rule looks at for `today` (what to fetch from claims):
/// January 1 of the year before last, which covers the mammography window (October 1 two years
/// back) and the diabetes look-back (the year before), and gives "last service" a little history.
pub fn earliest_relevant(today: NaiveDate) -> NaiveDate {
    ymd(measurement_year(today) - 2, 1, 1)
}

/// Latest qualifying service on or before `until` (and after `from`, if given).
fn latest(
    services: &[Service],
    codes: &[&str],
    from: Option<NaiveDate>,
    until: NaiveDate,
) -> Option<NaiveDate> {
    services
        .iter()
        .filter(|s| s.date <= until && from.is_none_or(|f| s.date >= f))
        .filter(|s| codes.contains(&s.procedure.trim()))
        .map(|s| s.date)
        .max()
}

/// A measure's status given its window: closed by a qualifying service inside it.
fn gap(
    measure: Measure,
    services: &[Service],
    codes: &[&str],
    window_start: NaiveDate,
    today: NaiveDate,
    due_by: NaiveDate,
) -> Gap {
    let inside = latest(services, codes, Some(window_start), today);
    Gap {
        measure,
        open: inside.is_none(),
        last_service: inside.or_else(|| latest(services, codes, None, today)),
        window_start,
        due_by,
    }
}

/// True for ICD-10-CM type 1 (E10) and type 2 (E11) diabetes codes, with or without the dot.
pub fn is_diabetes(code: &str) -> bool {
    let c = code.trim().to_ascii_uppercase();
    c.starts_with("E10") || c.starts_with("E11")
}

/// Every measure that applies to the member on `today`, open or closed. Services and diagnoses
/// dated after `today` are ignored.
pub fn evaluate(
    patient: &Patient,
    services: &[Service],
    diagnoses: &[Diagnosis],
    today: NaiveDate,
) -> Vec<Gap> {
    let year = measurement_year(today);
    let year_start = ymd(year, 1, 1);
    let year_end = ymd(year, 12, 31);
    // HEDIS ages are taken on the last day of the measurement year.
    let age = age_on(patient.birth_date, year_end);
    let mut out = Vec::new();

    if patient.birth_date <= year_end && (3..=21).contains(&age) {
        out.push(gap(
            Measure::WellCare,
            services,
            WELL_CARE_CODES,
            year_start,
            today,
            year_end,
        ));
    }
    if patient.sex == Sex::Female && (50..=74).contains(&age) {
        out.push(gap(
            Measure::BreastScreening,
            services,
            MAMMOGRAPHY_CODES,
            ymd(year - 2, 10, 1),
            today,
            year_end,
        ));
    }
    let diabetic = diagnoses
        .iter()
        .any(|d| d.date >= ymd(year - 1, 1, 1) && d.date <= today && is_diabetes(&d.code));
    if diabetic && (18..=75).contains(&age) {
        out.push(gap(
            Measure::DiabetesHba1c,
            services,
            HBA1C_CODES,
            year_start,
            today,
            year_end,
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn svc(date: &str, code: &str) -> Service {
        Service {
            date: d(date),
            procedure: code.into(),
        }
    }

    fn dx(date: &str, code: &str) -> Diagnosis {
        Diagnosis {
            date: d(date),
            code: code.into(),
        }
    }

    fn woman(birth: &str) -> Patient {
        Patient {
            birth_date: d(birth),
            sex: Sex::Female,
        }
    }

    fn man(birth: &str) -> Patient {
        Patient {
            birth_date: d(birth),
            sex: Sex::Male,
        }
    }

    fn find(gaps: &[Gap], m: Measure) -> Option<&Gap> {
        gaps.iter().find(|g| g.measure == m)
    }

    const TODAY: &str = "2026-06-15";

    #[test]
    fn well_care_ages_are_taken_on_december_31() {
        let today = d(TODAY);
        // Turns 3 on Dec 31, 2026: in. Turns 3 on Jan 1, 2027: out.
        assert!(
            find(
                &evaluate(&man("2023-12-31"), &[], &[], today),
                Measure::WellCare
            )
            .is_some()
        );
        assert!(
            find(
                &evaluate(&man("2024-01-01"), &[], &[], today),
                Measure::WellCare
            )
            .is_none()
        );
        // 21 on Dec 31 (born Jan 1, 2005): in; 22 by Dec 31 (born Dec 31, 2004): out.
        assert!(
            find(
                &evaluate(&man("2005-01-01"), &[], &[], today),
                Measure::WellCare
            )
            .is_some()
        );
        assert!(
            find(
                &evaluate(&man("2004-12-31"), &[], &[], today),
                Measure::WellCare
            )
            .is_none()
        );
    }

    #[test]
    fn well_care_closes_with_a_visit_this_year_only() {
        let today = d(TODAY);
        let child = man("2016-05-01");
        let last_year = [svc("2025-12-31", "99393")];
        let g = evaluate(&child, &last_year, &[], today);
        let wc = find(&g, Measure::WellCare).unwrap();
        assert!(wc.open, "last year's visit does not count this year");
        assert_eq!(wc.last_service, Some(d("2025-12-31")));
        assert_eq!(wc.due_by, d("2026-12-31"));
        assert_eq!(wc.words(), "No well-care visit yet in 2026");

        let this_year = [svc("2026-01-01", "99393"), svc("2025-12-31", "99393")];
        let wc = find(&evaluate(&child, &this_year, &[], today), Measure::WellCare)
            .unwrap()
            .clone();
        assert!(!wc.open);
        assert_eq!(wc.last_service, Some(d("2026-01-01")));

        // A sick visit is not a well-care visit; a future-dated line is ignored.
        let other = [svc("2026-03-01", "99213"), svc("2026-07-01", "99393")];
        assert!(
            find(&evaluate(&child, &other, &[], today), Measure::WellCare)
                .unwrap()
                .open
        );
    }

    #[test]
    fn mammography_window_is_27_months_to_december_31() {
        let today = d(TODAY);
        let w = woman("1966-03-10"); // 60
        let g = |date: &str| {
            find(
                &evaluate(&w, &[svc(date, "77067")], &[], today),
                Measure::BreastScreening,
            )
            .unwrap()
            .clone()
        };
        assert!(!g("2024-10-01").open, "October 1 two years back counts");
        assert!(g("2024-09-30").open, "the day before does not");
        assert_eq!(g("2024-09-30").last_service, Some(d("2024-09-30")));
        assert_eq!(g("2024-10-01").window_start, d("2024-10-01"));
        assert_eq!(
            g("2024-09-30").words(),
            "No mammogram since 10/01/2024",
            "the alert names the window"
        );
        // Diagnostic mammograms count too; other imaging does not.
        for code in MAMMOGRAPHY_CODES {
            assert!(
                !find(
                    &evaluate(&w, &[svc("2025-02-02", code)], &[], today),
                    Measure::BreastScreening
                )
                .unwrap()
                .open
            );
        }
        assert!(
            find(
                &evaluate(&w, &[svc("2025-02-02", "71046")], &[], today),
                Measure::BreastScreening
            )
            .unwrap()
            .open
        );
    }

    #[test]
    fn mammography_ages_and_sex() {
        let today = d(TODAY);
        let has =
            |p: Patient| find(&evaluate(&p, &[], &[], today), Measure::BreastScreening).is_some();
        assert!(has(woman("1976-12-31")), "50 on Dec 31");
        assert!(!has(woman("1977-01-01")), "49 on Dec 31");
        assert!(has(woman("1952-01-01")), "74 on Dec 31");
        assert!(!has(woman("1951-12-31")), "75 on Dec 31");
        assert!(!has(man("1966-03-10")));
    }

    #[test]
    fn the_window_moves_with_the_year() {
        let w = woman("1966-03-10");
        let s = [svc("2024-11-15", "77067")];
        let on = |day: &str| {
            find(&evaluate(&w, &s, &[], d(day)), Measure::BreastScreening)
                .unwrap()
                .clone()
        };
        assert!(!on("2026-12-31").open, "counts through MY2026");
        let next = on("2027-01-01");
        assert!(next.open, "MY2027's window starts 10/01/2025");
        assert_eq!(next.window_start, d("2025-10-01"));
        assert_eq!(next.due_by, d("2027-12-31"));
    }

    #[test]
    fn diabetes_needs_a_diagnosis_this_year_or_last() {
        let today = d(TODAY);
        let p = man("1970-01-01");
        let test = [svc("2026-02-01", "83036")];
        assert!(
            find(
                &evaluate(&p, &[], &[dx("2024-12-31", "E119")], today),
                Measure::DiabetesHba1c
            )
            .is_none(),
            "a diagnosis two years back does not make the member diabetic for this rule"
        );
        let g = evaluate(&p, &[], &[dx("2025-01-01", "E11.9")], today);
        let a1c = find(&g, Measure::DiabetesHba1c).unwrap();
        assert!(a1c.open);
        assert_eq!(a1c.words(), "Diabetes: no HbA1c test yet in 2026");
        assert!(
            !find(
                &evaluate(&p, &test, &[dx("2026-01-10", "E1065")], today),
                Measure::DiabetesHba1c
            )
            .unwrap()
            .open
        );
        // Other E codes are not diabetes; E13 (other specified) is outside the claims rule.
        assert!(
            find(
                &evaluate(&p, &[], &[dx("2026-01-10", "E785")], today),
                Measure::DiabetesHba1c
            )
            .is_none()
        );
        assert!(!is_diabetes("E13.9"));
        // A test last December does not close this year's gap but shows as the last one.
        let last = evaluate(
            &p,
            &[svc("2025-12-20", "83037")],
            &[dx("2025-12-20", "E119")],
            today,
        );
        let a1c = find(&last, Measure::DiabetesHba1c).unwrap();
        assert!(a1c.open);
        assert_eq!(a1c.last_service, Some(d("2025-12-20")));
    }

    #[test]
    fn diabetes_ages() {
        let today = d(TODAY);
        let dxs = [dx("2026-01-10", "E119")];
        let has =
            |b: &str| find(&evaluate(&man(b), &[], &dxs, today), Measure::DiabetesHba1c).is_some();
        assert!(has("2008-12-31"), "18 on Dec 31");
        assert!(!has("2009-01-01"), "17 on Dec 31");
        assert!(has("1951-01-01"), "75 on Dec 31");
        assert!(!has("1950-12-31"), "76 on Dec 31");
    }

    proptest! {
        /// A qualifying service inside the window always closes the gap; none inside leaves it
        /// open; `last_service` is never after today.
        #[test]
        fn closed_iff_a_qualifying_service_in_window(
            offsets in proptest::collection::vec(0i64..1400, 0..6),
            today_offset in 0i64..1500,
            age in 50u32..=74,
        ) {
            let today = d("2024-01-01") + chrono::Days::new(today_offset as u64);
            let year_end = ymd(today.year(), 12, 31);
            let birth = ymd(year_end.year() - age as i32, 6, 1);
            let base = d("2022-01-01");
            let services: Vec<Service> = offsets
                .iter()
                .map(|o| Service { date: base + chrono::Days::new(*o as u64), procedure: "77067".into() })
                .collect();
            let g = evaluate(&woman(&birth.to_string()), &services, &[], today);
            let bcs = find(&g, Measure::BreastScreening).expect("applies at 50-74").clone();
            let start = ymd(today.year() - 2, 10, 1);
            let any_inside = services.iter().any(|s| s.date >= start && s.date <= today);
            prop_assert_eq!(bcs.open, !any_inside);
            prop_assert!(bcs.last_service.is_none_or(|l| l <= today));
            prop_assert_eq!(bcs.due_by, year_end);
        }
    }
}
