//! The plan's verification queue: registration requests (portal access, the claims entitlement,
//! one more TIN for a billing service), the affiliation proofs uploaded for them, and the
//! decision, which creates or changes the account in the same transaction as it queues the
//! message telling the requester ([`RegistrationStore`]).

use crate::error::corrupt;
use crate::outbox::NewMessage;
use crate::pool::SqlStore;
use crate::rows::decode;
use crate::{Result, on_pool};
use chrono::{DateTime, Utc};
use domain::account::Role;
use domain::registration::{OfficeRole, RegistrationStatus, RequestKind};
use domain::{Npi, Tin};

#[async_trait::async_trait]
pub trait RegistrationStore: Send + Sync {
    async fn create_registration(&self, r: &NewRegistration) -> Result<i64>;
    async fn registration(&self, id: i64) -> Result<Option<RegistrationRecord>>;
    /// Oldest first (the queue is worked in order of arrival).
    async fn registrations(&self, filter: &RegistrationFilter) -> Result<Vec<RegistrationRecord>>;
    /// A pending request of this kind from this email for this TIN already exists.
    async fn pending_registration(
        &self,
        email: &str,
        kind: RequestKind,
        tin: &Tin,
    ) -> Result<Option<i64>>;
    /// Approves a pending request and applies `approval` in one transaction with `message`.
    /// `None` when the request is no longer pending (someone else decided it first).
    async fn approve_registration(
        &self,
        id: i64,
        by: i64,
        approval: &Approval,
        message: &NewMessage,
    ) -> Result<Option<Approved>>;
    /// Denies a pending request with a reason, queueing `message`. `false` when no longer pending.
    async fn deny_registration(
        &self,
        id: i64,
        by: i64,
        reason: &str,
        message: &NewMessage,
    ) -> Result<bool>;
    async fn add_document(&self, doc: &NewDocument) -> Result<i64>;
    async fn documents(&self, registration_id: i64) -> Result<Vec<DocumentMeta>>;
    async fn document(&self, id: i64) -> Result<Option<Document>>;
}

#[derive(Debug, Clone)]
pub struct NewRegistration {
    pub kind: RequestKind,
    pub name: String,
    pub email: String,
    pub phone: String,
    pub npi: Npi,
    pub tin: Tin,
    pub office_name: String,
    pub office_role: OfficeRole,
    /// For claims and TIN requests: the signed-in user asking.
    pub user_id: Option<i64>,
    /// Why the entitlement is needed (claims and TIN requests); empty for access requests.
    pub note: String,
    pub submitted_at: DateTime<Utc>,
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrationRecord {
    pub id: i64,
    pub kind: RequestKind,
    pub name: String,
    pub email: String,
    pub phone: String,
    pub npi: Npi,
    pub tin: Tin,
    pub office_name: String,
    pub office_role: OfficeRole,
    pub user_id: Option<i64>,
    pub note: String,
    pub submitted_at: DateTime<Utc>,
    pub status: RegistrationStatus,
    pub decided_at: Option<DateTime<Utc>>,
    pub decided_by: Option<i64>,
    /// The decider's username at the time.
    pub decided_by_name: Option<String>,
    pub reason: Option<String>,
}

/// Which requests a queue shows.
#[derive(Debug, Clone, Default)]
pub struct RegistrationFilter {
    pub status: Option<RegistrationStatus>,
    /// Only requests naming this TIN (an office administrator's own office).
    pub tin: Option<Tin>,
    pub kind: Option<RequestKind>,
    pub limit: i64,
}

/// What approving a request does, decided by the web layer with the domain's rules and applied
/// by storage in one transaction together with the status change.
#[derive(Debug, Clone)]
pub enum Approval {
    /// Portal access: find the provider office by TIN (creating it if the plan has none yet),
    /// create the user as `Invited` with this role, and store the activation token.
    Access {
        username: String,
        role: Role,
        /// Hex SHA-256 of the token in the activation link.
        activation_hash: String,
        activation_expires: DateTime<Utc>,
    },
    /// The claims entitlement for the requesting user; the office becomes claims-allowed.
    Claims,
    /// One more TIN for the requesting (billing-service) user.
    Tin,
}

/// What an approval created, for the audit trail and the page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approved {
    /// The user created (access) or changed (claims, TIN).
    pub user_id: i64,
    pub org_id: i64,
    /// The outbox message queued with the decision (for the transport to mark sent).
    pub message_id: i64,
}

#[derive(Debug, Clone)]
pub struct NewDocument {
    pub registration_id: i64,
    /// As uploaded, cleaned to a safe file name.
    pub filename: String,
    /// Sniffed from the bytes, never taken from the upload's headers.
    pub media_type: String,
    /// Hex SHA-256 of `bytes`.
    pub sha256: String,
    pub bytes: Vec<u8>,
    /// `None` when the requester uploaded it with the public form.
    pub uploaded_by: Option<i64>,
    pub uploaded_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentMeta {
    pub id: i64,
    pub registration_id: i64,
    pub filename: String,
    pub media_type: String,
    pub size: i64,
    pub sha256: String,
    pub uploaded_by: Option<i64>,
    pub uploaded_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct RegistrationRow {
    id: i64,
    kind: String,
    name: String,
    email: String,
    phone: String,
    npi: String,
    tin: String,
    office_name: String,
    office_role: String,
    user_id: Option<i64>,
    note: String,
    submitted_at: DateTime<Utc>,
    status: String,
    decided_at: Option<DateTime<Utc>>,
    decided_by: Option<i64>,
    decided_by_name: Option<String>,
    reason: Option<String>,
}

impl RegistrationRow {
    fn into_record(self) -> Result<RegistrationRecord> {
        Ok(RegistrationRecord {
            id: self.id,
            kind: decode("registrations.kind", &self.kind, RequestKind::from_code)?,
            name: self.name,
            email: self.email,
            phone: self.phone,
            npi: Npi::parse(&self.npi).map_err(|e| corrupt("registrations.npi", e))?,
            tin: Tin::parse(&self.tin).map_err(|e| corrupt("registrations.tin", e))?,
            office_name: self.office_name,
            office_role: decode(
                "registrations.office_role",
                &self.office_role,
                OfficeRole::from_code,
            )?,
            user_id: self.user_id,
            note: self.note,
            submitted_at: self.submitted_at,
            status: decode(
                "registrations.status",
                &self.status,
                RegistrationStatus::from_code,
            )?,
            decided_at: self.decided_at,
            decided_by: self.decided_by,
            decided_by_name: self.decided_by_name,
            reason: self.reason,
        })
    }
}

const COLUMNS: &str = "id, kind, name, email, phone, npi, tin, office_name, office_role, user_id, note, submitted_at, \
                       status, decided_at, decided_by, decided_by_name, reason";

const DECIDE: &str = "UPDATE registrations SET status = $1, decided_at = $2, decided_by = $3, \
    decided_by_name = (SELECT username FROM users WHERE id = $3), reason = $4 WHERE id = $5 AND status = 'pending'";

/// A proof with its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    pub meta: DocumentMeta,
    pub bytes: Vec<u8>,
}

#[derive(sqlx::FromRow)]
struct DocumentRow {
    id: i64,
    registration_id: i64,
    filename: String,
    media_type: String,
    size: i64,
    sha256: String,
    uploaded_by: Option<i64>,
    uploaded_at: DateTime<Utc>,
}

impl From<DocumentRow> for DocumentMeta {
    fn from(d: DocumentRow) -> Self {
        DocumentMeta {
            id: d.id,
            registration_id: d.registration_id,
            filename: d.filename,
            media_type: d.media_type,
            size: d.size,
            sha256: d.sha256,
            uploaded_by: d.uploaded_by,
            uploaded_at: d.uploaded_at,
        }
    }
}

const DOC_COLUMNS: &str =
    "id, registration_id, filename, media_type, size, sha256, uploaded_by, uploaded_at";

#[async_trait::async_trait]
impl RegistrationStore for SqlStore {
    async fn create_registration(&self, r: &NewRegistration) -> Result<i64> {
        const SQL: &str = "INSERT INTO registrations (kind, name, email, phone, npi, tin, office_name, office_role, user_id, note, submitted_at, source, status) \
                           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'pending') RETURNING id";
        Ok(on_pool!(self, p, DB => sqlx::query_scalar::<DB, i64>(SQL)
            .bind(r.kind.code()).bind(&r.name).bind(&r.email).bind(&r.phone).bind(r.npi.as_str().to_string())
            .bind(r.tin.digits().to_string()).bind(&r.office_name).bind(r.office_role.code()).bind(r.user_id)
            .bind(&r.note).bind(r.submitted_at).bind(&r.source)
            .fetch_one(p).await?))
    }

    async fn registration(&self, id: i64) -> Result<Option<RegistrationRecord>> {
        let sql = format!("SELECT {COLUMNS} FROM registrations WHERE id = $1");
        let row: Option<RegistrationRow> = on_pool!(self, p, DB => sqlx::query_as::<DB, RegistrationRow>(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(p).await?);
        row.map(RegistrationRow::into_record).transpose()
    }

    async fn registrations(&self, f: &RegistrationFilter) -> Result<Vec<RegistrationRecord>> {
        let rows: Vec<RegistrationRow> = on_pool!(self, p, DB => {
            let mut b = sqlx::QueryBuilder::<DB>::new(format!("SELECT {COLUMNS} FROM registrations WHERE 1 = 1"));
            if let Some(s) = f.status { b.push(" AND status = ").push_bind(s.code()); }
            if let Some(t) = f.tin { b.push(" AND tin = ").push_bind(t.digits().to_string()); }
            if let Some(k) = f.kind { b.push(" AND kind = ").push_bind(k.code()); }
            b.push(" ORDER BY submitted_at, id LIMIT ").push_bind(f.limit.clamp(1, 1000));
            b.build_query_as::<RegistrationRow>().fetch_all(p).await?
        });
        rows.into_iter().map(RegistrationRow::into_record).collect()
    }

    async fn pending_registration(
        &self,
        email: &str,
        kind: RequestKind,
        tin: &Tin,
    ) -> Result<Option<i64>> {
        const SQL: &str = "SELECT id FROM registrations WHERE status = 'pending' AND email = $1 AND kind = $2 AND tin = $3 ORDER BY id LIMIT 1";
        Ok(
            on_pool!(self, p, DB => sqlx::query_scalar::<DB, i64>(SQL).bind(email).bind(kind.code()).bind(tin.digits()).fetch_optional(p).await?),
        )
    }

    async fn approve_registration(
        &self,
        id: i64,
        by: i64,
        approval: &Approval,
        message: &NewMessage,
    ) -> Result<Option<Approved>> {
        let Some(r) = self.registration(id).await? else {
            return Ok(None);
        };
        let tin = r.tin.digits().to_string();
        let now = Utc::now();
        Ok(on_pool!(self, p, DB => {
            let mut tx = p.begin().await?;
            let decided = sqlx::query::<DB>(DECIDE)
                .bind("approved").bind(now).bind(by).bind(Option::<String>::None).bind(id)
                .execute(&mut *tx).await?.rows_affected();
            if decided != 1 {
                return Ok(None);
            }
            let approved = match approval {
                Approval::Access { username, role, activation_hash, activation_expires } => {
                    let existing: Option<i64> = sqlx::query_scalar::<DB, i64>(
                        "SELECT id FROM organizations WHERE tin = $1 AND kind = 'provider_office' ORDER BY id LIMIT 1")
                        .bind(&tin).fetch_optional(&mut *tx).await?;
                    let org_id = match existing {
                        Some(o) => o,
                        None => sqlx::query_scalar::<DB, i64>(
                            "INSERT INTO organizations (kind, name, tin, claims_allowed) VALUES ('provider_office', $1, $2, $3) RETURNING id")
                            .bind(&r.office_name).bind(&tin).bind(false).fetch_one(&mut *tx).await?,
                    };
                    let user_id: i64 = sqlx::query_scalar::<DB, i64>(
                        "INSERT INTO users (username, display_name, email, phone, role, org_id, password_hash, status, claims) \
                         VALUES ($1, $2, $3, $4, $5, $6, '', 'invited', $7) RETURNING id")
                        .bind(username).bind(&r.name).bind(&r.email).bind(&r.phone).bind(role.code()).bind(org_id).bind(false)
                        .fetch_one(&mut *tx).await?;
                    sqlx::query::<DB>("INSERT INTO activations (token_hash, user_id, expires_at) VALUES ($1, $2, $3)")
                        .bind(activation_hash).bind(user_id).bind(*activation_expires).execute(&mut *tx).await?;
                    sqlx::query::<DB>("UPDATE registrations SET user_id = $1 WHERE id = $2").bind(user_id).bind(id).execute(&mut *tx).await?;
                    (user_id, org_id)
                }
                Approval::Claims | Approval::Tin => {
                    let Some(user_id) = r.user_id else {
                        return Err(corrupt("registrations.user_id", "an entitlement request without its user"));
                    };
                    let org_id: i64 = sqlx::query_scalar::<DB, i64>("SELECT org_id FROM users WHERE id = $1")
                        .bind(user_id).fetch_one(&mut *tx).await?;
                    if matches!(approval, Approval::Claims) {
                        sqlx::query::<DB>("UPDATE users SET claims = $1 WHERE id = $2").bind(true).bind(user_id).execute(&mut *tx).await?;
                        sqlx::query::<DB>("UPDATE organizations SET claims_allowed = $1 WHERE id = $2").bind(true).bind(org_id).execute(&mut *tx).await?;
                    } else {
                        sqlx::query::<DB>("INSERT INTO user_tins (user_id, tin, granted_by, granted_at) VALUES ($1, $2, $3, $4) ON CONFLICT (user_id, tin) DO NOTHING")
                            .bind(user_id).bind(&tin).bind(by).bind(now).execute(&mut *tx).await?;
                    }
                    (user_id, org_id)
                }
            };
            let message_id = sqlx::query_scalar::<DB, i64>(crate::outbox::INSERT)
                .bind(&message.to_addr).bind(&message.subject).bind(&message.body).bind(message.created_at)
                .fetch_one(&mut *tx).await?;
            tx.commit().await?;
            Some(Approved { user_id: approved.0, org_id: approved.1, message_id })
        }))
    }

    async fn deny_registration(
        &self,
        id: i64,
        by: i64,
        reason: &str,
        message: &NewMessage,
    ) -> Result<bool> {
        let now = Utc::now();
        Ok(on_pool!(self, p, DB => {
            let mut tx = p.begin().await?;
            let decided = sqlx::query::<DB>(DECIDE)
                .bind("denied").bind(now).bind(by).bind(Some(reason.to_string())).bind(id)
                .execute(&mut *tx).await?.rows_affected();
            if decided != 1 {
                return Ok(false);
            }
            sqlx::query_scalar::<DB, i64>(crate::outbox::INSERT)
                .bind(&message.to_addr).bind(&message.subject).bind(&message.body).bind(message.created_at)
                .fetch_one(&mut *tx).await?;
            tx.commit().await?;
            true
        }))
    }

    async fn add_document(&self, d: &NewDocument) -> Result<i64> {
        const SQL: &str = "INSERT INTO documents (registration_id, filename, media_type, size, sha256, bytes, uploaded_by, uploaded_at) \
                           VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id";
        let size = i64::try_from(d.bytes.len()).map_err(|e| corrupt("documents.size", e))?;
        Ok(on_pool!(self, p, DB => sqlx::query_scalar::<DB, i64>(SQL)
            .bind(d.registration_id).bind(&d.filename).bind(&d.media_type).bind(size).bind(&d.sha256)
            .bind(&d.bytes).bind(d.uploaded_by).bind(d.uploaded_at)
            .fetch_one(p).await?))
    }

    async fn documents(&self, registration_id: i64) -> Result<Vec<DocumentMeta>> {
        let sql =
            format!("SELECT {DOC_COLUMNS} FROM documents WHERE registration_id = $1 ORDER BY id");
        let rows: Vec<DocumentRow> = on_pool!(self, p, DB => sqlx::query_as::<DB, DocumentRow>(sqlx::AssertSqlSafe(sql)).bind(registration_id).fetch_all(p).await?);
        Ok(rows.into_iter().map(DocumentMeta::from).collect())
    }

    async fn document(&self, id: i64) -> Result<Option<Document>> {
        let sql = format!("SELECT {DOC_COLUMNS} FROM documents WHERE id = $1");
        let (row, bytes): (Option<DocumentRow>, Option<Vec<u8>>) = on_pool!(self, p, DB => {
            let row = sqlx::query_as::<DB, DocumentRow>(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(p).await?;
            let bytes = sqlx::query_scalar::<DB, Vec<u8>>("SELECT bytes FROM documents WHERE id = $1").bind(id).fetch_optional(p).await?;
            (row, bytes)
        });
        Ok(row.zip(bytes).map(|(r, bytes)| Document {
            meta: DocumentMeta::from(r),
            bytes,
        }))
    }
}
