//! Eligibility lookups counted against the budgets of `domain::lookup_limits`, per user and
//! per organisation, in the database so they hold across instances ([`LookupStore`]).
//!
//! An admission is one transaction that first *updates* the organisation's row and then the
//! user's (always in that order, so two admissions never wait on each other crosswise): on
//! PostgreSQL that takes both row locks, on SQLite the database's write lock, before anything
//! is read. The budget check and the count are therefore one step: parallel uploads by one
//! user queue here and together answer no more misses than the budget, whatever their timing.

use crate::pool::SqlStore;
use crate::rows::decode;
use crate::{Result, on_pool};
use chrono::{DateTime, Utc};
use domain::account::OrgKind;
use domain::lookup_limits::{Admission, Tally, Totals, admit};

#[async_trait::async_trait]
pub trait LookupStore: Send + Sync {
    /// Admits eligibility lookups against the user's and the organisation's budgets and
    /// counts them, in one step (`domain::lookup_limits::admit`).
    async fn charge_lookups(&self, charge: &LookupCharge<'_>) -> Result<Admission>;
    /// Organisations with lookups in the window at `now`, most misses first.
    async fn lookups_by_org(&self, now: DateTime<Utc>) -> Result<Vec<OrgLookups>>;
}

/// Lookups made by one user of one organisation, to admit in order: `misses[i]` is whether
/// attempt `i` found nobody.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LookupCharge<'a> {
    pub user_id: i64,
    pub org_id: i64,
    pub now: DateTime<Utc>,
    pub misses: &'a [bool],
}

/// One organisation's lookups over the window, for the plan's page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgLookups {
    pub org_id: i64,
    pub name: String,
    pub kind: OrgKind,
    pub totals: Totals,
    /// Until when the plan has been alerted about it (a later abnormal day alerts again).
    pub alerted_until: Option<DateTime<Utc>>,
}

const ENSURE: &str = "INSERT INTO lookup_tallies (scope, scope_id) VALUES ('org', $1), ('user', $2) \
                      ON CONFLICT (scope, scope_id) DO NOTHING";
const LOCK_ORG: &str = "UPDATE lookup_tallies SET hours = hours WHERE scope = 'org' AND scope_id = $1 \
                        RETURNING hours, alerted_until";
const LOCK_USER: &str = "UPDATE lookup_tallies SET hours = hours WHERE scope = 'user' AND scope_id = $1 RETURNING hours";
const SET_ORG: &str = "UPDATE lookup_tallies SET hours = $1, alerted_until = $2 WHERE scope = 'org' AND scope_id = $3";
const SET_USER: &str =
    "UPDATE lookup_tallies SET hours = $1 WHERE scope = 'user' AND scope_id = $2";

#[async_trait::async_trait]
impl LookupStore for SqlStore {
    async fn charge_lookups(&self, c: &LookupCharge<'_>) -> Result<Admission> {
        on_pool!(self, p, DB => {
            let mut tx = p.begin().await?;
            // A write first: it takes SQLite's write lock (so no read below can go stale), and on
            // PostgreSQL the rows exist for the locking updates after it.
            sqlx::query::<DB>(ENSURE).bind(c.org_id).bind(c.user_id).execute(&mut *tx).await?;
            let (org_hours, alerted_until): (String, Option<DateTime<Utc>>) =
                sqlx::query_as::<DB, _>(LOCK_ORG).bind(c.org_id).fetch_one(&mut *tx).await?;
            let user_hours: String =
                sqlx::query_scalar::<DB, String>(LOCK_USER).bind(c.user_id).fetch_one(&mut *tx).await?;
            let a = admit(
                &Tally::parse(&user_hours),
                &Tally::parse(&org_hours),
                alerted_until,
                c.now,
                c.misses,
            );
            sqlx::query::<DB>(SET_ORG).bind(a.office.encode()).bind(a.alerted_until).bind(c.org_id)
                .execute(&mut *tx).await?;
            sqlx::query::<DB>(SET_USER).bind(a.user.encode()).bind(c.user_id).execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(a)
        })
    }

    /// Every organisation with lookups in the window, most misses first.
    async fn lookups_by_org(&self, now: DateTime<Utc>) -> Result<Vec<OrgLookups>> {
        const SQL: &str = "SELECT t.scope_id, o.name, o.kind, t.hours, t.alerted_until FROM lookup_tallies t \
                           JOIN organizations o ON o.id = t.scope_id WHERE t.scope = 'org'";
        type Row = (i64, String, String, String, Option<DateTime<Utc>>);
        let rows: Vec<Row> =
            on_pool!(self, p, DB => sqlx::query_as::<DB, Row>(SQL).fetch_all(p).await?);
        let mut out = Vec::with_capacity(rows.len());
        for (org_id, name, kind, hours, alerted_until) in rows {
            let totals = Tally::parse(&hours).totals(now);
            if totals == Totals::default() {
                continue;
            }
            out.push(OrgLookups {
                org_id,
                name,
                kind: decode("organizations.kind", &kind, OrgKind::from_code)?,
                totals,
                alerted_until,
            });
        }
        out.sort_by(|a, b| {
            (b.totals.misses, b.totals.ratio_percent(), &a.name).cmp(&(
                a.totals.misses,
                a.totals.ratio_percent(),
                &b.name,
            ))
        });
        Ok(out)
    }
}
