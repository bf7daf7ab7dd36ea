//! The CAQH CORE connectivity envelope: HTTP MIME multipart/form-data as the CAQH CORE
//! Connectivity Rule vC2.2.0 (the Phase II CORE 270 Connectivity Rule, §4 "HTTP MIME
//! Multipart" envelope and its metadata table) defines it, with no HTTP types here: the web
//! layer hands over the `Content-Type` value and the body bytes and writes back what
//! [`Response::to_multipart`] produces.
//!
//! Request fields (rule vC2.2.0, envelope metadata): `PayloadType`, `ProcessingMode`
//! (`RealTime` | `Batch`), `PayloadID` (an RFC 4122 UUID), `PayloadLength` and `Checksum`
//! (SHA-1 of the payload, hex; batch), `TimeStamp` (ISO 8601 / `xsd:dateTime`), `UserName`,
//! `Password`, `SenderID`, `ReceiverID`, `CORERuleVersion` (`2.2.0`), `Payload`. The response
//! carries the same metadata plus `ErrorCode` and `ErrorMessage`; an envelope that cannot be
//! processed is answered with `PayloadType` = `CoreEnvelopeError` and no payload.
//!
//! Error codes follow the rule's envelope error table (`Success`, `PayloadTypeIncorrect`,
//! `ProcessingModeIncorrect`, `PayloadIDRequired`, `VersionMismatch`, `UnAuthorized`, ...); every
//! message names the field at fault so that a partner's developer can fix it without a call.
//!
//! [`CredentialCache`] keeps successful UserName/Password verifications for a few minutes, so
//! that argon2id runs once per partner rather than once per real-time request.

use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

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

/// One multipart/form-data part: its field name and bytes (borrowed from the body).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part<'a> {
    pub name: &'a str,
    pub data: &'a [u8],
}

/// The boundary parameter of a `multipart/form-data` content type.
pub fn boundary(content_type: &str) -> Option<&str> {
    let (kind, params) = content_type.split_once(';')?;
    if !kind.trim().eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params.split(';').find_map(|p| {
        let (k, v) = p.trim().split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| v.trim().trim_matches('"'))
            .filter(|b| !b.is_empty() && b.len() <= 70)
    })
}

/// Splits a multipart/form-data body (RFC 7578) into its parts without copying.
pub fn parse_multipart<'a>(
    content_type: &str,
    body: &'a [u8],
) -> Result<Vec<Part<'a>>, EnvelopeError> {
    let bad = |m: &str| {
        EnvelopeError::new(
            ErrorCode::PayloadTypeRequired,
            format!("the request is not a CORE HTTP MIME multipart envelope: {m}"),
        )
    };
    let b = boundary(content_type)
        .ok_or_else(|| bad("Content-Type must be multipart/form-data with a boundary"))?;
    let delim = format!("--{b}");
    let delim = delim.as_bytes();
    let mut parts = Vec::with_capacity(12);
    let Some(first) = find(body, delim, 0) else {
        return Err(bad("the boundary does not occur in the body"));
    };
    let mut pos = first + delim.len();
    loop {
        // After a delimiter: "--" closes the body, else CRLF and a part follows.
        if body[pos..].starts_with(b"--") {
            break;
        }
        pos = skip_newline(body, pos).ok_or_else(|| bad("a line break must follow a boundary"))?;
        let head_end = find(body, b"\r\n\r\n", pos)
            .map(|i| (i, i + 4))
            .or_else(|| find(body, b"\n\n", pos).map(|i| (i, i + 2)))
            .ok_or_else(|| bad("a part has no header block"))?;
        let headers = std::str::from_utf8(&body[pos..head_end.0])
            .map_err(|_| bad("part headers are not text"))?;
        let name = headers
            .lines()
            .find_map(disposition_name)
            .ok_or_else(|| bad("a part has no Content-Disposition name"))?;
        let data_start = head_end.1;
        let next =
            find(body, delim, data_start).ok_or_else(|| bad("the closing boundary is missing"))?;
        let mut data_end = next;
        if data_end >= data_start + 2 && &body[data_end - 2..data_end] == b"\r\n" {
            data_end -= 2;
        } else if data_end > data_start && body[data_end - 1] == b'\n' {
            data_end -= 1;
        }
        parts.push(Part {
            name,
            data: &body[data_start..data_end],
        });
        pos = next + delim.len();
        if pos >= body.len() {
            return Err(bad("the closing boundary is missing"));
        }
    }
    Ok(parts)
}

fn skip_newline(body: &[u8], pos: usize) -> Option<usize> {
    let rest = &body[pos..];
    // Transport padding (spaces) may precede the line break.
    let pad = rest
        .iter()
        .take_while(|b| **b == b' ' || **b == b'\t')
        .count();
    let rest = &rest[pad..];
    if rest.starts_with(b"\r\n") {
        Some(pos + pad + 2)
    } else if rest.starts_with(b"\n") {
        Some(pos + pad + 1)
    } else {
        None
    }
}

fn disposition_name(line: &str) -> Option<&str> {
    let (h, v) = line.split_once(':')?;
    if !h.trim().eq_ignore_ascii_case("content-disposition") {
        return None;
    }
    v.split(';').find_map(|p| {
        let (k, v) = p.trim().split_once('=')?;
        (k.trim() == "name").then(|| v.trim().trim_matches('"'))
    })
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if from > hay.len() {
        return None;
    }
    hay[from..]
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|i| i + from)
}

/// A checked request envelope.
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
    /// [`CredentialCache`]) nor that the payload is valid X12.
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

/// A response envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub payload_type: &'static str,
    pub mode: Mode,
    pub payload_id: String,
    pub timestamp: DateTime<Utc>,
    /// Our id (the request's ReceiverID) and the partner's (its SenderID), swapped.
    pub sender_id: String,
    pub receiver_id: String,
    pub error_code: ErrorCode,
    pub error_message: String,
    pub payload: String,
}

impl Response {
    /// A processed request's answer (a 271, 277, 999 or TA1).
    pub fn success(req: &Request<'_>, payload_type: &'static str, payload: String) -> Response {
        Response {
            payload_type,
            mode: req.mode,
            payload_id: new_uuid(),
            timestamp: Utc::now(),
            sender_id: req.receiver_id.to_string(),
            receiver_id: req.sender_id.to_string(),
            error_code: ErrorCode::Success,
            error_message: String::new(),
            payload,
        }
    }

    /// An envelope that could not be processed: `CoreEnvelopeError`, no payload.
    pub fn error(echo: &Echo, e: &EnvelopeError) -> Response {
        Response {
            payload_type: payload::ENVELOPE_ERROR,
            mode: echo.mode.unwrap_or(Mode::RealTime),
            payload_id: if echo.payload_id.is_empty() {
                new_uuid()
            } else {
                echo.payload_id.clone()
            },
            timestamp: Utc::now(),
            sender_id: echo.receiver_id.clone(),
            receiver_id: echo.sender_id.clone(),
            error_code: e.code,
            error_message: e.message.clone(),
            payload: String::new(),
        }
    }

    /// The envelope as multipart/form-data: `(boundary, body)`; the content type is
    /// `multipart/form-data; boundary=<boundary>`.
    pub fn to_multipart(&self) -> (String, Vec<u8>) {
        let boundary = format!("CORE-{}", new_uuid());
        let mut out = Vec::with_capacity(self.payload.len() + 1200);
        let ts = self
            .timestamp
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let mut field = |name: &str, value: &[u8]| {
            out.extend_from_slice(b"--");
            out.extend_from_slice(boundary.as_bytes());
            out.extend_from_slice(b"\r\nContent-Disposition: form-data; name=\"");
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b"\"\r\n\r\n");
            out.extend_from_slice(value);
            out.extend_from_slice(b"\r\n");
        };
        field("PayloadType", self.payload_type.as_bytes());
        field("ProcessingMode", self.mode.as_str().as_bytes());
        field("PayloadID", self.payload_id.as_bytes());
        field("TimeStamp", ts.as_bytes());
        field("SenderID", clean(&self.sender_id).as_bytes());
        field("ReceiverID", clean(&self.receiver_id).as_bytes());
        field("CORERuleVersion", CORE_RULE_VERSION.as_bytes());
        field("ErrorCode", self.error_code.as_str().as_bytes());
        field("ErrorMessage", self.error_message.as_bytes());
        if self.mode == Mode::Batch && !self.payload.is_empty() {
            field("PayloadLength", self.payload.len().to_string().as_bytes());
            field("Checksum", sha1_hex(self.payload.as_bytes()).as_bytes());
        }
        if !self.payload.is_empty() {
            field("Payload", self.payload.as_bytes());
        }
        out.extend_from_slice(b"--");
        out.extend_from_slice(boundary.as_bytes());
        out.extend_from_slice(b"--\r\n");
        (boundary, out)
    }
}

/// Echoed identifiers are the partner's own words: keep them short and free of line breaks.
fn clean(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).take(80).collect()
}

/// A request envelope as multipart/form-data (for partners' tools, tests and the load
/// generator): `(content type, body)`.
pub fn request_multipart(fields: &[(&str, &[u8])]) -> (String, Vec<u8>) {
    let boundary = format!("CORE-{}", new_uuid());
    let mut out = Vec::new();
    for (name, value) in fields {
        out.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n")
                .as_bytes(),
        );
        out.extend_from_slice(value);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), out)
}

/// Successful UserName/Password verifications, kept for [`CredentialCache::TTL`].
///
/// argon2id takes tens of milliseconds on purpose; a partner sending thousands of real-time
/// requests a second with the same credentials must not pay that each time. The cache is keyed
/// by HMAC-SHA-256 of username and password under a key drawn at start-up, so neither the
/// password nor an offline-guessable hash of it is ever kept in memory, and it holds only
/// verifications that *succeeded*: a wrong password always goes to argon2id (and counts toward
/// the account's lockout).
///
/// Revocation: each entry remembers the account's password hash and is re-checked against the
/// database (status Active, same password hash, same TIN grants) whenever it is older than
/// [`CredentialCache::RECHECK`]. We chose a short interval over a check on every request
/// because that check is a database round trip of its own, on the hot path of every real-time
/// request; with a few seconds' interval a deactivation, a lockout or a password change takes
/// effect within those seconds, on every instance, without any message between instances.
pub struct CredentialCache<T> {
    key: [u8; 32],
    entries: Mutex<HashMap<[u8; 32], Cached<T>>>,
    ttl: Duration,
    recheck: Duration,
}

struct Cached<T> {
    value: T,
    /// The account's password hash when it was verified: a change invalidates the entry.
    password_hash: String,
    verified: Instant,
    checked: Instant,
}

/// What a lookup found.
pub enum Lookup<T> {
    /// Verified recently and re-checked within the interval.
    Fresh(T),
    /// Verified within the TTL, but the account must be re-read: call
    /// [`CredentialCache::confirm`] with what the database says now.
    Recheck(T, String),
    Miss,
}

impl<T: Clone> CredentialCache<T> {
    pub const TTL: Duration = Duration::from_secs(300);
    pub const RECHECK: Duration = Duration::from_secs(5);
    const MAX_ENTRIES: usize = 10_000;

    pub fn new() -> Self {
        Self::with_times(Self::TTL, Self::RECHECK)
    }

    pub fn with_times(ttl: Duration, recheck: Duration) -> Self {
        use rand::Rng as _;
        let mut key = [0u8; 32];
        rand::rng().fill(&mut key);
        CredentialCache {
            key,
            entries: Mutex::new(HashMap::new()),
            ttl,
            recheck,
        }
    }

    /// The cache key: HMAC-SHA-256(key, len(username) || username || password).
    pub fn key_of(&self, username: &str, password: &str) -> [u8; 32] {
        use hmac::Mac;
        let mut m = <hmac::Hmac<sha2::Sha256> as Mac>::new_from_slice(&self.key)
            .expect("HMAC takes any key length");
        m.update(&(username.len() as u64).to_be_bytes());
        m.update(username.as_bytes());
        m.update(password.as_bytes());
        m.finalize().into_bytes().into()
    }

    pub fn lookup(&self, key: &[u8; 32]) -> Lookup<T> {
        let mut map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        match map.get(key) {
            Some(c) if now.duration_since(c.verified) < self.ttl => {
                if now.duration_since(c.checked) < self.recheck {
                    Lookup::Fresh(c.value.clone())
                } else {
                    Lookup::Recheck(c.value.clone(), c.password_hash.clone())
                }
            }
            Some(_) => {
                map.remove(key);
                Lookup::Miss
            }
            None => Lookup::Miss,
        }
    }

    /// Records a successful argon2id verification.
    pub fn insert(&self, key: [u8; 32], value: T, password_hash: &str) {
        let mut map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        if map.len() >= Self::MAX_ENTRIES {
            let ttl = self.ttl;
            map.retain(|_, c| now.duration_since(c.verified) < ttl);
            if map.len() >= Self::MAX_ENTRIES {
                map.clear();
            }
        }
        map.insert(
            key,
            Cached {
                value,
                password_hash: password_hash.to_string(),
                verified: now,
                checked: now,
            },
        );
    }

    /// After a re-check: `Some(value)` keeps the entry (refreshed, possibly with a new value,
    /// e.g. changed TIN grants); `None` drops it (deactivated, locked or new password).
    pub fn confirm(&self, key: &[u8; 32], now_valid: Option<(T, &str)>) {
        let mut map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        match now_valid {
            Some((value, hash)) => {
                if let Some(c) = map.get_mut(key) {
                    if c.password_hash == hash {
                        c.value = value;
                        c.checked = Instant::now();
                    } else {
                        map.remove(key);
                    }
                }
            }
            None => {
                map.remove(key);
            }
        }
    }

    /// Forgets every entry for which `f` is true (e.g. one user's, after a change seen here).
    pub fn forget(&self, f: impl Fn(&T) -> bool) {
        let mut map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        map.retain(|_, c| !f(&c.value));
    }

    pub fn len(&self) -> usize {
        self.entries.lock().map(|m| m.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<T: Clone> Default for CredentialCache<T> {
    fn default() -> Self {
        Self::new()
    }
}

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

    #[test]
    fn malformed_bodies_are_refused_not_panicked_on() {
        for body in [
            &b""[..],
            b"--x",
            b"--x\r\n",
            b"--x\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nvalue",
            b"garbage",
        ] {
            assert!(parse_multipart("multipart/form-data; boundary=x", body).is_err());
        }
        assert!(parse_multipart("application/json", b"{}").is_err());
        assert_eq!(
            boundary("multipart/form-data; boundary=\"abc\""),
            Some("abc")
        );
        let ok = b"--x\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nv\r\n--x--\r\n";
        let p = parse_multipart("multipart/form-data; boundary=x", ok).unwrap();
        assert_eq!(
            p,
            vec![Part {
                name: "a",
                data: b"v"
            }]
        );
    }

    #[test]
    fn credential_cache_keeps_only_what_it_is_given_and_rechecks() {
        let c: CredentialCache<i64> =
            CredentialCache::with_times(Duration::from_secs(60), Duration::from_millis(0));
        let k = c.key_of("edi", "right");
        assert_ne!(k, c.key_of("edi", "wrong"));
        assert_ne!(
            c.key_of("ed", "iright"),
            k,
            "username and password are delimited"
        );
        assert!(matches!(c.lookup(&k), Lookup::Miss));
        c.insert(k, 7, "$argon2id$v1");
        // Recheck interval 0: every lookup asks for a re-check.
        match c.lookup(&k) {
            Lookup::Recheck(7, h) => assert_eq!(h, "$argon2id$v1"),
            _ => panic!("expected a re-check"),
        }
        c.confirm(&k, Some((8, "$argon2id$v2")));
        assert!(
            matches!(c.lookup(&k), Lookup::Miss),
            "a new password drops the entry"
        );
        c.insert(k, 7, "$argon2id$v1");
        c.confirm(&k, None);
        assert!(
            matches!(c.lookup(&k), Lookup::Miss),
            "a deactivated account drops it"
        );
        let fresh: CredentialCache<i64> = CredentialCache::new();
        assert_ne!(fresh.key_of("edi", "right"), k, "keys are per process");
        let k2 = fresh.key_of("edi", "right");
        fresh.insert(k2, 1, "h");
        assert!(matches!(fresh.lookup(&k2), Lookup::Fresh(1)));
        fresh.forget(|v| *v == 1);
        assert!(fresh.is_empty());
    }
}
