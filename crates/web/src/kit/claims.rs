//! Views of claims that several areas show (claim status, remittance, disputes).

use crate::kit::format::money;
use domain::claim::{Adjustment, explain_carc, explain_rarc};

/// One adjustment as a page shows it: its group and CARC/RARC codes with their words.
pub struct AdjustmentView {
    pub group: &'static str,
    pub group_label: &'static str,
    pub reason: String,
    pub words: &'static str,
    pub amount: String,
    pub remark: String,
    pub remark_words: &'static str,
}

impl AdjustmentView {
    pub fn of(a: &Adjustment) -> Self {
        AdjustmentView {
            group: a.group.code(),
            group_label: a.group.label(),
            reason: a.reason.clone(),
            words: explain_carc(&a.reason),
            amount: money(a.amount),
            remark: a.remark.clone().unwrap_or_default(),
            remark_words: a.remark.as_deref().map(explain_rarc).unwrap_or(""),
        }
    }
}
