//! Working days: weekdays that are not California state holidays. Used by the Medi-Cal
//! authorization clock (H&S Code §1367.01: "5 working days") and dispute deadlines (acknowledge in
//! 15 or 2 working days, decide in 45 working days).
//!
//! Holidays per Government Code §19853 and §6700 as applied by CalHR: New Year's Day, Martin
//! Luther King Jr. Day (3rd Monday of January), Lincoln's Birthday (Feb 12), Presidents' Day (3rd
//! Monday of February), Cesar Chavez Day (Mar 31), Memorial Day (last Monday of May), Independence
//! Day, Labor Day (1st Monday of September), Native American Day (4th Friday of September),
//! Veterans Day (Nov 11), Thanksgiving (4th Thursday of November) and the day after, Christmas.
//! A holiday on a Sunday is observed the Monday after; one on a Saturday is not moved (state
//! employees get holiday credit instead), so it costs no working day.

use chrono::{Datelike, Days, NaiveDate, Weekday};

fn nth_weekday(year: i32, month: u32, weekday: Weekday, n: u8) -> NaiveDate {
    NaiveDate::from_weekday_of_month_opt(year, month, weekday, n)
        .expect("every month has four of each weekday")
}

fn last_weekday(year: i32, month: u32, weekday: Weekday) -> NaiveDate {
    NaiveDate::from_weekday_of_month_opt(year, month, weekday, 5)
        .unwrap_or_else(|| nth_weekday(year, month, weekday, 4))
}

/// The observed California state holidays of `year`, sorted.
pub fn state_holidays(year: i32) -> Vec<NaiveDate> {
    let fixed = |m, d| {
        let day = NaiveDate::from_ymd_opt(year, m, d).expect("valid fixed holiday");
        if day.weekday() == Weekday::Sun {
            day + Days::new(1)
        } else {
            day
        }
    };
    let thanksgiving = nth_weekday(year, 11, Weekday::Thu, 4);
    let mut v = vec![
        fixed(1, 1),
        nth_weekday(year, 1, Weekday::Mon, 3),
        fixed(2, 12),
        nth_weekday(year, 2, Weekday::Mon, 3),
        fixed(3, 31),
        last_weekday(year, 5, Weekday::Mon),
        fixed(7, 4),
        nth_weekday(year, 9, Weekday::Mon, 1),
        nth_weekday(year, 9, Weekday::Fri, 4),
        fixed(11, 11),
        thanksgiving,
        thanksgiving + Days::new(1),
        fixed(12, 25),
    ];
    v.sort();
    v
}

pub fn is_holiday(day: NaiveDate) -> bool {
    state_holidays(day.year()).contains(&day)
}

pub fn is_working_day(day: NaiveDate) -> bool {
    !matches!(day.weekday(), Weekday::Sat | Weekday::Sun) && !is_holiday(day)
}

/// The day that is `n` working days after `from` (the day of receipt does not count).
pub fn add_working_days(from: NaiveDate, n: u32) -> NaiveDate {
    let mut day = from;
    let mut left = n;
    while left > 0 {
        day = day.succ_opt().expect("date in range");
        if is_working_day(day) {
            left -= 1;
        }
    }
    day
}

/// Working days after `from` up to and including `to` (0 when `to <= from`).
pub fn working_days_between(from: NaiveDate, to: NaiveDate) -> u32 {
    from.iter_days()
        .skip(1)
        .take_while(|d| *d <= to)
        .filter(|d| is_working_day(*d))
        .count() as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn holidays_2026() {
        let h = state_holidays(2026);
        for day in [
            "2026-01-01",
            "2026-01-19",
            "2026-02-12",
            "2026-02-16",
            "2026-03-31",
            "2026-05-25",
            "2026-09-07",
            "2026-09-25",
            "2026-11-11",
            "2026-11-26",
            "2026-11-27",
            "2026-12-25",
        ] {
            assert!(h.contains(&d(day)), "{day} is a 2026 holiday");
        }
        // July 4, 2026 is a Saturday: not moved.
        assert!(h.contains(&d("2026-07-04")));
        assert!(!h.contains(&d("2026-07-03")));
        // Jan 1, 2023 was a Sunday: observed Monday Jan 2.
        assert!(state_holidays(2023).contains(&d("2023-01-02")));
    }

    #[test]
    fn working_days_skip_weekends_and_holidays() {
        // Wed 2026-11-25 + 2 working days: Thanksgiving and the Friday after are holidays, then the weekend.
        assert_eq!(add_working_days(d("2026-11-25"), 1), d("2026-11-30"));
        assert_eq!(add_working_days(d("2026-11-25"), 2), d("2026-12-01"));
        // Friday + 5 working days = next Friday.
        assert_eq!(add_working_days(d("2026-10-02"), 5), d("2026-10-09"));
        assert_eq!(working_days_between(d("2026-10-02"), d("2026-10-09")), 5);
    }

    proptest! {
        /// Adding n working days lands on a working day exactly n working days later, never sooner
        /// than n calendar days.
        #[test]
        fn add_working_days_is_consistent(offset in 0u64..3650, n in 1u32..60) {
            let from = d("2020-01-01") + Days::new(offset);
            let to = add_working_days(from, n);
            prop_assert!(is_working_day(to));
            prop_assert_eq!(working_days_between(from, to), n);
            prop_assert!((to - from).num_days() >= i64::from(n));
            // At most a weekend per five working days, plus a year's thirteen holidays.
            prop_assert!((to - from).num_days() <= i64::from(n) * 7 / 5 + 2 + 13);
        }
    }
}
