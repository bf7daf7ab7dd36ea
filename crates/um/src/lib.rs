//! Utilization management: the one place a referral or prior authorization is submitted,
//! reviewed and decided, whichever channel it came by (the portal form or an X12 278), so both
//! behave the same: the same validation against the member's eligibility and the plan's
//! providers, the same auth-required and auto-approval rules, the same clock, timeline,
//! notification and messages, each change stored in one transaction.
//!
//! Rules and clocks are `domain`'s; storage is `storage`'s; this crate sequences them.
//! Nothing here speaks HTTP or X12.

use chrono::{DateTime, NaiveDate, Utc};
use domain::access::Scope;
use domain::auth::{
    AuthError, AuthEvent, AuthEventKind, AuthKind, AuthRequest, AuthStatus, Decision,
    RequestedService, Urgency,
};
use domain::auth_rules::{self, Requirement};
use domain::plan::LineOfBusiness;
use domain::{AuthNumber, MemberId, Npi};
use storage::{AuthWrite, NewAttachment, NewMessage, StorageError, Store};

/// Most services on one request, diagnoses on one request, characters of clinical notes.
pub const MAX_SERVICES: usize = 10;
pub const MAX_DIAGNOSES: usize = 12;
pub const MAX_NOTES: usize = 20_000;
pub const MAX_UNITS: u32 = 999;
/// Longest span of dates one request may cover.
pub const MAX_SPAN_DAYS: i64 = 366;

/// Who acts, as the timeline names them.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: Option<i64>,
    pub name: String,
}

/// A request as typed into the form or read from a 278: text, checked here.
#[derive(Debug, Clone, Default)]
pub struct SubmissionForm {
    pub kind: String,
    pub member_id: String,
    pub birth_date: String,
    pub requesting_npi: String,
    pub servicing_npi: String,
    /// ICD-10-CM codes separated by commas or spaces.
    pub diagnoses: String,
    /// (code, units) rows; empty rows are ignored.
    pub services: Vec<(String, String)>,
    pub from_date: String,
    pub to_date: String,
    pub place_of_service: String,
    /// "standard" or "expedited".
    pub urgency: String,
    pub urgency_reason: String,
    pub clinical_notes: String,
    /// The sender's own trace number (a 278's TRN02); empty from the portal form. A second
    /// request with the same trace from the same requesting provider returns the first.
    pub trace: String,
}

/// A field and what is wrong with it, in words for the person who typed it.
pub type FieldError = (&'static str, String);

#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    #[error("the request has errors")]
    Fields(Vec<FieldError>),
    #[error(transparent)]
    Store(#[from] StorageError),
}

/// What came of a submission.
#[derive(Debug, Clone)]
pub struct Submitted {
    pub auth: AuthRequest,
    /// The auto-approval rule that decided it at once, in words.
    pub auto_rule: Option<String>,
    /// What the plan's rules say about each requested code.
    pub requirements: Vec<(String, Requirement)>,
    /// The request had been received before (same trace): nothing new was stored.
    pub duplicate: bool,
}

/// A date as offices type it: 2026-10-12 or 10/12/2026.
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(s, "%m/%d/%Y"))
        .or_else(|_| NaiveDate::parse_from_str(s, "%Y%m%d"))
        .ok()
}

/// "Dec 3, 2026 5:00 PM PT"
pub fn pacific(at: DateTime<Utc>) -> String {
    let local = at.with_timezone(&domain::clock::pacific_offset(at));
    local.format("%b %-d, %Y %-I:%M %p PT").to_string()
}

/// The request checked field by field; every problem is reported at once.
struct Checked {
    kind: AuthKind,
    member: MemberId,
    lob: LineOfBusiness,
    requesting: Npi,
    servicing: Npi,
    diagnoses: Vec<String>,
    services: Vec<RequestedService>,
    from: NaiveDate,
    to: NaiveDate,
    pos: String,
    urgency: Urgency,
}

async fn check(
    store: &dyn Store,
    scope: &Scope,
    f: &SubmissionForm,
) -> Result<Checked, SubmitError> {
    let mut errors: Vec<FieldError> = Vec::new();
    let kind = AuthKind::from_code(f.kind.trim()).unwrap_or(AuthKind::PriorAuthorization);
    let urgency = match f.urgency.trim() {
        "" | "standard" => Urgency::Standard,
        "expedited" => Urgency::Expedited,
        _ => {
            errors.push(("urgency", "Choose standard or expedited.".into()));
            Urgency::Standard
        }
    };
    if urgency == Urgency::Expedited && f.urgency_reason.trim().is_empty() {
        errors.push((
            "urgency_reason",
            "Say why the standard time frame could seriously jeopardize the member's life, health or ability to regain maximum function.".into(),
        ));
    }
    let from = parse_date(&f.from_date);
    let to = parse_date(&f.to_date);
    if from.is_none() {
        errors.push((
            "from_date",
            "Enter the first date of service, like 2026-10-12.".into(),
        ));
    }
    if to.is_none() {
        errors.push((
            "to_date",
            "Enter the last date of service, like 2026-12-31.".into(),
        ));
    }
    if let (Some(a), Some(b)) = (from, to) {
        if b < a {
            errors.push(("to_date", "The last date is before the first.".into()));
        } else if (b - a).num_days() > MAX_SPAN_DAYS {
            errors.push((
                "to_date",
                "One request covers at most a year; send another for the rest.".into(),
            ));
        }
    }
    // Member: ID and birth date must match, and coverage must hold on the requested dates.
    let birth = parse_date(&f.birth_date);
    if birth.is_none() {
        errors.push((
            "birth_date",
            "Enter the member's birth date, like 1984-02-29.".into(),
        ));
    }
    let mut member = None;
    let mut lob = LineOfBusiness::MediCal;
    match MemberId::parse(&f.member_id) {
        Err(_) => errors.push((
            "member_id",
            "Enter the member ID from the member's card.".into(),
        )),
        Ok(id) => {
            let rec = store.member(&id).await?;
            match (rec, birth) {
                (Some(r), Some(b)) if r.member.birth_date == b => {
                    if let (Some(a), Some(z)) = (from, to) {
                        match r.spans.iter().find(|s| s.covers(a)) {
                            None => errors.push((
                                "from_date",
                                "The member is not covered by the plan on this date.".into(),
                            )),
                            Some(span) => {
                                lob = span.line_of_business;
                                if !span.covers(z) {
                                    let end = span.end.map(|e| e.to_string()).unwrap_or_default();
                                    errors.push((
                                        "to_date",
                                        format!("The member's coverage ends on {end}; request dates up to then."),
                                    ));
                                }
                            }
                        }
                    }
                    member = Some(id);
                }
                (_, Some(_)) => errors.push((
                    "member_id",
                    "No member has this ID with this birth date. Check both against the member's card.".into(),
                )),
                (_, None) => {}
            }
        }
    }
    let provider = |field: &'static str, s: &str| {
        let s = s.trim().to_string();
        async move {
            match Npi::parse(&s) {
                Err(_) => Err((
                    field,
                    "Enter a 10-digit NPI (or choose a provider from the search).".to_string(),
                )),
                Ok(n) => match store.provider(&n).await {
                    Ok(Some(p)) => Ok(Ok(p)),
                    Ok(None) => Err((field, "The plan has no provider with this NPI.".to_string())),
                    Err(e) => Ok(Err(e)),
                },
            }
        }
    };
    let mut requesting = None;
    match provider("requesting_npi", &f.requesting_npi).await {
        Err(_) if f.requesting_npi.trim().is_empty() => errors.push((
            "requesting_npi",
            "Choose the requesting provider: the practitioner of your office who asks for the service.".into(),
        )),
        Err(e) => errors.push(e),
        Ok(Err(e)) => return Err(e.into()),
        Ok(Ok(p)) if !scope.allows_tin(&p.tin) => errors.push((
            "requesting_npi",
            "This provider does not bill under your office's TIN; choose one of your office's providers.".into(),
        )),
        Ok(Ok(p)) => requesting = Some(p.npi),
    }
    let mut servicing = None;
    match provider("servicing_npi", &f.servicing_npi).await {
        Err(e) => errors.push(e),
        Ok(Err(e)) => return Err(e.into()),
        Ok(Ok(p)) => servicing = Some(p.npi),
    }
    let mut diagnoses = Vec::new();
    for d in f
        .diagnoses
        .split([',', ' ', ';', '\n'])
        .filter(|d| !d.trim().is_empty())
    {
        match auth_rules::parse_diagnosis(d) {
            Ok(c) if !diagnoses.contains(&c) => diagnoses.push(c),
            Ok(_) => {}
            Err(e) => {
                errors.push(("diagnoses", format!("“{}”: {e}.", d.trim())));
                break;
            }
        }
    }
    if diagnoses.is_empty() && !errors.iter().any(|e| e.0 == "diagnoses") {
        errors.push((
            "diagnoses",
            "Enter at least one ICD-10-CM diagnosis code.".into(),
        ));
    }
    if diagnoses.len() > MAX_DIAGNOSES {
        errors.push((
            "diagnoses",
            format!("At most {MAX_DIAGNOSES} diagnosis codes."),
        ));
    }
    let mut services = Vec::new();
    for (i, (code, units)) in f.services.iter().enumerate() {
        if code.trim().is_empty() && units.trim().is_empty() {
            continue;
        }
        let row = i + 1;
        match (
            auth_rules::parse_procedure(code),
            units.trim().parse::<u32>(),
        ) {
            (Err(e), _) => {
                errors.push(("services", format!("Service {row}: {e}.")));
                break;
            }
            (_, Err(_)) => {
                errors.push((
                    "services",
                    format!("Service {row}: enter the number of units, 1 to {MAX_UNITS}."),
                ));
                break;
            }
            (_, Ok(u)) if u == 0 || u > MAX_UNITS => {
                errors.push((
                    "services",
                    format!("Service {row}: enter the number of units, 1 to {MAX_UNITS}."),
                ));
                break;
            }
            (Ok(c), Ok(u)) => services.push(RequestedService::new(c, u)),
        }
    }
    if services.is_empty() && !errors.iter().any(|e| e.0 == "services") {
        errors.push((
            "services",
            "Enter at least one CPT or HCPCS code with its units.".into(),
        ));
    }
    if services.len() > MAX_SERVICES {
        errors.push((
            "services",
            format!("At most {MAX_SERVICES} services on one request."),
        ));
    }
    let pos = f.place_of_service.trim().to_string();
    if pos.len() != 2 || !pos.bytes().all(|b| b.is_ascii_digit()) {
        errors.push((
            "place_of_service",
            "Choose the place of service (a two-digit CMS code).".into(),
        ));
    }
    if f.clinical_notes.chars().count() > MAX_NOTES {
        errors.push((
            "clinical_notes",
            format!("Keep the notes under {MAX_NOTES} characters; attach longer records as a PDF."),
        ));
    }
    match (member, requesting, servicing, from, to, errors.is_empty()) {
        (Some(member), Some(requesting), Some(servicing), Some(from), Some(to), true) => {
            Ok(Checked {
                kind,
                member,
                lob,
                requesting,
                servicing,
                diagnoses,
                services,
                from,
                to,
                pos,
                urgency,
            })
        }
        _ => Err(SubmitError::Fields(errors)),
    }
}

/// Checks a request without storing anything (to report every field's problem at once when
/// something else on the form, such as a file, is wrong too).
pub async fn validate(
    store: &dyn Store,
    scope: &Scope,
    form: &SubmissionForm,
) -> Result<(), SubmitError> {
    check(store, scope, form).await.map(|_| ())
}

/// What the plan's rules say about each code for a line of business.
pub async fn requirements(
    store: &dyn Store,
    codes: &[String],
    lob: LineOfBusiness,
) -> Result<Vec<(String, Requirement)>, StorageError> {
    let rules = store.auth_rules().await?;
    Ok(codes
        .iter()
        .map(|c| (c.clone(), auth_rules::requirement(&rules, c, lob)))
        .collect())
}

/// Emails to the people of the offices billing under the requesting provider's TIN.
async fn office_messages(
    store: &dyn Store,
    requesting: &Npi,
    subject: &str,
    body: &str,
    now: DateTime<Utc>,
) -> Result<Vec<NewMessage>, StorageError> {
    let Some(p) = store.provider(requesting).await? else {
        return Ok(Vec::new());
    };
    let Some(org) = store.org_by_tin(&p.tin).await? else {
        return Ok(Vec::new());
    };
    Ok(store
        .users_of_org(org.id)
        .await?
        .into_iter()
        .filter(|u| u.status == domain::account::UserStatus::Active)
        .map(|u| NewMessage {
            to_addr: u.email,
            subject: subject.into(),
            body: body.into(),
            created_at: now,
        })
        .collect())
}

/// The words the office is told when a request changes: no member data, only the number.
fn changed_message(number: &AuthNumber, what: &str) -> (String, String) {
    (
        format!("Authorization {number} {what}"),
        format!(
            "Authorization {number} {what}. Sign in to the provider portal to see it (Authorizations).\n\nThis message carries no member information by design."
        ),
    )
}

/// Submits a request: checks it, applies the auto-approval rules, stores it with its timeline,
/// attachments and the office's notification, all in one transaction.
pub async fn submit(
    store: &dyn Store,
    scope: &Scope,
    actor: &Actor,
    form: &SubmissionForm,
    attachments: Vec<NewAttachment>,
    now: DateTime<Utc>,
) -> Result<Submitted, SubmitError> {
    let c = check(store, scope, form).await?;
    let trace = form.trace.trim().to_string();
    if !trace.is_empty()
        && let Some(existing) = resubmitted(store, &c.requesting, &trace).await?
    {
        return Ok(existing);
    }
    let number = store.next_auth_number().await?;
    let mut auth = AuthRequest {
        number: number.clone(),
        kind: c.kind,
        urgency: c.urgency,
        member: c.member,
        line_of_business: c.lob,
        requesting_npi: c.requesting,
        servicing_npi: c.servicing,
        diagnoses: c.diagnoses,
        services: c.services,
        place_of_service: c.pos,
        from_date: c.from,
        to_date: c.to,
        received_at: now,
        status: AuthStatus::Received,
        decided_at: None,
        denial_reason: None,
        urgency_reason: form.urgency_reason.trim().to_string(),
        clinical_notes: form.clinical_notes.trim().to_string(),
        pended_at: None,
        info_received_at: None,
        reviewer: None,
        auto_rule: None,
        appeal: None,
    };
    let codes: Vec<String> = auth.services.iter().map(|s| s.procedure.clone()).collect();
    let reqs = requirements(store, &codes, auth.line_of_business).await?;
    let deadline = auth.deadline();
    let mut events = vec![AuthEvent {
        at: now,
        kind: AuthEventKind::Received,
        actor: actor.name.clone(),
        note: format!(
            "Decision due by {} ({}). {}",
            pacific(deadline.due),
            deadline.rule,
            match attachments.len() {
                0 => "No attachments.".to_string(),
                1 => "1 attachment.".to_string(),
                n => format!("{n} attachments."),
            }
        ),
    }];
    let autos = store.auto_rules().await?;
    let auto = auth_rules::auto_approval(&autos, &auth).cloned();
    let mut write = AuthWrite {
        attachments,
        ..AuthWrite::default()
    };
    if let Some(rule) = &auto {
        let words = rule.describe();
        auth.decide(&Decision::Approve, now)
            .map_err(|e| SubmitError::Fields(vec![("services", e.to_string())]))?;
        auth.auto_rule = Some(words.clone());
        events.push(AuthEvent {
            at: now,
            kind: AuthEventKind::AutoDecided,
            actor: "The plan's rules".into(),
            note: format!("Approved at once as requested by the {words}."),
        });
        let (subject, body) = changed_message(&number, "was approved");
        write.messages = office_messages(store, &auth.requesting_npi, &subject, &body, now).await?;
        write.notification = Some(format!(
            "Authorization {number} was approved automatically on receipt."
        ));
    } else {
        write.notification = Some(format!(
            "Authorization {number} was received; the decision is due by {}.",
            pacific(deadline.due)
        ));
    }
    write.events = events;
    write.trace = (!trace.is_empty()).then(|| trace.clone());
    match store.create_auth(&auth, &write).await {
        Ok(()) => {}
        // The same request arrived twice at once: the other copy won.
        Err(StorageError::Duplicate(_)) if !trace.is_empty() => {
            if let Some(existing) = resubmitted(store, &auth.requesting_npi, &trace).await? {
                return Ok(existing);
            }
            return Err(SubmitError::Store(StorageError::Duplicate(
                "authorization trace".into(),
            )));
        }
        Err(e) => return Err(e.into()),
    }
    tracing::info!(auto = auto.is_some(), "authorization submitted");
    Ok(Submitted {
        auth,
        auto_rule: auto.map(|a| a.describe()),
        requirements: reqs,
        duplicate: false,
    })
}

async fn resubmitted(
    store: &dyn Store,
    requesting: &Npi,
    trace: &str,
) -> Result<Option<Submitted>, StorageError> {
    let Some(n) = store.auth_by_trace(requesting, trace).await? else {
        return Ok(None);
    };
    let Some(auth) = store.auth(&n).await? else {
        return Ok(None);
    };
    Ok(Some(Submitted {
        auto_rule: auth.auto_rule.clone(),
        auth,
        requirements: Vec::new(),
        duplicate: true,
    }))
}

/// What a reviewer does with a case.
#[derive(Debug, Clone)]
pub enum Action {
    Take,
    /// Ask for more information (pends the request, extends the clock).
    Pend {
        question: String,
    },
    Decide {
        decision: Decision,
        note: String,
    },
    /// Record the outcome of an appeal of a denial.
    Appeal {
        overturned: bool,
        note: String,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    #[error("no such request")]
    NotFound,
    #[error(transparent)]
    Rule(#[from] AuthError),
    #[error("someone else changed this request meanwhile; reload it")]
    Conflict,
    #[error(transparent)]
    Store(#[from] StorageError),
}

fn decision_words(a: &AuthRequest) -> String {
    let services: Vec<String> = a
        .services
        .iter()
        .map(|s| {
            let dates = match (s.approved_from, s.approved_to) {
                (Some(f), Some(t)) => format!(" from {f} to {t}"),
                _ => String::new(),
            };
            format!(
                "{}: {} of {} units{dates}",
                s.procedure,
                s.approved_units.unwrap_or(0),
                s.units
            )
        })
        .collect();
    match (&a.denial_reason, a.status) {
        (Some(r), AuthStatus::Denied) => format!("Denied, reason {}: {}", r.code, r.text),
        _ => format!("{}: {}", a.status.label(), services.join("; ")),
    }
}

/// A plan reviewer acts on a case. Each action is checked by the domain, stored with a
/// compare-and-set on the status (two reviewers at once: one wins, the other gets `Conflict`).
pub async fn review(
    store: &dyn Store,
    number: &AuthNumber,
    reviewer: &Actor,
    action: &Action,
    now: DateTime<Utc>,
) -> Result<AuthRequest, ReviewError> {
    let mut a = store.auth(number).await?.ok_or(ReviewError::NotFound)?;
    let expected = a.status;
    let id = reviewer.user_id.unwrap_or(0);
    let mut write = AuthWrite::default();
    let event = |kind, note: String| AuthEvent {
        at: now,
        kind,
        actor: reviewer.name.clone(),
        note,
    };
    match action {
        Action::Take => {
            a.take((id, reviewer.name.clone()))?;
            write
                .events
                .push(event(AuthEventKind::Taken, String::new()));
        }
        Action::Pend { question } => {
            if a.reviewer.is_none() {
                a.take((id, reviewer.name.clone()))?;
            }
            a.pend(now, question)?;
            let d = a.deadline();
            write.events.push(event(
                AuthEventKind::Pended,
                format!(
                    "{} — Send it by {}; decision now due by {} ({}).",
                    question.trim(),
                    pacific(a.pend_limit().unwrap_or(d.due)),
                    pacific(d.due),
                    d.rule
                ),
            ));
            let (subject, body) = changed_message(number, "needs more information");
            write.messages =
                office_messages(store, &a.requesting_npi, &subject, &body, now).await?;
            write.notification = Some(format!(
                "Authorization {number} needs more information from your office."
            ));
        }
        Action::Decide { decision, note } => {
            if a.reviewer.is_none() {
                a.take((id, reviewer.name.clone()))?;
            }
            a.decide(decision, now)?;
            let mut words = decision_words(&a);
            if !note.trim().is_empty() {
                words.push_str(&format!(". Note: {}", note.trim()));
            }
            write.events.push(event(AuthEventKind::Decided, words));
            let (subject, body) = changed_message(number, "was decided");
            write.messages =
                office_messages(store, &a.requesting_npi, &subject, &body, now).await?;
            write.notification = Some(format!(
                "Authorization {number} was decided: {}.",
                a.status.label().to_lowercase()
            ));
        }
        Action::Appeal { overturned, note } => {
            a.record_appeal(*overturned, now)?;
            let what = if *overturned {
                "Denial overturned on appeal: approved as requested"
            } else {
                "Denial upheld on appeal"
            };
            let words = if note.trim().is_empty() {
                what.to_string()
            } else {
                format!("{what}. {}", note.trim())
            };
            write.events.push(event(AuthEventKind::Appealed, words));
            let (subject, body) = changed_message(number, "has an appeal decision");
            write.messages =
                office_messages(store, &a.requesting_npi, &subject, &body, now).await?;
            write.notification = Some(format!("Authorization {number}: the appeal was decided."));
        }
    }
    if store.update_auth(&a, expected, &write).await? {
        Ok(a)
    } else {
        Err(ReviewError::Conflict)
    }
}

/// The requesting office answers a pend with information and files; for Medi-Cal standard
/// requests this restarts the five working days (see `domain::clock`).
pub async fn answer(
    store: &dyn Store,
    scope: &Scope,
    number: &AuthNumber,
    actor: &Actor,
    text: &str,
    attachments: Vec<NewAttachment>,
    now: DateTime<Utc>,
) -> Result<AuthRequest, ReviewError> {
    let mut a = store
        .auth_in_scope(number, scope)
        .await?
        .ok_or(ReviewError::NotFound)?;
    if text.trim().is_empty() && attachments.is_empty() {
        return Err(ReviewError::Rule(AuthError::QuestionMissing));
    }
    let expected = a.status;
    a.information_received(now)?;
    let d = a.deadline();
    let files = attachments.len();
    let write = AuthWrite {
        events: vec![AuthEvent {
            at: now,
            kind: AuthEventKind::InformationReceived,
            actor: actor.name.clone(),
            note: format!(
                "{}{}Decision due by {} ({}).",
                text.trim(),
                if files > 0 {
                    format!(" ({files} attachment(s).) ")
                } else {
                    " ".into()
                },
                pacific(d.due),
                d.rule
            ),
        }],
        attachments,
        notification: Some(format!(
            "Authorization {number}: your information was received; the decision is due by {}.",
            pacific(d.due)
        )),
        messages: Vec::new(),
        trace: None,
    };
    if store.update_auth(&a, expected, &write).await? {
        Ok(a)
    } else {
        Err(ReviewError::Conflict)
    }
}

/// The requesting office withdraws an open request.
pub async fn withdraw(
    store: &dyn Store,
    scope: &Scope,
    number: &AuthNumber,
    actor: &Actor,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<AuthRequest, ReviewError> {
    let mut a = store
        .auth_in_scope(number, scope)
        .await?
        .ok_or(ReviewError::NotFound)?;
    let expected = a.status;
    a.withdraw(now)?;
    let write = AuthWrite {
        events: vec![AuthEvent {
            at: now,
            kind: AuthEventKind::Withdrawn,
            actor: actor.name.clone(),
            note: reason.trim().chars().take(500).collect(),
        }],
        ..AuthWrite::default()
    };
    if store.update_auth(&a, expected, &write).await? {
        Ok(a)
    } else {
        Err(ReviewError::Conflict)
    }
}
