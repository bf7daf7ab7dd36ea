//! `portal admin`: what an operator does from the server, before anyone can sign in or when
//! nobody with the right role can: invite an account (the first plan administrator of a new
//! installation), unlock one, reset its two-step sign-in, deactivate it. Each action is written
//! to the audit trail as done by `operator`.

use chrono::{Duration, Utc};
use clap::Subcommand;
use domain::account::{OrgKind, Role, UserStatus};
use domain::audit::AuditEvent;
use std::process::ExitCode;
use storage::{NewOrg, NewUser, Store};

#[derive(Subcommand, Debug)]
pub enum AdminCommand {
    /// Create an account and print its one-time activation link (valid 7 days).
    Invite {
        #[arg(long)]
        username: String,
        /// The person's full name.
        #[arg(long)]
        name: String,
        #[arg(long)]
        email: String,
        /// One of: plan_admin, plan_provider_relations, plan_um_reviewer, plan_gars,
        /// network_staff, office_admin, office_user, edi_partner.
        #[arg(long, default_value = "plan_admin")]
        role: String,
        /// The organisation (created when none of that name exists); plan roles default to
        /// the plan's own organisation.
        #[arg(long)]
        org: Option<String>,
        #[command(flatten)]
        db: super::db::DbArgs,
    },
    /// Clear an account's failed sign-ins and lock.
    Unlock {
        username: String,
        #[command(flatten)]
        db: super::db::DbArgs,
    },
    /// Remove an account's two-step sign-in (it enrols again at the next sign-in) and end its
    /// sessions.
    ResetMfa {
        username: String,
        #[command(flatten)]
        db: super::db::DbArgs,
    },
    /// Deactivate an account and end its sessions.
    Deactivate {
        username: String,
        #[command(flatten)]
        db: super::db::DbArgs,
    },
    /// New keys: every TOTP secret re-encrypted under a new key in one transaction (the old
    /// TOTP key then leaves the key file), and a new audit key for the entries from now on
    /// (older audit keys stay to verify the trail; nothing is rewritten). Stop every instance
    /// first, and start them all with the new key file.
    RotateKeys {
        /// Where to write the new keys [default: the key file]; required with PORTAL_KEYS.
        #[arg(long, value_name = "FILE")]
        out: Option<std::path::PathBuf>,
        #[command(flatten)]
        db: super::db::DbArgs,
    },
}

async fn record(store: &dyn Store, action: &str, user_id: i64) -> anyhow::Result<()> {
    store
        .audit(&AuditEvent {
            actor: None,
            actor_name: "operator".into(),
            org: None,
            action: action.into(),
            record_type: "user".into(),
            record_id: user_id.to_string(),
            outcome: "ok".into(),
            source: "portal admin".into(),
        })
        .await?;
    Ok(())
}

async fn user_id(store: &dyn Store, username: &str) -> anyhow::Result<i64> {
    store
        .user_by_username(username)
        .await?
        .map(|u| u.id)
        .ok_or_else(|| anyhow::anyhow!("no account named {username:?}"))
}

fn org_kind(role: Role) -> OrgKind {
    match role {
        Role::ProviderRelations | Role::UmReviewer | Role::GarsAnalyst | Role::PlanAdmin => {
            OrgKind::Plan
        }
        Role::NetworkStaff => OrgKind::HealthNetwork,
        Role::EdiPartner => OrgKind::BillingService,
        Role::OfficeUser | Role::ClaimsUser | Role::OfficeAdmin => OrgKind::ProviderOffice,
    }
}

pub fn run(cmd: AdminCommand) -> ExitCode {
    super::db::block_on("admin", async move {
        match cmd {
            AdminCommand::Invite {
                username,
                name,
                email,
                role,
                org,
                db,
            } => {
                let role = Role::from_code(&role)
                    .ok_or_else(|| anyhow::anyhow!("unknown role {role:?} (see --help)"))?;
                let kind = org_kind(role);
                let org_name = match (org, kind) {
                    (Some(o), _) => o,
                    (None, OrgKind::Plan) => "Health plan".to_string(),
                    (None, _) => anyhow::bail!("--org is required for the role {}", role.code()),
                };
                let public_url = db.public_url()?;
                let store = db.open().await?;
                let existing = store.orgs_of_kind(kind).await?;
                let org_id = match existing.iter().find(|o| {
                    o.name == org_name || (org_name == "Health plan" && kind == OrgKind::Plan)
                }) {
                    Some(o) => o.id,
                    None => {
                        store
                            .create_org(&NewOrg {
                                kind,
                                name: org_name.clone(),
                                tin: None,
                                network: None,
                                claims_allowed: false,
                            })
                            .await?
                    }
                };
                let id = store
                    .create_user(&NewUser {
                        username: username.trim().to_lowercase(),
                        display_name: name,
                        email,
                        role,
                        org_id,
                        password_hash: String::new(),
                        status: UserStatus::Invited,
                        phone: String::new(),
                        claims: false,
                    })
                    .await
                    .map_err(|e| match e {
                        storage::StorageError::Duplicate(_) => {
                            anyhow::anyhow!("an account named {username:?} already exists")
                        }
                        other => other.into(),
                    })?;
                let token = domain::session::new_token();
                store
                    .create_activation(
                        id,
                        &domain::session::token_hash(&token),
                        Utc::now() + Duration::days(7),
                    )
                    .await?;
                record(&*store, "user.invite", id).await?;
                println!(
                    "Invited {} ({}). Activation link, valid 7 days, usable once:",
                    username,
                    role.label()
                );
                println!("{public_url}/activate/{token}");
                Ok(ExitCode::SUCCESS)
            }
            AdminCommand::Unlock { username, db } => {
                let store = db.open().await?;
                let id = user_id(&*store, &username).await?;
                store.clear_sign_in_failures(id).await?;
                record(&*store, "account.unlock", id).await?;
                println!("Unlocked {username}.");
                Ok(ExitCode::SUCCESS)
            }
            AdminCommand::ResetMfa { username, db } => {
                let store = db.open().await?;
                let id = user_id(&*store, &username).await?;
                store.reset_totp(id).await?;
                record(&*store, "mfa.reset", id).await?;
                println!(
                    "Two-step sign-in reset for {username}; they set it up again at the next sign-in."
                );
                Ok(ExitCode::SUCCESS)
            }
            AdminCommand::RotateKeys { out, db } => {
                println!("{}", super::keys::rotate(&db.config()?, out).await?);
                Ok(ExitCode::SUCCESS)
            }
            AdminCommand::Deactivate { username, db } => {
                let store = db.open().await?;
                let id = user_id(&*store, &username).await?;
                let seen = store.deactivation(id).await?.map(|d| d.by);
                let change = storage::StatusChange {
                    authority: domain::account::StatusAuthority::Plan,
                    user_id: None,
                    at: chrono::Utc::now(),
                };
                if seen.is_some() {
                    println!("{username} is already deactivated.");
                    return Ok(ExitCode::SUCCESS);
                }
                if !store
                    .set_user_status(id, UserStatus::Deactivated, &change, seen)
                    .await?
                {
                    anyhow::bail!("{username} changed meanwhile; try again");
                }
                record(&*store, "user.deactivate", id).await?;
                println!("Deactivated {username}; their sessions are ended.");
                Ok(ExitCode::SUCCESS)
            }
        }
    })
}
