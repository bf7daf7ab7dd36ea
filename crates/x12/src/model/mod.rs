//! Typed views of the transactions (filled in below).
