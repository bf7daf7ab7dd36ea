//! Referral and prior authorization requests with their services.

use crate::error::corrupt;
use crate::plan::{decode, split_list};
use crate::pool::{INSERT_CHUNK, SqlStore};
use crate::{Result, on_pool};
use chrono::{DateTime, NaiveDate, Utc};
use domain::auth::{AuthKind, AuthRequest, AuthStatus, DenialReason, RequestedService, Urgency};
use domain::{AuthNumber, MemberId, Npi};
use sqlx::QueryBuilder;

pub(crate) async fn insert(store: &SqlStore, auths: &[AuthRequest]) -> Result<()> {
    on_pool!(store, p, DB => {
        let mut tx = p.begin().await?;
        for chunk in auths.chunks(INSERT_CHUNK) {
            let mut q = QueryBuilder::<DB>::new(
                "INSERT INTO auth_requests (number, kind, urgency, member_id, requesting_npi, servicing_npi, diagnoses, place_of_service, from_date, to_date, received_at, status, decided_at, denial_code, denial_text) ",
            );
            q.push_values(chunk, |mut b, a| {
                b.push_bind(a.number.as_str()).push_bind(a.kind.code()).push_bind(a.urgency.code()).push_bind(a.member.as_str())
                    .push_bind(a.requesting_npi.as_str().to_string()).push_bind(a.servicing_npi.as_str().to_string())
                    .push_bind(a.diagnoses.join(",")).push_bind(&a.place_of_service).push_bind(a.from_date).push_bind(a.to_date)
                    .push_bind(a.received_at).push_bind(a.status.code()).push_bind(a.decided_at)
                    .push_bind(a.denial_reason.as_ref().map(|r| r.code.clone())).push_bind(a.denial_reason.as_ref().map(|r| r.text.clone()));
            });
            q.build().execute(&mut *tx).await?;

            let services: Vec<(&AuthNumber, usize, &RequestedService)> =
                chunk.iter().flat_map(|a| a.services.iter().enumerate().map(move |(i, s)| (&a.number, i, s))).collect();
            for services in services.chunks(INSERT_CHUNK) {
                let mut q = QueryBuilder::<DB>::new("INSERT INTO auth_services (auth_number, seq, procedure, units, approved_units) ");
                q.push_values(services, |mut b, (n, seq, s)| {
                    b.push_bind(n.as_str()).push_bind(*seq as i64).push_bind(&s.procedure).push_bind(i64::from(s.units))
                        .push_bind(s.approved_units.map(i64::from));
                });
                q.build().execute(&mut *tx).await?;
            }
        }
        tx.commit().await?;
    });
    Ok(())
}

#[derive(sqlx::FromRow)]
struct AuthRow {
    number: String,
    kind: String,
    urgency: String,
    member_id: String,
    requesting_npi: String,
    servicing_npi: String,
    diagnoses: String,
    place_of_service: String,
    from_date: NaiveDate,
    to_date: NaiveDate,
    received_at: DateTime<Utc>,
    status: String,
    decided_at: Option<DateTime<Utc>>,
    denial_code: Option<String>,
    denial_text: Option<String>,
}

pub(crate) async fn get(store: &SqlStore, number: &AuthNumber) -> Result<Option<AuthRequest>> {
    const AUTH: &str = "SELECT * FROM auth_requests WHERE number = $1";
    const SERVICES: &str = "SELECT procedure, units, approved_units FROM auth_services WHERE auth_number = $1 ORDER BY seq";
    let (row, services): (Option<AuthRow>, Vec<(String, i64, Option<i64>)>) = on_pool!(store, p, DB => {
        let row = sqlx::query_as::<DB, AuthRow>(AUTH).bind(number.as_str()).fetch_optional(p).await?;
        let services = sqlx::query_as::<DB, _>(SERVICES).bind(number.as_str()).fetch_all(p).await?;
        (row, services)
    });
    let Some(a) = row else { return Ok(None) };
    let units = |v: i64| u32::try_from(v).map_err(|e| corrupt("auth_services.units", e));
    let npi = |col: &str, s: &str| Npi::parse(s).map_err(|e| corrupt(col, e));
    Ok(Some(AuthRequest {
        number: AuthNumber::parse(&a.number).map_err(|e| corrupt("auth_requests.number", e))?,
        kind: decode("auth_requests.kind", &a.kind, AuthKind::from_code)?,
        urgency: decode("auth_requests.urgency", &a.urgency, Urgency::from_code)?,
        member: MemberId::parse(&a.member_id).map_err(|e| corrupt("auth_requests.member_id", e))?,
        requesting_npi: npi("auth_requests.requesting_npi", &a.requesting_npi)?,
        servicing_npi: npi("auth_requests.servicing_npi", &a.servicing_npi)?,
        diagnoses: split_list(&a.diagnoses),
        services: services
            .into_iter()
            .map(|(procedure, u, approved)| {
                Ok(RequestedService {
                    procedure,
                    units: units(u)?,
                    approved_units: approved.map(units).transpose()?,
                })
            })
            .collect::<Result<Vec<_>>>()?,
        place_of_service: a.place_of_service,
        from_date: a.from_date,
        to_date: a.to_date,
        received_at: a.received_at,
        status: decode("auth_requests.status", &a.status, AuthStatus::from_code)?,
        decided_at: a.decided_at,
        denial_reason: match (a.denial_code, a.denial_text) {
            (Some(code), Some(text)) => Some(DenialReason { code, text }),
            _ => None,
        },
    }))
}
