//! The CMS-0057-F public prior authorization metrics for a calendar year, computed from a plain
//! list of decided requests.
//!
//! 42 CFR §422.122(c) (Medicare Advantage) and §438.210(f) (Medicaid managed care) require, each
//! year for the year before, aggregated for all items and services (drugs excluded):
//! the list of items and services that need prior authorization; the percentage of standard
//! requests approved; denied; approved after appeal; the percentage of requests for which the
//! timeframe for review was extended and the request was approved; the percentage of expedited
//! requests approved and denied; and the average and median time that elapsed between the
//! submission of a request and the determination, for standard and for expedited requests.
//!
//! How this module counts (also shown on the page):
//! - A request belongs to the year its determination was made in (`decided_at`, UTC year);
//!   withdrawn requests were never determined and are left out.
//! - Approved = approved in full, in part, or with modifications; denied = denied in full.
//! - Approved after appeal = denied, then reversed on appeal; it stays counted as a denial too
//!   (the first determination), as plans report it.
//! - Approved after an extended review = pended for information (the 14-day extension) and then
//!   approved.
//! - Percentages are of the determinations of the same urgency, rounded to one decimal.
//! - Decision time runs from receipt to determination, in hours.

use crate::auth::{AuthStatus, Urgency};
use chrono::{DateTime, Datelike, Utc};

/// One determined request, as the metrics need it (no member, no provider).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricInput {
    pub urgency: Urgency,
    pub status: AuthStatus,
    pub received_at: DateTime<Utc>,
    pub decided_at: DateTime<Utc>,
    /// Pended for information (the review was extended).
    pub extended: bool,
    /// A denial reversed on appeal.
    pub approved_on_appeal: bool,
}

/// The figures of one urgency.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct UrgencyMetrics {
    pub determinations: u64,
    pub approved: u64,
    pub denied: u64,
    pub approved_after_appeal: u64,
    pub approved_after_extension: u64,
    /// Hours from receipt to determination.
    pub average_hours: Option<f64>,
    pub median_hours: Option<f64>,
    /// Decision times, sorted (for the distribution chart).
    pub hours: Vec<f64>,
}

impl UrgencyMetrics {
    fn pct(&self, n: u64) -> Option<f64> {
        (self.determinations > 0)
            .then(|| (n as f64 * 1000.0 / self.determinations as f64).round() / 10.0)
    }
    pub fn pct_approved(&self) -> Option<f64> {
        self.pct(self.approved)
    }
    pub fn pct_denied(&self) -> Option<f64> {
        self.pct(self.denied)
    }
    pub fn pct_approved_after_appeal(&self) -> Option<f64> {
        self.pct(self.approved_after_appeal)
    }
    pub fn pct_approved_after_extension(&self) -> Option<f64> {
        self.pct(self.approved_after_extension)
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Metrics {
    pub year: i32,
    pub standard: UrgencyMetrics,
    pub expedited: UrgencyMetrics,
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// The metrics of `year` from `inputs` (requests of other years are ignored).
pub fn compute(year: i32, inputs: &[MetricInput]) -> Metrics {
    let mut m = Metrics {
        year,
        ..Metrics::default()
    };
    for i in inputs {
        if i.decided_at.year() != year
            || !i.status.is_decided()
            || i.status == AuthStatus::Withdrawn
        {
            continue;
        }
        let u = match i.urgency {
            Urgency::Standard => &mut m.standard,
            Urgency::Expedited => &mut m.expedited,
        };
        u.determinations += 1;
        if i.status.is_approval() {
            u.approved += 1;
            if i.extended {
                u.approved_after_extension += 1;
            }
        } else if i.status == AuthStatus::Denied {
            u.denied += 1;
            if i.approved_on_appeal {
                u.approved_after_appeal += 1;
            }
        }
        let secs = (i.decided_at - i.received_at).num_seconds().max(0);
        u.hours.push(secs as f64 / 3600.0);
    }
    for u in [&mut m.standard, &mut m.expedited] {
        u.hours.sort_by(f64::total_cmp);
        let n = u.hours.len();
        if n > 0 {
            u.average_hours = Some(round2(u.hours.iter().sum::<f64>() / n as f64));
            let mid = n / 2;
            u.median_hours = Some(round2(if n % 2 == 1 {
                u.hours[mid]
            } else {
                (u.hours[mid - 1] + u.hours[mid]) / 2.0
            }));
        }
    }
    m
}

/// Buckets of decision time for the distribution chart: (label, upper bound in hours).
pub const TIME_BUCKETS: &[(&str, f64)] = &[
    ("under 1 hour", 1.0),
    ("1–24 hours", 24.0),
    ("1–3 days", 72.0),
    ("3–7 days", 168.0),
    ("over 7 days", f64::INFINITY),
];

/// How many decisions fell in each of [`TIME_BUCKETS`].
pub fn distribution(hours: &[f64]) -> Vec<u64> {
    let mut out = vec![0u64; TIME_BUCKETS.len()];
    for h in hours {
        let i = TIME_BUCKETS
            .iter()
            .position(|(_, max)| h < max)
            .unwrap_or(TIME_BUCKETS.len() - 1);
        out[i] += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn input(u: Urgency, status: AuthStatus, hours: i64) -> MetricInput {
        let r = at("2026-03-02T16:00:00Z");
        MetricInput {
            urgency: u,
            status,
            received_at: r,
            decided_at: r + Duration::hours(hours),
            extended: false,
            approved_on_appeal: false,
        }
    }

    #[test]
    fn hand_computed_example() {
        use AuthStatus::*;
        use Urgency::*;
        let mut v = vec![
            input(Standard, Approved, 24),
            input(Standard, PartiallyApproved, 48),
            input(Standard, Denied, 72),
            input(Standard, Approved, 120),
            input(Expedited, Approved, 10),
            input(Expedited, Denied, 30),
            input(Standard, Withdrawn, 5),
        ];
        v[2].approved_on_appeal = true;
        v[3].extended = true;
        // Decided in another year: ignored.
        let mut old = input(Standard, Denied, 1);
        old.decided_at = at("2025-12-31T23:00:00Z");
        v.push(old);
        let m = compute(2026, &v);
        // Standard: 4 determinations, 3 approved (75%), 1 denied (25%), 1 approved after appeal
        // (25%), 1 approved after extension (25%); times 24, 48, 72, 120: mean 66, median 60.
        assert_eq!(m.standard.determinations, 4);
        assert_eq!(m.standard.pct_approved(), Some(75.0));
        assert_eq!(m.standard.pct_denied(), Some(25.0));
        assert_eq!(m.standard.pct_approved_after_appeal(), Some(25.0));
        assert_eq!(m.standard.pct_approved_after_extension(), Some(25.0));
        assert_eq!(m.standard.average_hours, Some(66.0));
        assert_eq!(m.standard.median_hours, Some(60.0));
        // Expedited: 10 and 30 hours: mean 20, median 20; 50% / 50%.
        assert_eq!(m.expedited.pct_approved(), Some(50.0));
        assert_eq!(m.expedited.median_hours, Some(20.0));
        assert_eq!(distribution(&m.standard.hours), vec![0, 0, 2, 2, 0]);
        let empty = compute(2030, &v);
        assert_eq!(empty.standard.pct_approved(), None);
        assert_eq!(empty.standard.median_hours, None);
    }
}
