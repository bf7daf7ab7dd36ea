//! Findings: each carries the acknowledgement code it maps to, where it happened and a
//! plain-language message with a fix.

use serde::Serialize;
use std::fmt;

/// Which acknowledgement level a finding belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// Interchange envelope (ISA/IEA): reported in a TA1 (TA105 note code).
    Interchange,
    /// Functional group (GS/GE): AK905..AK909 code.
    Group,
    /// Transaction set as a whole (ST/SE): IK502..IK506 code.
    Transaction,
    /// A segment: IK304 code.
    Segment,
    /// An element inside a segment: IK403 code (the segment gets IK304 = 8).
    Element,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Makes the transaction set (or group or interchange) rejected.
    Error,
    /// Reported, does not reject (a byte-order mark, a 4010-style ISA11).
    Warning,
}

/// Position of an element: element (1-based), component (1-based, 0 = whole element),
/// repetition (1-based, 0 = not repeated).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct ElementPos {
    pub element: u8,
    pub component: u8,
    pub repetition: u8,
}

/// One validation finding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Issue {
    pub severity: Severity,
    pub level: Level,
    /// The code used in the acknowledgement (TA105, AK905, IK5, IK304 or IK403).
    pub code: &'static str,
    /// Segment id, e.g. `NM1` (empty for stream-level problems).
    pub segment: String,
    /// Position of the segment in its transaction set, ST = 1 (0 outside a set).
    pub position: u32,
    /// Byte offset of the segment in the input.
    pub offset: u64,
    /// Loop id as the guide names it (`2010AA`), empty when none.
    pub loop_id: &'static str,
    pub element: Option<ElementPos>,
    /// The offending value, when there is one (copied, at most 80 bytes).
    pub value: Option<String>,
    /// What is wrong, in plain words.
    pub message: String,
    /// What would fix it.
    pub fix: String,
}

impl Issue {
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// `NM109` style reference of the element, or the segment id.
    pub fn reference(&self) -> String {
        match self.element {
            Some(p) if p.component > 0 => {
                format!("{}{:02}-{}", self.segment, p.element, p.component)
            }
            Some(p) => format!("{}{:02}", self.segment, p.element),
            None => self.segment.clone(),
        }
    }
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{sev}")?;
        let r = self.reference();
        if !r.is_empty() {
            write!(f, " {r}")?;
        }
        if self.position > 0 {
            write!(f, " (segment {} of the transaction set", self.position)?;
            if !self.loop_id.is_empty() {
                write!(f, ", loop {}", self.loop_id)?;
            }
            write!(f, ")")?;
        } else if !self.loop_id.is_empty() {
            write!(f, " (loop {})", self.loop_id)?;
        }
        write!(f, " at byte {}: {}", self.offset, self.message)?;
        if !self.fix.is_empty() {
            write!(f, " Fix: {}", self.fix)?;
        }
        write!(f, " [{} {}]", level_name(self.level), self.code)
    }
}

fn level_name(l: Level) -> &'static str {
    match l {
        Level::Interchange => "TA1",
        Level::Group => "AK9",
        Level::Transaction => "IK5",
        Level::Segment => "IK3",
        Level::Element => "IK4",
    }
}

/// Lossy, shortened copy of a value for messages.
pub(crate) fn show(v: &[u8]) -> String {
    let v = &v[..v.len().min(80)];
    String::from_utf8_lossy(v).into_owned()
}
