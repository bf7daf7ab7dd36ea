//! HTTP layer (built by the web work).
