//! The audit trail (HIPAA §164.312(b) audit controls): who did what to which record, when and from
//! where. Entries form a hash chain, each hash covering the previous one, so an edited, inserted
//! or deleted entry breaks the chain at that point and `portal audit verify` can name it.
//!
//! A plain hash chain can be recomputed by anyone who can write the database, so each entry
//! also carries an HMAC of its hash under an audit key kept outside the database
//! ([`crate::keys`]), and so does the head (count and newest hash); a copy of the signed head
//! kept outside the database ([`SignedHead`]) catches a trail cut back to an older head.
//! Entries written before the portal had keys carry no MAC: they verify as a plain chain, and
//! the first keyed entry after them (or the signed head) vouches for them from then on.

use crate::keys::{KeyKind, Keyring};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
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
    /// The MAC under an audit key; `None` for entries written before the portal had keys.
    pub seal: Option<Seal>,
}

/// An HMAC-SHA256 under audit key number `key`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seal {
    pub key: u32,
    pub mac: String,
}

/// The head of the trail (how many entries, the newest hash) signed with an audit key: kept in
/// the database and, outside it, in `audit.head` and what `portal audit export-head` prints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedHead {
    pub seq: i64,
    pub hash: String,
    #[serde(flatten)]
    pub seal: Option<Seal>,
}

/// The MAC of entry `seq` with chain hash `hash`.
pub fn entry_seal(keys: &Keyring, seq: i64, hash: &str) -> Seal {
    seal_parts(keys, b"audit entry", seq, hash)
}

/// The signed head for `seq` entries ending in `hash` (labelled apart from entry MACs, so an
/// entry's MAC cannot be passed off as a head).
pub fn sign_head(keys: &Keyring, seq: i64, hash: &str) -> SignedHead {
    SignedHead {
        seq,
        hash: hash.to_string(),
        seal: Some(seal_parts(keys, b"audit head", seq, hash)),
    }
}

fn seal_parts(keys: &Keyring, label: &[u8], seq: i64, hash: &str) -> Seal {
    let (key, k) = keys
        .current(KeyKind::Audit)
        .expect("a keyring has an audit key");
    Seal {
        key,
        mac: k.mac(&[label, &seq.to_be_bytes(), hash.as_bytes()]),
    }
}

fn seal_ok(keys: &Keyring, label: &[u8], seq: i64, hash: &str, seal: &Seal) -> Option<bool> {
    let k = keys.get(KeyKind::Audit, seal.key)?;
    Some(k.mac(&[label, &seq.to_be_bytes(), hash.as_bytes()]) == seal.mac)
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
    #[error("the chain was recomputed without the key (entry {seq}'s MAC does not verify)")]
    Recomputed { seq: i64 },
    #[error("entry {seq} is sealed with audit key {key}, which the key file does not hold")]
    UnknownKey { seq: i64, key: u32 },
    #[error(
        "entry {seq} is sealed with audit key {key} after key {newer} was in use (an old key was used to rewrite it)"
    )]
    OldKey { seq: i64, key: u32, newer: u32 },
    #[error(
        "the chain was recomputed without the key (the head, entry {seq}, is not signed with it)"
    )]
    HeadUnsigned { seq: i64 },
    #[error("entries after {last} were removed (the exported head says {exported})")]
    Removed { last: i64, exported: i64 },
    #[error("entry {seq} is not the one the exported head names: the chain was rewritten")]
    Rewritten { seq: i64 },
    #[error(
        "the exported head does not verify with the key file: it was not written by this portal"
    )]
    ForgedExport,
}

/// Checks entries in order, as they stream from storage.
pub struct ChainVerifier<'k> {
    keys: &'k Keyring,
    exported: Option<SignedHead>,
    prev_hash: String,
    next_seq: i64,
    /// The audit key of the newest keyed entry so far (after it, every entry must be keyed).
    key_in_use: Option<u32>,
    pub checked: u64,
}

impl<'k> ChainVerifier<'k> {
    /// With the audit keys, and the head exported outside the database if there is one.
    pub fn new(keys: &'k Keyring, exported: Option<SignedHead>) -> Self {
        ChainVerifier {
            keys,
            exported,
            prev_hash: GENESIS.to_string(),
            next_seq: 1,
            key_in_use: None,
            checked: 0,
        }
    }

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
        match (&e.seal, self.key_in_use) {
            // Before the portal had keys.
            (None, None) => {}
            (None, Some(_)) => return Err(ChainBreak::Recomputed { seq: e.seq }),
            (Some(s), newer) => {
                match seal_ok(self.keys, b"audit entry", e.seq, &e.hash, s) {
                    None => {
                        return Err(ChainBreak::UnknownKey {
                            seq: e.seq,
                            key: s.key,
                        });
                    }
                    Some(false) => return Err(ChainBreak::Recomputed { seq: e.seq }),
                    Some(true) => {}
                }
                if let Some(newer) = newer.filter(|n| *n > s.key) {
                    return Err(ChainBreak::OldKey {
                        seq: e.seq,
                        key: s.key,
                        newer,
                    });
                }
                self.key_in_use = Some(s.key);
            }
        }
        if let Some(x) = &self.exported
            && x.seq == e.seq
            && x.hash != e.hash
        {
            return Err(ChainBreak::Rewritten { seq: e.seq });
        }
        self.prev_hash.clone_from(&e.hash);
        self.next_seq += 1;
        self.checked += 1;
        Ok(())
    }

    /// After the last entry: the exported head must lie within the trail, and the database's
    /// head (count and hash of the newest entry, kept apart) must match and be signed.
    pub fn finish(&self, head: &SignedHead) -> Result<(), ChainBreak> {
        let last = self.next_seq - 1;
        if let Some(x) = &self.exported {
            let ok = x
                .seal
                .as_ref()
                .and_then(|s| seal_ok(self.keys, b"audit head", x.seq, &x.hash, s));
            if ok != Some(true) {
                return Err(ChainBreak::ForgedExport);
            }
            if x.seq > last {
                return Err(ChainBreak::Removed {
                    last,
                    exported: x.seq,
                });
            }
        }
        if head.seq != last || (last > 0 && head.hash != self.prev_hash) {
            return Err(ChainBreak::Truncated {
                last,
                head: head.seq,
            });
        }
        // Once the portal has keys, the head is signed at every append (and when keys are
        // first made), so an unsigned head means someone rewrote it.
        let has_keys = self.keys.current(KeyKind::Audit).is_some();
        let signed = head
            .seal
            .as_ref()
            .and_then(|s| seal_ok(self.keys, b"audit head", head.seq, &head.hash, s));
        match signed {
            Some(true) => Ok(()),
            None if head.seal.is_none() && !has_keys => Ok(()),
            _ => Err(ChainBreak::HeadUnsigned { seq: head.seq }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `legacy` entries made before keys, then keyed ones up to `n`; with its signed head.
    fn chain(keys: &Keyring, n: i64, legacy: i64) -> (Vec<AuditEntry>, SignedHead) {
        let mut prev = GENESIS.to_string();
        let entries: Vec<AuditEntry> = (1..=n)
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
                    seal: (seq > legacy).then(|| entry_seal(keys, seq, &hash)),
                    hash: hash.clone(),
                };
                prev = hash;
                e
            })
            .collect();
        let head = sign_head(keys, n, &prev);
        (entries, head)
    }

    fn verify(
        keys: &Keyring,
        entries: &[AuditEntry],
        head: &SignedHead,
        exported: Option<SignedHead>,
    ) -> Result<u64, ChainBreak> {
        let mut v = ChainVerifier::new(keys, exported);
        for e in entries {
            v.check(e)?;
        }
        v.finish(head)?;
        Ok(v.checked)
    }

    #[test]
    fn intact_chain_verifies_with_entries_from_before_the_keys() {
        let keys = Keyring::generate();
        let (c, head) = chain(&keys, 5, 2);
        assert_eq!(verify(&keys, &c, &head, Some(head.clone())), Ok(5));
        let (c, head) = chain(&keys, 0, 0);
        assert_eq!(verify(&keys, &c, &head, None), Ok(0));
    }

    #[test]
    fn edits_deletions_and_truncation_are_found() {
        let keys = Keyring::generate();
        let (mut c, head) = chain(&keys, 5, 0);
        c[2].event.record_id = "M999999999".into();
        assert_eq!(
            verify(&keys, &c, &head, None),
            Err(ChainBreak::Altered { seq: 3 })
        );

        let (mut c, head) = chain(&keys, 5, 0);
        c.remove(1);
        assert_eq!(
            verify(&keys, &c, &head, None),
            Err(ChainBreak::Missing {
                seq: 3,
                expected: 2
            })
        );

        let (c, head) = chain(&keys, 5, 0);
        assert_eq!(
            verify(&keys, &c[..4], &head, None),
            Err(ChainBreak::Truncated { last: 4, head: 5 })
        );

        // Rewriting an entry with a fresh hash: its MAC no longer verifies; before the keys,
        // the link to its successor breaks.
        let (mut c, head) = chain(&keys, 5, 0);
        c[1].event.outcome = "denied".into();
        c[1].hash = chain_hash(&c[1].prev_hash, 2, c[1].at, &c[1].event);
        assert_eq!(
            verify(&keys, &c, &head, None),
            Err(ChainBreak::Recomputed { seq: 2 })
        );
        let (mut c, head) = chain(&keys, 5, 5);
        c[1].event.outcome = "denied".into();
        c[1].hash = chain_hash(&c[1].prev_hash, 2, c[1].at, &c[1].event);
        assert_eq!(
            verify(&keys, &c, &head, None),
            Err(ChainBreak::Unlinked { seq: 3 })
        );
    }

    /// Everything someone who can write the database but does not hold the key can do.
    #[test]
    fn a_chain_recomputed_without_the_key_is_found() {
        let keys = Keyring::generate();
        let (c, _) = chain(&keys, 5, 2);
        let exported = sign_head(&keys, 5, &c[4].hash);
        let rehash = |c: &mut Vec<AuditEntry>, from: usize, unseal: bool| {
            for i in from..c.len() {
                let prev = if i == 0 {
                    GENESIS.to_string()
                } else {
                    c[i - 1].hash.clone()
                };
                c[i].prev_hash.clone_from(&prev);
                c[i].hash = chain_hash(&prev, c[i].seq, c[i].at, &c[i].event);
                if unseal {
                    c[i].seal = None;
                }
            }
            let last = c.last().unwrap();
            SignedHead {
                seq: last.seq,
                hash: last.hash.clone(),
                seal: None,
            }
        };

        // Entry 4 edited, the SHA-256 chain recomputed from there: its MAC gives it away.
        let mut d = c.clone();
        d[3].event.actor_name = "someone.else".into();
        let head = rehash(&mut d, 3, false);
        assert_eq!(
            verify(&keys, &d, &head, None),
            Err(ChainBreak::Recomputed { seq: 4 })
        );
        // ... and with the MACs removed, as if written before the keys.
        let mut d = c.clone();
        d[3].event.actor_name = "someone.else".into();
        let head = rehash(&mut d, 3, true);
        assert_eq!(
            verify(&keys, &d, &head, None),
            Err(ChainBreak::Recomputed { seq: 4 })
        );
        // A MAC made with another key.
        let mut d = c.clone();
        d[4].seal = Some(entry_seal(&Keyring::generate(), 5, &d[4].hash));
        assert_eq!(
            verify(&keys, &d, &sign_head(&keys, 5, &d[4].hash), None),
            Err(ChainBreak::Recomputed { seq: 5 })
        );

        // The newest two removed and the head set back: the exported head still says 5.
        let d = c[..3].to_vec();
        let back = sign_head(&keys, 3, &d[2].hash);
        assert_eq!(
            verify(&keys, &d, &back, Some(exported.clone())),
            Err(ChainBreak::Removed {
                last: 3,
                exported: 5
            })
        );
        // Without the exported head, the head in the database was not re-signed.
        let unsigned = SignedHead {
            seq: 3,
            hash: d[2].hash.clone(),
            seal: None,
        };
        assert_eq!(
            verify(&keys, &d, &unsigned, None),
            Err(ChainBreak::HeadUnsigned { seq: 3 })
        );
        // The whole trail replaced by a plain chain.
        let mut d = c.clone();
        d[0].event.actor_name = "someone.else".into();
        let head = rehash(&mut d, 0, true);
        assert_eq!(
            verify(&keys, &d, &head, None),
            Err(ChainBreak::HeadUnsigned { seq: 5 })
        );
        assert_eq!(
            verify(&keys, &d, &head, Some(exported.clone())),
            Err(ChainBreak::Rewritten { seq: 5 })
        );
        // An exported head made up without the key.
        let fake = SignedHead {
            seq: 5,
            hash: c[4].hash.clone(),
            seal: Some(Seal {
                key: 1,
                mac: "00".into(),
            }),
        };
        assert_eq!(
            verify(&keys, &c, &exported, Some(fake)),
            Err(ChainBreak::ForgedExport)
        );
    }

    #[test]
    fn epochs_go_forward() {
        let keys = Keyring::generate();
        let newer = keys.rotated();
        let (mut c, _) = chain(&keys, 4, 0);
        // Entries 3 and 4 written after the rotation, then 4 rewritten with the old key.
        for e in &mut c[2..] {
            e.seal = Some(entry_seal(&newer, e.seq, &e.hash));
        }
        let head = sign_head(&newer, 4, &c[3].hash);
        assert_eq!(verify(&newer, &c, &head, None), Ok(4));
        c[3].seal = Some(entry_seal(&keys, 4, &c[3].hash));
        assert_eq!(
            verify(&newer, &c, &head, None),
            Err(ChainBreak::OldKey {
                seq: 4,
                key: 1,
                newer: 2
            })
        );
        assert_eq!(
            verify(&keys, &c[..3], &sign_head(&keys, 3, &c[2].hash), None),
            Err(ChainBreak::UnknownKey { seq: 3, key: 2 })
        );
    }
}
