//! Envelopes written as multipart/form-data: the receiver's answer, and requests (for partners'
//! tools, tests and the load generator).

use super::envelope::{
    CORE_RULE_VERSION, Echo, EnvelopeError, ErrorCode, Mode, Request, new_uuid, payload, sha1_hex,
};
use chrono::{DateTime, Utc};

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
