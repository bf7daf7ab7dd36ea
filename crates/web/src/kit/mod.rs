//! The UI kit every area builds on: one way to format, to write CSV, to read uploads, to fail
//! (`PageError`, so handlers use `?`), and to know who is asking (`Page`). Areas import from
//! here, never from one another.

pub mod claims;
pub mod csv;
pub mod error;
pub mod format;
pub mod page;
pub mod upload;

pub use error::{PageError, PageResult};
pub use page::Page;
