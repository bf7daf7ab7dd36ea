//! Streaming validation: envelope state machine (ISA/GS/ST) feeding the guide walker.
//!
//! Input is read segment by segment through `SegmentReader`; nothing of a transaction
//! set is kept once its SE is seen except its findings, so memory does not grow with
//! the input. Findings are capped (`Options`).

use crate::delimiters::{DelimiterNote, Delimiters};
use crate::error::{ElementPos, Issue, Level, Severity, show};
use crate::guide::{self, Guide, LoopDef, SegDef};
use crate::reader::{Item, SegmentReader, Start};
use crate::report::{GroupInfo, InterchangeInfo, Report, SetInfo};
use crate::rules;
use crate::tokenizer::Split;
use crate::walker::Walker;
use std::io::{self, Read};

/// Limits that keep memory bounded whatever the input.
#[derive(Clone, Debug)]
pub struct Options {
    /// Findings kept per transaction set (the rest are counted).
    pub max_issues_per_set: usize,
    /// Findings kept in total.
    pub max_issues: usize,
    /// Transaction sets with findings kept in the report.
    pub max_sets: usize,
    /// Longest segment accepted, in bytes.
    pub max_segment: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            max_issues_per_set: 200,
            max_issues: 10_000,
            max_sets: 10_000,
            max_segment: crate::reader::MAX_SEGMENT,
        }
    }
}

/// Receives the segments of each transaction set as the walker places them in loops.
/// Used by the typed parser; validation alone needs none.
pub trait Sink {
    fn begin_interchange(&mut self, _isa: &Split<'_, '_>) {}
    fn begin_group(&mut self, _gs: &Split<'_, '_>) {}
    fn begin_set(&mut self, _guide: Option<&'static Guide>, _st: &Split<'_, '_>) {}
    fn enter_loop(&mut self, _def: &'static LoopDef) {}
    fn exit_loop(&mut self) {}
    /// A segment of the current set; `def` is the guide's segment when it was recognised.
    fn segment(&mut self, _seg: &Split<'_, '_>, _def: Option<&'static SegDef>) {}
    fn end_set(&mut self, _accepted: bool) {}
}

/// Validates everything `src` yields. I/O errors are returned; everything else is a
/// finding in the report.
pub fn validate<R: Read>(src: R, opts: &Options) -> io::Result<Report> {
    validate_with(src, opts, None)
}

/// Validates an in-memory input.
pub fn validate_bytes(data: &[u8], opts: &Options) -> Report {
    validate(data, opts).expect("reading from memory cannot fail")
}

/// Like `validate`, also handing each segment to `sink`.
pub fn validate_with<R: Read>(
    src: R,
    opts: &Options,
    sink: Option<&mut dyn Sink>,
) -> io::Result<Report> {
    let (mut rd, start) = SegmentReader::with_limit(src, opts.max_segment)?;
    let mut v = Validator::new(opts.clone(), sink);
    if v.start(start) {
        v.delims = rd.delimiters();
        v.report.delimiters = Some(v.delims);
        while let Some(item) = rd.next_item()? {
            match item {
                Item::Segment { offset, bytes } => v.segment(offset, bytes),
                Item::Isa {
                    offset,
                    bytes,
                    delims,
                } => {
                    // Each interchange declares its own delimiters.
                    v.delims = delims;
                    v.segment(offset, bytes)
                }
                Item::Unterminated { offset, bytes } => v.unterminated(offset, bytes),
                Item::TooLong { offset, len } => v.too_long(offset, len),
            }
        }
    }
    Ok(v.finish(rd.position()))
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Env {
    Outside,
    Interchange,
    Group,
    Set,
}

pub(crate) struct Ctx<'a> {
    pub seg: &'a [u8],
    pub pos: u32,
    pub offset: u64,
    pub loop_id: &'static str,
}

/// Pushes findings into the right level of the report, within the limits.
pub(crate) struct Sinker<'r> {
    pub report: &'r mut Report,
    pub opts: &'r Options,
    pub kept: &'r mut usize,
    pub set: Option<&'r mut SetInfo>,
}

impl Sinker<'_> {
    #[allow(clippy::too_many_arguments)]
    pub fn push(
        &mut self,
        sev: Severity,
        level: Level,
        code: &'static str,
        ctx: &Ctx<'_>,
        element: Option<ElementPos>,
        value: Option<&[u8]>,
        message: String,
        fix: String,
    ) {
        match sev {
            Severity::Error => self.report.errors += 1,
            Severity::Warning => self.report.warnings += 1,
        }
        let issue = Issue {
            severity: sev,
            level,
            code,
            segment: String::from_utf8_lossy(&ctx.seg[..ctx.seg.len().min(3)]).into_owned(),
            position: ctx.pos,
            offset: ctx.offset,
            loop_id: ctx.loop_id,
            element,
            value: value.map(show),
            message,
            fix,
        };
        if *self.kept >= self.opts.max_issues {
            self.report.suppressed += 1;
            if let Some(s) = self.set.as_deref_mut() {
                if sev == Severity::Error {
                    s.accepted = false;
                }
                s.suppressed += 1;
            }
            return;
        }
        match level {
            Level::Segment | Level::Element | Level::Transaction if self.set.is_some() => {
                let s = self.set.as_deref_mut().expect("checked");
                if sev == Severity::Error {
                    s.accepted = false;
                }
                if s.issues.len() >= self.opts.max_issues_per_set {
                    s.suppressed += 1;
                    self.report.suppressed += 1;
                    return;
                }
                s.issues.push(issue);
            }
            Level::Group | Level::Segment | Level::Element | Level::Transaction
                if self
                    .report
                    .interchanges
                    .last()
                    .is_some_and(|i| !i.groups.is_empty()) =>
            {
                let g = self
                    .report
                    .interchanges
                    .last_mut()
                    .and_then(|i| i.groups.last_mut())
                    .expect("checked");
                g.issues.push(issue);
            }
            _ => match self.report.interchanges.last_mut() {
                Some(i) => i.issues.push(issue),
                None => self.report.stream_issues.push(issue),
            },
        }
        *self.kept += 1;
    }
}

struct SetState {
    info: SetInfo,
    guide: Option<&'static Guide>,
    pos: u32,
    /// The ST of a 278, kept until BHT02 tells request from response.
    pending_st: Option<(u64, Vec<u8>)>,
    started: bool,
}

pub struct Validator<'s> {
    opts: Options,
    report: Report,
    delims: Delimiters,
    env: Env,
    kept: usize,
    buf: Vec<(u32, u32)>,
    buf2: Vec<(u32, u32)>,
    set: Option<SetState>,
    walker: Walker,
    sink: Option<&'s mut dyn Sink>,
    start_notes: Vec<(Severity, &'static str, String, String)>,
    groups_in_isa: u32,
    version_reported: bool,
    /// Sets kept in the report so far (counted here: summing over the interchanges per
    /// set made the time quadratic in their number).
    sets_stored: usize,
}

const FIX_ENVELOPE: &str =
    "Correct the envelope as the X12 5010 control segments require and resend the interchange.";

impl<'s> Validator<'s> {
    pub fn new(opts: Options, sink: Option<&'s mut dyn Sink>) -> Self {
        Validator {
            opts,
            report: Report::default(),
            delims: Delimiters::default(),
            env: Env::Outside,
            kept: 0,
            buf: Vec::with_capacity(64),
            buf2: Vec::with_capacity(64),
            set: None,
            walker: Walker::default(),
            sink,
            start_notes: Vec::new(),
            groups_in_isa: 0,
            version_reported: false,
            sets_stored: 0,
        }
    }

    fn sinker(&mut self) -> Sinker<'_> {
        Sinker {
            report: &mut self.report,
            opts: &self.opts,
            kept: &mut self.kept,
            set: self.set.as_mut().map(|s| &mut s.info),
        }
    }

    fn env_issue(
        &mut self,
        sev: Severity,
        code: &'static str,
        seg: &[u8],
        offset: u64,
        message: String,
        fix: &str,
    ) {
        let ctx = Ctx {
            seg,
            pos: 0,
            offset,
            loop_id: "",
        };
        self.sinker().push(
            sev,
            Level::Interchange,
            code,
            &ctx,
            None,
            None,
            message,
            fix.to_string(),
        );
    }

    /// Handles what the reader found first; false when nothing more can be read.
    fn start(&mut self, start: Start) -> bool {
        let bom = match &start {
            Start::Isa { bom, .. }
            | Start::Empty { bom }
            | Start::NotIsa { bom, .. }
            | Start::BadIsa { bom, .. } => *bom,
        };
        if bom {
            self.report.bom = true;
            self.start_notes.push((
                Severity::Warning,
                "000",
                "The file starts with a UTF-8 byte-order mark (EF BB BF) before ISA; it was skipped.".into(),
                "Save the file without a byte-order mark (plain ASCII or UTF-8 without BOM).".into(),
            ));
        }
        match start {
            Start::Isa { notes, .. } => {
                for n in notes {
                    match n {
                        DelimiterNote::NoRepetition(b) => self.start_notes.push((
                            Severity::Warning,
                            "000",
                            format!("ISA11 is '{}', the 4010 standards identifier, not a 5010 repetition separator; no repetition separator is used.", b as char),
                            "Put a repetition separator (for example ^) in ISA11, a character that does not occur in the data.".into(),
                        )),
                        DelimiterNote::NotFixedLength => self.start_notes.push((
                            Severity::Error,
                            "022",
                            "The ISA segment is not 106 characters long: its fields must be padded to their fixed lengths.".into(),
                            "Pad ISA02/ISA04 to 10 characters and ISA06/ISA08 to 15 characters with spaces.".into(),
                        )),
                    }
                }
                true
            }
            Start::Empty { .. } => {
                self.flush_start_notes(0);
                self.env_issue(
                    Severity::Error,
                    "023",
                    b"",
                    0,
                    "The input is empty: no ISA segment.".into(),
                    "Send a complete interchange starting with ISA.",
                );
                false
            }
            Start::NotIsa { head, .. } => {
                self.flush_start_notes(0);
                self.env_issue(
                    Severity::Error,
                    "022",
                    b"",
                    0,
                    format!("The input does not start with an ISA segment; it starts with \"{}\".", show(&head).escape_debug()),
                    "Every X12 interchange must begin with the 106-character ISA segment; add the ISA (and IEA) envelope or check that this is an X12 file.",
                );
                false
            }
            Start::BadIsa { error, .. } => {
                self.flush_start_notes(0);
                let msg = match &error {
                    crate::delimiters::DelimiterError::Truncated => "The ISA segment is cut short: fewer than 16 element separators were found, so the delimiters cannot be read.".to_string(),
                    crate::delimiters::DelimiterError::BadElement(b) => format!("The element separator (4th byte of ISA) is '{}', a letter, digit or space.", *b as char),
                    crate::delimiters::DelimiterError::BadComponent(b) => format!("ISA16, the component separator, is '{}': it must be a special character different from the other delimiters.", *b as char),
                    crate::delimiters::DelimiterError::BadTerminator(b) => format!("The segment terminator after ISA16 is '{}': it must be a special character different from the other delimiters.", (*b as char).escape_debug()),
                };
                self.env_issue(
                    Severity::Error,
                    error.ta1_code(),
                    b"ISA",
                    0,
                    msg,
                    FIX_ENVELOPE,
                );
                false
            }
        }
    }

    fn flush_start_notes(&mut self, offset: u64) {
        for (sev, code, msg, fix) in std::mem::take(&mut self.start_notes) {
            self.env_issue(sev, code, b"ISA", offset, msg, &fix);
        }
    }

    /// Processes one segment (terminator excluded).
    pub fn segment(&mut self, offset: u64, raw: &[u8]) {
        self.report.segments += 1;
        let mut buf = std::mem::take(&mut self.buf);
        {
            let s = Split::new(raw, self.delims.element, &mut buf);
            match s.id() {
                b"ISA" => self.isa(&s, offset),
                b"GS" => self.gs(&s, offset),
                b"ST" => self.st(&s, offset),
                b"SE" => self.se(&s, offset),
                b"GE" => self.ge(&s, offset),
                b"IEA" => self.iea(&s, offset),
                _ => self.body(&s, offset),
            }
        }
        self.buf = buf;
    }

    fn unterminated(&mut self, offset: u64, raw: &[u8]) {
        let trimmed = trim_ascii(raw);
        if trimmed.is_empty() {
            return;
        }
        if trimmed.starts_with(b"IEA") && self.env == Env::Interchange {
            self.env_issue(
                Severity::Warning,
                "000",
                b"IEA",
                offset,
                "The last segment (IEA) has no segment terminator.".into(),
                "End the IEA segment with the segment terminator given after ISA16.",
            );
            self.segment(offset, trimmed);
            return;
        }
        self.env_issue(
            Severity::Error,
            "023",
            trimmed,
            offset,
            format!(
                "The input ends in the middle of a segment (\"{}\"): the file is truncated.",
                show(&trimmed[..trimmed.len().min(30)]).escape_debug()
            ),
            "Resend the complete file; each segment must end with the segment terminator.",
        );
    }

    fn too_long(&mut self, offset: u64, len: u64) {
        let limit = self.opts.max_segment;
        self.env_issue(
            Severity::Error,
            "024",
            b"",
            offset,
            format!("A segment of {len} bytes exceeds the {limit}-byte limit; the segment terminator is probably wrong or missing."),
            "Check that every segment ends with the terminator declared after ISA16.",
        );
        if let Some(s) = self.set.as_mut() {
            s.pos += 1;
            s.info.accepted = false;
        }
    }

    fn isa(&mut self, s: &Split<'_, '_>, offset: u64) {
        if self.env != Env::Outside {
            self.close_open(offset, "ISA");
            self.env_issue(
                Severity::Error,
                "023",
                b"IEA",
                offset,
                "A new ISA starts before the previous interchange was closed by IEA.".into(),
                "End each interchange with IEA before the next ISA.",
            );
        }
        let f = |i: usize| String::from_utf8_lossy(s.get(i)).into_owned();
        self.report.interchanges.push(InterchangeInfo {
            sender_qualifier: f(5),
            sender: f(6).trim_end().to_string(),
            receiver_qualifier: f(7),
            receiver: f(8).trim_end().to_string(),
            date: f(9),
            time: f(10),
            control: f(13),
            version: f(12),
            ack_requested: s.get(14) == b"1",
            usage: f(15),
            offset,
            ..Default::default()
        });
        self.flush_start_notes(offset);
        if let Some(sink) = reborrow(&mut self.sink) {
            sink.begin_interchange(s);
        }
        self.env = Env::Interchange;
        self.groups_in_isa = 0;
        rules::check_isa(s, offset, &mut self.sinker());
    }

    fn gs(&mut self, s: &Split<'_, '_>, offset: u64) {
        match self.env {
            Env::Outside => {
                self.env_issue(
                    Severity::Error,
                    "024",
                    b"GS",
                    offset,
                    "GS appears outside an interchange (no ISA before it).".into(),
                    "Wrap functional groups in ISA ... IEA.",
                );
                self.report.interchanges.push(InterchangeInfo {
                    offset,
                    ..Default::default()
                });
            }
            Env::Group | Env::Set => self.close_group_missing(offset),
            Env::Interchange => {}
        }
        self.groups_in_isa += 1;
        let f = |i: usize| String::from_utf8_lossy(s.get(i)).into_owned();
        let g = GroupInfo {
            functional_id: f(1),
            sender: f(2),
            receiver: f(3),
            control: f(6),
            version: f(8),
            offset,
            ..Default::default()
        };
        self.report
            .interchanges
            .last_mut()
            .expect("pushed above")
            .groups
            .push(g);
        self.env = Env::Group;
        self.version_reported = false;
        if let Some(sink) = reborrow(&mut self.sink) {
            sink.begin_group(s);
        }
        rules::check_gs(s, offset, &mut self.sinker());
    }

    fn group(&mut self) -> Option<&mut GroupInfo> {
        self.report
            .interchanges
            .last_mut()
            .and_then(|i| i.groups.last_mut())
    }

    fn st(&mut self, s: &Split<'_, '_>, offset: u64) {
        match self.env {
            Env::Set => self.close_set_missing(offset),
            Env::Group => {}
            _ => {
                self.env_issue(
                    Severity::Error,
                    "024",
                    b"ST",
                    offset,
                    "ST appears outside a functional group (no GS before it).".into(),
                    "Wrap transaction sets in GS ... GE.",
                );
                if self.report.interchanges.is_empty() {
                    self.report.interchanges.push(InterchangeInfo {
                        offset,
                        ..Default::default()
                    });
                }
                let ic = self.report.interchanges.last_mut().expect("pushed");
                ic.groups.push(GroupInfo {
                    offset,
                    ..Default::default()
                });
            }
        }
        self.env = Env::Set;
        self.report.sets += 1;
        let set_id = String::from_utf8_lossy(s.get(1)).into_owned();
        let control = String::from_utf8_lossy(s.get(2)).into_owned();
        let convention = String::from_utf8_lossy(s.get(3)).into_owned();
        let (gs01, gs08) = self
            .group()
            .map(|g| (g.functional_id.clone(), g.version.clone()))
            .unwrap_or_default();
        if let Some(g) = self.group() {
            g.sets_received += 1;
        }
        self.set = Some(SetState {
            info: SetInfo {
                id: set_id.clone(),
                control,
                convention: convention.clone(),
                offset,
                accepted: true,
                ..Default::default()
            },
            guide: None,
            pos: 1,
            pending_st: None,
            started: false,
        });
        let ctx = Ctx {
            seg: b"ST",
            pos: 1,
            offset,
            loop_id: "",
        };
        // Which guide: ST03 names it; GS08 when ST03 is empty.
        let version = if convention.is_empty() {
            gs08.clone()
        } else {
            convention.clone()
        };
        let Some(_) = guide::functional_id(&set_id) else {
            let msg = format!(
                "Transaction set '{set_id}' is not one this validator supports (270, 271, 276, 277, 278, 835, 837, 999)."
            );
            self.sinker().push(
                Severity::Error,
                Level::Transaction,
                "1",
                &ctx,
                Some(ep(1)),
                Some(s.get(1)),
                msg,
                "Send a supported HIPAA transaction set or route this file elsewhere.".into(),
            );
            return;
        };
        if let Some(fid) = guide::functional_id(&set_id).filter(|f| *f != gs01 && !gs01.is_empty())
        {
            let msg = format!(
                "Transaction set {set_id} is in a functional group whose GS01 is '{gs01}'; a {set_id} belongs in a '{fid}' group."
            );
            self.sinker().push(
                Severity::Error,
                Level::Transaction,
                "6",
                &ctx,
                Some(ep(1)),
                Some(s.get(1)),
                msg,
                format!("Set GS01 to {fid} or move the transaction set to a {fid} group."),
            );
        }
        if !convention.is_empty() && !gs08.is_empty() && convention != gs08 {
            let msg = format!(
                "ST03 '{convention}' differs from GS08 '{gs08}': both must name the same implementation guide."
            );
            self.sinker().push(
                Severity::Error,
                Level::Element,
                "7",
                &ctx,
                Some(ep(3)),
                Some(s.get(3)),
                msg,
                "Make ST03 equal to GS08.".into(),
            );
        }
        let chosen = match guide::canonical_version(&set_id, &version) {
            Some(v) => Some(v),
            None => {
                let nearest = guide::nearest_version(&set_id, &version);
                let fallback = nearest.or_else(|| guide::default_version(&set_id));
                let where_ = if convention.is_empty() {
                    "GS08"
                } else {
                    "ST03"
                };
                let expect = nearest.map_or_else(
                    || "the HIPAA guide version for this transaction".to_string(),
                    |n| format!("'{n}'"),
                );
                let msg = format!(
                    "{where_} is '{version}', which names no HIPAA 5010 implementation guide for a {set_id}; expected {expect}. Checked against {} anyway.",
                    fallback.unwrap_or("-")
                );
                let fix = format!(
                    "Set GS08 and ST03 to {}.",
                    nearest.or(fallback).unwrap_or("the guide's version")
                );
                if where_ == "GS08" {
                    if !self.version_reported {
                        self.version_reported = true;
                        let gctx = Ctx {
                            seg: b"GS",
                            pos: 0,
                            offset,
                            loop_id: "",
                        };
                        let mut sk = self.sinker();
                        sk.set = None;
                        sk.push(
                            Severity::Error,
                            Level::Group,
                            "2",
                            &gctx,
                            Some(ep(8)),
                            Some(gs08.as_bytes()),
                            msg,
                            fix,
                        );
                    }
                } else {
                    self.sinker().push(
                        Severity::Error,
                        Level::Element,
                        "7",
                        &ctx,
                        Some(ep(3)),
                        Some(s.get(3)),
                        msg,
                        fix,
                    );
                }
                fallback
            }
        };
        let Some(version) = chosen else { return };
        if set_id == "278" {
            // Request and response share ST01 and version; BHT02 tells them apart.
            let st = self.set.as_mut().expect("set");
            st.pending_st = Some((offset, s.raw.to_vec()));
            st.info.guide = Some(version);
            return;
        }
        let g = guide::find(&set_id, version, None);
        self.begin_set(g, s, offset);
    }

    fn begin_set(&mut self, g: Option<&'static Guide>, st: &Split<'_, '_>, offset: u64) {
        let state = self.set.as_mut().expect("set");
        state.guide = g;
        state.info.guide = g.map(|g| g.version);
        state.started = true;
        if let Some(sink) = reborrow(&mut self.sink) {
            sink.begin_set(g, st);
        }
        if let Some(g) = g {
            self.walker.reset(g);
            self.walk(st, offset, 1);
        }
    }

    fn walk(&mut self, s: &Split<'_, '_>, offset: u64, pos: u32) {
        let Some(state) = self.set.as_mut() else {
            return;
        };
        let Some(g) = state.guide else { return };
        let mut sk = Sinker {
            report: &mut self.report,
            opts: &self.opts,
            kept: &mut self.kept,
            set: Some(&mut state.info),
        };
        self.walker.segment(
            g,
            s,
            &self.delims,
            offset,
            pos,
            &mut sk,
            reborrow(&mut self.sink),
        );
    }

    fn body(&mut self, s: &Split<'_, '_>, offset: u64) {
        if self.env != Env::Set {
            let what = show(s.id());
            self.env_issue(
                Severity::Error,
                "024",
                s.id(),
                offset,
                format!("Segment {what} appears outside a transaction set (between envelope segments)."),
                "Only GS/GE, ST/SE and IEA may appear there; move the segment inside ST ... SE or remove it.",
            );
            return;
        }
        let state = self.set.as_mut().expect("in set");
        state.pos += 1;
        let pos = state.pos;
        if let Some((st_off, st_raw)) = state.pending_st.take() {
            let version = state.info.guide.unwrap_or("005010X217");
            let bht02 = (s.id() == b"BHT").then(|| s.get(2));
            let g = guide::find("278", version, bht02);
            let mut b2 = std::mem::take(&mut self.buf2);
            {
                let st = Split::new(&st_raw, self.delims.element, &mut b2);
                self.begin_set(g, &st, st_off);
            }
            self.buf2 = b2;
        }
        self.walk(s, offset, pos);
    }

    fn se(&mut self, s: &Split<'_, '_>, offset: u64) {
        if self.env != Env::Set {
            self.env_issue(
                Severity::Error,
                "024",
                b"SE",
                offset,
                "SE appears without a matching ST.".into(),
                "Start each transaction set with ST.",
            );
            return;
        }
        let state = self.set.as_mut().expect("in set");
        state.pos += 1;
        let pos = state.pos;
        let started = state.started;
        let st_control = state.info.control.clone();
        if !started && state.pending_st.is_some() {
            // 278 with only ST and SE: check it against the request guide.
            let (st_off, st_raw) = state.pending_st.take().expect("checked");
            let version = state.info.guide.unwrap_or("005010X217");
            let g = guide::find("278", version, None);
            let mut b2 = std::mem::take(&mut self.buf2);
            {
                let st = Split::new(&st_raw, self.delims.element, &mut b2);
                self.begin_set(g, &st, st_off);
            }
            self.buf2 = b2;
        }
        self.walk(s, offset, pos);
        let ctx = Ctx {
            seg: b"SE",
            pos,
            offset,
            loop_id: "",
        };
        let trailer = Trailer {
            name: "SE",
            level: Level::Transaction,
            count_code: "4",
            control_code: "3",
            counted: ("transaction set", "segments", " (counting ST and SE)"),
            expected: pos,
            opener: "ST02 control number",
            control: &st_control,
        };
        self.check_trailer(s, &ctx, &trailer);
        self.end_set();
        self.env = Env::Group;
    }

    fn end_set(&mut self) {
        let Some(mut state) = self.set.take() else {
            return;
        };
        if state.guide.is_some() {
            let mut sk = Sinker {
                report: &mut self.report,
                opts: &self.opts,
                kept: &mut self.kept,
                set: Some(&mut state.info),
            };
            self.walker.finish(&mut sk, reborrow(&mut self.sink));
        }
        let accepted = state.info.accepted;
        if let Some(sink) = reborrow(&mut self.sink) {
            sink.end_set(accepted);
        }
        let keep =
            (!state.info.issues.is_empty() || !accepted) && self.sets_stored < self.opts.max_sets;
        if let Some(g) = self.group() {
            if accepted {
                g.sets_accepted += 1;
            }
            if keep {
                g.sets.push(state.info);
                self.sets_stored += 1;
            }
        }
    }

    fn close_set_missing(&mut self, offset: u64) {
        let pos = self.set.as_ref().map_or(0, |s| s.pos + 1);
        let ctx = Ctx {
            seg: b"SE",
            pos,
            offset,
            loop_id: "",
        };
        self.sinker().push(
            Severity::Error,
            Level::Transaction,
            "2",
            &ctx,
            None,
            None,
            "The transaction set has no SE trailer: a new envelope segment or the end of the file came first.".into(),
            "End every transaction set with SE (segment count and the ST02 control number).".into(),
        );
        self.end_set();
        self.env = Env::Group;
    }

    fn close_group_missing(&mut self, offset: u64) {
        if self.env == Env::Set {
            self.close_set_missing(offset);
        }
        let ctx = Ctx {
            seg: b"GE",
            pos: 0,
            offset,
            loop_id: "",
        };
        self.sinker().push(
            Severity::Error,
            Level::Group,
            "3",
            &ctx,
            None,
            None,
            "The functional group has no GE trailer.".into(),
            "End every functional group with GE (number of transaction sets and the GS06 control number).".into(),
        );
        self.env = Env::Interchange;
    }

    fn close_open(&mut self, offset: u64, _next: &str) {
        if matches!(self.env, Env::Group | Env::Set) {
            self.close_group_missing(offset);
        }
    }

    /// SE and GE close their envelope alike: element 1 counts what they close, element 2 repeats
    /// the opening control number.
    fn check_trailer(&mut self, s: &Split<'_, '_>, ctx: &Ctx<'_>, t: &Trailer<'_>) {
        let (whole, unit, note) = t.counted;
        let count = s.get(1);
        if std::str::from_utf8(count)
            .ok()
            .and_then(|c| c.parse::<u32>().ok())
            != Some(t.expected)
        {
            let msg = format!(
                "{}01 says the {whole} has {} {unit}, but it has {}{note}.",
                t.name,
                show(count),
                t.expected
            );
            let fix = format!("Set {}01 to {}.", t.name, t.expected);
            self.sinker().push(
                Severity::Error,
                t.level,
                t.count_code,
                ctx,
                Some(ep(1)),
                Some(count),
                msg,
                fix,
            );
        }
        if s.get(2) != t.control.as_bytes() {
            let msg = format!(
                "{}02 '{}' does not match the {} '{}'.",
                t.name,
                show(s.get(2)),
                t.opener,
                t.control
            );
            let opener_element = t.opener.split(' ').next().unwrap_or_default();
            let fix = format!(
                "Use the same control number in {opener_element} and {}02.",
                t.name
            );
            self.sinker().push(
                Severity::Error,
                t.level,
                t.control_code,
                ctx,
                Some(ep(2)),
                Some(s.get(2)),
                msg,
                fix,
            );
        }
    }

    fn ge(&mut self, s: &Split<'_, '_>, offset: u64) {
        match self.env {
            Env::Set => self.close_set_missing(offset),
            Env::Group => {}
            _ => {
                self.env_issue(
                    Severity::Error,
                    "024",
                    b"GE",
                    offset,
                    "GE appears without a matching GS.".into(),
                    "Start each functional group with GS.",
                );
                return;
            }
        }
        let (received, control) = self
            .group()
            .map(|g| (g.sets_received, g.control.clone()))
            .unwrap_or_default();
        let ctx = Ctx {
            seg: b"GE",
            pos: 0,
            offset,
            loop_id: "",
        };
        let trailer = Trailer {
            name: "GE",
            level: Level::Group,
            count_code: "5",
            control_code: "4",
            counted: ("group", "transaction sets", ""),
            expected: received,
            opener: "GS06 group control number",
            control: &control,
        };
        self.check_trailer(s, &ctx, &trailer);
        self.env = Env::Interchange;
    }

    fn iea(&mut self, s: &Split<'_, '_>, offset: u64) {
        match self.env {
            Env::Outside => {
                self.env_issue(
                    Severity::Error,
                    "024",
                    b"IEA",
                    offset,
                    "IEA appears without a matching ISA.".into(),
                    "Start each interchange with ISA.",
                );
                return;
            }
            Env::Group | Env::Set => self.close_group_missing(offset),
            Env::Interchange => {}
        }
        let groups = self.groups_in_isa;
        let control = self
            .report
            .interchanges
            .last()
            .map(|i| i.control.clone())
            .unwrap_or_default();
        if std::str::from_utf8(s.get(1))
            .ok()
            .and_then(|c| c.parse::<u32>().ok())
            != Some(groups)
        {
            self.env_issue(
                Severity::Error,
                "021",
                b"IEA",
                offset,
                format!(
                    "IEA01 says the interchange has {} functional groups, but it has {groups}.",
                    show(s.get(1))
                ),
                &format!("Set IEA01 to {groups}."),
            );
        }
        if s.get(2) != control.as_bytes() {
            self.env_issue(
                Severity::Error,
                "001",
                b"IEA",
                offset,
                format!(
                    "IEA02 '{}' does not match the ISA13 interchange control number '{control}'.",
                    show(s.get(2))
                ),
                "Use the same 9-digit control number in ISA13 and IEA02.",
            );
        }
        self.env = Env::Outside;
    }

    /// Closes whatever is still open and returns the report.
    pub fn finish(mut self, bytes: u64) -> Report {
        self.report.bytes = bytes;
        if self.env != Env::Outside {
            self.close_open(bytes, "");
            self.env_issue(
                Severity::Error,
                "023",
                b"IEA",
                bytes,
                "The file ends without an IEA segment: the interchange is incomplete (truncated file?).".into(),
                "Send the complete interchange ending with IEA.",
            );
        }
        self.flush_start_notes(0);
        self.report
    }
}

/// Shortens the trait-object lifetime so the sink can be lent out per call.
fn reborrow<'a>(s: &'a mut Option<&mut dyn Sink>) -> Option<&'a mut dyn Sink> {
    match s {
        Some(s) => Some(&mut **s),
        None => None,
    }
}

/// What a trailer segment (SE, GE) must agree with.
struct Trailer<'a> {
    name: &'static str,
    level: Level,
    /// IK5/AK9 codes for a wrong count and a wrong control number.
    count_code: &'static str,
    control_code: &'static str,
    /// What is counted, its unit, and a note on how: for the message.
    counted: (&'static str, &'static str, &'static str),
    expected: u32,
    opener: &'static str,
    control: &'a str,
}

pub(crate) fn ep(element: u8) -> ElementPos {
    ElementPos {
        element,
        component: 0,
        repetition: 0,
    }
}

fn trim_ascii(v: &[u8]) -> &[u8] {
    let s = v
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(v.len());
    let e = v
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(s, |e| e + 1);
    &v[s..e]
}
