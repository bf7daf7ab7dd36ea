//! The demo plan a fresh `portal serve` starts with: a small generated plan plus one account
//! per role, each in the organisation that role belongs to.

use crate::{Options, generate};
use domain::Tin;
use domain::account::{OrgKind, Role, UserStatus};
use domain::plan::NetworkKind;
use domain::provider::ProviderKind;
use storage::{NewOrg, NewUser, StorageError, Store};

/// A demo login printed on first start.
#[derive(Debug, Clone)]
pub struct DemoAccount {
    pub role: &'static str,
    pub username: String,
    pub password: String,
}

/// What the demo plan offers someone trying the registration form: a real office of the
/// directory whose NPI and TIN the plan knows (printed on first start).
#[derive(Debug, Clone)]
pub struct DemoOffice {
    pub name: String,
    pub npi: domain::Npi,
    pub tin: Tin,
}

/// Members in the demo plan: enough to browse, quick to create.
pub const DEMO_MEMBERS: u64 = 500;
pub const DEMO_SEED: u64 = 2026;

/// Seeds the demo plan with random passwords (printed once by the caller).
pub async fn demo(store: &dyn Store) -> Result<Vec<DemoAccount>, StorageError> {
    demo_with_password(store, &random_password()).await
}

/// Seeds the demo plan with one known password for every account (for tests and scripted demos).
pub async fn demo_with_password(
    store: &dyn Store,
    password: &str,
) -> Result<Vec<DemoAccount>, StorageError> {
    let opts = Options {
        seed: DEMO_SEED,
        members: DEMO_MEMBERS,
        as_of: chrono::Utc::now().date_naive(),
        batch: DEMO_MEMBERS as usize,
        ids: domain::MemberIdIssuer::random(),
    };
    generate(store, &opts, &|_| {}).await?;

    // The demo offices are the first two medical groups of the generated directory.
    let (office_name, group_tin) = group(store, 1).await?;
    let (office2_name, group2_tin) = group(store, 2).await?;
    let delegated = store
        .networks()
        .await?
        .into_iter()
        .find(|n| n.kind == NetworkKind::Delegated)
        .map(|n| n.code);
    let org =
        |kind, name: &str, tin: Option<Tin>, network: Option<String>, claims_allowed| NewOrg {
            kind,
            name: name.to_string(),
            tin,
            network,
            claims_allowed,
        };
    let plan = store
        .create_org(&org(
            OrgKind::Plan,
            "Orange Coast Health Plan",
            None,
            None,
            false,
        ))
        .await?;
    // The plan has approved claims inquiry for the first office (its claims user has it).
    let office = store
        .create_org(&org(
            OrgKind::ProviderOffice,
            &office_name,
            Some(group_tin),
            None,
            true,
        ))
        .await?;
    let office2 = store
        .create_org(&org(
            OrgKind::ProviderOffice,
            &office2_name,
            Some(group2_tin),
            None,
            false,
        ))
        .await?;
    let billing_tin = Tin::parse("331234567").expect("valid TIN");
    let billing = store
        .create_org(&org(
            OrgKind::BillingService,
            "Accurate Billing Services",
            Some(billing_tin),
            None,
            false,
        ))
        .await?;
    let network = store
        .create_org(&org(
            OrgKind::HealthNetwork,
            "Harbor Health Network",
            None,
            delegated,
            false,
        ))
        .await?;

    let accounts: [(Role, &str, &str, i64); 10] = [
        (Role::OfficeUser, "office", "Olivia Office", office),
        (Role::ClaimsUser, "claims", "Carlos Claims", office),
        (
            Role::OfficeAdmin,
            "officeadmin",
            "Ada Administrator",
            office,
        ),
        (Role::EdiPartner, "edi", "Eddie Interchange", billing),
        (Role::ProviderRelations, "relations", "Rosa Relations", plan),
        (Role::UmReviewer, "reviewer", "Dr. Uma Reviewer", plan),
        (Role::GarsAnalyst, "appeals", "Gary Appeals", plan),
        (Role::NetworkStaff, "network", "Nina Network", network),
        (Role::PlanAdmin, "planadmin", "Pat Plan-Admin", plan),
        (Role::OfficeUser, "office2", "Otto Otheroffice", office2),
    ];
    let hash = {
        let password = password.to_string();
        // One hash for the demo's shared password; argon2 is slow by design.
        tokio::task::spawn_blocking(move || domain::password::hash(&password))
            .await
            .map_err(|e| StorageError::Database(e.to_string()))?
    };
    let mut out = Vec::new();
    let mut relations = 0;
    let mut edi = 0;
    let (mut reviewer, mut office_user) = (0, 0);
    for (role, username, name, org) in accounts {
        let id = store
            .create_user(&NewUser {
                username: username.into(),
                display_name: name.into(),
                email: format!("{username}@demo.invalid"),
                role,
                org_id: org,
                password_hash: hash.clone(),
                status: UserStatus::Active,
                phone: "7145550100".into(),
                claims: role == Role::ClaimsUser,
            })
            .await?;
        match (role, username) {
            (Role::ProviderRelations, _) => relations = id,
            (Role::EdiPartner, _) => edi = id,
            (Role::UmReviewer, _) => reviewer = id,
            (Role::OfficeUser, "office") => office_user = id,
            _ => {}
        }
        out.push(DemoAccount {
            role: role.label(),
            username: username.into(),
            password: password.into(),
        });
    }
    // The billing service works for the demo office: its TIN was granted by the plan.
    store.grant_tin(edi, &group_tin, relations).await?;
    // An open review queue from the first office (expedited, standard, overdue, pended).
    crate::authorizations::demo_queue(store, group_tin, office_user, reviewer, chrono::Utc::now())
        .await?;
    Ok(out)
}

/// The demo office a visitor can register for (the first medical group).
pub async fn demo_office(store: &dyn Store) -> Result<DemoOffice, StorageError> {
    let (name, tin) = group(store, 1).await?;
    Ok(DemoOffice {
        name,
        npi: crate::plan::org_npi(1),
        tin,
    })
}

/// (name, TIN) of the `seq`-th medical group.
async fn group(store: &dyn Store, seq: u32) -> Result<(String, Tin), StorageError> {
    match store.provider(&crate::plan::org_npi(seq)).await? {
        Some(p) if p.kind == ProviderKind::Group => Ok((p.name, p.tin)),
        _ => Err(StorageError::Corrupt(format!(
            "the demo's medical group {seq} was not generated"
        ))),
    }
}

/// 16 characters from an unambiguous alphabet, from the OS's randomness.
fn random_password() -> String {
    use rand::Rng as _;
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    (0..16)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}
