//! The audit trail (HIPAA §164.312(b) audit controls): who did what to which record, when and from
//! where. Entries form a hash chain, each hash covering the previous one, so an edited, inserted
//! or deleted entry breaks the chain at that point and `portal audit verify` can name it.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// The hash the first entry chains to.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What is recorded. Never PHI beyond the identifier of the record touched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEvent {
    /// The user's id, or none for anonymous and system events.
    pub actor: Option<i64>,
    /// The username at the time (accounts can be renamed; the trail must not change).
    pub actor_name: String,
    pub org: Option<i64>,
    /// e.g. `member.read`, `login.success`, `login.failure`, `mfa.enrol`, `registration.approve`.
    pub action: String,
    /// e.g. `member`, `claim`, `user`.
    pub record_type: String,
    pub record_id: String,
    /// `ok`, `denied`, `failed`.
    pub outcome: String,
    /// Client address as seen by the server.
    pub source: String,
}

/// A stored entry: the event with its place in the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub event: AuditEvent,
    pub prev_hash: String,
    pub hash: String,
}

/// SHA-256 over the previous hash and every field, length-prefixed so that no two different
/// entries serialize alike. Timestamps are hashed at microsecond precision (what both databases keep).
pub fn chain_hash(prev_hash: &str, seq: i64, at: DateTime<Utc>, e: &AuditEvent) -> String {
    let mut h = Sha256::new();
    let mut field = |s: &str| {
        h.update((s.len() as u64).to_be_bytes());
        h.update(s.as_bytes());
    };
    field(prev_hash);
    field(&seq.to_string());
    field(&at.to_rfc3339_opts(SecondsFormat::Micros, true));
    field(&e.actor.map(|a| a.to_string()).unwrap_or_default());
    field(&e.actor_name);
    field(&e.org.map(|a| a.to_string()).unwrap_or_default());
    field(&e.action);
    field(&e.record_type);
    field(&e.record_id);
    field(&e.outcome);
    field(&e.source);
    hex(&h.finalize())
}

/// Hex SHA-256 of `bytes` (document fingerprints).
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Where the chain breaks, worded for an auditor.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainBreak {
    #[error("entry {seq} was altered: its contents no longer match its hash")]
    Altered { seq: i64 },
    #[error("entries are missing before entry {seq} (expected entry {expected})")]
    Missing { seq: i64, expected: i64 },
    #[error("entry {seq} does not chain to the entry before it (an entry was replaced or removed)")]
    Unlinked { seq: i64 },
    #[error(
        "the trail ends at entry {last} but {head} entries were written: the newest were removed"
    )]
    Truncated { last: i64, head: i64 },
}

/// Checks entries in order, as they stream from storage.
pub struct ChainVerifier {
    prev_hash: String,
    next_seq: i64,
    pub checked: u64,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        ChainVerifier {
            prev_hash: GENESIS.to_string(),
            next_seq: 1,
            checked: 0,
        }
    }
}

impl ChainVerifier {
    pub fn check(&mut self, e: &AuditEntry) -> Result<(), ChainBreak> {
        if e.seq != self.next_seq {
            return Err(ChainBreak::Missing {
                seq: e.seq,
                expected: self.next_seq,
            });
        }
        if chain_hash(&e.prev_hash, e.seq, e.at, &e.event) != e.hash {
            return Err(ChainBreak::Altered { seq: e.seq });
        }
        if e.prev_hash != self.prev_hash {
            return Err(ChainBreak::Unlinked { seq: e.seq });
        }
        self.prev_hash.clone_from(&e.hash);
        self.next_seq += 1;
        self.checked += 1;
        Ok(())
    }

    /// After the last entry: the head (count and hash of the newest entry, kept apart) must match.
    pub fn finish(&self, head_seq: i64, head_hash: &str) -> Result<(), ChainBreak> {
        let last = self.next_seq - 1;
        if head_seq != last || (last > 0 && head_hash != self.prev_hash) {
            return Err(ChainBreak::Truncated {
                last,
                head: head_seq,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<AuditEntry> {
        let mut prev = GENESIS.to_string();
        (1..=n)
            .map(|seq| {
                let event = AuditEvent {
                    actor: Some(7),
                    actor_name: "office".into(),
                    org: Some(2),
                    action: "member.read".into(),
                    record_type: "member".into(),
                    record_id: format!("M{seq:09}"),
                    outcome: "ok".into(),
                    source: "127.0.0.1".into(),
                };
                let at = DateTime::from_timestamp(1_790_000_000 + seq, 0).unwrap();
                let hash = chain_hash(&prev, seq, at, &event);
                let e = AuditEntry {
                    seq,
                    at,
                    event,
                    prev_hash: prev.clone(),
                    hash: hash.clone(),
                };
                prev = hash;
                e
            })
            .collect()
    }

    fn verify(entries: &[AuditEntry], head: i64) -> Result<u64, ChainBreak> {
        let mut v = ChainVerifier::default();
        for e in entries {
            v.check(e)?;
        }
        v.finish(
            head,
            &entries.last().map(|e| e.hash.clone()).unwrap_or_default(),
        )?;
        Ok(v.checked)
    }

    #[test]
    fn intact_chain_verifies() {
        assert_eq!(verify(&chain(5), 5), Ok(5));
        assert_eq!(verify(&[], 0), Ok(0));
    }

    #[test]
    fn edits_deletions_and_truncation_are_found() {
        let mut c = chain(5);
        c[2].event.record_id = "M999999999".into();
        assert_eq!(verify(&c, 5), Err(ChainBreak::Altered { seq: 3 }));

        let mut c = chain(5);
        c.remove(1);
        assert_eq!(
            verify(&c, 5),
            Err(ChainBreak::Missing {
                seq: 3,
                expected: 2
            })
        );

        let c = chain(5);
        assert_eq!(
            verify(&c[..4], 5),
            Err(ChainBreak::Truncated { last: 4, head: 5 })
        );

        // Rewriting an entry with a fresh hash still breaks the link to its successor.
        let mut c = chain(5);
        c[1].event.outcome = "denied".into();
        c[1].hash = chain_hash(&c[1].prev_hash, 2, c[1].at, &c[1].event);
        assert_eq!(verify(&c, 5), Err(ChainBreak::Unlinked { seq: 3 }));
    }
}
