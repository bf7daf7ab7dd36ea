//! Organisations, user accounts, what they may act for (TINs, the claims entitlement), and
//! activation ([`AccountStore`]); the sign-in state kept in the database so that it holds
//! across instances: lockout counters, code guesses, the TOTP secret with the last step used,
//! one-time recovery codes ([`SignInStore`], `sign_in.rs`).

mod sign_in;
mod sql;

pub use sign_in::{CodeClaim, SignInStore};

use crate::Result;
use chrono::{DateTime, Utc};
use domain::Tin;
use domain::account::{OrgKind, Role, StatusAuthority, UserStatus};
use domain::session::Throttle;

#[derive(Debug, Clone)]
pub struct NewOrg {
    pub kind: OrgKind,
    pub name: String,
    pub tin: Option<Tin>,
    /// For a delegated health network's organisation: the network code it reviews for.
    pub network: Option<String>,
    /// The plan has approved claims inquiry for this office (office admins may then grant it).
    pub claims_allowed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgRecord {
    pub id: i64,
    pub kind: OrgKind,
    pub name: String,
    pub tin: Option<Tin>,
    pub network: Option<String>,
    pub claims_allowed: bool,
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub email: String,
    pub role: Role,
    pub org_id: i64,
    /// An argon2id PHC string; never the password.
    pub password_hash: String,
    pub status: UserStatus,
    pub phone: String,
    /// The claims-inquiry entitlement.
    pub claims: bool,
}

#[derive(Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub email: String,
    pub phone: String,
    pub role: Role,
    pub org_id: i64,
    /// Empty until the person sets a password from the activation link.
    pub password_hash: String,
    pub status: UserStatus,
    pub claims: bool,
    /// Base32 TOTP secret (stored encrypted, see `secrets`); `None` until MFA is enrolled.
    pub totp_secret: Option<String>,
    /// The last TOTP time step accepted (a code at or before it is a replay).
    pub totp_last_step: Option<u64>,
    pub throttle: Throttle,
}

/// Who changes an account's status, and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusChange {
    pub authority: StatusAuthority,
    /// The administrator; `None` for the operator's command line.
    pub user_id: Option<i64>,
    pub at: DateTime<Utc>,
}

/// How a deactivated account came to be so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deactivation {
    pub by: StatusAuthority,
    pub by_user: Option<i64>,
    /// `None` for accounts deactivated before this was recorded.
    pub at: Option<DateTime<Utc>>,
}

/// Everything the access policy needs about a signed-in user, read in one call.
#[derive(Debug, Clone)]
pub struct Identity {
    pub user: UserRecord,
    pub org: OrgRecord,
    /// TINs granted to the user one by one (billing services), besides the organisation's own.
    pub granted_tins: Vec<Tin>,
}

/// A TIN a user may act for besides their organisation's, with who granted it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TinGrant {
    pub tin: Tin,
    pub granted_by: i64,
    pub granted_at: DateTime<Utc>,
}

impl std::fmt::Debug for UserRecord {
    /// The hash stays out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserRecord")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

#[async_trait::async_trait]
pub trait AccountStore: Send + Sync {
    async fn create_org(&self, org: &NewOrg) -> Result<i64>;
    async fn create_user(&self, user: &NewUser) -> Result<i64>;
    async fn user_by_username(&self, username: &str) -> Result<Option<UserRecord>>;
    async fn user(&self, id: i64) -> Result<Option<UserRecord>>;
    /// The user with their organisation and granted TINs (what the access policy needs).
    async fn identity(&self, user_id: i64) -> Result<Option<Identity>>;
    async fn org(&self, id: i64) -> Result<Option<OrgRecord>>;
    /// Organisations of one kind, by name (operators' `portal admin`).
    async fn orgs_of_kind(&self, kind: OrgKind) -> Result<Vec<OrgRecord>>;
    /// The provider office (or billing service) registered under this TIN.
    async fn org_by_tin(&self, tin: &Tin) -> Result<Option<OrgRecord>>;
    /// Users of one organisation, by display name.
    async fn users_of_org(&self, org_id: i64) -> Result<Vec<UserRecord>>;
    /// Users whose username, display name or email contains `text` (any case), for plan admins.
    async fn search_users(&self, text: &str, limit: i64) -> Result<Vec<UserRecord>>;
    /// Sets the status and records who deactivated (cleared when the account is active or
    /// invited again); deactivating also ends every session of the user, in the same
    /// transaction. Only if the recorded deactivator is still `seen` (what the caller read with
    /// [`AccountStore::deactivation`]; `None` for an account not deactivated): `false`
    /// otherwise, and for an unknown user.
    async fn set_user_status(
        &self,
        user_id: i64,
        status: UserStatus,
        change: &StatusChange,
        seen: Option<StatusAuthority>,
    ) -> Result<bool>;
    /// Who deactivated the account; `None` when it is not deactivated.
    async fn deactivation(&self, user_id: i64) -> Result<Option<Deactivation>>;
    async fn set_claims_entitlement(&self, user_id: i64, claims: bool) -> Result<()>;
    async fn set_org_claims_allowed(&self, org_id: i64, allowed: bool) -> Result<()>;
    async fn tin_grants(&self, user_id: i64) -> Result<Vec<TinGrant>>;
    async fn grant_tin(&self, user_id: i64, tin: &Tin, granted_by: i64) -> Result<()>;
    async fn revoke_tin(&self, user_id: i64, tin: &Tin) -> Result<()>;
    /// Sets a new password hash and ends every session of the user except `keep` (the token
    /// hash of the session that made the change, if it stays signed in).
    async fn set_password(&self, user_id: i64, hash: &str, keep: Option<&str>) -> Result<()>;
    /// Sets the password from an activation link: the token must be unused and unexpired at
    /// `now`; the user becomes `Active`. `None` when the token is no good.
    async fn activate(
        &self,
        token_hash: &str,
        password_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<i64>>;
    /// Stores an activation token for an invited user (operators' `portal admin invite`).
    async fn create_activation(
        &self,
        user_id: i64,
        token_hash: &str,
        expires: DateTime<Utc>,
    ) -> Result<()>;
    /// The user an unused, unexpired activation token belongs to.
    async fn activation_user(&self, token_hash: &str, now: DateTime<Utc>) -> Result<Option<i64>>;
}
