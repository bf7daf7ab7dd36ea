//! The one guard every eligibility channel answers through: the lookup page, batch
//! eligibility and the CORE 270. Each looks its member(s) up first, without showing anything,
//! then asks [`admit`] which attempts it may answer; the budgets of `domain::lookup_limits` are
//! checked and counted in one step by storage (so parallel requests cannot overshoot), every
//! miss is written to the audit trail before anything is answered, and when an office's misses
//! become abnormal the plan's administrators get one message in the outbox for the day.
//!
//! The trail names the member ID tried (a name search: nothing), never the birth date, name or
//! anything else typed; logs carry counts only.

use chrono::{DateTime, Utc};
use domain::MemberId;
use domain::account::{OrgKind, Role, UserStatus};
use domain::audit::AuditEvent;
use domain::lookup_limits::{self as limits, Totals};
use storage::{LookupCharge, NewMessage, StorageError, Store};

/// Where a lookup came from (the audit outcome says which).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Page,
    Batch,
    Core,
}

impl Channel {
    pub fn code(self) -> &'static str {
        match self {
            Channel::Page => "page",
            Channel::Batch => "batch",
            Channel::Core => "core",
        }
    }
}

/// Who is looking: the signed-in user or the trading partner, and their organisation.
#[derive(Debug, Clone)]
pub struct Looker {
    pub user_id: i64,
    pub username: String,
    pub org_id: i64,
    /// The client address, for the trail.
    pub source: String,
}

/// One lookup as made: the member ID tried (`None` for a search by name) and whether anyone
/// was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub member_id: Option<MemberId>,
    pub found: bool,
}

/// What the caller may answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// The first `answered` attempts; the rest must be refused, found or not.
    pub answered: usize,
    /// When the looker may try again, if anything was refused.
    pub retry_at: Option<DateTime<Utc>>,
    /// Alerts queued in the outbox (id, message), for a caller with a mail transport to send.
    pub alerts: Vec<(i64, NewMessage)>,
}

impl Verdict {
    pub fn refused(&self, attempts: usize) -> usize {
        attempts - self.answered
    }
}

fn event(
    who: &Looker,
    action: &str,
    record_type: &str,
    record_id: &str,
    outcome: String,
) -> AuditEvent {
    AuditEvent {
        actor: Some(who.user_id),
        actor_name: who.username.chars().take(100).collect(),
        org: Some(who.org_id),
        action: action.into(),
        record_type: record_type.into(),
        record_id: record_id.chars().take(100).collect(),
        outcome,
        source: who.source.clone(),
    }
}

/// Admits `attempts` (in the order they would be answered), audits each answered miss and any
/// refusal, and alerts the plan when the office just became abnormal. `Err`: nothing may be
/// answered (the count or the trail could not be written).
pub async fn admit(
    store: &dyn Store,
    who: &Looker,
    channel: Channel,
    attempts: &[Attempt],
    now: DateTime<Utc>,
) -> Result<Verdict, StorageError> {
    let misses: Vec<bool> = attempts.iter().map(|a| !a.found).collect();
    let mut events: Vec<AuditEvent> = Vec::new();
    let a = charge(store, who, &misses, now).await?;
    for tried in attempts[..a.answered].iter().filter(|t| !t.found) {
        let id = tried.member_id.as_ref().map(MemberId::as_str).unwrap_or("");
        events.push(event(
            who,
            "eligibility.miss",
            "member",
            id,
            channel.code().into(),
        ));
    }
    finish(store, who, channel, attempts.len(), a, events, now).await
}

/// Refuses a batch that tries member IDs with more birth dates than anyone has
/// ([`limits::guessed_ids`]) before looking anything up: each guessed date is charged as a miss
/// (the budget is what guessing spends), and each ID is audited with the number of dates.
pub async fn refuse_guessing(
    store: &dyn Store,
    who: &Looker,
    channel: Channel,
    guessed: &[(MemberId, usize)],
    now: DateTime<Utc>,
) -> Result<Verdict, StorageError> {
    let dates: usize = guessed.iter().map(|(_, n)| n).sum();
    let a = charge(store, who, &vec![true; dates], now).await?;
    let events = guessed
        .iter()
        .map(|(id, n)| {
            event(
                who,
                "eligibility.guessing",
                "member",
                id.as_str(),
                format!("{n} birth dates ({})", channel.code()),
            )
        })
        .collect();
    let mut v = finish(store, who, channel, dates, a, events, now).await?;
    v.answered = 0;
    Ok(v)
}

async fn charge(
    store: &dyn Store,
    who: &Looker,
    misses: &[bool],
    now: DateTime<Utc>,
) -> Result<limits::Admission, StorageError> {
    store
        .charge_lookups(&LookupCharge {
            user_id: who.user_id,
            org_id: who.org_id,
            now,
            misses,
        })
        .await
}

async fn finish(
    store: &dyn Store,
    who: &Looker,
    channel: Channel,
    attempts: usize,
    a: limits::Admission,
    mut events: Vec<AuditEvent>,
    now: DateTime<Utc>,
) -> Result<Verdict, StorageError> {
    let refused = attempts - a.answered;
    if refused > 0 {
        events.push(event(
            who,
            "eligibility.limited",
            "member_lookup",
            "",
            format!("{refused} refused ({})", channel.code()),
        ));
    }
    let office = a.office.totals(now);
    if a.alert {
        events.push(event(
            who,
            "eligibility.alert",
            "organization",
            &who.org_id.to_string(),
            format!("{} of {} not found", office.misses, office.lookups),
        ));
    }
    if !events.is_empty() {
        store.audit_many(&events).await?;
    }
    if refused > 0 {
        tracing::info!(
            refused,
            channel = channel.code(),
            "eligibility lookups refused: budget spent"
        );
    }
    let alerts = if a.alert {
        alert_plan(store, who.org_id, office, now)
            .await
            .unwrap_or_else(|e| {
                // The lookup stands (the trail has the alert); the message is what failed.
                tracing::error!(error = %e, "eligibility alert not queued");
                Vec::new()
            })
    } else {
        Vec::new()
    };
    Ok(Verdict {
        answered: a.answered,
        retry_at: a.retry_at,
        alerts,
    })
}

/// One message to each active plan administrator, queued in the outbox.
async fn alert_plan(
    store: &dyn Store,
    org_id: i64,
    office: Totals,
    now: DateTime<Utc>,
) -> Result<Vec<(i64, NewMessage)>, StorageError> {
    let org = store.org(org_id).await?;
    let name = org
        .as_ref()
        .map(|o| o.name.clone())
        .unwrap_or_else(|| format!("organisation {org_id}"));
    let kind = org.map(|o| o.kind.label()).unwrap_or("organisation");
    let subject = format!("Eligibility lookups: unusual not-found rate at {name}");
    let body = format!(
        "{name} ({kind}) looked up {lookups} members in the last {hours} hours and {misses} of \
         them were not found ({ratio}%). Offices usually miss 5 to 15%; a high rate can mean \
         someone is guessing member IDs or birth dates.\n\n\
         Its lookups are limited ({user} not found per person and {office_limit} per office in \
         any {hours} hours), so guessing stops there. See Eligibility lookups \
         (/plan/audit/eligibility) for the office's figures, and the audit log (actions \
         eligibility.miss, eligibility.guessing) for who and when.\n\n\
         This alert is sent once a day per office.",
        lookups = office.lookups,
        misses = office.misses,
        ratio = office.ratio_percent(),
        hours = limits::WINDOW_HOURS,
        user = limits::USER_MISSES,
        office_limit = limits::OFFICE_MISSES,
    );
    let mut queued = Vec::new();
    for plan in store.orgs_of_kind(OrgKind::Plan).await? {
        for u in store.users_of_org(plan.id).await? {
            if u.role == Role::PlanAdmin && u.status == UserStatus::Active {
                let m = NewMessage {
                    to_addr: u.email.clone(),
                    subject: subject.clone(),
                    body: body.clone(),
                    created_at: now,
                };
                queued.push((store.enqueue_message(&m).await?, m));
            }
        }
    }
    Ok(queued)
}
