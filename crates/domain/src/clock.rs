//! The legal decision clocks for referrals and prior authorizations.
//!
//! - Expedited: 72 hours from receipt (CMS-0057-F; H&S Code §1367.01(h)(2)).
//! - Standard: 7 calendar days from receipt (CMS-0057-F, from 1 Jan 2026); for Medi-Cal also no
//!   later than 5 working days (H&S Code §1367.01(h)(1)): the earlier of the two applies.
//! - Pended for information: the deadline may be extended by up to 14 calendar days
//!   (42 CFR §438.210(d)); for Medi-Cal standard requests, once the information arrives the plan
//!   has 5 working days from its receipt, still within the extended limit.
//!
//! Working-day deadlines end at the close (23:59:59) of the working day in California time.

use crate::auth::Urgency;
use crate::calendar::add_working_days;
use crate::plan::LineOfBusiness;
use chrono::{
    DateTime, Datelike, Duration, FixedOffset, NaiveDate, NaiveTime, TimeZone, Utc, Weekday,
};

pub const EXPEDITED: Duration = Duration::hours(72);
pub const STANDARD: Duration = Duration::days(7);
pub const MEDI_CAL_WORKING_DAYS: u32 = 5;
pub const PEND_EXTENSION: Duration = Duration::days(14);

/// What the clock depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClockInput {
    pub line_of_business: LineOfBusiness,
    pub urgency: Urgency,
    pub received: DateTime<Utc>,
    /// When the plan asked for more information, if it did (before the original deadline).
    pub pended_at: Option<DateTime<Utc>>,
    /// When the requested information arrived.
    pub info_received: Option<DateTime<Utc>>,
}

/// A deadline and, in words, the rule that set it (shown to both sides).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deadline {
    pub due: DateTime<Utc>,
    pub rule: &'static str,
}

/// US Pacific offset at an instant: daylight time from the second Sunday of March 02:00 local
/// to the first Sunday of November 02:00 local (rules since 2007).
pub fn pacific_offset(at: DateTime<Utc>) -> FixedOffset {
    let year = at.year();
    let second_sunday_march =
        NaiveDate::from_weekday_of_month_opt(year, 3, Weekday::Sun, 2).expect("exists");
    let first_sunday_nov =
        NaiveDate::from_weekday_of_month_opt(year, 11, Weekday::Sun, 1).expect("exists");
    // 02:00 PST = 10:00 UTC; 02:00 PDT = 09:00 UTC.
    let dst_start = second_sunday_march
        .and_hms_opt(10, 0, 0)
        .expect("valid")
        .and_utc();
    let dst_end = first_sunday_nov
        .and_hms_opt(9, 0, 0)
        .expect("valid")
        .and_utc();
    let hours = if at >= dst_start && at < dst_end {
        -7
    } else {
        -8
    };
    FixedOffset::east_opt(hours * 3600).expect("valid offset")
}

fn california_date(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&pacific_offset(at)).date_naive()
}

/// 23:59:59 California time on `day`, as an instant.
fn end_of_day(day: NaiveDate) -> DateTime<Utc> {
    let noon = day.and_hms_opt(12, 0, 0).expect("valid").and_utc();
    let local = day.and_time(NaiveTime::from_hms_opt(23, 59, 59).expect("valid"));
    pacific_offset(noon)
        .from_local_datetime(&local)
        .single()
        .expect("fixed offsets are unambiguous")
        .with_timezone(&Utc)
}

fn working_days_after(at: DateTime<Utc>, n: u32) -> DateTime<Utc> {
    end_of_day(add_working_days(california_date(at), n))
}

/// The deadline before any pend.
fn base(input: &ClockInput) -> Deadline {
    match (input.urgency, input.line_of_business) {
        (Urgency::Expedited, _) => Deadline {
            due: input.received + EXPEDITED,
            rule: "Expedited: 72 hours from receipt",
        },
        (Urgency::Standard, LineOfBusiness::MediCal) => {
            let calendar = input.received + STANDARD;
            let working = working_days_after(input.received, MEDI_CAL_WORKING_DAYS);
            if working < calendar {
                Deadline {
                    due: working,
                    rule: "Medi-Cal standard: 5 working days from receipt",
                }
            } else {
                Deadline {
                    due: calendar,
                    rule: "Standard: 7 calendar days from receipt",
                }
            }
        }
        (Urgency::Standard, _) => Deadline {
            due: input.received + STANDARD,
            rule: "Standard: 7 calendar days from receipt",
        },
    }
}

/// When the decision is due.
pub fn decision_deadline(input: &ClockInput) -> Deadline {
    let base = base(input);
    // An extension only counts when the plan asked for information before its deadline passed.
    let Some(_) = input
        .pended_at
        .filter(|p| *p < base.due && *p >= input.received)
    else {
        return base;
    };
    let extended = Deadline {
        due: base.due + PEND_EXTENSION,
        rule: "Pended for information: extended by up to 14 calendar days",
    };
    match (input.info_received, input.urgency, input.line_of_business) {
        (Some(info), Urgency::Standard, LineOfBusiness::MediCal) => {
            let after_info = working_days_after(info, MEDI_CAL_WORKING_DAYS);
            if after_info < extended.due {
                Deadline {
                    due: after_info,
                    rule: "Medi-Cal: 5 working days from receipt of the requested information",
                }
            } else {
                extended
            }
        }
        _ => extended,
    }
}

/// Overdue: undecided past the deadline, or decided after it.
pub fn is_overdue(
    deadline: &Deadline,
    decided_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> bool {
    decided_at.unwrap_or(now) > deadline.due
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::is_working_day;
    use proptest::prelude::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn input(lob: LineOfBusiness, urgency: Urgency, received: &str) -> ClockInput {
        ClockInput {
            line_of_business: lob,
            urgency,
            received: at(received),
            pended_at: None,
            info_received: None,
        }
    }

    #[test]
    fn expedited_is_72_hours() {
        let d = decision_deadline(&input(
            LineOfBusiness::OneCare,
            Urgency::Expedited,
            "2026-11-25T16:00:00Z",
        ));
        assert_eq!(d.due, at("2026-11-28T16:00:00Z"));
    }

    #[test]
    fn medi_cal_standard_over_thanksgiving() {
        // Received Tue 2026-11-24 09:00 PST. 5 working days: Wed 25, Mon 30, Tue 1, Wed 2, Thu 3 Dec
        // (Thanksgiving and the Friday after are holidays) -> Dec 3 ends after Dec 1 09:00 (7 calendar days),
        // so the 7-calendar-day rule is the earlier and applies.
        let d = decision_deadline(&input(
            LineOfBusiness::MediCal,
            Urgency::Standard,
            "2026-11-24T17:00:00Z",
        ));
        assert_eq!(d.due, at("2026-12-01T17:00:00Z"));
        assert!(d.rule.contains("7 calendar days"));
        // Received Wed 2026-10-07 10:00 PDT: 5 working days -> Wed Oct 14 23:59:59 PDT; 7 days -> Oct 14 10:00 PDT.
        let d = decision_deadline(&input(
            LineOfBusiness::MediCal,
            Urgency::Standard,
            "2026-10-07T17:00:00Z",
        ));
        assert_eq!(d.due, at("2026-10-14T17:00:00Z"));
    }

    #[test]
    fn medi_cal_working_days_win_when_earlier() {
        // Received Saturday 2026-10-03 10:00 PDT: 5 working days end Fri Oct 9 23:59:59 PDT, before Oct 10 10:00 PDT.
        let d = decision_deadline(&input(
            LineOfBusiness::MediCal,
            Urgency::Standard,
            "2026-10-03T17:00:00Z",
        ));
        assert_eq!(d.due, at("2026-10-10T06:59:59Z"));
        assert!(d.rule.contains("5 working days"));
    }

    #[test]
    fn pend_extends_and_information_restarts_for_medi_cal() {
        let mut i = input(
            LineOfBusiness::MediCal,
            Urgency::Standard,
            "2026-10-07T17:00:00Z",
        );
        i.pended_at = Some(at("2026-10-08T17:00:00Z"));
        let d = decision_deadline(&i);
        assert_eq!(d.due, at("2026-10-28T17:00:00Z"));
        // Information arrives Tue Oct 13 (Mon Oct 12 is not a state holiday): 5 working days -> Tue Oct 20 end of day PDT.
        i.info_received = Some(at("2026-10-13T18:00:00Z"));
        assert_eq!(decision_deadline(&i).due, at("2026-10-21T06:59:59Z"));
        // A pend after the deadline passed extends nothing.
        i.pended_at = Some(at("2026-10-20T17:00:00Z"));
        i.info_received = None;
        assert_eq!(decision_deadline(&i).due, at("2026-10-14T17:00:00Z"));
    }

    #[test]
    fn overdue() {
        let d = Deadline {
            due: at("2026-01-01T00:00:00Z"),
            rule: "",
        };
        assert!(is_overdue(&d, None, at("2026-01-01T00:00:01Z")));
        assert!(!is_overdue(
            &d,
            Some(at("2025-12-31T00:00:00Z")),
            at("2026-02-01T00:00:00Z")
        ));
    }

    fn lob() -> impl Strategy<Value = LineOfBusiness> {
        prop::sample::select(LineOfBusiness::ALL.to_vec())
    }

    proptest! {
        #[test]
        fn clock_invariants(secs in 1_767_225_600i64..1_830_297_600, lob in lob(), expedited in any::<bool>(),
                            pend_after in 0i64..10 * 86_400, info_after in 0i64..20 * 86_400) {
            let urgency = if expedited { Urgency::Expedited } else { Urgency::Standard };
            let received = DateTime::from_timestamp(secs, 0).unwrap();
            let plain = ClockInput { line_of_business: lob, urgency, received, pended_at: None, info_received: None };
            let base = decision_deadline(&plain);
            prop_assert!(base.due > received);
            prop_assert!(base.due <= received + STANDARD, "never later than 7 calendar days unpended");
            if expedited {
                prop_assert_eq!(base.due, received + EXPEDITED);
            }
            if lob == LineOfBusiness::MediCal && !expedited && base.rule.contains("working") {
                prop_assert!(is_working_day(california_date(base.due)));
            }
            let pended_at = received + Duration::seconds(pend_after);
            let pended = ClockInput { pended_at: Some(pended_at), info_received: Some(pended_at + Duration::seconds(info_after)), ..plain };
            let ext = decision_deadline(&pended);
            // A pend never shortens the clock and never stretches it past the 14-day extension.
            prop_assert!(ext.due >= base.due);
            prop_assert!(ext.due <= base.due + PEND_EXTENSION);
            if pended_at >= base.due {
                prop_assert_eq!(ext.due, base.due);
            }
        }

        /// Medi-Cal standard: when the working-day rule sets the deadline it is the close of the
        /// fifth working day after the day of receipt (weekends and state holidays skipped), in
        /// California time, and never later than seven calendar days.
        #[test]
        fn medi_cal_working_days_skip_weekends_and_holidays(secs in 1_767_225_600i64..1_830_297_600) {
            let received = DateTime::from_timestamp(secs, 0).unwrap();
            let d = decision_deadline(&ClockInput { line_of_business: LineOfBusiness::MediCal, urgency: Urgency::Standard, received, pended_at: None, info_received: None });
            let working = working_days_after(received, MEDI_CAL_WORKING_DAYS);
            prop_assert_eq!(d.due, working.min(received + STANDARD));
            let due_local = working.with_timezone(&pacific_offset(working));
            prop_assert_eq!(due_local.format("%H:%M:%S").to_string(), "23:59:59");
            prop_assert_eq!(crate::calendar::working_days_between(california_date(received), due_local.date_naive()), MEDI_CAL_WORKING_DAYS);
            prop_assert!(is_working_day(due_local.date_naive()));
        }

        /// A later receipt never gets an earlier deadline (same line and urgency).
        #[test]
        fn later_receipt_never_earlier_deadline(secs in 1_767_225_600i64..1_830_297_600, later in 0i64..20 * 86_400, lob in lob(), expedited in any::<bool>()) {
            let urgency = if expedited { Urgency::Expedited } else { Urgency::Standard };
            let a = DateTime::from_timestamp(secs, 0).unwrap();
            let b = a + Duration::seconds(later);
            let d = |received| decision_deadline(&ClockInput { line_of_business: lob, urgency, received, pended_at: None, info_received: None }).due;
            prop_assert!(d(b) >= d(a));
        }

        /// After a pend, the information's arrival sets the Medi-Cal standard clock to five
        /// working days from its receipt, capped by the 14-day extension; other lines and
        /// expedited requests keep the plain extension whatever arrives.
        #[test]
        fn information_restarts_only_medi_cal_standard(secs in 1_767_225_600i64..1_830_297_600, lob in lob(), expedited in any::<bool>(),
                                                       pend_after in 0i64..3 * 86_400, info_after in 0i64..20 * 86_400) {
            let urgency = if expedited { Urgency::Expedited } else { Urgency::Standard };
            let received = DateTime::from_timestamp(secs, 0).unwrap();
            let plain = ClockInput { line_of_business: lob, urgency, received, pended_at: None, info_received: None };
            let base = decision_deadline(&plain).due;
            let pended_at = received + Duration::seconds(pend_after);
            prop_assume!(pended_at < base);
            let info = pended_at + Duration::seconds(info_after);
            let waiting = decision_deadline(&ClockInput { pended_at: Some(pended_at), ..plain });
            prop_assert_eq!(waiting.due, base + PEND_EXTENSION);
            let answered = decision_deadline(&ClockInput { pended_at: Some(pended_at), info_received: Some(info), ..plain });
            if lob == LineOfBusiness::MediCal && !expedited {
                prop_assert_eq!(answered.due, working_days_after(info, MEDI_CAL_WORKING_DAYS).min(base + PEND_EXTENSION));
                if answered.rule.contains("requested information") {
                    prop_assert!(answered.due > info);
                    let local = answered.due.with_timezone(&pacific_offset(answered.due)).date_naive();
                    prop_assert!(is_working_day(local));
                }
            } else {
                prop_assert_eq!(answered.due, base + PEND_EXTENSION);
            }
        }
    }
}
