//! The envelope's UserName/Password: the credential cache, then argon2id.
//!
//! A partner is never locked out by someone else's wrong passwords: failures are counted per
//! source address ([`FailureBudget`]), not per account (the web sign-in's account lockout does
//! not apply here, so a stranger cannot stop a clearinghouse's traffic), and every refusal reads
//! the same whatever the cause (unknown user, wrong password, an invited or deactivated account,
//! one that may not exchange EDI), after the same argon2id work.

use super::CachedPartner;
use crate::AppState;
use crate::auth::principal;
use domain::account::{Role, UserStatus};
use edi::Partner;
use edi::caqh::{self as caqh, EnvelopeError, ErrorCode, Lookup};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The one answer to every failed sign-in: it says nothing about the account.
pub const WRONG: &str =
    "the UserName or Password is not correct, or the account may not exchange EDI";

fn unauthorized(why: &str) -> EnvelopeError {
    EnvelopeError::new(ErrorCode::UnAuthorized, why)
}

fn server_error() -> EnvelopeError {
    EnvelopeError::new(
        ErrorCode::ServerError,
        "the receiver could not check the credentials; try again",
    )
}

/// Failed sign-ins per source address: [`FailureBudget::MAX`] in [`FailureBudget::WINDOW`],
/// then the address is refused without a password check until the window ends. A partner's
/// own address is unaffected by failures from elsewhere. A slot is taken *before* argon2id runs
/// and given back when the password was right, so parallel guesses cannot overshoot.
///
/// In memory, per instance: with several instances behind a balancer an address gets the
/// budget on each (still a handful of guesses per quarter hour against a long password).
pub struct FailureBudget {
    by_address: Mutex<HashMap<String, Window>>,
}

struct Window {
    started: Instant,
    used: u32,
}

impl Default for FailureBudget {
    fn default() -> Self {
        FailureBudget {
            by_address: Mutex::new(HashMap::new()),
        }
    }
}

impl FailureBudget {
    pub const MAX: u32 = 5;
    pub const WINDOW: Duration = Duration::from_secs(15 * 60);

    /// Takes one slot for `address`, or `Err(wait)` when none is left.
    pub fn take(&self, address: &str) -> Result<(), Duration> {
        let now = Instant::now();
        let mut map = self.by_address.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 10_000 {
            map.retain(|_, w| now.duration_since(w.started) < Self::WINDOW);
        }
        let w = map.entry(address.to_string()).or_insert(Window {
            started: now,
            used: 0,
        });
        if now.duration_since(w.started) >= Self::WINDOW {
            *w = Window {
                started: now,
                used: 0,
            };
        }
        if w.used >= Self::MAX {
            return Err(Self::WINDOW.saturating_sub(now.duration_since(w.started)));
        }
        w.used += 1;
        Ok(())
    }

    /// Gives back the slot of an attempt that succeeded.
    pub fn give_back(&self, address: &str) {
        let mut map = self.by_address.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(w) = map.get_mut(address) {
            w.used = w.used.saturating_sub(1);
        }
    }
}

/// The partner the envelope's credentials name, from the cache or by argon2id.
pub async fn authenticate(
    state: &AppState,
    req: &caqh::Request<'_>,
    source: &str,
) -> Result<CachedPartner, EnvelopeError> {
    let core = &state.core;
    let username = req.username.trim().to_ascii_lowercase();
    let key = core.credentials.key_of(&username, req.password);
    match core.credentials.lookup(&key) {
        Lookup::Fresh(p) => return Ok(p),
        Lookup::Recheck(p, hash) => {
            // Cheap re-check (no argon2): still an active partner with the same password; TINs
            // re-read.
            match state.store.identity(p.partner.user_id).await {
                Ok(Some(i))
                    if i.user.status == UserStatus::Active
                        && i.user.role == Role::EdiPartner
                        && i.user.password_hash == hash =>
                {
                    let fresh = CachedPartner {
                        partner: partner_of(&i),
                        username: i.user.username.clone(),
                    };
                    core.credentials.confirm(&key, Some((fresh.clone(), &hash)));
                    return Ok(fresh);
                }
                Ok(_) => core.credentials.confirm(&key, None),
                Err(e) => {
                    tracing::error!(error = %e, "partner re-check failed");
                    return Err(server_error());
                }
            }
        }
        Lookup::Miss => {}
    }
    // A full verification. Requests with the same credentials that arrive together wait for
    // the first one's verification (and then find it cached) instead of each running argon2id.
    let _permit = core
        .verifying
        .acquire()
        .await
        .map_err(|_| unauthorized(WRONG))?;
    if let Lookup::Fresh(p) = core.credentials.lookup(&key) {
        return Ok(p);
    }
    // Per-address limits on what remains: argon2id is the expensive part, and failures are
    // what a guesser produces.
    let too_many = |wait: Duration| {
        unauthorized(&format!(
            "too many failed sign-ins from this address; try again in {} seconds",
            wait.as_secs().max(1)
        ))
    };
    state
        .limits
        .check(crate::routes::RateClass::SignIn, source)
        .map_err(too_many)?;
    core.failures.take(source).map_err(too_many)?;
    let user = state.store.user_by_username(&username).await.map_err(|e| {
        tracing::error!(error = %e, "partner lookup failed");
        server_error()
    })?;
    // The same argon2id work whatever is found: a real hash, or the dummy for an unknown name
    // or an account without a password yet.
    let hash = user
        .as_ref()
        .map(|u| u.password_hash.clone())
        .filter(|h| !h.is_empty());
    let right = verify(
        req.password.to_string(),
        hash.clone().unwrap_or_else(|| DUMMY_HASH.clone()),
    )
    .await
        && hash.is_some();
    let Some(user) =
        user.filter(|u| right && u.status == UserStatus::Active && u.role == Role::EdiPartner)
    else {
        return Err(unauthorized(WRONG));
    };
    core.failures.give_back(source);
    let identity = match state.store.identity(user.id).await {
        Ok(Some(i)) => i,
        _ => return Err(server_error()),
    };
    let p = CachedPartner {
        partner: partner_of(&identity),
        username: identity.user.username.clone(),
    };
    core.credentials
        .insert(key, p.clone(), &identity.user.password_hash);
    Ok(p)
}

fn partner_of(i: &storage::Identity) -> Partner {
    let principal = principal(i);
    Partner {
        user_id: i.user.id,
        org_id: i.org.id,
        scope: principal.office_scope(),
    }
}

/// A real argon2id hash, verified against for unknown usernames so the answer takes as long.
static DUMMY_HASH: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| domain::password::hash(&domain::session::new_token()));

async fn verify(password: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || domain::password::verify(&password, &hash))
        .await
        .unwrap_or(false)
}
