//! The envelope's fields, checked in the order the rule lists them, and the answer written back.

use super::multipart::Part;
use chrono::{DateTime, Utc};

/// The rule version this receiver implements (`CORERuleVersion`).
pub const CORE_RULE_VERSION: &str = "2.2.0";

/// `PayloadType` values of the rule's payload-type table that this receiver knows.
pub mod payload {
    pub const ELIGIBILITY_REQUEST: &str = "X12_270_Request_005010X279A1";
    pub const ELIGIBILITY_RESPONSE: &str = "X12_271_Response_005010X279A1";
    pub const STATUS_REQUEST: &str = "X12_276_Request_005010X212";
    pub const STATUS_RESPONSE: &str = "X12_277_Response_005010X212";
    pub const CLAIM_PROFESSIONAL: &str = "X12_837_Request_005010X222A1";
    pub const CLAIM_INSTITUTIONAL: &str = "X12_837_Request_005010X223A2";
    pub const REVIEW_REQUEST: &str = "X12_278_Request_005010X217E1_2";
    pub const REVIEW_RESPONSE: &str = "X12_278_Response_005010X217E1_2";
    pub const ACK_999: &str = "X12_999_Response_005010X231A1";
    /// Spelled `00501` in the rule's table (the TA1 belongs to the interchange control version).
    pub const ACK_TA1: &str = "X12_TA1_Response_00501X231A1";
    /// The response to an envelope that could not be processed.
    pub const ENVELOPE_ERROR: &str = "CoreEnvelopeError";

    /// The payload type of an acknowledgement we wrote: a TA1 (an interchange with a TA1 and
    /// no transaction set) or a 999. Read from its segments, whatever its terminator.
    pub fn of_ack(x12: &str) -> &'static str {
        let terminator = x12.as_bytes().get(105).map_or('~', |&b| b as char);
        let mut segments = x12.split(terminator).map(str::trim);
        let ta1 = segments.clone().any(|s| s.starts_with("TA1*"));
        if ta1 && !segments.any(|s| s.starts_with("ST*")) {
            ACK_TA1
        } else {
            ACK_999
        }
    }
}

/// What a request asks for, by its `PayloadType`. Dispatch is one `match` over this (see
/// [`Kind::of`]); the 837 and 278 arms are answered by the intake and review services once
/// they are wired in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Eligibility,
    Status,
    ClaimProfessional,
    ClaimInstitutional,
    Review,
}

impl Kind {
    pub fn of(payload_type: &str) -> Option<Kind> {
        Some(match payload_type {
            payload::ELIGIBILITY_REQUEST => Kind::Eligibility,
            payload::STATUS_REQUEST => Kind::Status,
            payload::CLAIM_PROFESSIONAL => Kind::ClaimProfessional,
            payload::CLAIM_INSTITUTIONAL => Kind::ClaimInstitutional,
            payload::REVIEW_REQUEST => Kind::Review,
            _ => return None,
        })
    }

    /// The `PayloadType` of a successful answer.
    pub fn response_type(self) -> &'static str {
        match self {
            Kind::Eligibility => payload::ELIGIBILITY_RESPONSE,
            Kind::Status => payload::STATUS_RESPONSE,
            // Batch 837s are answered with the 999 first (the 277CA follows by retrieval).
            Kind::ClaimProfessional | Kind::ClaimInstitutional => payload::ACK_999,
            Kind::Review => payload::REVIEW_RESPONSE,
        }
    }

    /// The transaction set the payload must hold.
    pub fn set(self) -> &'static str {
        match self {
            Kind::Eligibility => "270",
            Kind::Status => "276",
            Kind::ClaimProfessional | Kind::ClaimInstitutional => "837",
            Kind::Review => "278",
        }
    }

    /// The processing mode the rule gives this payload type (real-time inquiries; 837 batches).
    pub fn mode(self) -> Mode {
        match self {
            Kind::ClaimProfessional | Kind::ClaimInstitutional => Mode::Batch,
            _ => Mode::RealTime,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    RealTime,
    Batch,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::RealTime => "RealTime",
            Mode::Batch => "Batch",
        }
    }
    pub fn parse(s: &str) -> Option<Mode> {
        match s {
            "RealTime" => Some(Mode::RealTime),
            "Batch" => Some(Mode::Batch),
            _ => None,
        }
    }
}

/// `ErrorCode` values (rule vC2.2.0, envelope error codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    Success,
    PayloadTypeRequired,
    PayloadTypeIncorrect,
    ProcessingModeRequired,
    ProcessingModeIncorrect,
    PayloadIDRequired,
    PayloadIDIncorrect,
    PayloadLengthRequired,
    PayloadLengthIncorrect,
    ChecksumRequired,
    ChecksumMismatched,
    TimeStampRequired,
    TimeStampIncorrect,
    SenderIDRequired,
    ReceiverIDRequired,
    CORERuleVersionRequired,
    VersionMismatch,
    UnAuthorized,
    /// The receiver could not process the request (database unavailable...): try again.
    ServerError,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        use ErrorCode::*;
        match self {
            Success => "Success",
            PayloadTypeRequired => "PayloadTypeRequired",
            PayloadTypeIncorrect => "PayloadTypeIncorrect",
            ProcessingModeRequired => "ProcessingModeRequired",
            ProcessingModeIncorrect => "ProcessingModeIncorrect",
            PayloadIDRequired => "PayloadIDRequired",
            PayloadIDIncorrect => "PayloadIDIncorrect",
            PayloadLengthRequired => "PayloadLengthRequired",
            PayloadLengthIncorrect => "PayloadLengthIncorrect",
            ChecksumRequired => "ChecksumRequired",
            ChecksumMismatched => "ChecksumMismatched",
            TimeStampRequired => "TimeStampRequired",
            TimeStampIncorrect => "TimeStampIncorrect",
            SenderIDRequired => "SenderIDRequired",
            ReceiverIDRequired => "ReceiverIDRequired",
            CORERuleVersionRequired => "CORERuleVersionRequired",
            VersionMismatch => "VersionMismatch",
            UnAuthorized => "UnAuthorized",
            ServerError => "ReceiverServerError",
        }
    }

    /// The HTTP status the rule pairs with the outcome: 200 when the envelope was processed
    /// (X12 errors travel as a 999/TA1 inside a 200), 400 for a bad envelope, 401 for failed
    /// authentication, 500 when the receiver failed.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::Success => 200,
            ErrorCode::UnAuthorized => 401,
            ErrorCode::ServerError => 500,
            _ => 400,
        }
    }
}

/// Why an envelope was refused: the code and a message naming the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvelopeError {
    pub code: ErrorCode,
    pub message: String,
}

impl EnvelopeError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        EnvelopeError {
            code,
            message: message.into(),
        }
    }
}

#[derive(Clone, PartialEq, Eq)]
pub struct Request<'a> {
    pub payload_type: &'a str,
    pub kind: Option<Kind>,
    pub mode: Mode,
    pub payload_id: &'a str,
    pub timestamp: DateTime<Utc>,
    pub username: &'a str,
    pub password: &'a str,
    pub sender_id: &'a str,
    pub receiver_id: &'a str,
    pub payload: &'a [u8],
}

impl std::fmt::Debug for Request<'_> {
    /// The password and the payload (PHI) stay out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Request")
            .field("payload_type", &self.payload_type)
            .field("mode", &self.mode)
            .field("payload_id", &self.payload_id)
            .field("sender_id", &self.sender_id)
            .finish_non_exhaustive()
    }
}

/// What can be echoed from an envelope even when it was refused (PayloadID, sender, receiver).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Echo {
    pub payload_id: String,
    pub sender_id: String,
    pub receiver_id: String,
    pub mode: Option<Mode>,
}

/// Text of a field, trimmed; `None` when absent or empty.
fn text<'a>(parts: &[Part<'a>], name: &str) -> Result<Option<&'a str>, EnvelopeError> {
    match parts.iter().find(|p| p.name == name) {
        None => Ok(None),
        Some(p) => {
            let s = std::str::from_utf8(p.data).map_err(|_| {
                EnvelopeError::new(
                    ErrorCode::PayloadTypeIncorrect,
                    format!("the {name} field is not UTF-8 text"),
                )
            })?;
            let s = s.trim();
            Ok((!s.is_empty()).then_some(s))
        }
    }
}

/// The fields that can be echoed, read leniently (for the error response).
pub fn echo(parts: &[Part<'_>]) -> Echo {
    let get = |n| text(parts, n).ok().flatten().unwrap_or("").to_string();
    Echo {
        payload_id: get("PayloadID"),
        sender_id: get("SenderID"),
        receiver_id: get("ReceiverID"),
        mode: text(parts, "ProcessingMode")
            .ok()
            .flatten()
            .and_then(Mode::parse),
    }
}

/// An RFC 4122 UUID in its 8-4-4-4-12 hex form.
pub fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// A fresh random (version 4) UUID for response PayloadIDs.
pub fn new_uuid() -> String {
    use rand::Rng as _;
    let mut b = [0u8; 16];
    rand::rng().fill(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// Parses a `TimeStamp`: ISO 8601 with an offset (`2026-12-03T15:43:52Z`), or without one
/// (read as UTC, as the rule's examples are).
pub fn parse_timestamp(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
        .ok()
        .map(|n| n.and_utc())
}

/// Hex SHA-1 of a payload (the batch `Checksum`).
pub fn sha1_hex(data: &[u8]) -> String {
    use sha1::Digest as _;
    sha1::Sha1::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl<'a> Request<'a> {
    /// Checks every field of the envelope, in the order the rule lists them; the first fault
    /// found is reported, naming the field. `Ok` does not mean the credentials are good (see
    /// [`CredentialCache`](super::CredentialCache)) nor that the payload is valid X12.
    pub fn from_parts(parts: &[Part<'a>]) -> Result<Request<'a>, EnvelopeError> {
        use ErrorCode::*;
        fn err(code: ErrorCode, message: impl Into<String>) -> EnvelopeError {
            EnvelopeError::new(code, message)
        }
        let version = text(parts, "CORERuleVersion")?.ok_or_else(|| {
            err(
                CORERuleVersionRequired,
                "the CORERuleVersion field is missing; send 2.2.0",
            )
        })?;
        if version != CORE_RULE_VERSION {
            return Err(err(
                VersionMismatch,
                format!(
                    "CORERuleVersion {version:.20} is not supported by this receiver; send {CORE_RULE_VERSION}"
                ),
            ));
        }
        let payload_type = text(parts, "PayloadType")?.ok_or_else(|| {
            err(
                PayloadTypeRequired,
                "the PayloadType field is missing (e.g. X12_270_Request_005010X279A1)",
            )
        })?;
        let mode_text = text(parts, "ProcessingMode")?.ok_or_else(|| {
            err(
                ProcessingModeRequired,
                "the ProcessingMode field is missing; send RealTime or Batch",
            )
        })?;
        let mode = Mode::parse(mode_text).ok_or_else(|| {
            err(
                ProcessingModeIncorrect,
                format!("ProcessingMode {mode_text:.20} is not RealTime or Batch"),
            )
        })?;
        let payload_id = text(parts, "PayloadID")?.ok_or_else(|| {
            err(
                PayloadIDRequired,
                "the PayloadID field is missing; send a UUID that identifies this payload",
            )
        })?;
        if !is_uuid(payload_id) {
            return Err(err(
                PayloadIDIncorrect,
                "PayloadID must be a UUID (RFC 4122, e.g. f81d4fae-7dec-11d0-a765-00a0c91e6bf6)",
            ));
        }
        let ts = text(parts, "TimeStamp")?.ok_or_else(|| {
            err(
                TimeStampRequired,
                "the TimeStamp field is missing (ISO 8601, e.g. 2026-12-03T15:43:52Z)",
            )
        })?;
        let timestamp = parse_timestamp(ts).ok_or_else(|| {
            err(
                TimeStampIncorrect,
                "TimeStamp is not an ISO 8601 date and time (e.g. 2026-12-03T15:43:52Z)",
            )
        })?;
        let sender_id = text(parts, "SenderID")?
            .ok_or_else(|| err(SenderIDRequired, "the SenderID field is missing"))?;
        let receiver_id = text(parts, "ReceiverID")?
            .ok_or_else(|| err(ReceiverIDRequired, "the ReceiverID field is missing"))?;
        let username = text(parts, "UserName")?
            .ok_or_else(|| err(UnAuthorized, "the UserName field is missing"))?;
        let password = parts
            .iter()
            .find(|p| p.name == "Password")
            .and_then(|p| std::str::from_utf8(p.data).ok())
            .filter(|p| !p.is_empty())
            .ok_or_else(|| err(UnAuthorized, "the Password field is missing"))?;
        let payload = parts
            .iter()
            .find(|p| p.name == "Payload")
            .map(|p| p.data)
            .unwrap_or(&[]);
        let kind = Kind::of(payload_type);
        if let Some(k) = kind
            && k.mode() != mode
        {
            return Err(err(
                ProcessingModeIncorrect,
                format!(
                    "PayloadType {payload_type} is processed in {} mode, not {}",
                    k.mode().as_str(),
                    mode.as_str()
                ),
            ));
        }
        if mode == Mode::Batch {
            let length = text(parts, "PayloadLength")?.ok_or_else(|| {
                err(
                    PayloadLengthRequired,
                    "the PayloadLength field is required in Batch mode",
                )
            })?;
            if length.parse::<usize>().ok() != Some(payload.len()) {
                return Err(err(
                    PayloadLengthIncorrect,
                    format!(
                        "PayloadLength {length:.20} does not match the {} bytes of the Payload",
                        payload.len()
                    ),
                ));
            }
            let sum = text(parts, "Checksum")?.ok_or_else(|| {
                err(
                    ChecksumRequired,
                    "the Checksum field (SHA-1 of the Payload, hex) is required in Batch mode",
                )
            })?;
            if !sum.eq_ignore_ascii_case(&sha1_hex(payload)) {
                return Err(err(
                    ChecksumMismatched,
                    "Checksum does not match the SHA-1 of the Payload",
                ));
            }
        } else if let Some(length) = text(parts, "PayloadLength")?
            && length.parse::<usize>().ok() != Some(payload.len())
        {
            return Err(err(
                PayloadLengthIncorrect,
                format!(
                    "PayloadLength {length:.20} does not match the {} bytes of the Payload",
                    payload.len()
                ),
            ));
        }
        Ok(Request {
            payload_type,
            kind,
            mode,
            payload_id,
            timestamp,
            username,
            password,
            sender_id,
            receiver_id,
            payload,
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn acknowledgements_are_told_apart_by_their_segments() {
        let isa = "ISA*00*          *00*          *ZZ*OCHP1          *ZZ*BILLER1        *261203*1200*^*00501*000000001*0*P*:";
        let ta1 = format!("{isa}~\nTA1*000000042*261203*1200*R*025~\nIEA*0*000000001~\n");
        assert_eq!(super::payload::of_ack(&ta1), super::payload::ACK_TA1);
        let ack999 = format!(
            "{isa}~GS*FA*OCHP1*BILLER1*20261203*1200*1*X*005010X231A1~ST*999*0001*005010X231A1~AK1*HC*1*005010X222A1~AK9*A*1*1*1~SE*4*0001~GE*1*1~IEA*1*000000001~"
        );
        assert_eq!(super::payload::of_ack(&ack999), super::payload::ACK_999);
    }

    use super::*;
    use crate::caqh::multipart::parse_multipart;
    use crate::caqh::writer::{Response, request_multipart};

    const ID: &str = "f81d4fae-7dec-11d0-a765-00a0c91e6bf6";

    fn fields(overrides: &[(&str, Option<&str>)]) -> Vec<(String, Vec<u8>)> {
        let base = [
            ("PayloadType", payload::ELIGIBILITY_REQUEST),
            ("ProcessingMode", "RealTime"),
            ("PayloadID", ID),
            ("TimeStamp", "2026-12-03T15:43:52Z"),
            ("UserName", "edi"),
            ("Password", "secret"),
            ("SenderID", "BILLER1"),
            ("ReceiverID", "OCHP"),
            ("CORERuleVersion", "2.2.0"),
            ("Payload", "ISA*00*..."),
        ];
        let mut out: Vec<(String, Vec<u8>)> = Vec::new();
        for (k, v) in base {
            match overrides.iter().find(|(n, _)| *n == k) {
                Some((_, Some(v))) => out.push((k.into(), v.as_bytes().to_vec())),
                Some((_, None)) => {}
                None => out.push((k.into(), v.as_bytes().to_vec())),
            }
        }
        for (k, v) in overrides {
            if !base.iter().any(|(n, _)| n == k)
                && let Some(v) = v
            {
                out.push(((*k).into(), v.as_bytes().to_vec()));
            }
        }
        out
    }

    fn check(overrides: &[(&str, Option<&str>)]) -> Result<(), EnvelopeError> {
        let f = fields(overrides);
        let refs: Vec<(&str, &[u8])> = f.iter().map(|(k, v)| (k.as_str(), v.as_slice())).collect();
        let (ct, body) = request_multipart(&refs);
        let parts = parse_multipart(&ct, &body)?;
        Request::from_parts(&parts).map(|_| ())
    }

    #[test]
    fn a_complete_envelope_parses_and_round_trips() {
        let f = fields(&[]);
        let refs: Vec<(&str, &[u8])> = f.iter().map(|(k, v)| (k.as_str(), v.as_slice())).collect();
        let (ct, body) = request_multipart(&refs);
        let parts = parse_multipart(&ct, &body).unwrap();
        assert_eq!(parts.len(), 10);
        let r = Request::from_parts(&parts).unwrap();
        assert_eq!(r.kind, Some(Kind::Eligibility));
        assert_eq!(r.payload, b"ISA*00*...");
        assert_eq!(r.username, "edi");
        let resp = Response::success(&r, payload::ELIGIBILITY_RESPONSE, "ISA*271".into());
        let (b, bytes) = resp.to_multipart();
        let back = parse_multipart(&format!("multipart/form-data; boundary={b}"), &bytes).unwrap();
        let get = |n: &str| back.iter().find(|p| p.name == n).map(|p| p.data.to_vec());
        assert_eq!(get("ErrorCode").unwrap(), b"Success");
        assert_eq!(get("Payload").unwrap(), b"ISA*271");
        assert_eq!(
            get("ReceiverID").unwrap(),
            b"BILLER1",
            "sender and receiver swap"
        );
        assert!(is_uuid(
            std::str::from_utf8(&get("PayloadID").unwrap()).unwrap()
        ));
        assert_ne!(get("PayloadID").unwrap(), ID.as_bytes());
    }

    #[test]
    fn each_missing_or_wrong_field_gets_its_code_and_names_the_field() {
        use ErrorCode::*;
        type Case<'a> = (&'a [(&'a str, Option<&'a str>)], ErrorCode, &'a str);
        let cases: &[Case] = &[
            (&[("PayloadID", None)], PayloadIDRequired, "PayloadID"),
            (
                &[("PayloadID", Some("12"))],
                PayloadIDIncorrect,
                "PayloadID",
            ),
            (
                &[("CORERuleVersion", Some("2.1.0"))],
                VersionMismatch,
                "CORERuleVersion",
            ),
            (
                &[("CORERuleVersion", None)],
                CORERuleVersionRequired,
                "CORERuleVersion",
            ),
            (&[("PayloadType", None)], PayloadTypeRequired, "PayloadType"),
            (
                &[("ProcessingMode", Some("Now"))],
                ProcessingModeIncorrect,
                "ProcessingMode",
            ),
            (
                &[("ProcessingMode", Some("Batch"))],
                ProcessingModeIncorrect,
                "RealTime",
            ),
            (
                &[("ProcessingMode", None)],
                ProcessingModeRequired,
                "ProcessingMode",
            ),
            (
                &[("TimeStamp", Some("yesterday"))],
                TimeStampIncorrect,
                "TimeStamp",
            ),
            (&[("TimeStamp", None)], TimeStampRequired, "TimeStamp"),
            (&[("SenderID", None)], SenderIDRequired, "SenderID"),
            (&[("ReceiverID", None)], ReceiverIDRequired, "ReceiverID"),
            (&[("UserName", None)], UnAuthorized, "UserName"),
            (&[("Password", None)], UnAuthorized, "Password"),
            (
                &[("PayloadLength", Some("3"))],
                PayloadLengthIncorrect,
                "PayloadLength",
            ),
        ];
        for (o, code, field) in cases {
            let e = check(o).expect_err(&format!("{o:?} refused"));
            assert_eq!(e.code, *code, "{o:?}: {}", e.message);
            assert!(e.message.contains(field), "{o:?}: {}", e.message);
        }
        // Unknown payload types are accepted by the envelope and refused by the dispatch.
        assert!(check(&[("PayloadType", Some("X12_999_Whatever"))]).is_ok());
    }

    #[test]
    fn batch_needs_length_and_sha1() {
        let payload = "ISA*batch";
        let sum = sha1_hex(payload.as_bytes());
        let len = payload.len().to_string();
        let batch = [
            ("PayloadType", Some(payload::CLAIM_PROFESSIONAL)),
            ("ProcessingMode", Some("Batch")),
            ("Payload", Some(payload)),
        ];
        let with = |extra: &[(&'static str, Option<&'static str>)]| {
            let mut v: Vec<(&str, Option<&str>)> = batch.to_vec();
            v.extend_from_slice(extra);
            v
        };
        let len: &'static str = Box::leak(len.into_boxed_str());
        let sum: &'static str = Box::leak(sum.into_boxed_str());
        assert_eq!(
            check(&with(&[])).unwrap_err().code,
            ErrorCode::PayloadLengthRequired
        );
        assert_eq!(
            check(&with(&[("PayloadLength", Some(len))]))
                .unwrap_err()
                .code,
            ErrorCode::ChecksumRequired
        );
        assert_eq!(
            check(&with(&[
                ("PayloadLength", Some(len)),
                ("Checksum", Some("00"))
            ]))
            .unwrap_err()
            .code,
            ErrorCode::ChecksumMismatched
        );
        assert!(
            check(&with(&[
                ("PayloadLength", Some(len)),
                ("Checksum", Some(sum))
            ]))
            .is_ok()
        );
        // SHA-1 of "abc" (FIPS 180 test vector).
        assert_eq!(sha1_hex(b"abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
    }
}
