//! The office scope as SQL, in one place. `domain::access::Principal::office_scope` decides
//! which TINs an office may see; this module is the only code that turns that into a `WHERE`:
//! which TINs a [`Scope`] lets through, and through which provider each kind of record belongs
//! to a TIN. Every area that answers an office (claims, claim status, authorizations, care
//! gaps, remittances) builds its query with [`Tins::push`].

use domain::access::Scope;
use sqlx::QueryBuilder;

/// How a kind of record belongs to an office, by the alias the query gives its table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Owner {
    /// `claims c`: the billing provider's TIN.
    Claim,
    /// `auth_requests a`: the requesting provider's TIN.
    Auth,
    /// `eligibility_spans s`: the PCP's TIN (the member is assigned to the office).
    Span,
    /// `payments`: the payee's TIN, kept on the row.
    Payment,
}

/// The TINs a scope lets through, as the text they are stored as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Tins(Vec<String>);

impl Tins {
    /// `None` when the scope shows nothing (`Scope::Nothing`, or no TIN at all): the caller
    /// answers "nothing" without asking the database.
    pub(crate) fn of(scope: &Scope) -> Option<Tins> {
        match scope {
            Scope::Tins(t) if !t.is_empty() => {
                Some(Tins(t.iter().map(|t| t.digits().to_string()).collect()))
            }
            _ => None,
        }
    }

    /// Continues a query that has named the owner's table (`FROM claims c`, with any other
    /// joins) with the join to the owning provider and `WHERE` its TIN is one of these; the
    /// caller goes on with ` AND ...`.
    pub(crate) fn push<DB: sqlx::Database>(&self, b: &mut QueryBuilder<DB>, owner: Owner)
    where
        for<'q> String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    {
        let tin = match owner {
            Owner::Claim => {
                b.push(" JOIN providers pr ON pr.npi = c.billing_npi");
                "pr.tin"
            }
            Owner::Auth => {
                b.push(" JOIN providers pr ON pr.npi = a.requesting_npi");
                "pr.tin"
            }
            Owner::Span => {
                b.push(" JOIN providers pr ON pr.npi = s.pcp_npi");
                "pr.tin"
            }
            Owner::Payment => "payee_tin",
        };
        b.push(" WHERE ").push(tin);
        crate::sql::push_in(b, &self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pool::SqlStore;
    use crate::{Result, on_pool};
    use domain::Tin;

    /// Two offices' worth of each kind of record, written behind the store's back so that this
    /// test depends on nothing but the schema: provider `1` bills under TIN 951234567, provider
    /// `2` under 330000002, and each kind has one record per office.
    const ROWS: &[&str] = &[
        "INSERT INTO networks (code, name, kind, phone) VALUES ('CCN', 'Community', 'community', '7145550100')",
        "INSERT INTO providers (npi, tin, kind, name, credential, taxonomy_code, specialty, languages, street, city, state, zip, phone, lat, lon, accepting_new, contracted, networks) \
         VALUES ('1234567893', '951234567', 'practitioner', 'One', 'MD', '207Q00000X', 'Family', 'en', '1 St', 'Irvine', 'CA', '92618', '9495550101', 33.6, -117.8, TRUE, TRUE, 'CCN')",
        "INSERT INTO providers (npi, tin, kind, name, credential, taxonomy_code, specialty, languages, street, city, state, zip, phone, lat, lon, accepting_new, contracted, networks) \
         VALUES ('1558598797', '330000002', 'practitioner', 'Two', 'MD', '207Q00000X', 'Family', 'en', '2 St', 'Tustin', 'CA', '92780', '7145550102', 33.7, -117.8, TRUE, TRUE, 'CCN')",
        "INSERT INTO members (id, first_name, last_name, name_key, birth_date, sex) VALUES ('M000000001', 'Ana', 'Garcia', 'garcia', '1980-02-29', 'F')",
        "INSERT INTO eligibility_spans (member_id, start_date, end_date, line_of_business, network, pcp_npi) VALUES ('M000000001', '2024-01-01', '2024-12-31', 'medi_cal', 'CCN', '1234567893')",
        "INSERT INTO eligibility_spans (member_id, start_date, end_date, line_of_business, network, pcp_npi) VALUES ('M000000001', '2025-01-01', NULL, 'medi_cal', 'CCN', '1558598797')",
        "INSERT INTO claims (number, form, patient_account, member_id, billing_npi, diagnoses, place_of_service, received, status) VALUES ('C1', 'P', 'PA1', 'M000000001', '1234567893', 'I10', '11', '2025-03-04', 'received')",
        "INSERT INTO claims (number, form, patient_account, member_id, billing_npi, diagnoses, place_of_service, received, status) VALUES ('C2', 'P', 'PA2', 'M000000001', '1558598797', 'I10', '11', '2025-03-04', 'received')",
        "INSERT INTO auth_requests (number, kind, urgency, member_id, requesting_npi, servicing_npi, diagnoses, place_of_service, from_date, to_date, received_at, status) \
         VALUES ('A1', 'prior_authorization', 'standard', 'M000000001', '1234567893', '1558598797', 'I10', '11', '2025-04-01', '2025-06-30', '2025-03-28T15:04:05Z', 'received')",
        "INSERT INTO auth_requests (number, kind, urgency, member_id, requesting_npi, servicing_npi, diagnoses, place_of_service, from_date, to_date, received_at, status) \
         VALUES ('A2', 'prior_authorization', 'standard', 'M000000001', '1558598797', '1234567893', 'I10', '11', '2025-04-01', '2025-06-30', '2025-03-28T15:04:05Z', 'received')",
        "INSERT INTO payments (id, number, method, paid_on, amount, payee_npi, payee_tin, payee_name, claim_count, created_at) VALUES (1, 'P1', 'CHK', '2025-03-21', 100, '1234567893', '951234567', 'One', 0, '2025-03-21T00:00:00Z')",
        "INSERT INTO payments (id, number, method, paid_on, amount, payee_npi, payee_tin, payee_name, claim_count, created_at) VALUES (2, 'P2', 'CHK', '2025-03-21', 100, '1558598797', '330000002', 'Two', 0, '2025-03-21T00:00:00Z')",
    ];

    /// What each owner's query selects, from its table under the alias [`Owner`] expects.
    fn select(owner: Owner) -> &'static str {
        match owner {
            Owner::Claim => "SELECT c.number FROM claims c",
            Owner::Auth => "SELECT a.number FROM auth_requests a",
            Owner::Span => "SELECT CAST(s.start_date AS TEXT) FROM eligibility_spans s",
            Owner::Payment => "SELECT number FROM payments",
        }
    }

    async fn visible(store: &SqlStore, owner: Owner, scope: &Scope) -> Result<Option<Vec<String>>> {
        let Some(tins) = Tins::of(scope) else {
            return Ok(None);
        };
        let mut found: Vec<String> = on_pool!(store, p, DB => {
            let mut b = QueryBuilder::<DB>::new(select(owner));
            tins.push(&mut b, owner);
            b.build_query_scalar::<String>().fetch_all(p).await?
        });
        found.sort();
        Ok(Some(found))
    }

    async fn check(store: &SqlStore) {
        for sql in ROWS {
            on_pool!(store, p, DB => { sqlx::query::<DB>(sqlx::AssertSqlSafe(*sql)).execute(p).await.unwrap(); });
        }
        let ours = Scope::Tins(vec![Tin::parse("951234567").unwrap()]);
        let theirs = Scope::Tins(vec![Tin::parse("330000002").unwrap()]);
        let both = Scope::Tins(vec![
            Tin::parse("951234567").unwrap(),
            Tin::parse("330000002").unwrap(),
        ]);
        let stranger = Scope::Tins(vec![Tin::parse("111111111").unwrap()]);
        let expected = [
            (Owner::Claim, ["C1", "C2"]),
            (Owner::Auth, ["A1", "A2"]),
            (Owner::Span, ["2024-01-01", "2025-01-01"]),
            (Owner::Payment, ["P1", "P2"]),
        ];
        for (owner, [mine, other]) in expected {
            let got = |s| visible(store, owner, s);
            assert_eq!(
                got(&ours).await.unwrap(),
                Some(vec![mine.to_string()]),
                "{owner:?}"
            );
            assert_eq!(
                got(&theirs).await.unwrap(),
                Some(vec![other.to_string()]),
                "{owner:?}"
            );
            assert_eq!(
                got(&both).await.unwrap(),
                Some(vec![mine.to_string(), other.to_string()]),
                "{owner:?}"
            );
            assert_eq!(got(&stranger).await.unwrap(), Some(vec![]), "{owner:?}");
            assert_eq!(
                got(&Scope::Nothing).await.unwrap(),
                None,
                "{owner:?}: no query"
            );
            assert_eq!(
                got(&Scope::Tins(vec![])).await.unwrap(),
                None,
                "{owner:?}: no query"
            );
        }
    }

    #[tokio::test]
    async fn scope_lets_through_only_its_tins_on_sqlite() {
        let db = crate::testing::sqlite().await;
        check(&db.store).await;
    }

    #[tokio::test]
    async fn scope_lets_through_only_its_tins_on_postgres() {
        let Some(db) = crate::testing::postgres().await else {
            eprintln!("skipped: PORTAL_TEST_POSTGRES_URL is not set");
            return;
        };
        check(&db.store).await;
    }
}
