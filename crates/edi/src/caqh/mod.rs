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
//! [`CredentialCache`] (in `credentials`) keeps successful UserName/Password verifications for a few minutes, so
//! that argon2id runs once per partner rather than once per real-time request.
//!
//! - `envelope`: the fields, their checks and the answer;
//! - `multipart`: the body split into parts, linear in its length and bounded;
//! - `reading`: the X12 payload inside, validated and read;
//! - `writer`: envelopes written back as multipart;
//! - `credentials`: the cache of verified partner credentials.

mod credentials;
mod envelope;
mod multipart;
mod reading;
mod writer;

pub use credentials::{CredentialCache, Lookup};
pub use envelope::*;
pub use multipart::{
    MAX_HEADER_BYTES, MAX_HEADER_LINES, MAX_PARTS, Part, boundary, parse_multipart,
};
pub use reading::{Accepted, Plan, Refused, next_control, read_payload};
pub use writer::{Response, request_multipart};
