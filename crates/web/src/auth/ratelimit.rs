//! Per-address rate limits on sign-in and registration (GCRA from the `governor` crate), on top
//! of the per-account lockout kept in the database. These counters live in memory: each portal
//! instance limits on its own, which bounds a spray per instance; the lockout is what holds
//! across instances.

use crate::routes::RateClass;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::num::NonZeroU32;
use std::time::Duration;

pub struct Limits {
    sign_in: DefaultKeyedRateLimiter<String>,
    register: DefaultKeyedRateLimiter<String>,
    edi: DefaultKeyedRateLimiter<String>,
}

fn quota(burst: u32, every: Duration) -> Quota {
    Quota::with_period(every)
        .expect("non-zero period")
        .allow_burst(NonZeroU32::new(burst).expect("non-zero burst"))
}

impl Default for Limits {
    /// Sign-in: 20 attempts at once, then one every 3 seconds (a busy front desk behind one
    /// address signs in many people each morning). Registration: 10 (a form corrected a few
    /// times, several people of one office), then one every 30 seconds.
    fn default() -> Self {
        Limits::new(20, Duration::from_secs(3), 10, Duration::from_secs(30))
    }
}

impl Limits {
    pub fn new(
        sign_in_burst: u32,
        sign_in_every: Duration,
        register_burst: u32,
        register_every: Duration,
    ) -> Self {
        Limits {
            sign_in: RateLimiter::keyed(quota(sign_in_burst, sign_in_every)),
            register: RateLimiter::keyed(quota(register_burst, register_every)),
            // EDI partners' machines: 5,000 requests a second sustained per address, bursts of
            // 10,000 (a clearinghouse behind one address; CORE real time is one request per
            // inquiry). Failed authentications also count against the sign-in limit.
            edi: RateLimiter::keyed(
                Quota::per_second(NonZeroU32::new(5_000).expect("non-zero"))
                    .allow_burst(NonZeroU32::new(10_000).expect("non-zero")),
            ),
        }
    }

    /// With the EDI limit set to `burst` requests, then one every `every` (tests).
    pub fn with_edi(mut self, burst: u32, every: Duration) -> Self {
        self.edi = RateLimiter::keyed(quota(burst, every));
        self
    }

    /// `Err(wait)` when `address` must wait before trying again.
    pub fn check(&self, class: RateClass, address: &str) -> Result<(), Duration> {
        let limiter = match class {
            RateClass::SignIn => &self.sign_in,
            RateClass::Register => &self.register,
            RateClass::Edi => &self.edi,
        };
        // Forget addresses whose allowance has refilled, so the table stays small.
        if limiter.len() > 10_000 {
            limiter.retain_recent();
        }
        limiter
            .check_key(&address.to_string())
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }
}
