//! Limits on eligibility lookups that find nobody: what stops an office user (or a trading
//! partner) from recovering a member's birth date by trying dates, or finding members by
//! trying member IDs. The birth date is what limits a plan-wide lookup, so the number of wrong
//! guesses is what must be bounded; found members cost nothing.
//!
//! Each user and each office (organisation) has a budget of not-found lookups ("misses") over
//! a rolling day, kept as hourly counts ([`Tally`]). A lookup is admitted, and counted, in one
//! step ([`admit`]) after it was made but before its answer is shown, so the count can never
//! pass the budget; once a budget is spent every lookup is refused, found or not (otherwise
//! "refused" against "answered" would itself tell a right guess from a wrong one).
//!
//! The numbers: an office checks perhaps a few hundred members a day, and a few percent of
//! those miss (a typo, a member not enrolled yet, a card from another plan): dozens a day for
//! a busy office, rarely more than ten for one person. [`USER_MISSES`] leaves one person three
//! times that, [`OFFICE_MISSES`] five busy users. A birth date is one of about 33,000 days
//! (ages 0 to 90), so 30 wrong guesses a day recover one member's in three years on average,
//! and a sweep of member IDs finds at most 30 a day to try dates on.

use crate::ids::MemberId;
use chrono::{DateTime, NaiveDate, Utc};
use std::collections::{HashMap, HashSet};

/// The rolling window, in hours: a miss counts for the hour it was made in and the 23 after.
pub const WINDOW_HOURS: i64 = 24;
/// Not-found lookups one user may make in the window (page, batch and CORE together).
pub const USER_MISSES: u32 = 30;
/// Not-found lookups one office (or billing service, or a partner's organisation) may make.
pub const OFFICE_MISSES: u32 = 150;
/// Distinct birth dates one member ID may be tried with in one batch: a mother's ID used for
/// her newborn (Medi-Cal's first months) or twins give two or three, never more.
pub const MAX_BIRTH_DATES_PER_ID: usize = 3;
/// An office's miss ratio is abnormal from this many misses in the window...
pub const ALERT_MIN_MISSES: u32 = 20;
/// ... when at least this share of its lookups missed (offices run at 5 to 15%).
pub const ALERT_RATIO_PERCENT: u64 = 40;

const HOUR: i64 = 3600;

/// One hour's counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Hour {
    /// Unix hours (seconds / 3600).
    at: i64,
    lookups: u32,
    misses: u32,
    /// Lookups refused because a budget was spent.
    refused: u32,
}

/// A user's or an office's lookups by hour over the window, as stored:
/// `hour:lookups:misses:refused`, comma-separated. Expired hours are dropped when it changes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Tally(Vec<Hour>);

/// Lookups and misses in the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Totals {
    pub lookups: u64,
    pub misses: u64,
    pub refused: u64,
}

impl Totals {
    /// Misses per hundred lookups.
    pub fn ratio_percent(&self) -> u64 {
        (self.misses * 100).checked_div(self.lookups).unwrap_or(0)
    }

    /// Whether an office's figures call for the plan's attention: many misses at a high ratio,
    /// or the budget spent.
    pub fn abnormal(&self) -> bool {
        self.misses >= u64::from(OFFICE_MISSES)
            || (self.misses >= u64::from(ALERT_MIN_MISSES)
                && self.misses * 100 >= self.lookups * ALERT_RATIO_PERCENT)
    }
}

fn hour_of(t: DateTime<Utc>) -> i64 {
    t.timestamp().div_euclid(HOUR)
}

impl Tally {
    /// Reads the stored form; unreadable entries are dropped.
    pub fn parse(stored: &str) -> Tally {
        let hour = |s: &str| {
            let mut it = s.trim().split(':').map(str::parse::<i64>);
            let (at, l, m, r) = (
                it.next()?.ok()?,
                it.next()?.ok()?,
                it.next()?.ok()?,
                it.next()?.ok()?,
            );
            let n = |v: i64| u32::try_from(v).ok();
            Some(Hour {
                at,
                lookups: n(l)?,
                misses: n(m)?,
                refused: n(r)?,
            })
        };
        Tally(stored.split(',').filter_map(hour).collect())
    }

    pub fn encode(&self) -> String {
        self.0
            .iter()
            .map(|h| format!("{}:{}:{}:{}", h.at, h.lookups, h.misses, h.refused))
            .collect::<Vec<_>>()
            .join(",")
    }

    fn live(&self, now: DateTime<Utc>) -> impl Iterator<Item = &Hour> {
        let first = hour_of(now) - WINDOW_HOURS + 1;
        self.0.iter().filter(move |h| h.at >= first)
    }

    pub fn totals(&self, now: DateTime<Utc>) -> Totals {
        self.live(now).fold(Totals::default(), |t, h| Totals {
            lookups: t.lookups + u64::from(h.lookups),
            misses: t.misses + u64::from(h.misses),
            refused: t.refused + u64::from(h.refused),
        })
    }

    /// The tally with these counts added to the current hour, expired hours dropped.
    pub fn recorded(&self, now: DateTime<Utc>, lookups: u32, misses: u32, refused: u32) -> Tally {
        let mut hours: Vec<Hour> = self.live(now).copied().collect();
        let at = hour_of(now);
        match hours.iter_mut().find(|h| h.at == at) {
            Some(h) => {
                h.lookups = h.lookups.saturating_add(lookups);
                h.misses = h.misses.saturating_add(misses);
                h.refused = h.refused.saturating_add(refused);
            }
            None => hours.push(Hour {
                at,
                lookups,
                misses,
                refused,
            }),
        }
        hours.sort_by_key(|h| h.at);
        Tally(hours)
    }

    /// When the misses in the window will next be under `limit` (`None`: they are now).
    pub fn frees_at(&self, limit: u32, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let mut misses = self.totals(now).misses;
        if misses < u64::from(limit) {
            return None;
        }
        let mut hours: Vec<&Hour> = self.live(now).collect();
        hours.sort_by_key(|h| h.at);
        for h in hours {
            misses -= u64::from(h.misses);
            if misses < u64::from(limit) {
                return DateTime::from_timestamp((h.at + WINDOW_HOURS) * HOUR, 0);
            }
        }
        None
    }
}

/// What [`admit`] decided for one request: its first `answered` attempts are answered (the
/// rest refused), and the tallies to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admission {
    pub answered: usize,
    /// Misses among the answered attempts.
    pub misses: u32,
    pub user: Tally,
    pub office: Tally,
    /// The office's figures just became abnormal and the plan was not alerted this window:
    /// alert now (and store [`Admission::alerted_until`]).
    pub alert: bool,
    pub alerted_until: Option<DateTime<Utc>>,
    /// When the user may look up again, if refused.
    pub retry_at: Option<DateTime<Utc>>,
}

impl Admission {
    pub fn limited(&self, attempts: usize) -> bool {
        self.answered < attempts
    }
}

/// Admits attempts in order (`true`: that attempt found nobody) while both budgets last: the
/// attempt that spends a budget is still answered, every one after it is refused.
pub fn admit(
    user: &Tally,
    office: &Tally,
    office_alerted_until: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    attempts: &[bool],
) -> Admission {
    let (mut um, mut om) = (user.totals(now).misses, office.totals(now).misses);
    let (mut answered, mut misses) = (0usize, 0u32);
    for &miss in attempts {
        if um >= u64::from(USER_MISSES) || om >= u64::from(OFFICE_MISSES) {
            break;
        }
        answered += 1;
        if miss {
            misses += 1;
            um += 1;
            om += 1;
        }
    }
    let refused = u32::try_from(attempts.len() - answered).unwrap_or(u32::MAX);
    let lookups = u32::try_from(answered).unwrap_or(u32::MAX);
    let user = user.recorded(now, lookups, misses, refused);
    let office = office.recorded(now, lookups, misses, refused);
    let due = office_alerted_until.is_none_or(|t| now >= t);
    let alert = due && office.totals(now).abnormal();
    let retry_at = if answered < attempts.len() {
        let u = user.frees_at(USER_MISSES, now);
        let o = office.frees_at(OFFICE_MISSES, now);
        u.max(o)
    } else {
        None
    };
    Admission {
        answered,
        misses,
        user,
        office,
        alert,
        alerted_until: if alert {
            Some(now + chrono::Duration::hours(WINDOW_HOURS))
        } else {
            office_alerted_until
        },
        retry_at,
    }
}

/// Member IDs a batch tries with more than [`MAX_BIRTH_DATES_PER_ID`] birth dates, with how
/// many: guessing, not checking. In the order first seen.
pub fn guessed_ids<'a>(
    tries: impl IntoIterator<Item = (&'a MemberId, NaiveDate)>,
) -> Vec<(MemberId, usize)> {
    let mut dates: HashMap<&MemberId, HashSet<NaiveDate>> = HashMap::new();
    let mut order = Vec::new();
    for (id, birth) in tries {
        let set = dates.entry(id).or_insert_with(|| {
            order.push(id);
            HashSet::new()
        });
        set.insert(birth);
    }
    order
        .into_iter()
        .filter_map(|id| {
            let n = dates[id].len();
            (n > MAX_BIRTH_DATES_PER_ID).then(|| (id.clone(), n))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn t(hours: f64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_790_000_000 + (hours * 3600.0) as i64, 0).unwrap()
    }

    #[test]
    fn misses_count_for_a_rolling_day() {
        let tally = Tally::default().recorded(t(0.0), 10, 4, 0);
        let tally = tally.recorded(t(5.0), 6, 2, 1);
        assert_eq!(
            tally.totals(t(6.0)),
            Totals {
                lookups: 16,
                misses: 6,
                refused: 1
            }
        );
        assert_eq!(Tally::parse(&tally.encode()), tally);
        // The first hour leaves the window 24 hours on.
        assert_eq!(tally.totals(t(24.5)).misses, 2);
        assert_eq!(tally.totals(t(30.0)).misses, 0);
        assert_eq!(
            Tally::parse("x,1:2,3:1:1:0"),
            Tally::default().recorded(DateTime::from_timestamp(3 * 3600, 0).unwrap(), 1, 1, 0)
        );
    }

    #[test]
    fn the_attempt_that_spends_the_budget_is_answered_and_nothing_after() {
        let none = Tally::default();
        let tries = vec![true; 100];
        let a = admit(&none, &none, None, t(0.0), &tries);
        assert_eq!(a.answered, USER_MISSES as usize);
        assert_eq!(a.misses, USER_MISSES);
        assert!(a.limited(tries.len()));
        // Spent: even a found member is refused now (no oracle).
        let b = admit(&a.user, &a.office, a.alerted_until, t(1.0), &[false]);
        assert_eq!(b.answered, 0);
        assert_eq!(b.user.totals(t(1.0)).refused, 71);
        assert_eq!(
            b.retry_at,
            DateTime::from_timestamp((hour_of(t(0.0)) + 24) * 3600, 0)
        );
        // Found members in between cost nothing.
        let mixed: Vec<bool> = (0..200).map(|i| i % 4 == 0).collect();
        let c = admit(&none, &none, None, t(0.0), &mixed);
        assert_eq!(c.misses, USER_MISSES);
        assert_eq!(c.answered, 4 * (USER_MISSES as usize - 1) + 1);
    }

    #[test]
    fn the_office_budget_binds_its_users_together() {
        let office = Tally::default().recorded(t(0.0), 500, OFFICE_MISSES - 2, 0);
        let a = admit(
            &Tally::default(),
            &office,
            None,
            t(1.0),
            &[true, true, true, false],
        );
        assert_eq!(a.answered, 2);
    }

    #[test]
    fn an_abnormal_office_is_alerted_once_a_window() {
        let none = Tally::default();
        let a = admit(&none, &none, None, t(0.0), &[true; 19]);
        assert!(!a.alert, "19 misses are not yet abnormal");
        let b = admit(&a.user, &a.office, a.alerted_until, t(0.1), &[true]);
        assert!(b.alert);
        let c = admit(&none, &b.office, b.alerted_until, t(0.2), &[true]);
        assert!(!c.alert, "once per window");
        let d = admit(&none, &c.office, c.alerted_until, t(24.2), &[true; 25]);
        assert!(d.alert, "again in the next window while still abnormal");
        // A busy office with ordinary misses is not abnormal.
        let busy = Tally::default().recorded(t(0.0), 400, 40, 0).totals(t(0.0));
        assert_eq!(busy.ratio_percent(), 10);
        assert!(!busy.abnormal());
    }

    #[test]
    fn one_id_with_many_birth_dates_is_guessing() {
        let id = MemberId::parse("M000000001").unwrap();
        let other = MemberId::parse("M000000002").unwrap();
        let d = |n: u32| NaiveDate::from_ymd_opt(1980, 1, 1).unwrap() + chrono::Days::new(n.into());
        let honest = [(&id, d(0)), (&id, d(0)), (&id, d(5)), (&other, d(1))];
        assert!(guessed_ids(honest).is_empty());
        let sweep: Vec<_> = (0..5000)
            .map(|n| (&id, d(n)))
            .chain([(&other, d(0))])
            .collect();
        assert_eq!(guessed_ids(sweep), vec![(id.clone(), 5000)]);
    }

    proptest! {
        /// However requests are sized and timed, no rolling day answers more misses than the
        /// budget for a user.
        #[test]
        fn no_window_answers_more_than_the_budget(reqs in proptest::collection::vec((0u32..6000, 1usize..40, 0u8..4), 1..60)) {
            let mut user = Tally::default();
            let mut office = Tally::default();
            let mut alerted = None;
            let mut answered: Vec<(i64, u32)> = Vec::new();
            let mut secs = 0i64;
            for (gap, n, hits) in reqs {
                secs += i64::from(gap) * 10;
                let now = DateTime::from_timestamp(1_790_000_000 + secs, 0).unwrap();
                let tries: Vec<bool> = (0..n).map(|i| i % 4 >= usize::from(hits)).collect();
                let a = admit(&user, &office, alerted, now, &tries);
                answered.push((hour_of(now), a.misses));
                user = a.user;
                office = a.office;
                alerted = a.alerted_until;
            }
            for &(h, _) in &answered {
                let within: u32 = answered.iter().filter(|(x, _)| *x >= h && *x < h + WINDOW_HOURS).map(|(_, m)| m).sum();
                prop_assert!(within <= USER_MISSES, "{within} misses from hour {h}");
            }
        }
    }
}
