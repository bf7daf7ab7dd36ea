//! Who uses the portal: roles and the organisations they belong to.

use crate::coded_enum;

coded_enum!(
    /// The portal's roles (domain reference, "Who uses it").
    Role {
        OfficeUser = ("office_user", "Office user"),
        /// An office user who also holds the separate claims-inquiry entitlement.
        ClaimsUser = ("claims_user", "Claims user"),
        OfficeAdmin = ("office_admin", "Office administrator"),
        EdiPartner = ("edi_partner", "EDI trading partner"),
        ProviderRelations = ("plan_provider_relations", "Plan provider relations"),
        UmReviewer = ("plan_um_reviewer", "Plan utilization-management reviewer"),
        GarsAnalyst = ("plan_gars", "Plan grievance & appeals analyst"),
        NetworkStaff = ("network_staff", "Delegated health network staff"),
        PlanAdmin = ("plan_admin", "Plan administrator"),
    }
);

impl Role {
    /// Plan staff work queues; they are not scoped to one provider office.
    pub fn is_plan_staff(self) -> bool {
        matches!(
            self,
            Self::ProviderRelations | Self::UmReviewer | Self::GarsAnalyst | Self::PlanAdmin
        )
    }
}

coded_enum!(
    OrgKind {
        ProviderOffice = ("provider_office", "Provider office"),
        BillingService = ("billing_service", "Billing service"),
        HealthNetwork = ("health_network", "Health network"),
        Plan = ("plan", "Health plan"),
    }
);

coded_enum!(
    /// Where an account stands. Only `Active` accounts may sign in.
    UserStatus {
        /// Approved by the plan; the person has not yet set a password from the activation link.
        Invited = ("invited", "Invited"),
        Active = ("active", "Active"),
        /// Ended by an office administrator or the plan; every session of the user ended with it.
        Deactivated = ("deactivated", "Deactivated"),
    }
);

coded_enum!(
    /// Whose authority an account's status change was made under. The plan (its administrators,
    /// or the operator's `portal admin` command) outranks the office's own administrator.
    StatusAuthority {
        Plan = ("plan", "the plan"),
        Office = ("office", "the office's administrator"),
    }
);

impl StatusAuthority {
    /// Whether `self` may lift a deactivation made under `made_by` (`None`: the account is not
    /// deactivated, or was before this was recorded, which counts as the plan's): only the plan
    /// reactivates what the plan deactivated.
    pub fn may_lift(self, made_by: Option<StatusAuthority>) -> bool {
        self == Self::Plan || made_by == Some(Self::Office)
    }
}

#[cfg(test)]
mod tests {
    use super::StatusAuthority::{Office, Plan};

    #[test]
    fn only_the_plan_lifts_the_plans_deactivation() {
        assert!(Plan.may_lift(Some(Plan)));
        assert!(Plan.may_lift(Some(Office)));
        assert!(Office.may_lift(Some(Office)));
        assert!(!Office.may_lift(Some(Plan)));
        assert!(
            !Office.may_lift(None),
            "an unrecorded deactivation is the plan's"
        );
    }
}
