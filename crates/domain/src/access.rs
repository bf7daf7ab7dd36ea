//! Least privilege, decided in one place. Every route names the [`Permission`] it needs; the web
//! layer asks [`Principal::may`] and storage queries take the [`Scope`] this module computes, so
//! an office sees only its own claims, authorizations and disputes.

use crate::account::{OrgKind, Role};
use crate::ids::Tin;

/// Entitlements the plan grants separately from the role (claims inquiry needs its own approval).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Entitlements {
    pub claims: bool,
}

/// The signed-in user as the policy sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub user_id: i64,
    pub role: Role,
    pub org_id: i64,
    pub org_kind: OrgKind,
    /// TINs the user may act for: the office's own, or each TIN a billing service was granted.
    pub tins: Vec<Tin>,
    /// For delegated-network staff: the network code they review for.
    pub network: Option<String>,
    pub entitlements: Entitlements,
}

/// What a request wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// Look up a member's eligibility (member ID or name, with birth date).
    CheckEligibility,
    ViewClaims,
    ViewRemittance,
    SubmitAuthorization,
    ViewAuthorizations,
    FileDispute,
    ViewDisputes,
    TakeTraining,
    ExchangeEdi,
    ManageOfficeUsers,
    ReviewRegistrations,
    ReviewAuthorizations,
    ReviewDisputes,
    ReviewNetworkDisputes,
    ManageAuthRules,
    ViewAuditLog,
    /// Ask the plan for the claims-inquiry entitlement (office staff without it).
    RequestEntitlements,
    /// Ask the plan to act for one more TIN (billing-service users).
    RequestTins,
    /// Read the messages the portal sent (registration decisions, activation links).
    ViewOutbox,
    /// Find accounts, reset MFA, unlock, deactivate (plan administrators).
    ManageAccounts,
    /// Send claims (837P/837I batches) and read their acknowledgements (999, 277CA): office
    /// staff holding the claims entitlement, and EDI trading partners.
    SubmitClaims,
}

impl Principal {
    /// Office staff: the people the portal's office pages are for.
    pub fn is_office(&self) -> bool {
        matches!(
            self.role,
            Role::OfficeUser | Role::ClaimsUser | Role::OfficeAdmin
        )
    }

    /// The single answer to "may this user do this?".
    pub fn may(&self, p: Permission) -> bool {
        use Permission::*;
        match p {
            CheckEligibility | SubmitAuthorization | ViewAuthorizations | FileDispute
            | ViewDisputes | TakeTraining => self.is_office(),
            // Claims inquiry is a separate entitlement: the role alone is never enough.
            ViewClaims | ViewRemittance => self.is_office() && self.entitlements.claims,
            ExchangeEdi => self.role == Role::EdiPartner,
            ManageOfficeUsers => self.role == Role::OfficeAdmin,
            ReviewRegistrations => matches!(self.role, Role::ProviderRelations | Role::PlanAdmin),
            ReviewAuthorizations | ManageAuthRules => self.role == Role::UmReviewer,
            ReviewDisputes => self.role == Role::GarsAnalyst,
            ReviewNetworkDisputes => self.role == Role::NetworkStaff && self.network.is_some(),
            ViewAuditLog | ManageAccounts => self.role == Role::PlanAdmin,
            RequestEntitlements => self.is_office() && !self.entitlements.claims,
            RequestTins => self.org_kind == OrgKind::BillingService,
            ViewOutbox => matches!(self.role, Role::ProviderRelations | Role::PlanAdmin),
            // A 277CA names each claim's patient and outcome: claims data, so the same
            // entitlement as claims inquiry; trading partners exchange claims by trade.
            SubmitClaims => {
                (self.is_office() && self.entitlements.claims) || self.role == Role::EdiPartner
            }
        }
    }

    /// Which provider records this user's office-side reads are limited to.
    pub fn office_scope(&self) -> Scope {
        if self.is_office() || self.role == Role::EdiPartner {
            Scope::Tins(self.tins.clone())
        } else {
            Scope::Nothing
        }
    }
}

/// The rows a query may return.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Only records billed or requested under these TINs.
    Tins(Vec<Tin>),
    Nothing,
}

impl Scope {
    pub fn allows_tin(&self, tin: &Tin) -> bool {
        matches!(self, Scope::Tins(t) if t.contains(tin))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(role: Role, claims: bool) -> Principal {
        Principal {
            user_id: 1,
            role,
            org_id: 1,
            org_kind: OrgKind::ProviderOffice,
            tins: vec![Tin::parse("951234567").unwrap()],
            network: None,
            entitlements: Entitlements { claims },
        }
    }

    #[test]
    fn claims_need_the_entitlement() {
        assert!(!principal(Role::OfficeUser, false).may(Permission::ViewClaims));
        assert!(principal(Role::OfficeUser, true).may(Permission::ViewClaims));
        assert!(!principal(Role::OfficeAdmin, false).may(Permission::ViewRemittance));
        // Plan staff never see office claims through the office pages.
        assert!(!principal(Role::PlanAdmin, true).may(Permission::ViewClaims));
    }

    #[test]
    fn claims_are_submitted_by_entitled_offices_and_trading_partners() {
        assert!(principal(Role::ClaimsUser, true).may(Permission::SubmitClaims));
        assert!(principal(Role::OfficeAdmin, true).may(Permission::SubmitClaims));
        assert!(!principal(Role::OfficeUser, false).may(Permission::SubmitClaims));
        assert!(!principal(Role::OfficeAdmin, false).may(Permission::SubmitClaims));
        assert!(principal(Role::EdiPartner, false).may(Permission::SubmitClaims));
        for staff in [Role::PlanAdmin, Role::ProviderRelations, Role::UmReviewer] {
            assert!(
                !principal(staff, true).may(Permission::SubmitClaims),
                "{staff:?}"
            );
        }
    }

    #[test]
    fn staff_see_their_queues_only() {
        let r = principal(Role::UmReviewer, false);
        assert!(r.may(Permission::ReviewAuthorizations));
        assert!(!r.may(Permission::ReviewDisputes));
        assert!(!r.may(Permission::CheckEligibility));
        assert_eq!(r.office_scope(), Scope::Nothing);
        let o = principal(Role::OfficeUser, false);
        assert!(
            o.office_scope()
                .allows_tin(&Tin::parse("951234567").unwrap())
        );
        assert!(
            !o.office_scope()
                .allows_tin(&Tin::parse("951234568").unwrap())
        );
    }
}
