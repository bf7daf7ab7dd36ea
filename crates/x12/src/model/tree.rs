//! A transaction set as the guide sees it: loops (with the guide's ids) holding
//! segments. Built by `TreeBuilder`, a validation `Sink`, one set at a time.

use crate::guide::{Guide, LoopDef, SegDef};
use crate::tokenizer::Split;
use crate::validate::Sink;
use serde::Serialize;

/// One segment with its elements as text. Composite elements keep their components
/// joined by `:` and repetitions by `^`, whatever the file used.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Seg {
    pub id: String,
    pub elements: Vec<String>,
}

impl Seg {
    /// Element `i` (1-based), empty when absent.
    pub fn el(&self, i: usize) -> &str {
        self.elements
            .get(i.wrapping_sub(1))
            .map_or("", String::as_str)
    }

    /// Component `c` (1-based) of element `i`.
    pub fn comp(&self, i: usize, c: usize) -> &str {
        self.el(i).split(':').nth(c.wrapping_sub(1)).unwrap_or("")
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LoopNode {
    /// Guide loop id (`2300`); empty for the transaction set itself.
    pub id: &'static str,
    pub segments: Vec<Seg>,
    pub loops: Vec<LoopNode>,
}

impl LoopNode {
    /// First segment with this id (and, when given, element 1 equal to `qual`).
    pub fn seg(&self, id: &str, qual: Option<&str>) -> Option<&Seg> {
        self.segments
            .iter()
            .find(|s| s.id == id && qual.is_none_or(|q| s.el(1) == q))
    }

    /// All segments with this id.
    pub fn segs<'a>(&'a self, id: &'a str) -> impl Iterator<Item = &'a Seg> + 'a {
        self.segments.iter().filter(move |s| s.id == id)
    }

    /// Child loops with this id.
    pub fn children<'a>(&'a self, id: &'a str) -> impl Iterator<Item = &'a LoopNode> + 'a {
        self.loops.iter().filter(move |l| l.id == id)
    }

    pub fn child(&self, id: &str) -> Option<&LoopNode> {
        self.loops.iter().find(|l| l.id == id)
    }

    /// Depth-first search for loops with this id.
    pub fn find_all<'a>(&'a self, id: &str, out: &mut Vec<&'a LoopNode>) {
        for l in &self.loops {
            if l.id == id {
                out.push(l);
            }
            l.find_all(id, out);
        }
    }
}

/// One parsed transaction set.
#[derive(Clone, Debug, Serialize)]
pub struct Transaction {
    /// ST01
    pub set: String,
    /// Guide version it was read with.
    pub guide: Option<&'static str>,
    pub control: String,
    pub accepted: bool,
    pub root: LoopNode,
}

/// Collects transaction sets as trees, keeping at most `limit` of them.
pub struct TreeBuilder {
    pub sets: Vec<Transaction>,
    stack: Vec<LoopNode>,
    current: Option<Transaction>,
    comp: u8,
    rep: Option<u8>,
    limit: usize,
    /// Sets not kept because of `limit`.
    pub dropped: u64,
}

impl TreeBuilder {
    pub fn new(limit: usize) -> Self {
        TreeBuilder {
            sets: Vec::new(),
            stack: Vec::new(),
            current: None,
            comp: b':',
            rep: Some(b'^'),
            limit,
            dropped: 0,
        }
    }

    /// Sets the delimiters used to normalise composite elements.
    pub fn delimiters(&mut self, d: &crate::Delimiters) {
        self.comp = d.component;
        self.rep = d.repetition;
    }

    fn text(&self, v: &[u8]) -> String {
        let mut s = String::from_utf8_lossy(v).into_owned();
        if self.comp != b':' && v.contains(&self.comp) {
            s = s.replace(self.comp as char, ":");
        }
        if let Some(r) = self.rep.filter(|&r| r != b'^' && v.contains(&r)) {
            s = s.replace(r as char, "^");
        }
        s
    }
}

impl Sink for TreeBuilder {
    fn begin_set(&mut self, guide: Option<&'static Guide>, st: &Split<'_, '_>) {
        self.stack.clear();
        self.stack.push(LoopNode::default());
        self.current = Some(Transaction {
            set: String::from_utf8_lossy(st.get(1)).into_owned(),
            guide: guide.map(|g| g.version),
            control: String::from_utf8_lossy(st.get(2)).into_owned(),
            accepted: true,
            root: LoopNode::default(),
        });
    }

    fn enter_loop(&mut self, def: &'static LoopDef) {
        self.stack.push(LoopNode {
            id: def.id,
            ..Default::default()
        });
    }

    fn exit_loop(&mut self) {
        if self.stack.len() > 1 {
            let l = self.stack.pop().expect("checked");
            self.stack.last_mut().expect("root").loops.push(l);
        }
    }

    fn segment(&mut self, seg: &Split<'_, '_>, _def: Option<&'static SegDef>) {
        if self.current.is_none() {
            return;
        }
        let elements = (1..=seg.len()).map(|i| self.text(seg.get(i))).collect();
        let s = Seg {
            id: String::from_utf8_lossy(seg.id()).into_owned(),
            elements,
        };
        if let Some(top) = self.stack.last_mut() {
            top.segments.push(s);
        }
    }

    fn end_set(&mut self, accepted: bool) {
        while self.stack.len() > 1 {
            self.exit_loop();
        }
        if let Some(mut t) = self.current.take() {
            t.accepted = accepted;
            t.root = self.stack.pop().unwrap_or_default();
            if self.sets.len() < self.limit {
                self.sets.push(t);
            } else {
                self.dropped += 1;
            }
        }
    }
}

/// Parses every transaction set of `data` into trees (and validates it on the way).
pub fn parse_bytes(data: &[u8]) -> (crate::Report, Vec<Transaction>) {
    parse_reader(data, usize::MAX).expect("reading from memory cannot fail")
}

/// Parses from a reader, keeping at most `limit` transaction sets.
pub fn parse_reader<R: std::io::Read>(
    src: R,
    limit: usize,
) -> std::io::Result<(crate::Report, Vec<Transaction>)> {
    let mut b = TreeBuilder::new(limit);
    let mut peek = std::io::BufReader::with_capacity(1024, src);
    // Component separators are needed before the first set; read them from the ISA.
    let head = std::io::BufRead::fill_buf(&mut peek)?.to_vec();
    let start = head.iter().position(|&c| c == b'I').unwrap_or(0);
    if let Ok((d, _, _)) = crate::delimiters::from_isa(&head[start..]) {
        b.delimiters(&d);
    }
    let report = crate::validate_with(peek, &crate::Options::default(), Some(&mut b))?;
    Ok((report, b.sets))
}
