//! Provider trainings by topic, and their completion records.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Training {
    /// Stable slug, e.g. `fwa-2026`.
    pub code: String,
    pub title: String,
    /// e.g. "Compliance", "Cultural competency", "Claims".
    pub topic: String,
    pub minutes: u16,
    /// Whether the plan requires it yearly of every office.
    pub required: bool,
}
