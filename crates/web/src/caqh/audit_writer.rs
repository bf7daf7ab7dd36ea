//! Group commit for the CORE endpoint's audit entries, and the entries themselves.

use super::CachedPartner;
use domain::audit::AuditEvent;
use std::sync::{Arc, OnceLock};
use tokio::sync::{mpsc, oneshot};

type Batch = (Vec<AuditEvent>, oneshot::Sender<Result<(), String>>);

/// Group commit for the audit trail: requests hand their events to one writer task, which
/// appends everything that queued while the previous transaction ran in a single transaction
/// (`AuditStore::audit_many`) and then tells each request its events are stored. A request answers
/// only after that, so "audited before shown" holds, at one transaction per batch instead of
/// one per request.
#[derive(Default)]
pub struct AuditWriter {
    tx: OnceLock<mpsc::Sender<Batch>>,
}

impl AuditWriter {
    /// Most events per transaction.
    const MAX_BATCH: usize = 2000;

    fn sender(&self, store: &Arc<dyn storage::Store>) -> &mpsc::Sender<Batch> {
        self.tx.get_or_init(|| {
            let (tx, mut rx) = mpsc::channel::<Batch>(8192);
            let store = store.clone();
            tokio::spawn(async move {
                let mut waiting: Vec<oneshot::Sender<Result<(), String>>> = Vec::new();
                let mut events: Vec<AuditEvent> = Vec::new();
                while let Some((first, done)) = rx.recv().await {
                    events.extend(first);
                    waiting.push(done);
                    while events.len() < Self::MAX_BATCH {
                        match rx.try_recv() {
                            Ok((more, done)) => {
                                events.extend(more);
                                waiting.push(done);
                            }
                            Err(_) => break,
                        }
                    }
                    let result = store
                        .audit_many(&events)
                        .await
                        .map(|_| ())
                        .map_err(|e| e.to_string());
                    if let Err(e) = &result {
                        tracing::error!(error = %e, events = events.len(), "AUDIT WRITE FAILED: answers withheld");
                    }
                    for w in waiting.drain(..) {
                        let _ = w.send(result.clone());
                    }
                    events.clear();
                }
            });
            tx
        })
    }

    /// Stores `events` (in order, after everything queued before them); `Err` when the trail
    /// could not be written, in which case nothing may be disclosed.
    pub async fn write(
        &self,
        store: &Arc<dyn storage::Store>,
        events: Vec<AuditEvent>,
    ) -> Result<(), String> {
        let (done, wait) = oneshot::channel();
        self.sender(store)
            .send((events, done))
            .await
            .map_err(|_| "audit writer stopped".to_string())?;
        wait.await
            .unwrap_or_else(|_| Err("audit writer stopped".into()))
    }
}

pub(super) fn event(
    actor: Option<&CachedPartner>,
    name: &str,
    source: &str,
    action: &str,
    record_type: &str,
    record_id: &str,
    outcome: &str,
) -> AuditEvent {
    AuditEvent {
        actor: actor.map(|a| a.partner.user_id),
        actor_name: actor
            .map(|a| a.username.clone())
            .unwrap_or_else(|| name.chars().take(100).collect()),
        org: actor.map(|a| a.partner.org_id),
        action: action.into(),
        record_type: record_type.into(),
        record_id: record_id.chars().take(100).collect(),
        outcome: outcome.chars().take(100).collect(),
        source: source.into(),
    }
}
