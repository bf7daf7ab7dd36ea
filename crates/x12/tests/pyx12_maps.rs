//! Independent cross-check of our guide files against pyx12's XML maps (BSD-3, PyPI
//! `pyx12`), element by element: segment order and repeats per loop, loop and segment
//! usage, element usage, types and lengths (pyx12's `dataele.xml`), code lists.
//!
//! `PYX12_MAPS` names the `pyx12/map` directory of an installed pyx12 (`.ci/run` sets
//! it); without it the test says so and passes. Every difference must match a row of
//! `pyx12_exceptions.tsv` (pattern, who is right, the TR3 section that decides it), and
//! every row must still match a difference, so the table cannot go stale.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use x12::guide::{self, Codes, Guide, LoopDef, Node, SegDef, Ty, Usage};

/// pyx12 map file -> our guide (set, version).
const MAPS: &[(&str, &str, &str)] = &[
    ("837.5010.X222.A1.xml", "837", "005010X222A1"),
    ("837Q3.I.5010.X223.A1.xml", "837", "005010X223A2"),
    ("835.5010.X221.A1.xml", "835", "005010X221A1"),
    ("277.5010.X212.xml", "277", "005010X212"),
    ("277.5010.X214.xml", "277", "005010X214"),
    ("999.5010X231.A1.xml", "999", "005010X231A1"),
];

#[derive(Debug, Default)]
struct PElem {
    usage: char,
    data_ele: String,
    codes: Option<BTreeSet<String>>,
    comps: Vec<PElem>,
}

#[derive(Debug)]
struct PSeg {
    id: String,
    name: String,
    usage: char,
    max: u32,
    elems: HashMap<u8, PElem>,
}

#[derive(Debug)]
struct PLoop {
    id: String,
    usage: char,
    max: u32,
    children: Vec<PNode>,
}

#[derive(Debug)]
enum PNode {
    Seg(PSeg),
    Loop(PLoop),
}

fn text<'a>(n: roxmltree::Node<'a, 'a>, tag: &str) -> &'a str {
    n.children()
        .find(|c| c.has_tag_name(tag))
        .and_then(|c| c.text())
        .unwrap_or("")
        .trim()
}

fn max_of(s: &str) -> u32 {
    if s.starts_with('>') {
        u32::MAX
    } else {
        s.parse().unwrap_or(1)
    }
}

fn p_elem(n: roxmltree::Node<'_, '_>) -> PElem {
    let codes = n
        .children()
        .find(|c| c.has_tag_name("valid_codes"))
        .map(|v| {
            v.children()
                .filter(|c| c.has_tag_name("code"))
                .filter_map(|c| c.text())
                .map(|t| t.trim().to_string())
                .collect::<BTreeSet<_>>()
        });
    let comps = n
        .children()
        .filter(|c| c.has_tag_name("element"))
        .map(p_elem)
        .collect();
    PElem {
        usage: text(n, "usage").chars().next().unwrap_or('N'),
        data_ele: text(n, "data_ele").to_string(),
        codes: codes.filter(|c| !c.is_empty()),
        comps,
    }
}

fn p_loop(n: roxmltree::Node<'_, '_>) -> PLoop {
    let mut children = Vec::new();
    collect(n, &mut children);
    PLoop {
        id: n.attribute("xid").unwrap_or("").to_string(),
        usage: text(n, "usage").chars().next().unwrap_or('S'),
        max: max_of(text(n, "repeat")),
        children,
    }
}

/// Children of a loop, with pyx12's wrapper loops (HEADER, DETAIL, FOOTER) flattened.
fn collect(n: roxmltree::Node<'_, '_>, out: &mut Vec<PNode>) {
    for c in n.children() {
        if c.has_tag_name("segment") {
            let elems = c
                .children()
                .filter(|e| e.has_tag_name("element") || e.has_tag_name("composite"))
                .map(|e| (text(e, "seq").parse::<u8>().unwrap_or(0), p_elem(e)))
                .collect();
            out.push(PNode::Seg(PSeg {
                id: c.attribute("xid").unwrap_or("").to_string(),
                name: text(c, "name").to_string(),
                usage: text(c, "usage").chars().next().unwrap_or('S'),
                max: max_of(text(c, "max_use")),
                elems,
            }));
        } else if c.has_tag_name("loop") {
            if c.attribute("type") == Some("wrapper") {
                collect(c, out);
            } else {
                out.push(PNode::Loop(p_loop(c)));
            }
        }
    }
}

fn find_st_loop(n: roxmltree::Node<'_, '_>) -> Option<PLoop> {
    n.descendants()
        .find(|c| c.has_tag_name("loop") && c.attribute("xid") == Some("ST_LOOP"))
        .map(p_loop)
}

fn usage_char(u: Usage) -> char {
    match u {
        Usage::Required => 'R',
        Usage::Situational => 'S',
        Usage::NotUsed => 'N',
    }
}

fn ty_name(t: Ty) -> String {
    match t {
        Ty::AN => "AN".into(),
        Ty::ID => "ID".into(),
        Ty::N(d) => format!("N{d}"),
        Ty::R => "R".into(),
        Ty::DT => "DT".into(),
        Ty::TM => "TM".into(),
    }
}

fn list(c: &Codes) -> Option<BTreeSet<String>> {
    match c {
        Codes::List(l) => Some(
            l.iter()
                .map(|c| String::from_utf8_lossy(c).into_owned())
                .collect(),
        ),
        _ => None,
    }
}

fn join(s: &BTreeSet<String>) -> String {
    s.iter().cloned().collect::<Vec<_>>().join(",")
}

struct Cmp<'a> {
    ver: &'a str,
    dataele: &'a HashMap<String, (String, u16, u16)>,
    out: Vec<String>,
}

impl Cmp<'_> {
    fn diff(&mut self, at: &str, what: String) {
        self.out.push(format!("{} {at} {what}", self.ver));
    }

    fn seg_label(s: &SegDef) -> String {
        match &s.key {
            Some((_, _, c)) => match list(c) {
                Some(l) => format!("{}[{}]", s.id, l.iter().next().cloned().unwrap_or_default()),
                None => s.id.to_string(),
            },
            None => s.id.to_string(),
        }
    }

    /// Does pyx12 segment `p` carry the qualifier that identifies our segment `s`?
    fn same_seg(s: &SegDef, p: &PSeg) -> bool {
        if s.id != p.id {
            return false;
        }
        let Some((e, c, codes)) = &s.key else {
            return true;
        };
        let Some(ours) = list(codes) else { return true };
        let Some(pe) = p.elems.get(e) else {
            return true;
        };
        let pc = if *c == 0 {
            pe.codes.as_ref()
        } else {
            pe.comps.get(*c as usize - 1).and_then(|x| x.codes.as_ref())
        };
        pc.is_none_or(|pc| pc.intersection(&ours).next().is_some())
    }

    /// pyx12 segment `p`'s identifying codes are all among ours (so ours covers it).
    fn key_within(s: &SegDef, p: &PSeg) -> bool {
        let Some((e, 0, codes)) = &s.key else {
            return false;
        };
        let (Some(ours), Some(pc)) = (list(codes), p.elems.get(e).and_then(|x| x.codes.as_ref()))
        else {
            return false;
        };
        pc.is_subset(&ours)
    }

    fn compare_loop(&mut self, g: &Guide, l: &LoopDef, p: &PLoop, path: &str) {
        let mut used = vec![false; p.children.len()];
        let mut last: Option<usize> = None;
        let mut last_id = "";
        for child in &l.children {
            let (label, found) = match child {
                Node::Seg(i) => {
                    let s = &g.segs[*i as usize];
                    let f = p.children.iter().enumerate().position(|(k, c)| {
                        !used[k] && matches!(c, PNode::Seg(ps) if Self::same_seg(s, ps))
                    });
                    (Self::seg_label(s), f)
                }
                Node::Loop(i) => {
                    let sub = &g.loops[*i as usize];
                    let f = p.children.iter().enumerate().position(|(k, c)| {
                        !used[k] && matches!(c, PNode::Loop(pl) if pl.id == sub.id)
                    });
                    (format!("loop {}", sub.id), f)
                }
            };
            let at = format!("{path}/{label}");
            let Some(k) = found else {
                self.diff(&at, "not in pyx12".into());
                continue;
            };
            used[k] = true;
            let id = match child {
                Node::Seg(i) => g.segs[*i as usize].id,
                Node::Loop(_) => "",
            };
            // Adjacent same-id segments share one position: any order among them.
            if last.is_some_and(|m| k < m) && (id != last_id || id.is_empty()) {
                self.diff(&at, "order: pyx12 places it earlier".into());
            }
            last = Some(last.map_or(k, |m| m.max(k)));
            last_id = id;
            match (child, &p.children[k]) {
                (Node::Seg(i), PNode::Seg(ps)) => {
                    let s = &g.segs[*i as usize];
                    // One line of ours may stand for several of pyx12's (a REF with the
                    // union of their qualifiers): those are matched too, not missing.
                    let mut merged = 0;
                    for (j, c) in p.children.iter().enumerate() {
                        if !used[j]
                            && matches!(c, PNode::Seg(o) if o.id == ps.id && Self::key_within(s, o))
                        {
                            used[j] = true;
                            merged += 1;
                        }
                    }
                    if merged > 0 {
                        self.diff(&at, format!("merges {} pyx12 segments", merged + 1));
                    }
                    self.compare_seg(s, ps, &at, merged > 0)
                }
                (Node::Loop(i), PNode::Loop(pl)) => {
                    let sub = &g.loops[*i as usize];
                    if usage_char(sub.usage) != pl.usage {
                        self.diff(
                            &at,
                            format!("usage ours {} pyx12 {}", usage_char(sub.usage), pl.usage),
                        );
                    }
                    if sub.max != pl.max {
                        self.diff(
                            &at,
                            format!(
                                "repeat ours {} pyx12 {}",
                                show_max(sub.max),
                                show_max(pl.max)
                            ),
                        );
                    }
                    self.compare_loop(g, sub, pl, &format!("{path}/{}", sub.id));
                }
                _ => unreachable!(),
            }
        }
        for (k, c) in p.children.iter().enumerate() {
            if used[k] {
                continue;
            }
            match c {
                PNode::Seg(ps) if ps.usage != 'N' => self.diff(
                    &format!("{path}/{}", ps.id),
                    format!("missing (pyx12 \"{}\")", ps.name),
                ),
                PNode::Loop(pl) if pl.usage != 'N' => {
                    self.diff(&format!("{path}/loop {}", pl.id), "missing".into())
                }
                _ => {}
            }
        }
    }

    fn compare_seg(&mut self, s: &SegDef, p: &PSeg, at: &str, merged: bool) {
        if merged {
            // Usage, repeats and the key's codes are those of the union: not comparable.
        } else if usage_char(s.usage) != p.usage {
            self.diff(
                at,
                format!("usage ours {} pyx12 {}", usage_char(s.usage), p.usage),
            );
        }
        if !merged && s.max != p.max {
            self.diff(
                at,
                format!("max ours {} pyx12 {}", show_max(s.max), show_max(p.max)),
            );
        }
        for (i, e) in s.elems.iter().enumerate() {
            let n = (i + 1) as u8;
            let name = format!("{}{n:02}", s.id);
            let pe = p.elems.get(&n);
            let pu = pe.map_or('N', |x| x.usage);
            let ou = usage_char(e.usage);
            if ou != pu {
                self.diff(at, format!("{name} usage ours {ou} pyx12 {pu}"));
            }
            let Some(pe) = pe.filter(|_| ou != 'N' && pu != 'N') else {
                continue;
            };
            if merged && s.key.as_ref().is_some_and(|k| k.0 == n) {
                continue;
            }
            if e.comps.is_empty() {
                self.compare_simple(at, &name, (e.ty, e.min, e.max), &e.codes, pe);
            } else {
                for (j, c) in e.comps.iter().enumerate() {
                    let Some(pc) = pe.comps.get(j) else { continue };
                    let cname = format!("{name}-{}", j + 1);
                    if pc.usage != 'N' {
                        self.compare_simple(at, &cname, (c.ty, c.min, c.max), &c.codes, pc);
                    }
                }
            }
        }
    }

    fn compare_simple(
        &mut self,
        at: &str,
        name: &str,
        t: (Ty, u16, u16),
        codes: &Codes,
        pe: &PElem,
    ) {
        if let Some((pt, pmin, pmax)) = self.dataele.get(&pe.data_ele) {
            let ours = format!("{} {}/{}", ty_name(t.0), t.1, t.2);
            let theirs = format!("{pt} {pmin}/{pmax}");
            if ours != theirs {
                self.diff(at, format!("{name} type ours {ours} pyx12 {theirs}"));
            }
        }
        match (list(codes), &pe.codes) {
            (Some(o), Some(p)) if &o != p => {
                let only_o: BTreeSet<_> = o.difference(p).cloned().collect();
                let only_p: BTreeSet<_> = p.difference(&o).cloned().collect();
                if !only_o.is_empty() {
                    self.diff(at, format!("{name} codes only ours {}", join(&only_o)));
                }
                if !only_p.is_empty() {
                    self.diff(at, format!("{name} codes only pyx12 {}", join(&only_p)));
                }
            }
            (None, Some(p)) if matches!(codes, Codes::Any) => {
                self.diff(
                    at,
                    format!("{name} codes unchecked, pyx12 lists {}", join(p)),
                );
            }
            _ => {}
        }
    }
}

fn show_max(m: u32) -> String {
    if m == u32::MAX {
        ">1".into()
    } else {
        m.to_string()
    }
}

/// `*` matches any run of characters.
fn glob(p: &str, s: &str) -> bool {
    let parts: Vec<&str> = p.split('*').collect();
    if parts.len() == 1 {
        return p == s;
    }
    let mut rest = s;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            let Some(r) = rest.strip_prefix(part) else {
                return false;
            };
            rest = r;
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            let Some(k) = rest.find(part) else {
                return false;
            };
            rest = &rest[k + part.len()..];
        }
    }
    true
}

/// Every difference between pyx12's maps and our guides.
fn differences(dir: &Path) -> Vec<String> {
    let de = std::fs::read_to_string(dir.join("dataele.xml")).expect("dataele.xml");
    let de = roxmltree::Document::parse(&de).expect("dataele.xml parses");
    let dataele: HashMap<String, (String, u16, u16)> = de
        .descendants()
        .filter(|n| n.has_tag_name("data_ele"))
        .map(|n| {
            let a = |k| n.attribute(k).unwrap_or("");
            (
                a("ele_num").to_string(),
                (
                    a("data_type").to_string(),
                    a("min_len").parse().unwrap_or(0),
                    a("max_len").parse().unwrap_or(0),
                ),
            )
        })
        .collect();
    let mut out = Vec::new();
    for (file, set, ver) in MAPS {
        let xml = std::fs::read_to_string(dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        let doc = roxmltree::Document::parse(&xml).unwrap_or_else(|e| panic!("{file}: {e}"));
        let st = find_st_loop(doc.root()).unwrap_or_else(|| panic!("{file}: no ST_LOOP"));
        let g = guide::guides()
            .iter()
            .find(|g| g.set == *set && g.version == *ver)
            .unwrap_or_else(|| panic!("no guide {set} {ver}"));
        let mut c = Cmp {
            ver,
            dataele: &dataele,
            out: Vec::new(),
        };
        c.compare_loop(g, &g.loops[0], &st, "");
        out.extend(c.out);
    }
    out
}

#[test]
fn guides_match_pyx12_maps() {
    let Some(dir) = std::env::var_os("PYX12_MAPS") else {
        eprintln!(
            "PYX12_MAPS not set: pyx12 cross-check skipped (.ci/run installs pyx12 and sets it)"
        );
        return;
    };
    let diffs = differences(Path::new(&dir));
    let table = include_str!("pyx12_exceptions.tsv");
    let rows: Vec<(&str, &str)> = table
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let mut f = l.split('\t');
            let pat = f.next().unwrap_or("");
            let why = f.next().unwrap_or("");
            assert!(
                !why.trim().is_empty() && f.next().is_some_and(|r| !r.trim().is_empty()),
                "every exception says who is right and why: {l}"
            );
            (pat, why)
        })
        .collect();
    let mut hit = vec![0usize; rows.len()];
    let mut unexplained = Vec::new();
    for d in &diffs {
        match rows.iter().position(|(p, _)| glob(p, d)) {
            Some(i) => hit[i] += 1,
            None => unexplained.push(d.as_str()),
        }
    }
    if std::env::var_os("PYX12_LIST").is_some() {
        for d in &diffs {
            println!("{d}");
        }
    }
    let stale: Vec<&str> = rows
        .iter()
        .zip(&hit)
        .filter(|(_, h)| **h == 0)
        .map(|((p, _), _)| *p)
        .collect();
    println!(
        "pyx12 cross-check: {} differences, {} explained by {} exception rows",
        diffs.len(),
        diffs.len() - unexplained.len(),
        rows.len()
    );
    assert!(
        unexplained.is_empty(),
        "differences from pyx12 neither fixed nor in pyx12_exceptions.tsv:\n{}",
        unexplained.join("\n")
    );
    assert!(
        stale.is_empty(),
        "exception rows matching no difference (remove them):\n{}",
        stale.join("\n")
    );
}
