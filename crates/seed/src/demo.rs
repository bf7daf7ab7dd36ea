//! The demo plan a fresh `portal serve` starts with: a small generated plan plus one account
//! per role, each in the organisation that role belongs to.

use crate::{Options, generate};
use domain::account::{OrgKind, Role};
use domain::provider::ProviderKind;
use storage::{NewUser, StorageError, Store};

/// A demo login printed on first start.
#[derive(Debug, Clone)]
pub struct DemoAccount {
    pub role: &'static str,
    pub username: String,
    pub password: String,
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
    };
    generate(store, &opts, &|_| {}).await?;

    // The demo office is the first medical group of the generated directory.
    let group = first_group(store).await?;
    let plan = store
        .create_org(OrgKind::Plan, "Orange Coast Health Plan", None)
        .await?;
    let office = store
        .create_org(OrgKind::ProviderOffice, &group.0, Some(&group.1))
        .await?;
    let billing = store
        .create_org(
            OrgKind::BillingService,
            "Accurate Billing Services",
            Some("331234567"),
        )
        .await?;
    let network = store
        .create_org(OrgKind::HealthNetwork, "Harbor Health Network", None)
        .await?;

    let accounts: [(Role, &str, &str, i64); 9] = [
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
    ];
    let hash = {
        let password = password.to_string();
        // One hash for the demo's shared password; argon2 is slow by design.
        tokio::task::spawn_blocking(move || domain::password::hash(&password))
            .await
            .map_err(|e| StorageError::Database(e.to_string()))?
    };
    let mut out = Vec::new();
    for (role, username, name, org) in accounts {
        store
            .create_user(&NewUser {
                username: username.into(),
                display_name: name.into(),
                email: format!("{username}@demo.invalid"),
                role,
                org_id: org,
                password_hash: hash.clone(),
                status: "active".into(),
            })
            .await?;
        out.push(DemoAccount {
            role: role.label(),
            username: username.into(),
            password: password.into(),
        });
    }
    Ok(out)
}

/// (name, TIN digits) of the first medical group.
async fn first_group(store: &dyn Store) -> Result<(String, String), StorageError> {
    match store.provider(&crate::plan::org_npi(1)).await? {
        Some(p) if p.kind == ProviderKind::Group => Ok((p.name, p.tin.digits().to_string())),
        _ => Err(StorageError::Corrupt(
            "the demo office's medical group was not generated".into(),
        )),
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
