//! Parser for the dictionary and guide text formats described in `guide/mod.rs`.

use super::*;
use std::fmt;

#[derive(Debug)]
pub struct GuideError {
    pub line: usize,
    pub text: String,
    pub why: String,
}

impl fmt::Display for GuideError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {} ({})", self.line, self.why, self.text)
    }
}

fn err(line: usize, text: &str, why: impl Into<String>) -> GuideError {
    GuideError {
        line,
        text: text.to_string(),
        why: why.into(),
    }
}

/// Splits on whitespace, keeping `"quoted strings"` whole (quotes removed).
fn tokens(line: &'static str) -> Vec<&'static str> {
    let mut out = Vec::new();
    let mut rest = line.trim();
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('"') {
            let end = r.find('"').unwrap_or(r.len());
            out.push(&r[..end]);
            rest = r.get(end + 1..).unwrap_or("").trim_start();
        } else {
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            out.push(&rest[..end]);
            rest = rest[end..].trim_start();
        }
    }
    out
}

fn parse_ty(s: &str) -> Option<Ty> {
    Some(match s {
        "AN" => Ty::AN,
        "ID" => Ty::ID,
        "N0" => Ty::N(0),
        "N1" => Ty::N(1),
        "N2" => Ty::N(2),
        "R" => Ty::R,
        "DT" => Ty::DT,
        "TM" => Ty::TM,
        _ => return None,
    })
}

/// `AN:1-60` -> (type, min, max)
fn parse_simple(s: &str) -> Option<(Ty, u16, u16)> {
    let (t, r) = s.split_once(':')?;
    let (a, b) = r.split_once('-')?;
    Some((parse_ty(t)?, a.parse().ok()?, b.parse().ok()?))
}

fn parse_elem(tok: &str) -> Option<ElemRule> {
    let (body, reps) = match tok.rsplit_once('*') {
        Some((b, n)) => (b, n.parse().ok()?),
        None => (tok, 1),
    };
    if let Some(inner) = body.strip_prefix("C(").and_then(|b| b.strip_suffix(')')) {
        let mut comps = Vec::new();
        for (i, c) in inner.split(',').enumerate() {
            let (ty, min, max) = parse_simple(c)?;
            let usage = if i == 0 {
                Usage::Required
            } else {
                Usage::Situational
            };
            comps.push(CompRule {
                usage,
                ty,
                min,
                max,
                codes: Codes::Any,
            });
        }
        return Some(ElemRule {
            usage: Usage::Situational,
            ty: Ty::AN,
            min: 0,
            max: 0,
            reps,
            codes: Codes::Any,
            comps,
        });
    }
    let (ty, min, max) = parse_simple(body)?;
    Some(ElemRule {
        usage: Usage::Situational,
        ty,
        min,
        max,
        reps,
        codes: Codes::Any,
        comps: Vec::new(),
    })
}

fn positions(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || s.is_empty() {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| s[i..i + 2].parse().ok())
        .collect()
}

fn parse_syntax(tok: &str) -> Option<Syntax> {
    let (k, rest) = tok.split_at(1);
    let p = positions(rest)?;
    Some(match k {
        "P" => Syntax::Paired(p),
        "R" => Syntax::Required(p),
        "E" => Syntax::Exclusion(p),
        "C" => Syntax::Conditional(p[0], p[1..].to_vec()),
        "L" => Syntax::ListConditional(p[0], p[1..].to_vec()),
        _ => return None,
    })
}

pub fn parse_dictionary(src: &'static str) -> Result<Dictionary, GuideError> {
    let mut segs = Vec::new();
    for (n, line) in src.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (elems_part, syntax_part) = line.split_once('|').unwrap_or((line, ""));
        let mut toks = elems_part.split_whitespace();
        let id = toks.next().ok_or_else(|| err(n + 1, line, "empty"))?;
        let elems = toks
            .map(|t| parse_elem(t).ok_or_else(|| err(n + 1, line, format!("bad element `{t}`"))))
            .collect::<Result<Vec<_>, _>>()?;
        let syntax = syntax_part
            .split_whitespace()
            .map(|t| {
                parse_syntax(t).ok_or_else(|| err(n + 1, line, format!("bad syntax note `{t}`")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        segs.push(DictSeg { id, elems, syntax });
    }
    Ok(Dictionary { segs })
}

fn parse_usage(s: &str) -> Option<Usage> {
    Some(match s {
        "R" => Usage::Required,
        "S" => Usage::Situational,
        "N" => Usage::NotUsed,
        _ => return None,
    })
}

fn parse_max(s: &str) -> Option<u32> {
    if s == ">1" {
        Some(u32::MAX)
    } else {
        s.parse().ok()
    }
}

fn parse_codes(s: &str) -> Codes {
    if s == "~CARC" {
        return Codes::Carc;
    }
    Codes::List(
        s.split(',')
            .map(|c| c.as_bytes().to_vec().into_boxed_slice())
            .collect(),
    )
}

pub fn parse_guide(src: &'static str, dict: &Dictionary) -> Result<Guide, GuideError> {
    let mut lines = src.lines().enumerate().filter(|(_, l)| {
        let t = l.trim();
        !t.is_empty() && !t.starts_with('#')
    });
    let (n0, header) = lines.next().ok_or_else(|| err(0, "", "empty guide"))?;
    let h = tokens(header);
    if h.len() < 4 || h[0] != "guide" {
        return Err(err(
            n0 + 1,
            header,
            "expected `guide VERSION SET \"title\"`",
        ));
    }
    let mut g = Guide {
        version: h[1],
        set: h[2],
        title: h[3],
        segs: Vec::new(),
        loops: Vec::new(),
    };
    g.loops.push(LoopDef {
        id: "",
        name: "Transaction Set",
        usage: Usage::Required,
        max: 1,
        children: Vec::new(),
        block: Vec::new(),
        tags: Vec::new(),
        required: Vec::new(),
    });
    let mut stack: Vec<usize> = vec![0];
    for (n, line) in lines {
        let t = tokens(line);
        let n = n + 1;
        match t[0] {
            "loop" => {
                if t.len() < 4 {
                    return Err(err(n, line, "expected `loop ID USAGE MAX \"name\"`"));
                }
                let usage = parse_usage(t[2]).ok_or_else(|| err(n, line, "bad usage"))?;
                let max = parse_max(t[3]).ok_or_else(|| err(n, line, "bad max"))?;
                let idx = g.loops.len();
                let name = t.get(4).copied().unwrap_or("");
                g.loops.push(LoopDef {
                    id: t[1],
                    name,
                    usage,
                    max,
                    children: Vec::new(),
                    block: Vec::new(),
                    tags: Vec::new(),
                    required: Vec::new(),
                });
                let parent = *stack.last().expect("root");
                g.loops[parent].children.push(Node::Loop(idx as u16));
                stack.push(idx);
            }
            "ref" => {
                // Reuse a loop defined earlier (837's 2300 under both 2000B and 2000C).
                let id = t.get(1).copied().unwrap_or("");
                let idx = g
                    .loops
                    .iter()
                    .position(|l| l.id == id)
                    .ok_or_else(|| err(n, line, "ref to unknown loop"))?;
                let cur = *stack.last().expect("root");
                g.loops[cur].children.push(Node::Loop(idx as u16));
            }
            "end" => {
                let l = stack.pop().ok_or_else(|| err(n, line, "unbalanced end"))?;
                if stack.is_empty() {
                    return Err(err(n, line, "unbalanced end"));
                }
                if !matches!(g.loops[l].children.first(), Some(Node::Seg(_))) {
                    return Err(err(n, line, "a loop must start with a segment"));
                }
            }
            id => {
                let seg = parse_segment(&t, dict).map_err(|why| err(n, line, why))?;
                if seg.id != id {
                    return Err(err(n, line, "id"));
                }
                let idx = g.segs.len();
                g.segs.push(seg);
                let cur = *stack.last().expect("root");
                g.loops[cur].children.push(Node::Seg(idx as u16));
            }
        }
    }
    if stack.len() != 1 {
        return Err(err(
            0,
            "",
            format!(
                "{}: missing `end` for loop {}",
                g.version,
                g.loops[*stack.last().unwrap()].id
            ),
        ));
    }
    compute_blocks(&mut g);
    Ok(g)
}

fn compute_blocks(g: &mut Guide) {
    let tag_of = |g: &Guide, n: Node| match n {
        Node::Seg(s) => g.segs[s as usize].tag,
        Node::Loop(l) => match g.loops[l as usize].children[0] {
            Node::Seg(s) => g.segs[s as usize].tag,
            Node::Loop(_) => 0,
        },
    };
    for li in 0..g.loops.len() {
        let tags: Vec<u32> = g.loops[li].children.iter().map(|&n| tag_of(g, n)).collect();
        let mut block = vec![0u16; tags.len()];
        for j in 1..tags.len() {
            block[j] = if j > 1 && tags[j - 1] == tags[j] {
                block[j - 1]
            } else {
                j as u16
            };
        }
        g.loops[li].block = block;
        let required = g.loops[li]
            .children
            .iter()
            .map(|&n| match n {
                Node::Seg(s) => g.segs[s as usize].usage == Usage::Required,
                Node::Loop(l) => g.loops[l as usize].usage == Usage::Required,
            })
            .collect();
        g.loops[li].tags = tags;
        g.loops[li].required = required;
    }
}

fn parse_segment(t: &[&'static str], dict: &Dictionary) -> Result<SegDef, String> {
    if t.len() < 3 {
        return Err("expected `SEG USAGE MAX ...`".into());
    }
    let d = dict
        .get(t[0])
        .ok_or_else(|| format!("segment {} not in dictionary", t[0]))?;
    let usage = parse_usage(t[1]).ok_or("bad usage")?;
    let max = parse_max(t[2]).ok_or("bad max")?;
    let mut s = SegDef {
        id: d.id,
        tag: tag(d.id.as_bytes()),
        name: "",
        usage,
        max,
        key: None,
        elems: d.elems.clone(),
        syntax: d.syntax.clone(),
    };
    let mut has_use = false;
    for &a in &t[3..] {
        if let Some(u) = a.strip_prefix("use=") {
            has_use = true;
            if u.len() > s.elems.len() {
                return Err(format!(
                    "use= has {} positions, {} has {}",
                    u.len(),
                    s.id,
                    s.elems.len()
                ));
            }
            for (i, e) in s.elems.iter_mut().enumerate() {
                e.usage = match u.as_bytes().get(i) {
                    Some(b'R') => Usage::Required,
                    Some(b'S') => Usage::Situational,
                    Some(b'N' | b'.') | None => Usage::NotUsed,
                    Some(c) => return Err(format!("bad usage letter {}", *c as char)),
                };
            }
        } else if let Some((lhs, rhs)) = a.split_once('=') {
            let (key, lhs) = match lhs.strip_prefix('@') {
                Some(l) => (true, l),
                None => (false, lhs),
            };
            let (e, c) = match lhs.split_once('.') {
                Some((e, c)) => (
                    e.parse::<u8>().map_err(|_| "bad element")?,
                    c.parse::<u8>().map_err(|_| "bad component")?,
                ),
                None => (
                    lhs.parse::<u8>()
                        .map_err(|_| format!("bad element `{lhs}`"))?,
                    0,
                ),
            };
            let codes = parse_codes(rhs);
            let el = s
                .elems
                .get_mut(e as usize - 1)
                .ok_or_else(|| format!("{} has no element {e}", s.id))?;
            if c == 0 {
                el.codes = codes.clone();
            } else {
                el.comps
                    .get_mut(c as usize - 1)
                    .ok_or_else(|| format!("{}{e:02} has no component {c}", s.id))?
                    .codes = codes.clone();
            }
            if key {
                s.key = Some((e, c, codes));
            }
        } else {
            s.name = a;
        }
    }
    if !has_use {
        for e in &mut s.elems {
            e.usage = Usage::Situational;
        }
    }
    // A key element is required by construction.
    if let Some((e, 0, _)) = &s.key {
        s.elems[*e as usize - 1].usage = Usage::Required;
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_keep_quotes() {
        assert_eq!(
            tokens(r#"loop 2000A R >1 "Billing Provider""#),
            vec!["loop", "2000A", "R", ">1", "Billing Provider"]
        );
    }

    #[test]
    fn parses_small_guide() {
        let dict = parse_dictionary(
            "ST ID:3-3 AN:4-9 AN:1-35\nSE N0:1-10 AN:4-9\nNM1 ID:2-3 ID:1-1 AN:1-60 | P0809\n",
        )
        .unwrap();
        let g = parse_guide(
            "guide V 837 \"t\"\nST R 1 @01=837 use=RRS\nloop 1000A R 1 \"Submitter\"\n NM1 R 1 @01=41 02=1,2 use=RRR\nend\nSE R 1 use=RR\n",
            &dict,
        )
        .unwrap();
        assert_eq!(g.loops.len(), 2);
        assert_eq!(g.loops[1].id, "1000A");
        let nm1 = &g.segs[1];
        assert_eq!(nm1.key.as_ref().unwrap().0, 1);
        assert!(nm1.elems[1].codes.allows(b"2"));
        assert!(!nm1.elems[1].codes.allows(b"3"));
    }
}
