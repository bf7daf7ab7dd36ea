//! The plan's structure: lines of business and health networks.

use serde::{Deserialize, Serialize};

/// Declares a closed set of codes with a stable storage code and a label for people.
/// One macro so every enum stored as text round-trips the same way.
#[macro_export]
macro_rules! coded_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = ($code:literal, $label:literal)),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        pub enum $name { $($(#[$vdoc])* $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The code stored in the database and used in URLs.
            pub fn code(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }

            /// What a person reads.
            pub fn label(self) -> &'static str {
                match self { $($name::$variant => $label),+ }
            }

            pub fn from_code(code: &str) -> Option<Self> {
                match code { $($code => Some($name::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.label())
            }
        }
    };
}

coded_enum!(
    /// The plan's lines of business (products).
    LineOfBusiness {
        MediCal = ("medi_cal", "Medi-Cal"),
        /// HMO D-SNP for members with both Medicare and Medi-Cal.
        OneCare = ("onecare", "OneCare (HMO D-SNP)"),
        OneCareConnect = ("onecare_connect", "OneCare Connect"),
        Pace = ("pace", "PACE"),
    }
);

coded_enum!(
    /// Who is financially responsible for a member's claims.
    NetworkKind {
        /// The plan's own community network: the plan pays claims.
        Community = ("community", "Plan community network"),
        /// A contracted health network that pays its own claims and reviews their disputes first.
        Delegated = ("delegated", "Delegated health network"),
    }
);

/// A health network members are assigned to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthNetwork {
    /// Short stable code, e.g. `CCN` or `HN-ALTA`.
    pub code: String,
    pub name: String,
    pub kind: NetworkKind,
    /// Phone of the network's provider services line (shown to offices).
    pub phone: String,
}

impl HealthNetwork {
    /// Whether the plan itself pays this network's claims (and so hears its disputes directly).
    pub fn plan_pays_claims(&self) -> bool {
        self.kind == NetworkKind::Community
    }
}
