//! 999 implementation acknowledgements (005010X231A1) and TA1 interchange
//! acknowledgements, written from a validation `Report`.

use crate::error::{Issue, Level, Severity};
use crate::report::{GroupInfo, InterchangeInfo, Report, SetInfo};
use std::fmt::Write;

/// Envelope values for the acknowledgement interchange.
#[derive(Clone, Debug)]
pub struct AckOptions {
    /// ISA13/GS06 of the acknowledgement (the sender's own counter).
    pub control: u32,
    /// CCYYMMDD
    pub date: String,
    /// HHMM
    pub time: String,
    /// Used when the input had no readable ISA.
    pub sender: (String, String),
}

impl Default for AckOptions {
    fn default() -> Self {
        let (date, time) = now_utc();
        AckOptions {
            control: 1,
            date,
            time,
            sender: ("ZZ".into(), "X12VALIDATOR".into()),
        }
    }
}

/// Current UTC date (CCYYMMDD) and time (HHMM) without a date library.
pub fn now_utc() -> (String, String) {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (days, rem) = ((secs / 86_400) as i64, secs % 86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (
        format!("{y:04}{m:02}{d:02}"),
        format!("{:02}{:02}", rem / 3600, (rem % 3600) / 60),
    )
}

/// Keeps only characters that cannot be taken for our delimiters (`*`, `^`, `:`, `~`).
fn clean(v: &str, max: usize) -> String {
    v.chars()
        .filter(|c| !matches!(c, '*' | '^' | ':' | '~' | '\r' | '\n'))
        .take(max)
        .collect()
}

fn pad(v: &str, n: usize) -> String {
    format!("{:<n$}", clean(v, n))
}

struct Out {
    text: String,
    count: u32,
}

impl Out {
    fn seg(&mut self, s: String) {
        let s = s.trim_end_matches('*');
        self.text.push_str(s);
        self.text.push_str("~\n");
        self.count += 1;
    }
}

fn isa(out: &mut Out, ic: Option<&InterchangeInfo>, o: &AckOptions) {
    // The acknowledgement goes back: sender and receiver swap.
    let (sq, sid, rq, rid, usage) = match ic {
        Some(i) if !i.receiver.is_empty() => (
            i.receiver_qualifier.clone(),
            i.receiver.clone(),
            i.sender_qualifier.clone(),
            i.sender.clone(),
            i.usage.clone(),
        ),
        _ => (
            o.sender.0.clone(),
            o.sender.1.clone(),
            "ZZ".into(),
            "UNKNOWN".into(),
            "P".into(),
        ),
    };
    let usage = if usage == "T" { "T" } else { "P" };
    out.seg(format!(
        "ISA*00*{}*00*{}*{}*{}*{}*{}*{}*{}*^*00501*{:09}*0*{usage}*:",
        pad("", 10),
        pad("", 10),
        pad(&sq, 2),
        pad(&sid, 15),
        pad(&rq, 2),
        pad(&rid, 15),
        &o.date[2..8],
        o.time,
        o.control % 1_000_000_000
    ));
}

fn ta1(out: &mut Out, ic: Option<&InterchangeInfo>, issues: &[&Issue], o: &AckOptions) {
    let errors: Vec<&&Issue> = issues
        .iter()
        .filter(|i| i.severity == Severity::Error)
        .collect();
    let (ctl, date, time) = match ic {
        Some(i) if i.control.len() == 9 => {
            (i.control.clone(), clean(&i.date, 6), clean(&i.time, 4))
        }
        _ => ("000000000".into(), o.date[2..8].to_string(), o.time.clone()),
    };
    let (status, code) = match errors.first() {
        Some(e) => ("R", e.code),
        None => ("A", "000"),
    };
    let date = if date.len() == 6 {
        date
    } else {
        o.date[2..8].to_string()
    };
    let time = if time.len() == 4 {
        time
    } else {
        o.time.clone()
    };
    out.seg(format!("TA1*{ctl}*{date}*{time}*{status}*{code}"));
}

/// The acknowledgement interchange for a validated input: a TA1 when the envelope is
/// rejected (or the sender asked for one with ISA14 = 1), otherwise a 999 per group.
pub fn acknowledgement(report: &Report, o: &AckOptions) -> String {
    let mut out = Out {
        text: String::new(),
        count: 0,
    };
    let first = report.interchanges.first();
    isa(&mut out, first, o);
    let mut groups = 0;
    if report.interchanges.is_empty() {
        let issues: Vec<&Issue> = report.stream_issues.iter().collect();
        ta1(&mut out, None, &issues, o);
    }
    for ic in &report.interchanges {
        let env: Vec<&Issue> = report
            .stream_issues
            .iter()
            .chain(ic.issues.iter())
            .filter(|i| i.level == Level::Interchange)
            .collect();
        let rejected = env.iter().any(|i| i.is_error());
        if rejected || ic.ack_requested {
            ta1(&mut out, Some(ic), &env, o);
        }
        if rejected {
            continue;
        }
        for g in &ic.groups {
            groups += 1;
            write_999_group(&mut out, g, o, o.control.wrapping_add(groups - 1));
        }
    }
    out.seg(format!("IEA*{groups}*{:09}", o.control % 1_000_000_000));
    out.text
}

fn write_999_group(out: &mut Out, g: &GroupInfo, o: &AckOptions, ctl: u32) {
    out.seg(format!(
        "GS*FA*{}*{}*{}*{}*{}*X*005010X231A1",
        clean(&g.receiver, 15),
        clean(&g.sender, 15),
        o.date,
        o.time,
        ctl % 1_000_000_000
    ));
    let start = out.count;
    out.seg("ST*999*0001*005010X231A1".into());
    out.seg(format!(
        "AK1*{}*{}*{}",
        clean(&g.functional_id, 2),
        clean(&g.control, 9),
        clean(&g.version, 12)
    ));
    for s in &g.sets {
        write_set(out, s);
    }
    let group_codes: Vec<&str> = g
        .issues
        .iter()
        .filter(|i| i.is_error())
        .map(|i| i.code)
        .take(5)
        .collect();
    let status = if !group_codes.is_empty() || g.sets_accepted == 0 && g.sets_received > 0 {
        "R"
    } else if g.sets_accepted < g.sets_received {
        "P"
    } else if g.sets.iter().any(|s| !s.issues.is_empty()) {
        "E"
    } else {
        "A"
    };
    let mut ak9 = format!(
        "AK9*{status}*{}*{}*{}",
        g.sets_received, g.sets_received, g.sets_accepted
    );
    for c in group_codes {
        ak9.push('*');
        ak9.push_str(c);
    }
    out.seg(ak9);
    let n = out.count - start + 1;
    out.seg(format!("SE*{n}*0001"));
    out.seg(format!("GE*1*{}", ctl % 1_000_000_000));
}

fn write_set(out: &mut Out, s: &SetInfo) {
    let errors: Vec<&Issue> = s.issues.iter().filter(|i| i.is_error()).collect();
    if errors.is_empty() && s.accepted {
        return;
    }
    out.seg(format!(
        "AK2*{}*{}*{}",
        clean(&s.id, 3),
        clean(&s.control, 9),
        clean(&s.convention, 35)
    ));
    // Group segment and element findings by segment position, in input order.
    let mut positions: Vec<(u32, &str)> = Vec::new();
    for i in &errors {
        if matches!(i.level, Level::Segment | Level::Element)
            && !positions.contains(&(i.position, &i.segment))
        {
            positions.push((i.position, &i.segment));
        }
    }
    for (pos, seg) in positions {
        let here: Vec<&&Issue> = errors
            .iter()
            .filter(|i| {
                i.position == pos
                    && i.segment == seg
                    && matches!(i.level, Level::Segment | Level::Element)
            })
            .collect();
        let loop_id = here.first().map_or("", |i| i.loop_id);
        let seg_id = if seg.is_empty() || seg.len() > 3 {
            "UNK"
        } else {
            seg
        };
        let pos = pos.max(1);
        for i in here.iter().filter(|i| i.level == Level::Segment) {
            out.seg(format!(
                "IK3*{}*{pos}*{}*{}",
                clean(seg_id, 3),
                clean(i.loop_id, 4),
                i.code
            ));
        }
        let elems: Vec<&&&Issue> = here.iter().filter(|i| i.level == Level::Element).collect();
        if !elems.is_empty() {
            out.seg(format!(
                "IK3*{}*{pos}*{}*8",
                clean(seg_id, 3),
                clean(loop_id, 4)
            ));
            for i in elems {
                let p = i.element.expect("element issues carry a position");
                let mut at = p.element.to_string();
                if p.component > 0 || p.repetition > 0 {
                    write!(at, ":{}", p.component).ok();
                }
                if p.repetition > 0 {
                    write!(at, ":{}", p.repetition).ok();
                }
                let bad = match (&i.value, i.code) {
                    (Some(v), c) if c != "1" => clean(v, 99),
                    _ => String::new(),
                };
                out.seg(format!("IK4*{at}**{}*{bad}", i.code));
            }
        }
    }
    let mut codes: Vec<&str> = errors
        .iter()
        .filter(|i| i.level == Level::Transaction)
        .map(|i| i.code)
        .collect();
    if errors
        .iter()
        .any(|i| matches!(i.level, Level::Segment | Level::Element))
        || (codes.is_empty() && !s.accepted)
    {
        codes.push("5");
    }
    codes.dedup();
    codes.truncate(5);
    let status = if s.accepted { "E" } else { "R" };
    out.seg(format!("IK5*{status}*{}", codes.join("*")));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_date() {
        let (d, t) = now_utc();
        assert_eq!(d.len(), 8);
        assert!(d.starts_with("20"));
        assert_eq!(t.len(), 4);
    }
}
