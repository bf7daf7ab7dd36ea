//! HIPAA X12 5010 for health plans: a zero-copy streaming tokenizer, validation against
//! the implementation guides (TR3s) with 999 and TA1 acknowledgements, typed views of
//! the transactions a provider portal exchanges, and a writer for them.
//!
//! ```
//! let file = x12::samples::claim_837p(1);
//! let report = x12::validate_bytes(file.as_bytes(), &x12::Options::default());
//! assert!(report.accepted(), "{:?}", report.errors_by_offset());
//! let ack = x12::ack::acknowledgement(&report, &x12::ack::AckOptions::default());
//! assert!(ack.contains("AK9*A*1*1*1"));
//! ```
//!
//! Layout: `delimiters` and `tokenizer` split bytes; `reader` streams segments from any
//! `io::Read` with bounded memory; `validate` runs the envelope state machine and hands
//! each transaction set to `walker`, which follows the guide tables of `guide` (text
//! files, one per TR3); `rules` holds the few checks that are not table-shaped; `ack`
//! writes 999/TA1; `model` has the typed transactions, their parser and writer.

pub mod ack;
pub mod delimiters;
pub mod error;
pub mod guide;
pub mod model;
pub mod reader;
pub mod report;
mod rules;
pub mod samples;
pub mod tokenizer;
pub mod validate;
mod walker;

pub use delimiters::Delimiters;
pub use error::{ElementPos, Issue, Level, Severity};
pub use report::Report;
pub use rules::{valid_date, valid_npi};
pub use validate::{Options, Sink, validate, validate_bytes, validate_with};
