//! Synthetic 837 batches the plan in a store will accept: claims for its own members, on dates
//! they were covered, billed by a provider it knows. For tests, the intake benchmark and demos;
//! nothing here is committed as a file. Names are made up; identifiers come from the store.

use crate::intake::combine;
use chrono::{Days, NaiveDate};
use domain::claim::ClaimForm;
use domain::{Cents, MemberId, Npi, Tin};
use storage::{StorageError, Store};
use x12::model::{self, Address, Envelope, Party, Person, ServiceLine};

/// Professional services with a typical charge: (CPT/HCPCS, cents).
const PROFESSIONAL: &[(&str, i64)] = &[
    ("99213", 12_000),
    ("99214", 17_500),
    ("87880", 3_500),
    ("36415", 1_200),
    ("85025", 2_800),
    ("80053", 4_500),
    ("93000", 6_000),
    ("90686", 2_500),
];
/// Outpatient hospital services: (revenue code, HCPCS, cents).
const INSTITUTIONAL: &[(&str, &str, i64)] = &[
    ("0450", "99284", 85_000),
    ("0300", "80053", 12_000),
    ("0320", "71046", 31_000),
    ("0250", "J1100", 4_000),
];
const DIAGNOSES: &[&str] = &["J069", "E119", "I10", "Z0000", "R509", "M545", "N390"];

/// The billing provider of a batch.
#[derive(Debug, Clone)]
pub struct Billing {
    pub name: String,
    pub npi: Npi,
    pub tin: Tin,
}

/// One claim for `member` on `dos` with `lines` service lines (1 to 4), numbered `n`.
pub fn claim(
    form: ClaimForm,
    billing: &Billing,
    member: &MemberId,
    n: u64,
    dos: NaiveDate,
    lines: usize,
    rendering: Option<Npi>,
) -> model::Claim {
    let date = dos.format("%Y%m%d").to_string();
    let inst = form == ClaimForm::Institutional;
    let mut total = Cents::ZERO;
    let lines: Vec<ServiceLine> = (0..lines.clamp(1, 4))
        .map(|i| {
            let k = (n as usize + i * 3)
                % if inst {
                    INSTITUTIONAL.len()
                } else {
                    PROFESSIONAL.len()
                };
            let (revenue, procedure, cents) = if inst {
                INSTITUTIONAL[k]
            } else {
                ("", PROFESSIONAL[k].0, PROFESSIONAL[k].1)
            };
            total += Cents(cents);
            ServiceLine {
                procedure: procedure.into(),
                modifiers: Vec::new(),
                revenue_code: revenue.into(),
                charge: Cents(cents).to_string(),
                units: "1".into(),
                service_date: date.clone(),
            }
        })
        .collect();
    model::Claim {
        kind: if inst {
            model::ClaimKind::Institutional
        } else {
            model::ClaimKind::Professional
        },
        billing_provider: Party {
            name: billing.name.clone(),
            id: billing.npi.to_string(),
        },
        billing_tax_id: billing.tin.digits().to_string(),
        billing_address: Address {
            line: "100 MAIN ST".into(),
            city: "SANTA ANA".into(),
            state: "CA".into(),
            zip: "927011234".into(),
        },
        subscriber: Person {
            last: "MEMBER".into(),
            first: format!("PATIENT{}", n % 1000),
            member_id: member.to_string(),
            dob: "19800101".into(),
            gender: "U".into(),
            address: Some(Address {
                line: "1 ELM ST".into(),
                city: "IRVINE".into(),
                state: "CA".into(),
                zip: "92602".into(),
            }),
        },
        payer: Party {
            name: "ORANGE COAST HEALTH PLAN".into(),
            id: "OCHP1".into(),
        },
        patient: None,
        relationship: String::new(),
        claim_id: format!("PCN{n:08}"),
        total_charge: total.to_string(),
        facility_code: if inst { "13".into() } else { "11".into() },
        frequency: "1".into(),
        diagnoses: vec![
            DIAGNOSES[n as usize % DIAGNOSES.len()].into(),
            DIAGNOSES[(n as usize + 3) % DIAGNOSES.len()].into(),
        ],
        statement_date: if inst { date.clone() } else { String::new() },
        rendering_npi: rendering.map(|r| r.to_string()).unwrap_or_default(),
        lines,
    }
}

/// One interchange holding `claims` (all of one form) in transaction sets of at most
/// `per_set` claims (the 837 TR3s advise at most 5,000 claims per set).
pub fn write_837(claims: &[model::Claim], env: &Envelope, per_set: usize) -> String {
    let parts: Vec<String> = claims
        .chunks(per_set.max(1))
        .map(|chunk| model::Claim::to_x12(chunk, env))
        .collect();
    combine(&parts)
}

/// `claims` claims (1 to 4 lines each) the plan in `store` will accept: for its members, in
/// member ID order, on a date each was covered in the 60 days up to `as_of`, billed by
/// `billing`, rendered by the member's PCP when they have one.
pub async fn for_plan(
    store: &dyn Store,
    form: ClaimForm,
    billing: &Billing,
    claims: usize,
    as_of: NaiveDate,
) -> Result<Vec<model::Claim>, StorageError> {
    let mut out = Vec::with_capacity(claims);
    let mut after: Option<MemberId> = None;
    let mut pass = 0u64;
    while out.len() < claims {
        let ids = store.member_ids(after.as_ref(), 1000).await?;
        let Some(last) = ids.last() else {
            // Past the last member: use them again, on other dates, unless none was usable.
            pass += 1;
            if out.is_empty() || pass > 60 {
                break;
            }
            after = None;
            continue;
        };
        after = Some(last.clone());
        let lookup = store.intake_lookup(&ids, &[]).await?;
        for (k, id) in ids.iter().enumerate() {
            let Some(spans) = lookup.members.get(id) else {
                continue;
            };
            let n = out.len() as u64 + 1;
            let back = (k as u64 * 7 + pass) % 60;
            let dos = as_of - Days::new(back);
            let Some(span) = spans.iter().find(|s| s.covers(dos)) else {
                continue;
            };
            let lines = 1 + (n as usize * 5 + k) % 4;
            out.push(claim(form, billing, id, n, dos, lines, span.pcp));
            if out.len() == claims {
                break;
            }
        }
    }
    // Members used again need distinct claims: numbers are already distinct (PCN n).
    Ok(out)
}
