//! HIPAA X12 5010 (placeholder; built in issue 4).
