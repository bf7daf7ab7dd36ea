//! The hash-chained audit trail: append under a lock on the chain head, read back in order.
//! Each entry and the head are sealed with the current audit key; after the commit the signed
//! head is also written to the head file outside the database (see `keys`). [`AuditStore`],
//! and [`verify_audit`] over it.

use crate::pool::SqlStore;
use crate::{Result, on_pool};
use chrono::{DateTime, Utc};
use domain::audit::{
    AuditEntry, AuditEvent, ChainBreak, ChainVerifier, Seal, SignedHead, chain_hash, entry_seal,
    sign_head,
};
use domain::keys::Keyring;

/// The hash-chained audit trail: appends serialized so the chain stays linear, reads in order
/// for verification and export, the plan administrators' search.
#[async_trait::async_trait]
pub trait AuditStore: Send + Sync {
    /// Appends to the hash-chained audit trail; appends are serialized so the chain stays linear.
    async fn audit(&self, event: &AuditEvent) -> Result<AuditEntry>;
    /// Appends several events to the audit trail in one transaction, in order (group commit
    /// for busy endpoints); the same chain as [`AuditStore::audit`].
    async fn audit_many(&self, events: &[AuditEvent]) -> Result<Vec<AuditEntry>>;
    /// Audit entries after `after`, oldest first (for verification and export).
    async fn audit_page(&self, after: i64, limit: i64) -> Result<Vec<AuditEntry>>;
    /// The chain head as the database keeps it: how many entries were written, the newest
    /// hash, and its MAC.
    async fn audit_head(&self) -> Result<SignedHead>;
    /// Newest first, filtered (plan administrators' search).
    async fn audit_search(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>>;
    /// The keys the store was opened with (verification needs the audit keys).
    fn audit_keyring(&self) -> &Keyring;
    /// The head this instance last wrote outside the database, if it keeps a head file.
    fn exported_audit_head(&self) -> Result<Option<SignedHead>>;
}

/// Walks the whole audit trail in order and checks its hash chain, its MACs and its head,
/// against the head file the store keeps (if any).
/// `Ok(Ok(n))`: `n` entries verified; `Ok(Err(break))`: where the trail was tampered with.
pub async fn verify_audit(store: &dyn AuditStore) -> Result<Result<u64, ChainBreak>> {
    let exported = store.exported_audit_head()?;
    verify_audit_with(store, exported).await
}

/// [`verify_audit`] against a head exported earlier (`portal audit export-head`), or none.
pub async fn verify_audit_with(
    store: &dyn AuditStore,
    exported: Option<SignedHead>,
) -> Result<Result<u64, ChainBreak>> {
    const PAGE: i64 = 10_000;
    let head = store.audit_head().await?;
    let mut verifier = ChainVerifier::new(store.audit_keyring(), exported);
    let mut after = 0;
    loop {
        let page = store.audit_page(after, PAGE).await?;
        for e in &page {
            if let Err(b) = verifier.check(e) {
                return Ok(Err(b));
            }
        }
        match page.last() {
            Some(last) if page.len() as i64 == PAGE => after = last.seq,
            _ => break,
        }
    }
    Ok(verifier.finish(&head).map(|()| verifier.checked))
}

/// Filters for the plan administrators' search.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub actor_name: Option<String>,
    pub action: Option<String>,
    pub record_type: Option<String>,
    pub record_id: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// Only entries with a sequence number below this (paging newest first).
    pub before_seq: Option<i64>,
    pub limit: i64,
}

#[derive(sqlx::FromRow)]
struct Row {
    seq: i64,
    at: DateTime<Utc>,
    actor: Option<i64>,
    actor_name: String,
    org: Option<i64>,
    action: String,
    record_type: String,
    record_id: String,
    outcome: String,
    source: String,
    prev_hash: String,
    hash: String,
    mac_key: Option<i64>,
    mac: Option<String>,
}

fn seal(key: Option<i64>, mac: Option<String>) -> Option<Seal> {
    Some(Seal {
        key: u32::try_from(key?).ok()?,
        mac: mac?,
    })
}

fn entry(r: Row) -> AuditEntry {
    AuditEntry {
        seq: r.seq,
        at: r.at,
        event: AuditEvent {
            actor: r.actor,
            actor_name: r.actor_name,
            org: r.org,
            action: r.action,
            record_type: r.record_type,
            record_id: r.record_id,
            outcome: r.outcome,
            source: r.source,
        },
        prev_hash: r.prev_hash,
        hash: r.hash,
        seal: seal(r.mac_key, r.mac),
    }
}

const COLUMNS: &str = "seq, at, actor, actor_name, org, action, record_type, record_id, outcome, source, prev_hash, hash, mac_key, mac";
const SET_HEAD: &str = "UPDATE audit_head SET hash = $1, mac_key = $2, mac = $3 WHERE id = 1";

fn mac_key(s: &Option<Seal>) -> Option<i64> {
    s.as_ref().map(|s| i64::from(s.key))
}
fn mac(s: &Option<Seal>) -> Option<String> {
    s.as_ref().map(|s| s.mac.clone())
}

/// After a commit: the signed head to the file outside the database.
fn export(store: &SqlStore, head: &SignedHead) {
    if let Some(f) = &store.head_file {
        f.write(head);
    }
}

pub(crate) async fn head(store: &SqlStore) -> Result<SignedHead> {
    let (seq, hash, key, m): (i64, String, Option<i64>, Option<String>) = on_pool!(store, p, DB =>
        sqlx::query_as::<DB, (i64, String, Option<i64>, Option<String>)>("SELECT seq, hash, mac_key, mac FROM audit_head WHERE id = 1")
            .fetch_one(p).await?);
    Ok(SignedHead {
        seq,
        hash,
        seal: seal(key, m),
    })
}

/// Signs the head as it stands (the first open with keys: it vouches for the entries made
/// before them) and exports it.
pub(crate) async fn sign_current_head(store: &SqlStore) -> Result<()> {
    let h = head(store).await?;
    let signed = sign_head(&store.keys, h.seq, &h.hash);
    on_pool!(store, p, DB => {
        sqlx::query::<DB>("UPDATE audit_head SET mac_key = $1, mac = $2 WHERE id = 1 AND seq = $3 AND hash = $4")
            .bind(mac_key(&signed.seal)).bind(mac(&signed.seal)).bind(h.seq).bind(&h.hash)
            .execute(p).await?;
    });
    export(store, &signed);
    Ok(())
}

#[async_trait::async_trait]
impl AuditStore for SqlStore {
    async fn audit_head(&self) -> Result<SignedHead> {
        head(self).await
    }

    fn audit_keyring(&self) -> &Keyring {
        &self.keys
    }

    fn exported_audit_head(&self) -> Result<Option<SignedHead>> {
        match &self.head_file {
            Some(f) => crate::keys::read_head(&f.path),
            None => Ok(None),
        }
    }

    async fn audit(&self, event: &AuditEvent) -> Result<AuditEntry> {
        // Both databases keep microseconds; hash what will be read back.
        let now = Utc::now();
        let at = DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now);
        const HEAD: &str = "UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash";
        const INSERT: &str = "INSERT INTO audit_log (seq, at, actor, actor_name, org, action, record_type, record_id, outcome, source, prev_hash, hash, mac_key, mac) \
                              VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)";
        let e = event;
        let keys = &self.keys;
        let (entry, head) = on_pool!(self, p, DB => {
            let mut tx = p.begin().await?;
            // Bumping the head row first takes its lock: appends are serialized, so the chain is linear.
            let (seq, prev): (i64, String) = sqlx::query_as::<DB, _>(HEAD).fetch_one(&mut *tx).await?;
            let hash = chain_hash(&prev, seq, at, e);
            let seal = Some(entry_seal(keys, seq, &hash));
            sqlx::query::<DB>(INSERT)
                .bind(seq).bind(at).bind(e.actor).bind(&e.actor_name).bind(e.org).bind(&e.action).bind(&e.record_type)
                .bind(&e.record_id).bind(&e.outcome).bind(&e.source).bind(&prev).bind(&hash)
                .bind(mac_key(&seal)).bind(mac(&seal))
                .execute(&mut *tx).await?;
            let head = sign_head(keys, seq, &hash);
            sqlx::query::<DB>(SET_HEAD).bind(&hash).bind(mac_key(&head.seal)).bind(mac(&head.seal)).execute(&mut *tx).await?;
            tx.commit().await?;
            (AuditEntry { seq, at, event: e.clone(), prev_hash: prev, hash, seal }, head)
        });
        export(self, &head);
        Ok(entry)
    }

    /// Appends `events` in one transaction: the head is bumped once by their number (taking its
    /// lock, as [`AuditStore::audit`] does), each entry chains to the one before, one multi-row insert.
    async fn audit_many(&self, events: &[AuditEvent]) -> Result<Vec<AuditEntry>> {
        if events.is_empty() {
            return Ok(Vec::new());
        }
        let now = Utc::now();
        let at = DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now);
        const HEAD: &str = "UPDATE audit_head SET seq = seq + $1 WHERE id = 1 RETURNING seq, hash";
        let n = events.len() as i64;
        let keys = &self.keys;
        let (entries, head) = on_pool!(self, p, DB => {
            let mut tx = p.begin().await?;
            let (last, mut prev): (i64, String) = sqlx::query_as::<DB, _>(HEAD).bind(n).fetch_one(&mut *tx).await?;
            let mut entries = Vec::with_capacity(events.len());
            for (i, e) in events.iter().enumerate() {
                let seq = last - n + 1 + i as i64;
                let hash = chain_hash(&prev, seq, at, e);
                let seal = Some(entry_seal(keys, seq, &hash));
                entries.push(AuditEntry { seq, at, event: e.clone(), prev_hash: std::mem::replace(&mut prev, hash.clone()), hash, seal });
            }
            // 14 columns a row: well under SQLite's bound-parameter limit in chunks of 1,000.
            for chunk in entries.chunks(1000) {
                let mut q = sqlx::QueryBuilder::<DB>::new("INSERT INTO audit_log (seq, at, actor, actor_name, org, action, record_type, record_id, outcome, source, prev_hash, hash, mac_key, mac) ");
                q.push_values(chunk, |mut b, x| {
                    let e = &x.event;
                    b.push_bind(x.seq).push_bind(x.at).push_bind(e.actor).push_bind(e.actor_name.clone()).push_bind(e.org)
                        .push_bind(e.action.clone()).push_bind(e.record_type.clone()).push_bind(e.record_id.clone())
                        .push_bind(e.outcome.clone()).push_bind(e.source.clone()).push_bind(x.prev_hash.clone()).push_bind(x.hash.clone())
                        .push_bind(mac_key(&x.seal)).push_bind(mac(&x.seal));
                });
                q.build().execute(&mut *tx).await?;
            }
            let head = sign_head(keys, last, &prev);
            sqlx::query::<DB>(SET_HEAD).bind(&prev).bind(mac_key(&head.seal)).bind(mac(&head.seal)).execute(&mut *tx).await?;
            tx.commit().await?;
            (entries, head)
        });
        export(self, &head);
        Ok(entries)
    }

    /// Entries with `seq > after`, oldest first, at most `limit` (verification pages through all).
    async fn audit_page(&self, after: i64, limit: i64) -> Result<Vec<AuditEntry>> {
        let sql = format!("SELECT {COLUMNS} FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2");
        let rows: Vec<Row> = on_pool!(self, p, DB => sqlx::query_as::<DB, Row>(sqlx::AssertSqlSafe(sql)).bind(after).bind(limit).fetch_all(p).await?);
        Ok(rows.into_iter().map(entry).collect())
    }

    /// Newest first, filtered.
    async fn audit_search(&self, q: &AuditQuery) -> Result<Vec<AuditEntry>> {
        let rows: Vec<Row> = on_pool!(self, p, DB => {
            let mut b = sqlx::QueryBuilder::<DB>::new(format!("SELECT {COLUMNS} FROM audit_log WHERE 1 = 1"));
            if let Some(v) = &q.actor_name { b.push(" AND actor_name = ").push_bind(v.clone()); }
            if let Some(v) = &q.action { b.push(" AND action = ").push_bind(v.clone()); }
            if let Some(v) = &q.record_type { b.push(" AND record_type = ").push_bind(v.clone()); }
            if let Some(v) = &q.record_id { b.push(" AND record_id = ").push_bind(v.clone()); }
            if let Some(v) = q.from { b.push(" AND at >= ").push_bind(v); }
            if let Some(v) = q.to { b.push(" AND at < ").push_bind(v); }
            if let Some(v) = q.before_seq { b.push(" AND seq < ").push_bind(v); }
            b.push(" ORDER BY seq DESC LIMIT ").push_bind(q.limit.clamp(1, 10_000));
            b.build_query_as::<Row>().fetch_all(p).await?
        });
        Ok(rows.into_iter().map(entry).collect())
    }
}
