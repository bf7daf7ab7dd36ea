//! Walks the segments of one transaction set through its guide: finds each segment's
//! place (loop and position), reports what is missing, out of order, repeated too often
//! or malformed.
//!
//! The state is a stack of open loops; a segment is matched against the current loop
//! from the current position on, then against each enclosing loop (which closes the
//! inner ones). A loop is entered by its first segment, told apart from its siblings by
//! the qualifier marked `@` in the guide.

use crate::delimiters::Delimiters;
use crate::error::{ElementPos, Level, Severity, show};
use crate::guide::{self, Codes, ElemRule, Guide, Node, SegDef, Syntax, Ty, Usage};
use crate::rules::{self, Balance};
use crate::tokenizer::{Split, component};
use crate::validate::{Ctx, Sink, Sinker};
use memchr::memchr;

#[derive(Debug)]
struct Hl {
    id: [u8; 12],
    len: u8,
    child_code: u8,
    had_child: bool,
    pos: u32,
    offset: u64,
}

#[derive(Debug)]
struct Frame {
    lp: u16,
    pos: u16,
    counts: Vec<u32>,
    hl: Option<Hl>,
}

#[derive(Default)]
pub struct Walker {
    frames: Vec<Frame>,
    pool: Vec<Vec<u32>>,
    hl_count: u64,
    balance: Balance,
    guide: Option<&'static Guide>,
    last: (u32, u64),
}

fn node_usage(g: &Guide, n: Node) -> Usage {
    match n {
        Node::Seg(s) => g.segs[s as usize].usage,
        Node::Loop(l) => g.loops[l as usize].usage,
    }
}

fn node_seg(g: &Guide, n: Node) -> &SegDef {
    match n {
        Node::Seg(s) => &g.segs[s as usize],
        Node::Loop(l) => &g.segs[g.loops[l as usize].trigger() as usize],
    }
}

#[inline]
fn matches(sd: &SegDef, t: u32, s: &Split<'_, '_>, comp: u8) -> bool {
    if sd.tag != t {
        return false;
    }
    match &sd.key {
        None => true,
        Some((e, 0, codes)) => codes.allows(s.get(*e as usize)),
        Some((e, c, codes)) => codes.allows(component(s.get(*e as usize), comp, *c as usize)),
    }
}

/// `NM1*85` style label of a guide segment for messages.
fn label(sd: &SegDef) -> String {
    match &sd.key {
        Some((e, c, Codes::List(l))) if !l.is_empty() => {
            let codes: Vec<String> = l.iter().take(4).map(|c| show(c)).collect();
            let at = if *c > 0 {
                format!("{}{:02}-{c}", sd.id, e)
            } else {
                format!("{}{:02}", sd.id, e)
            };
            format!("{} ({at} {})", sd.id, codes.join("/"))
        }
        _ => sd.id.to_string(),
    }
}

fn ep(element: u8, component: u8, repetition: u8) -> Option<ElementPos> {
    Some(ElementPos {
        element,
        component,
        repetition,
    })
}

impl Walker {
    pub fn reset(&mut self, g: &'static Guide) {
        while let Some(f) = self.frames.pop() {
            self.pool.push(f.counts);
        }
        self.hl_count = 0;
        self.balance = Balance::default();
        self.guide = Some(g);
        self.push_frame(g, 0);
    }

    fn push_frame(&mut self, g: &Guide, lp: u16) {
        let n = g.loops[lp as usize].children.len();
        let mut counts = self.pool.pop().unwrap_or_default();
        counts.clear();
        counts.resize(n, 0);
        counts[0] = 1;
        self.frames.push(Frame {
            lp,
            pos: 0,
            counts,
            hl: None,
        });
    }

    fn loop_id(&self, g: &'static Guide) -> &'static str {
        self.frames.last().map_or("", |f| g.loops[f.lp as usize].id)
    }

    fn find(&self, g: &Guide, t: u32, s: &Split<'_, '_>, comp: u8) -> Option<(usize, usize)> {
        for d in (0..self.frames.len()).rev() {
            let f = &self.frames[d];
            let l = &g.loops[f.lp as usize];
            let start = if f.pos == 0 {
                1
            } else {
                l.block[f.pos as usize] as usize
            };
            for (i, &tg) in l.tags.iter().enumerate().skip(start) {
                if tg == t && matches(node_seg(g, l.children[i]), t, s, comp) {
                    return Some((d, i));
                }
            }
        }
        None
    }

    /// Required children of frame `d` in `from..to` never seen: missing.
    #[allow(clippy::too_many_arguments)]
    fn report_missing(
        &self,
        g: &'static Guide,
        d: usize,
        from: usize,
        to: usize,
        ctx: &Ctx<'_>,
        sk: &mut Sinker<'_>,
        skip_se: bool,
    ) {
        let f = &self.frames[d];
        let l = &g.loops[f.lp as usize];
        let target_block = l.block.get(to).copied().unwrap_or(u16::MAX);
        for j in from..to {
            if !l.required[j] || f.counts[j] != 0 {
                continue;
            }
            let n = l.children[j];
            if l.block[j] == target_block && j > 0 {
                continue;
            }
            if f.counts[j] != 0 || node_usage(g, n) != Usage::Required {
                continue;
            }
            let sd = node_seg(g, n);
            if skip_se && sd.id == "SE" {
                continue;
            }
            let (msg, fix, lid) = match n {
                Node::Loop(li) => {
                    let ld = &g.loops[li as usize];
                    (
                        format!(
                            "Required loop {} ({}) is missing{}; it starts with {}.",
                            ld.id,
                            ld.name,
                            in_loop(l.id),
                            label(sd)
                        ),
                        format!("Add loop {} with its {} segment.", ld.id, sd.id),
                        ld.id,
                    )
                }
                Node::Seg(_) => (
                    format!(
                        "Required segment {}{} is missing{}.",
                        label(sd),
                        seg_name(sd),
                        in_loop(l.id)
                    ),
                    format!(
                        "Add the {} segment{} where the guide places it.",
                        sd.id,
                        in_loop(l.id)
                    ),
                    l.id,
                ),
            };
            let c = Ctx {
                seg: sd.id.as_bytes(),
                pos: ctx.pos,
                offset: ctx.offset,
                loop_id: lid,
            };
            sk.push(
                Severity::Error,
                Level::Segment,
                "3",
                &c,
                None,
                None,
                msg,
                fix,
            );
        }
    }

    fn close_top(
        &mut self,
        g: &'static Guide,
        ctx: &Ctx<'_>,
        sk: &mut Sinker<'_>,
        sink: &mut Option<&mut dyn Sink>,
    ) {
        let d = self.frames.len() - 1;
        let f = &self.frames[d];
        let l = &g.loops[f.lp as usize];
        let from = if f.pos == 0 {
            0
        } else {
            l.block[f.pos as usize] as usize
        };
        self.report_missing(g, d, from, l.children.len(), ctx, sk, true);
        let f = self.frames.pop().expect("frame");
        if let Some(hl) = &f.hl {
            let lid = g.loops[f.lp as usize].id;
            let c = Ctx {
                seg: b"HL",
                pos: hl.pos,
                offset: hl.offset,
                loop_id: lid,
            };
            if hl.child_code == b'1' && !hl.had_child {
                sk.push(
                    Severity::Warning,
                    Level::Element,
                    "I12",
                    &c,
                    ep(4, 0, 0),
                    Some(b"1"),
                    format!(
                        "HL04 is 1 (has subordinate levels) but no HL names HL {} as its parent.",
                        show(&hl.id[..hl.len as usize])
                    ),
                    "Set HL04 to 0 when the level has no children, or add the child HL loops."
                        .into(),
                );
            } else if hl.child_code == b'0' && hl.had_child {
                sk.push(
                    Severity::Warning,
                    Level::Element,
                    "I12",
                    &c,
                    ep(4, 0, 0),
                    Some(b"0"),
                    format!(
                        "HL04 is 0 (no subordinate levels) but HL {} has child levels.",
                        show(&hl.id[..hl.len as usize])
                    ),
                    "Set HL04 to 1 when child HL loops follow.".into(),
                );
            }
        }
        self.pool.push(f.counts);
        if let Some(s) = sink.as_deref_mut() {
            s.exit_loop();
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub fn segment(
        &mut self,
        g: &'static Guide,
        s: &Split<'_, '_>,
        delims: &Delimiters,
        offset: u64,
        pos: u32,
        sk: &mut Sinker<'_>,
        mut sink: Option<&mut dyn Sink>,
    ) {
        self.last = (pos, offset);
        let t = guide::tag(s.id());
        let found = if pos == 1 {
            Some((0, 0))
        } else {
            self.find(g, t, s, delims.component)
        };
        let Some((d, i)) = found else {
            let ctx = Ctx {
                seg: s.id(),
                pos,
                offset,
                loop_id: self.loop_id(g),
            };
            self.unmatched(g, t, s, delims, &ctx, sk);
            if let Some(k) = sink.as_deref_mut() {
                k.segment(s, None);
            }
            return;
        };
        let ctx = Ctx {
            seg: s.id(),
            pos,
            offset,
            loop_id: self.loop_id(g),
        };
        while self.frames.len() > d + 1 {
            self.close_top(g, &ctx, sk, &mut sink);
        }
        let (fpos, lp) = (
            self.frames[d].pos as usize,
            &g.loops[self.frames[d].lp as usize],
        );
        if i > 0 && (fpos == 0 || lp.block[fpos] != lp.block[i]) {
            let from = if fpos == 0 {
                0
            } else {
                lp.block[fpos] as usize
            };
            self.report_missing(g, d, from, i, &ctx, sk, false);
        }
        let f = &mut self.frames[d];
        let lp = &g.loops[f.lp as usize];
        let node = lp.children[i];
        f.pos = i as u16;
        if i > 0 {
            f.counts[i] += 1;
        }
        let count = f.counts[i];
        let (sd, loop_id) = match node {
            Node::Seg(si) => {
                let sd = &g.segs[si as usize];
                let c = Ctx {
                    seg: s.id(),
                    pos,
                    offset,
                    loop_id: lp.id,
                };
                if count > sd.max {
                    sk.push(
                        Severity::Error,
                        Level::Segment,
                        "5",
                        &c,
                        None,
                        None,
                        format!(
                            "{}{} occurs {count} times{}; the guide allows at most {}.",
                            label(sd),
                            seg_name(sd),
                            in_loop(lp.id),
                            sd.max
                        ),
                        format!("Send at most {} {} segments here.", sd.max, sd.id),
                    );
                }
                (sd, lp.id)
            }
            Node::Loop(li) => {
                let ld = &g.loops[li as usize];
                let sd = &g.segs[ld.trigger() as usize];
                let c = Ctx {
                    seg: s.id(),
                    pos,
                    offset,
                    loop_id: ld.id,
                };
                if count > ld.max {
                    sk.push(
                        Severity::Error,
                        Level::Segment,
                        "4",
                        &c,
                        None,
                        None,
                        format!(
                            "Loop {} ({}) occurs {count} times{}; the guide allows at most {}.",
                            ld.id,
                            ld.name,
                            in_loop(lp.id),
                            ld.max
                        ),
                        format!("Send at most {} repetitions of loop {}.", ld.max, ld.id),
                    );
                }
                self.push_frame(g, li);
                if let Some(k) = sink.as_deref_mut() {
                    k.enter_loop(ld);
                }
                (sd, ld.id)
            }
        };
        let ctx = Ctx {
            seg: s.id(),
            pos,
            offset,
            loop_id,
        };
        if sd.usage == Usage::NotUsed {
            sk.push(
                Severity::Error,
                Level::Segment,
                "I4",
                &ctx,
                None,
                None,
                format!(
                    "{} is marked Not Used by the guide{}.",
                    label(sd),
                    in_loop(loop_id)
                ),
                format!("Remove the {} segment.", sd.id),
            );
        }
        check_elements(sd, s, delims, &ctx, sk);
        if sd.id == "HL" {
            self.hl(s, &ctx, sk);
        }
        rules::after_segment(&mut self.balance, g, sd, s, delims, &ctx, sk);
        if let Some(k) = sink {
            k.segment(s, Some(sd));
        }
    }

    fn hl(&mut self, s: &Split<'_, '_>, ctx: &Ctx<'_>, sk: &mut Sinker<'_>) {
        let id = s.get(1);
        self.hl_count += 1;
        let expect = self.hl_count;
        if std::str::from_utf8(id)
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
            != Some(expect)
        {
            sk.push(Severity::Error, Level::Element, "I12", ctx, ep(1, 0, 0), Some(id),
                format!("HL01 is '{}' but HL levels must be numbered 1, 2, 3... in order; expected {expect}.", show(id)),
                format!("Number this HL {expect}."));
        }
        let n = self.frames.len();
        // The frame just pushed is this HL's loop; its parent level is the nearest open HL below.
        let parent = self.frames[..n - 1]
            .iter_mut()
            .rev()
            .find_map(|f| f.hl.as_mut());
        let hl02 = s.get(2);
        match parent {
            Some(p) => {
                p.had_child = true;
                let pid = &p.id[..p.len as usize];
                if hl02 != pid {
                    sk.push(Severity::Error, Level::Element, "I12", ctx, ep(2, 0, 0), Some(hl02),
                        format!("HL02 (parent) is '{}' but this level sits under HL {} in loop structure.", show(hl02), show(pid)),
                        format!("Set HL02 to {} or move this HL under the level it names.", show(pid)));
                }
            }
            None if !hl02.is_empty() => {
                sk.push(
                    Severity::Error,
                    Level::Element,
                    "I10",
                    ctx,
                    ep(2, 0, 0),
                    Some(hl02),
                    format!(
                        "HL02 is '{}' but this is a top-level HL (loop {}), which has no parent.",
                        show(hl02),
                        ctx.loop_id
                    ),
                    "Leave HL02 empty on the top level.".into(),
                );
            }
            None => {}
        }
        let mut hid = [0u8; 12];
        let len = id.len().min(12);
        hid[..len].copy_from_slice(&id[..len]);
        if let Some(f) = self.frames.last_mut() {
            f.hl = Some(Hl {
                id: hid,
                len: len as u8,
                child_code: s.get(4).first().copied().unwrap_or(0),
                had_child: false,
                pos: ctx.pos,
                offset: ctx.offset,
            });
        }
    }

    fn unmatched(
        &self,
        g: &'static Guide,
        t: u32,
        s: &Split<'_, '_>,
        delims: &Delimiters,
        ctx: &Ctx<'_>,
        sk: &mut Sinker<'_>,
    ) {
        let id = show(s.id());
        if t == 0 || !guide::dictionary().knows(t) {
            sk.push(
                Severity::Error,
                Level::Segment,
                "1",
                ctx,
                None,
                None,
                format!(
                    "'{id}' is not an X12 segment id{} (unrecognized segment).",
                    in_loop(ctx.loop_id)
                ),
                "Remove the segment or correct its id; check that the segment terminator is right."
                    .into(),
            );
            return;
        }
        if !g.uses_segment(t) {
            sk.push(
                Severity::Error,
                Level::Segment,
                "2",
                ctx,
                None,
                None,
                format!(
                    "{id} is not used anywhere in the {} guide ({} {}).",
                    g.version, g.set, g.title
                ),
                format!("Remove the {id} segment."),
            );
            return;
        }
        // Earlier in the current loop: out of order.
        if let Some(f) = self.frames.last() {
            let l = &g.loops[f.lp as usize];
            for &n in l.children.iter().take(f.pos as usize).skip(1) {
                if matches(node_seg(g, n), t, s, delims.component) {
                    sk.push(Severity::Error, Level::Segment, "7", ctx, None, None,
                        format!("{} is out of order{}: the guide places it before the segments already sent in this loop.", label(node_seg(g, n)), in_loop(l.id)),
                        format!("Move {id} to its place in the loop's segment order."));
                    return;
                }
            }
        }
        let expected = self.expected(g);
        let qual = s.get(1);
        sk.push(Severity::Error, Level::Segment, "2", ctx, None, None,
            format!("{id} with {id}01 '{}' is not expected here{}. Expected here: {expected}.", show(qual), in_loop(ctx.loop_id)),
            format!("Check the qualifier in {id}01 and the segment order of the guide; remove or move this segment."))
    }

    /// Up to 10 segments the guide allows next, for messages.
    fn expected(&self, g: &Guide) -> String {
        let mut out: Vec<String> = Vec::new();
        for f in self.frames.iter().rev() {
            let l = &g.loops[f.lp as usize];
            for &n in l.children.iter().skip((f.pos as usize).max(1)) {
                let lab = label(node_seg(g, n));
                if !out.contains(&lab) {
                    out.push(lab);
                }
                if out.len() >= 10 {
                    return out.join(", ") + ", ...";
                }
            }
        }
        out.join(", ")
    }

    /// End of the set: closes every open loop, reporting what is missing.
    pub fn finish(&mut self, sk: &mut Sinker<'_>, mut sink: Option<&mut dyn Sink>) {
        let Some(g) = self.guide else { return };
        if self.frames.is_empty() {
            return;
        }
        let ctx = Ctx {
            seg: b"SE",
            pos: self.last.0,
            offset: self.last.1,
            loop_id: "",
        };
        while self.frames.len() > 1 {
            self.close_top(g, &ctx, sk, &mut sink);
        }
        rules::end_set(&mut self.balance, sk);
        let n = g.loops[0].children.len();
        let p = self.frames[0].pos as usize;
        let from = if p == 0 {
            0
        } else {
            g.loops[0].block[p] as usize
        };
        self.report_missing(g, 0, from, n, &ctx, sk, true);
        self.guide = None;
    }
}

fn in_loop(id: &str) -> String {
    if id.is_empty() {
        String::new()
    } else {
        format!(" in loop {id}")
    }
}

fn seg_name(sd: &SegDef) -> String {
    if sd.name.is_empty() {
        String::new()
    } else {
        format!(" ({})", sd.name)
    }
}

/// Checks every element of a matched segment against its guide rule.
pub(crate) fn check_elements(
    sd: &SegDef,
    s: &Split<'_, '_>,
    d: &Delimiters,
    ctx: &Ctx<'_>,
    sk: &mut Sinker<'_>,
) {
    let raw = s.raw;
    let has_comp = memchr(d.component, raw).is_some();
    let has_rep = d.repetition.is_some_and(|r| memchr(r, raw).is_some());
    let n = s.len();
    if n > sd.elems.len() {
        for e in sd.elems.len() + 1..=n {
            if !s.get(e).is_empty() {
                sk.push(
                    Severity::Error,
                    Level::Element,
                    "3",
                    ctx,
                    ep(e as u8, 0, 0),
                    Some(s.get(e)),
                    format!(
                        "{} has {n} elements; it only has {} in 5010.",
                        sd.id,
                        sd.elems.len()
                    ),
                    format!(
                        "Remove the extra elements after {}{:02}.",
                        sd.id,
                        sd.elems.len()
                    ),
                );
                break;
            }
        }
    }
    for (i, rule) in sd.elems.iter().enumerate() {
        let e = i + 1;
        let v = s.get(e);
        if v.is_empty() {
            if rule.usage == Usage::Required {
                sk.push(
                    Severity::Error,
                    Level::Element,
                    "1",
                    ctx,
                    ep(e as u8, 0, 0),
                    None,
                    format!(
                        "{}{e:02} is required{} but empty.",
                        sd.id,
                        in_loop(ctx.loop_id)
                    ),
                    format!("Fill {}{e:02}{}.", sd.id, want(rule)),
                );
            }
            continue;
        }
        if rule.usage == Usage::NotUsed {
            sk.push(
                Severity::Error,
                Level::Element,
                "I10",
                ctx,
                ep(e as u8, 0, 0),
                Some(v),
                format!(
                    "{}{e:02} is marked Not Used by the guide{} but holds '{}'.",
                    sd.id,
                    in_loop(ctx.loop_id),
                    show(v)
                ),
                format!("Leave {}{e:02} empty.", sd.id),
            );
            continue;
        }
        if has_rep {
            let r = d.repetition.expect("checked");
            if memchr(r, v).is_some() {
                let reps = v.split(|&b| b == r).count();
                if reps > rule.reps as usize {
                    sk.push(
                        Severity::Error,
                        Level::Element,
                        "12",
                        ctx,
                        ep(e as u8, 0, 0),
                        Some(v),
                        format!(
                            "{}{e:02} repeats {reps} times; it allows {}.",
                            sd.id, rule.reps
                        ),
                        format!(
                            "Send at most {} repetitions (separated by '{}') in {}{e:02}.",
                            rule.reps, r as char, sd.id
                        ),
                    );
                }
                for (k, rv) in v.split(|&b| b == r).enumerate() {
                    if !rv.is_empty() {
                        check_value_or_composite(
                            sd,
                            rule,
                            rv,
                            e,
                            (k + 1) as u8,
                            has_comp,
                            d,
                            ctx,
                            sk,
                        );
                    }
                }
                continue;
            }
        }
        check_value_or_composite(sd, rule, v, e, 0, has_comp, d, ctx, sk);
    }
    for syn in &sd.syntax {
        check_syntax(sd, syn, s, ctx, sk);
    }
    rules::element_rules(sd, s, d, ctx, sk);
}

fn want(rule: &ElemRule) -> String {
    match &rule.codes {
        Codes::List(_) | Codes::Carc => format!(" with one of: {}", rule.codes.describe()),
        Codes::Any => String::new(),
    }
}

#[allow(clippy::too_many_arguments)]
fn check_value_or_composite(
    sd: &SegDef,
    rule: &ElemRule,
    v: &[u8],
    e: usize,
    rep: u8,
    has_comp: bool,
    d: &Delimiters,
    ctx: &Ctx<'_>,
    sk: &mut Sinker<'_>,
) {
    if rule.comps.is_empty() {
        if has_comp && memchr(d.component, v).is_some() && rule.ty != Ty::AN {
            sk.push(
                Severity::Error,
                Level::Element,
                "6",
                ctx,
                ep(e as u8, 0, rep),
                Some(v),
                format!(
                    "{}{e:02} is a simple element but contains the component separator '{}'.",
                    sd.id, d.component as char
                ),
                format!("Remove '{}' from {}{e:02}.", d.component as char, sd.id),
            );
            return;
        }
        check_simple(
            sd,
            rule.ty,
            rule.min,
            rule.max,
            &rule.codes,
            v,
            e as u8,
            0,
            rep,
            ctx,
            sk,
        );
        return;
    }
    let mut n = 0;
    let parts: &mut dyn Iterator<Item = &[u8]> = &mut v.split(|&b| b == d.component);
    for (j, cv) in parts.enumerate() {
        n = j + 1;
        let Some(c) = rule.comps.get(j) else {
            sk.push(
                Severity::Error,
                Level::Element,
                "13",
                ctx,
                ep(e as u8, 0, rep),
                Some(v),
                format!(
                    "{}{e:02} has more than its {} components.",
                    sd.id,
                    rule.comps.len()
                ),
                format!("Remove the extra components of {}{e:02}.", sd.id),
            );
            return;
        };
        if cv.is_empty() {
            continue;
        }
        check_simple(
            sd,
            c.ty,
            c.min,
            c.max,
            &c.codes,
            cv,
            e as u8,
            (j + 1) as u8,
            rep,
            ctx,
            sk,
        );
    }
    // Missing required components.
    for (j, c) in rule.comps.iter().enumerate() {
        if c.usage == Usage::Required && (j >= n || component(v, d.component, j + 1).is_empty()) {
            sk.push(
                Severity::Error,
                Level::Element,
                "1",
                ctx,
                ep(e as u8, (j + 1) as u8, rep),
                None,
                format!(
                    "{}{e:02}-{} is required when {}{e:02} is present.",
                    sd.id,
                    j + 1,
                    sd.id
                ),
                format!("Fill component {} of {}{e:02}.", j + 1, sd.id),
            );
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn check_simple(
    sd: &SegDef,
    ty: Ty,
    min: u16,
    max: u16,
    codes: &Codes,
    v: &[u8],
    e: u8,
    c: u8,
    rep: u8,
    ctx: &Ctx<'_>,
    sk: &mut Sinker<'_>,
) {
    // The reference is only formatted when there is something to report.
    let r = || {
        if c > 0 {
            format!("{}{e:02}-{c}", sd.id)
        } else {
            format!("{}{e:02}", sd.id)
        }
    };
    if let Some((code, why)) = check_value(ty, min, max, v) {
        let r = r();
        let fix = match code {
            "4" | "5" => format!("Give {r} between {min} and {max} characters."),
            "8" => format!("Write {r} as a valid date CCYYMMDD."),
            "9" => format!("Write {r} as a valid time HHMM[SS]."),
            _ => format!(
                "Use only characters allowed for a {} element in {r}.",
                ty_name(ty)
            ),
        };
        sk.push(
            Severity::Error,
            Level::Element,
            code,
            ctx,
            ep(e, c, rep),
            Some(v),
            format!("{r} '{}' {why}.", show(v)),
            fix,
        );
        return;
    }
    if !codes.allows(v) {
        let r = r();
        sk.push(
            Severity::Error,
            Level::Element,
            "7",
            ctx,
            ep(e, c, rep),
            Some(v),
            format!(
                "{r} '{}' is not a code the guide allows here{}.",
                show(v),
                in_loop(ctx.loop_id)
            ),
            format!("Use one of: {}.", codes.describe()),
        );
    }
}

fn ty_name(t: Ty) -> &'static str {
    match t {
        Ty::AN => "string",
        Ty::ID => "code",
        Ty::N(_) => "whole-number",
        Ty::R => "decimal-number",
        Ty::DT => "date",
        Ty::TM => "time",
    }
}

/// Type and length check of one value: `Some((IK403 code, reason))` when wrong.
pub(crate) fn check_value(ty: Ty, min: u16, max: u16, v: &[u8]) -> Option<(&'static str, String)> {
    match ty {
        Ty::AN | Ty::ID => {
            if v.iter().any(|&b| b < 0x20 || b == 0x7f) {
                return Some(("6", "contains a control character".into()));
            }
            let len = v.iter().filter(|&&b| (b & 0xC0) != 0x80).count();
            if ty == Ty::AN && v.iter().all(|&b| b == b' ') {
                return Some(("6", "is only spaces".into()));
            }
            length(len, min, max)
        }
        Ty::N(_) => {
            let digits = v.strip_prefix(b"-").unwrap_or(v);
            if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
                return Some(("6", "is not a whole number".into()));
            }
            length(digits.len(), min, max)
        }
        Ty::R => {
            let body = v.strip_prefix(b"-").unwrap_or(v);
            let dots = body.iter().filter(|&&b| b == b'.').count();
            let digits = body.iter().filter(|b| b.is_ascii_digit()).count();
            if dots > 1 || digits == 0 || digits + dots != body.len() {
                return Some(("6", "is not a decimal number".into()));
            }
            length(digits, min, max)
        }
        Ty::DT => {
            if !rules::valid_date(v) {
                return Some(("8", "is not a valid date (CCYYMMDD)".into()));
            }
            None
        }
        Ty::TM => {
            if !rules::valid_time(v) {
                return Some((
                    "9",
                    "is not a valid time (HHMM, HHMMSS or HHMMSSD..)".into(),
                ));
            }
            None
        }
    }
}

fn length(len: usize, min: u16, max: u16) -> Option<(&'static str, String)> {
    if len < min as usize {
        Some((
            "4",
            format!("is {len} characters long, shorter than the minimum {min}"),
        ))
    } else if len > max as usize {
        Some((
            "5",
            format!("is {len} characters long, longer than the maximum {max}"),
        ))
    } else {
        None
    }
}

fn check_syntax(sd: &SegDef, syn: &Syntax, s: &Split<'_, '_>, ctx: &Ctx<'_>, sk: &mut Sinker<'_>) {
    let has = |p: u8| !s.get(p as usize).is_empty();
    let name = |p: u8| format!("{}{p:02}", sd.id);
    let list = |ps: &[u8]| ps.iter().map(|&p| name(p)).collect::<Vec<_>>().join(", ");
    let mut push = |code: &'static str, p: u8, msg: String, fix: String| {
        sk.push(
            Severity::Error,
            Level::Element,
            code,
            ctx,
            ep(p, 0, 0),
            None,
            msg,
            fix,
        );
    };
    match syn {
        Syntax::Paired(ps) => {
            let present = ps.iter().filter(|&&p| has(p)).count();
            if present > 0 && present < ps.len() {
                let missing = *ps.iter().find(|&&p| !has(p)).expect("some missing");
                push(
                    "2",
                    missing,
                    format!(
                        "{} go together: when one is present all must be; {} is missing.",
                        list(ps),
                        name(missing)
                    ),
                    format!("Fill {} or remove its partners.", name(missing)),
                );
            }
        }
        Syntax::Required(ps) => {
            if !ps.iter().any(|&p| has(p)) {
                push(
                    "2",
                    ps[0],
                    format!("At least one of {} is required.", list(ps)),
                    format!("Fill one of {}.", list(ps)),
                );
            }
        }
        Syntax::Conditional(a, ps) => {
            if has(*a)
                && let Some(&m) = ps.iter().find(|&&p| !has(p))
            {
                push(
                    "2",
                    m,
                    format!("{} is required because {} is present.", name(m), name(*a)),
                    format!("Fill {} or remove {}.", name(m), name(*a)),
                );
            }
        }
        Syntax::Exclusion(ps) => {
            let present: Vec<u8> = ps.iter().copied().filter(|&p| has(p)).collect();
            if present.len() > 1 {
                push(
                    "10",
                    present[1],
                    format!("Only one of {} may be present.", list(ps)),
                    format!("Remove {}.", name(present[1])),
                );
            }
        }
        Syntax::ListConditional(a, ps) => {
            if has(*a) && !ps.iter().any(|&p| has(p)) {
                push(
                    "2",
                    ps[0],
                    format!(
                        "{} is present, so at least one of {} is required.",
                        name(*a),
                        list(ps)
                    ),
                    format!("Fill one of {}.", list(ps)),
                );
            }
        }
    }
}
