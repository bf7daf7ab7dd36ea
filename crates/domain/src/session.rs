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

/// Second-factor guesses (one-time codes, recovery codes, step-up codes) an account allows in
/// any [`FAILURE_WINDOW`], whatever the number of sessions or addresses guessing.
pub const MAX_CODE_GUESSES: usize = 5;

/// When an account's recent code guesses were made, as stored (unix seconds, comma-separated).
///
/// A guess is *claimed* before the code is checked: a count taken after the check lets any
/// number of parallel pending sessions pass a check made before the first failure was counted.
/// The window slides (the log keeps each guess's time), so no choice of timing gets more than
/// [`MAX_CODE_GUESSES`] into any 15 minutes. A correct password never touches it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CodeGuesses(Vec<i64>);

impl CodeGuesses {
    /// Reads the stored form; unreadable entries are dropped (an empty log is the safe default
    /// only because the lock, stored apart, still holds).
    pub fn parse(stored: &str) -> CodeGuesses {
        CodeGuesses(
            stored
                .split(',')
                .filter_map(|t| t.trim().parse().ok())
                .collect(),
        )
    }

    pub fn encode(&self) -> String {
        self.0
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Guesses made within the window before `now`.
    pub fn recent(&self, now: DateTime<Utc>) -> usize {
        let since = (now - FAILURE_WINDOW).timestamp();
        self.0.iter().filter(|&&t| t > since).count()
    }

    /// The log with one more guess at `now`, or `None` when the window is already full.
    /// Older entries are dropped, so the stored form stays short.
    pub fn claim(&self, now: DateTime<Utc>) -> Option<CodeGuesses> {
        let since = (now - FAILURE_WINDOW).timestamp();
        let mut kept: Vec<i64> = self.0.iter().copied().filter(|&t| t > since).collect();
        if kept.len() >= MAX_CODE_GUESSES {
            return None;
        }
        kept.push(now.timestamp());
        Some(CodeGuesses(kept))
    }

    /// Whether a wrong guess that brought the log here uses up the window (and so locks).
    pub fn exhausted(&self, now: DateTime<Utc>) -> bool {
        self.recent(now) >= MAX_CODE_GUESSES
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

    #[test]
    fn code_guesses_are_claimed_until_the_window_is_full() {
        let mut g = CodeGuesses::default();
        for m in 0..5 {
            g = g.claim(t(m)).expect("room in the window");
        }
        assert!(g.exhausted(t(4)));
        assert_eq!(
            g.claim(t(10)),
            None,
            "a sixth guess in the window is refused"
        );
        assert_eq!(CodeGuesses::parse(&g.encode()), g);
        // The first guess (minute 0) leaves the window at minute 15.
        assert!(g.claim(t(15)).is_some());
        assert_eq!(CodeGuesses::parse("x,,12"), CodeGuesses(vec![12]));
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

        /// However guesses are timed, no 15 minutes hold more than five claimed ones.
        #[test]
        fn no_window_holds_more_than_five_guesses(gaps in proptest::collection::vec(0i64..400, 1..80)) {
            let mut g = CodeGuesses::default();
            let mut now = 0;
            let mut claimed = Vec::new();
            for gap in gaps {
                now += gap;
                let at = DateTime::from_timestamp(1_790_000_000 + now, 0).unwrap();
                if let Some(next) = g.claim(at) {
                    g = next;
                    claimed.push(now);
                }
            }
            for (i, &start) in claimed.iter().enumerate() {
                let within = claimed[i..].iter().take_while(|&&c| c - start < 15 * 60).count();
                prop_assert!(within <= MAX_CODE_GUESSES, "{within} guesses from {start}");
            }
        }
    }
}
