//! The X12 payload of an envelope: validated against its guide and read in one pass, or answered
//! with the acknowledgement that says why not.

use super::envelope::{EnvelopeError, ErrorCode, Kind, payload};

/// The plan as it names itself in X12 (2100A NM1*PR) and in CORE envelopes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub name: String,
    /// NM109 with NM108 = PI: the payer id partners put in their 270s and 276s.
    pub payer_id: String,
}

impl Default for Plan {
    /// The demo plan's identity.
    fn default() -> Self {
        Plan {
            name: "ORANGE COAST HEALTH PLAN".into(),
            payer_id: "OCHP1".into(),
        }
    }
}

/// ISA13/GS06 control numbers of our answers: one counter per process, started from the clock
/// so that a restart does not reuse recent numbers.
pub fn next_control() -> u32 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: std::sync::OnceLock<AtomicU32> = std::sync::OnceLock::new();
    let n = NEXT.get_or_init(|| {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_secs());
        AtomicU32::new(((secs % 10_000_000) * 100) as u32 + 1)
    });
    n.fetch_add(1, Ordering::Relaxed) % 1_000_000_000
}

/// A payload that passed X12 validation: its transaction sets and the envelope to answer with.
pub struct Accepted {
    pub sets: Vec<x12::model::Transaction>,
    /// Our answer's interchange envelope: sender and receiver of the request swapped.
    pub envelope: x12::model::Envelope,
}

/// A payload that did not: the acknowledgement to send back (999, or TA1 for an envelope
/// error), or a CORE error when the payload is not what the PayloadType says.
pub enum Refused {
    Ack {
        payload_type: &'static str,
        x12: String,
        /// First error, for the audit outcome: segment and element reference (no values).
        first_error: String,
    },
    Envelope(EnvelopeError),
}

/// Validates the payload against its guide and reads it, in one pass.
pub fn read_payload(payload: &[u8], kind: Kind) -> Result<Accepted, Refused> {
    let (report, sets) = x12::model::parse_bytes(payload);
    let (date, time) = x12::ack::now_utc();
    let control = next_control();
    if !report.accepted() {
        let o = x12::ack::AckOptions {
            control,
            date,
            time,
            ..x12::ack::AckOptions::default()
        };
        let first_error = report
            .errors_by_offset()
            .first()
            .map(|i| i.reference())
            .unwrap_or_default();
        let payload_type = if report.envelope_rejected() || report.interchanges.is_empty() {
            payload::ACK_TA1
        } else {
            payload::ACK_999
        };
        return Err(Refused::Ack {
            payload_type,
            x12: x12::ack::acknowledgement(&report, &o),
            first_error,
        });
    }
    if let Some(t) = sets.iter().find(|t| t.set != kind.set()) {
        return Err(Refused::Envelope(EnvelopeError::new(
            ErrorCode::PayloadTypeIncorrect,
            format!(
                "the Payload holds a {} transaction set but PayloadType is for {}",
                t.set,
                kind.set()
            ),
        )));
    }
    let ic = report.interchanges.first();
    let envelope = x12::model::Envelope {
        sender: ic
            .map(|i| i.receiver.trim().to_string())
            .unwrap_or_default(),
        receiver: ic.map(|i| i.sender.trim().to_string()).unwrap_or_default(),
        control,
        date,
        time,
        usage: if ic.is_some_and(|i| i.usage == "T") {
            'T'
        } else {
            'P'
        },
    };
    Ok(Accepted { sets, envelope })
}
