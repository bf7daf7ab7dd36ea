//! Session and sign-in rules (HIPAA §164.312(a)(2)(iii) automatic logoff; NIST SP 800-63B
//! throttling): the numbers live here so the web layer and its tests share them.

use chrono::{DateTime, Duration, Utc};

/// Signed-in pages log off after this long without a request.
pub const IDLE_TIMEOUT: Duration = Duration::minutes(15);
/// The page warns this long before the idle logoff.
pub const IDLE_WARNING: Duration = Duration::minutes(2);
/// However active, a session ends after this long.
pub const ABSOLUTE_LIFETIME: Duration = Duration::hours(12);
/// Failed sign-ins within [`FAILURE_WINDOW`] that lock the account.
pub const MAX_FAILURES: u32 = 5;
pub const FAILURE_WINDOW: Duration = Duration::minutes(15);
pub const LOCKOUT: Duration = Duration::minutes(15);

crate::coded_enum!(
    /// How far a session has come through sign-in. Only `Full` sessions reach the portal's pages.
    SessionStage {
        /// Password accepted; the one-time code (or a recovery code) is still to come.
        NeedsCode = ("needs_code", "Awaiting one-time code"),
        /// Password accepted on an account without MFA: it must enrol before anything else.
        NeedsEnrolment = ("needs_enrolment", "Awaiting MFA enrolment"),
        Full = ("full", "Signed in"),
    }
);

/// A new session, CSRF or activation token: 256 bits from the OS-seeded CSPRNG, hex.
pub fn new_token() -> String {
    use rand::Rng as _;
    let mut bytes = [0u8; 32];
    rand::rng().fill(&mut bytes);
    crate::audit::hex(&bytes)
}

/// What the database keeps of a token (a stolen database then opens no session).
pub fn token_hash(token: &str) -> String {
    use sha2::Digest as _;
    crate::audit::hex(&sha2::Sha256::digest(token.as_bytes()))
}

/// Whether a session is still good at `now`.
pub fn session_alive(created: DateTime<Utc>, last_seen: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    now - last_seen < IDLE_TIMEOUT && now - created < ABSOLUTE_LIFETIME
}

/// An account's sign-in throttle state, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Throttle {
    /// Failures counted since `window_start`.
    pub failures: u32,
    pub window_start: Option<DateTime<Utc>>,
    pub locked_until: Option<DateTime<Utc>>,
}

impl Throttle {
    pub fn is_locked(&self, now: DateTime<Utc>) -> bool {
        self.locked_until.is_some_and(|t| now < t)
    }

    /// The state after a failed attempt at `now`: the fifth failure in the window locks.
    pub fn after_failure(self, now: DateTime<Utc>) -> Throttle {
        let in_window = self.window_start.is_some_and(|s| now - s < FAILURE_WINDOW);
        let (failures, window_start) = if in_window {
            (self.failures + 1, self.window_start)
        } else {
            (1, Some(now))
        };
        let locked_until = if failures >= MAX_FAILURES {
            Some(now + LOCKOUT)
        } else {
            self.locked_until.filter(|t| now < *t)
        };
        Throttle {
            failures,
            window_start,
            locked_until,
        }
    }
}

/// TOTP codes are accepted once: a step at or before the last one used is a replay.
pub fn totp_step_fresh(step: u64, last_used: Option<u64>) -> bool {
    last_used.is_none_or(|last| step > last)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn t(min: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_790_000_000 + min * 60, 0).unwrap()
    }

    #[test]
    fn idle_and_absolute_logoff() {
        assert!(session_alive(t(0), t(0), t(14)));
        assert!(!session_alive(t(0), t(0), t(15)));
        assert!(session_alive(t(0), t(715), t(719)));
        assert!(
            !session_alive(t(0), t(719), t(720)),
            "12 hours is the limit however active"
        );
    }

    #[test]
    fn fifth_failure_locks_for_fifteen_minutes() {
        let mut th = Throttle::default();
        for m in 0..4 {
            th = th.after_failure(t(m));
            assert!(!th.is_locked(t(m)));
        }
        th = th.after_failure(t(4));
        assert!(th.is_locked(t(4)));
        assert!(th.is_locked(t(18)));
        assert!(!th.is_locked(t(19)));
    }

    #[test]
    fn replayed_totp_steps_are_refused() {
        assert!(totp_step_fresh(100, None));
        assert!(totp_step_fresh(101, Some(100)));
        assert!(!totp_step_fresh(100, Some(100)));
        assert!(!totp_step_fresh(99, Some(100)));
    }

    proptest! {
        /// Failures spread wider than the window never lock.
        #[test]
        fn slow_failures_never_lock(gaps in proptest::collection::vec(16i64..120, 1..30)) {
            let mut th = Throttle::default();
            let mut now = 0;
            for g in gaps {
                now += g;
                th = th.after_failure(t(now));
                prop_assert!(!th.is_locked(t(now)));
            }
        }
    }
}
