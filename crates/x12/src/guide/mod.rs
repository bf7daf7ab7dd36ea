//! Implementation guides as data.
//!
//! Two small text formats, parsed once at first use, keep the guides readable next to
//! the TR3 they transcribe:
//!
//! * `dictionary.txt`: the X12 5010 segment dictionary: for each segment, its elements
//!   in order as `TYPE:min-max` (`C(...)` for a composite, `*n` for repeats) and the
//!   base-standard syntax notes (`P0809` paired, `R0203` at least one, `C0405` if 04
//!   then 05, `E0102` not both, `L010203` if 01 then one of 02, 03).
//! * one `*.guide` file per implementation guide: loops (`loop 2010AA R 1 "name"` ...
//!   `end`) and segments (`NM1 R 1 @01=85 02=1,2 08=XX use=RRRSSN.SRR`). `R`/`S`/`N` is
//!   the usage, then the maximum use (`>1` unbounded); `NN=a,b` a code list for element
//!   NN (`NN.M=` for component M), `@` marks the qualifier that identifies the segment
//!   or loop; `use=` gives element usage by position (R required, S situational,
//!   N or `.` not used; elements past its end are not used). `ref ID` reuses a loop
//!   defined earlier (837's claim loop 2300 under both subscriber and patient).
//!
//! Children of a loop that share a segment id and sit next to each other (a run of REF
//! or DTP segments, or the NM1 loops 2310A-F) occupy one position of the base standard,
//! so they are accepted in any order among themselves.

mod dsl;

use std::sync::OnceLock;

pub use dsl::GuideError;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Usage {
    Required,
    Situational,
    NotUsed,
}

/// X12 data element types. `N(d)` is numeric with `d` implied decimals.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ty {
    AN,
    ID,
    N(u8),
    R,
    DT,
    TM,
}

/// Allowed values of an element or component.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Codes {
    Any,
    List(Vec<Box<[u8]>>),
    /// Claim Adjustment Reason Codes (external code source 139): checked by shape.
    Carc,
}

impl Codes {
    pub fn allows(&self, v: &[u8]) -> bool {
        match self {
            Codes::Any => true,
            Codes::List(l) => l.iter().any(|c| &**c == v),
            Codes::Carc => carc_shape(v),
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Codes::Any => String::new(),
            Codes::List(l) => {
                let mut s: Vec<String> = l
                    .iter()
                    .take(12)
                    .map(|c| String::from_utf8_lossy(c).into_owned())
                    .collect();
                if l.len() > 12 {
                    s.push("...".into());
                }
                s.join(", ")
            }
            Codes::Carc => "a Claim Adjustment Reason Code (code source 139)".into(),
        }
    }
}

/// CARCs are 1-3 digits or a letter followed by 1-2 digits (A1, B13, P24, W1, Y2).
fn carc_shape(v: &[u8]) -> bool {
    match v {
        d if !d.is_empty() && d.len() <= 3 && d.iter().all(u8::is_ascii_digit) => true,
        [l, d @ ..]
            if l.is_ascii_uppercase()
                && !d.is_empty()
                && d.len() <= 2
                && d.iter().all(u8::is_ascii_digit) =>
        {
            true
        }
        _ => false,
    }
}

#[derive(Clone, Debug)]
pub struct CompRule {
    pub usage: Usage,
    pub ty: Ty,
    pub min: u16,
    pub max: u16,
    pub codes: Codes,
}

#[derive(Clone, Debug)]
pub struct ElemRule {
    pub usage: Usage,
    pub ty: Ty,
    pub min: u16,
    pub max: u16,
    /// Maximum repetitions (1 = not repeating).
    pub reps: u16,
    pub codes: Codes,
    /// Component rules when the element is a composite.
    pub comps: Vec<CompRule>,
}

/// Base-standard syntax note over element positions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Syntax {
    /// All or none.
    Paired(Vec<u8>),
    /// At least one.
    Required(Vec<u8>),
    /// If the first is present, all others are required.
    Conditional(u8, Vec<u8>),
    /// At most one.
    Exclusion(Vec<u8>),
    /// If the first is present, at least one of the others.
    ListConditional(u8, Vec<u8>),
}

#[derive(Clone, Debug)]
pub struct SegDef {
    pub id: &'static str,
    /// Segment id packed for fast comparison.
    pub tag: u32,
    pub name: &'static str,
    pub usage: Usage,
    /// Maximum use; `u32::MAX` for `>1`.
    pub max: u32,
    /// Element (1-based), component (0 = whole) and values identifying this segment.
    pub key: Option<(u8, u8, Codes)>,
    pub elems: Vec<ElemRule>,
    pub syntax: Vec<Syntax>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Node {
    Seg(u16),
    Loop(u16),
}

#[derive(Clone, Debug)]
pub struct LoopDef {
    pub id: &'static str,
    pub name: &'static str,
    pub usage: Usage,
    pub max: u32,
    pub children: Vec<Node>,
    /// For each child, the first index of the run of children with the same segment id
    /// (children sharing one base-standard position, which may come in any order).
    pub block: Vec<u16>,
    /// Segment tag of each child (its trigger for a loop), for a cheap first test.
    pub tags: Vec<u32>,
    /// Whether each child is required.
    pub required: Vec<bool>,
}

impl LoopDef {
    /// Index of the segment that starts the loop.
    pub fn trigger(&self) -> u16 {
        match self.children[0] {
            Node::Seg(s) => s,
            Node::Loop(_) => unreachable!("the guide parser requires a segment first"),
        }
    }
}

/// One implementation guide (one TR3, or one direction of it for 278).
#[derive(Debug)]
pub struct Guide {
    /// `005010X222A1`
    pub version: &'static str,
    /// `837`
    pub set: &'static str,
    pub title: &'static str,
    pub segs: Vec<SegDef>,
    /// `loops[0]` is the transaction set itself (ST ... SE).
    pub loops: Vec<LoopDef>,
}

impl Guide {
    /// Whether any segment of this guide has the given tag.
    pub fn uses_segment(&self, tag: u32) -> bool {
        self.segs.iter().any(|s| s.tag == tag)
    }

    /// The loop with this id.
    pub fn find_loop(&self, id: &str) -> Option<&LoopDef> {
        self.loops.iter().find(|l| l.id == id)
    }
}

/// Packs a segment id (2 or 3 bytes) into a u32; 0 for anything else.
#[inline]
pub fn tag(id: &[u8]) -> u32 {
    match id {
        [a, b] => u32::from_be_bytes([0, *a, *b, 0]),
        [a, b, c] => u32::from_be_bytes([0, *a, *b, *c]) | 0x0100_0000,
        _ => 0,
    }
}

/// Element layout of one segment in the base standard.
#[derive(Debug, Clone)]
pub struct DictSeg {
    pub id: &'static str,
    pub elems: Vec<ElemRule>,
    pub syntax: Vec<Syntax>,
}

pub struct Dictionary {
    pub segs: Vec<DictSeg>,
}

impl Dictionary {
    pub fn get(&self, id: &str) -> Option<&DictSeg> {
        self.segs.iter().find(|s| s.id == id)
    }
    pub fn knows(&self, t: u32) -> bool {
        self.segs.iter().any(|s| tag(s.id.as_bytes()) == t)
    }
}

const DICTIONARY: &str = include_str!("dictionary.txt");

/// Guide sources: (file text). Each starts with its `guide` header line.
const GUIDES: &[&str] = &[
    include_str!("x279_270.guide"),
    include_str!("x279_271.guide"),
    include_str!("x212_276.guide"),
    include_str!("x212_277.guide"),
    include_str!("x214_277ca.guide"),
    include_str!("x217_278_request.guide"),
    include_str!("x217_278_response.guide"),
    include_str!("x222_837p.guide"),
    include_str!("x223_837i.guide"),
    include_str!("x221_835.guide"),
    include_str!("x231_999.guide"),
];

pub fn dictionary() -> &'static Dictionary {
    static D: OnceLock<Dictionary> = OnceLock::new();
    D.get_or_init(|| {
        dsl::parse_dictionary(DICTIONARY).unwrap_or_else(|e| panic!("built-in dictionary: {e}"))
    })
}

/// All built-in guides. The texts are part of the crate, so a parse error is a bug
/// caught by the unit tests.
pub fn guides() -> &'static [Guide] {
    static G: OnceLock<Vec<Guide>> = OnceLock::new();
    G.get_or_init(|| {
        GUIDES
            .iter()
            .map(|src| {
                dsl::parse_guide(src, dictionary())
                    .unwrap_or_else(|e| panic!("built-in guide: {e}"))
            })
            .collect()
    })
}

/// The guide for a transaction set id and version; for 278, `bht02` chooses request
/// (`13`) or response (`11`).
pub fn find(set: &str, version: &str, bht02: Option<&[u8]>) -> Option<&'static Guide> {
    let gs = guides();
    if set == "278" {
        let title = if bht02 == Some(b"11") {
            "response"
        } else {
            "request"
        };
        return gs.iter().find(|g| {
            g.set == "278" && g.version == version && g.title.to_lowercase().contains(title)
        });
    }
    gs.iter().find(|g| g.set == set && g.version == version)
}

/// Versions accepted for each guide beyond its own (errata releases with the same structure).
pub fn canonical_version(set: &str, version: &str) -> Option<&'static str> {
    Some(match (set, version) {
        ("270" | "271", "005010X279A1") => "005010X279A1",
        ("276" | "277", "005010X212") => "005010X212",
        ("277", "005010X214") => "005010X214",
        ("278", "005010X217") => "005010X217",
        ("837", "005010X222A1" | "005010X222A2") => "005010X222A1",
        ("837", "005010X223A2" | "005010X223A3") => "005010X223A2",
        ("835", "005010X221A1") => "005010X221A1",
        ("999", "005010X231A1" | "005010X231") => "005010X231A1",
        _ => return None,
    })
}

/// The guide a wrong or incomplete version most likely meant (for a precise message and
/// a best-effort validation), e.g. `005010X279` -> `005010X279A1`.
pub fn nearest_version(set: &str, version: &str) -> Option<&'static str> {
    let v = version.trim();
    let pick = |stem: &str, full: &'static str| v.starts_with(stem).then_some(full);
    match set {
        "270" | "271" => pick("005010X279", "005010X279A1"),
        "276" => pick("005010X212", "005010X212"),
        "277" => pick("005010X214", "005010X214").or_else(|| pick("005010X212", "005010X212")),
        "278" => pick("005010X217", "005010X217"),
        "837" => pick("005010X223", "005010X223A2").or_else(|| pick("005010X222", "005010X222A1")),
        "835" => pick("005010X221", "005010X221A1"),
        "999" => pick("005010X231", "005010X231A1"),
        _ => None,
    }
}

/// The guide to fall back on when the version names none (first one for the set).
pub fn default_version(set: &str) -> Option<&'static str> {
    Some(match set {
        "270" | "271" => "005010X279A1",
        "276" | "277" => "005010X212",
        "278" => "005010X217",
        "837" => "005010X222A1",
        "835" => "005010X221A1",
        "999" => "005010X231A1",
        _ => return None,
    })
}

/// GS01 functional identifier code expected for a transaction set.
pub fn functional_id(set: &str) -> Option<&'static str> {
    Some(match set {
        "270" => "HS",
        "271" => "HB",
        "276" => "HR",
        "277" => "HN",
        "278" => "HI",
        "837" => "HC",
        "835" => "HP",
        "999" => "FA",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_guides_parse() {
        let gs = guides();
        assert_eq!(gs.len(), GUIDES.len());
        for g in gs {
            assert!(g.loops[0].children.len() > 2, "{}", g.version);
            // Every loop starts with a segment.
            for l in &g.loops {
                assert!(
                    matches!(l.children.first(), Some(Node::Seg(_))),
                    "{} {}",
                    g.version,
                    l.id
                );
            }
        }
    }

    #[test]
    fn lookup() {
        assert_eq!(find("837", "005010X222A1", None).unwrap().set, "837");
        assert!(
            find("278", "005010X217", Some(b"11"))
                .unwrap()
                .title
                .contains("Response")
        );
        assert!(
            find("278", "005010X217", Some(b"13"))
                .unwrap()
                .title
                .contains("Request")
        );
        assert_eq!(nearest_version("271", "005010X279"), Some("005010X279A1"));
    }

    #[test]
    fn carc() {
        assert!(carc_shape(b"45"));
        assert!(carc_shape(b"B13"));
        assert!(!carc_shape(b"XX"));
        assert!(!carc_shape(b"1234"));
    }
}
