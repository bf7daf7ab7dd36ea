//! Building X12 text: segments without trailing empty elements, wrapped in ISA/GS/ST.

/// Envelope values for written interchanges.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Envelope {
    pub sender: String,
    pub receiver: String,
    pub control: u32,
    /// CCYYMMDD
    pub date: String,
    /// HHMM
    pub time: String,
    /// `T` test or `P` production.
    pub usage: char,
}

impl Default for Envelope {
    fn default() -> Self {
        Envelope {
            sender: "PORTAL".into(),
            receiver: "PARTNER".into(),
            control: 1,
            date: "20240115".into(),
            time: "1200".into(),
            usage: 'T',
        }
    }
}

/// Segments of one transaction set body (between ST and SE).
#[derive(Default)]
pub(crate) struct Body {
    pub segs: Vec<String>,
    hl: u32,
}

/// Keeps a value free of the element and segment delimiters. Composite (`:`) and
/// repetition (`^`) separators are kept: callers build composites with them.
pub(crate) fn clean(v: &str) -> String {
    v.chars()
        .filter(|c| !matches!(c, '*' | '~' | '\r' | '\n'))
        .collect()
}

impl Body {
    /// Appends a segment; elements are written as given, trailing empty ones dropped.
    pub fn s(&mut self, parts: &[&str]) {
        let mut n = parts.len();
        while n > 1 && parts[n - 1].is_empty() {
            n -= 1;
        }
        let mut out = String::with_capacity(64);
        for (i, p) in parts[..n].iter().enumerate() {
            if i > 0 {
                out.push('*');
            }
            out.push_str(&clean(p));
        }
        self.segs.push(out);
    }

    /// Appends an HL segment numbered in order; returns its id.
    pub fn hl(&mut self, parent: Option<u32>, level: &str, has_children: bool) -> u32 {
        self.hl += 1;
        let id = self.hl.to_string();
        let p = parent.map(|p| p.to_string()).unwrap_or_default();
        self.s(&["HL", &id, &p, level, if has_children { "1" } else { "0" }]);
        self.hl
    }
}

/// A complete interchange holding one transaction set.
pub(crate) fn interchange(
    env: &Envelope,
    functional_id: &str,
    set: &str,
    version: &str,
    body: Body,
) -> String {
    let pad = |v: &str, n: usize| format!("{:<n$}", clean(v).chars().take(n).collect::<String>());
    let mut out = String::new();
    out.push_str(&format!(
        "ISA*00*{}*00*{}*ZZ*{}*ZZ*{}*{}*{}*^*00501*{:09}*0*{}*:~\n",
        pad("", 10),
        pad("", 10),
        pad(&env.sender, 15),
        pad(&env.receiver, 15),
        &env.date[2..8],
        env.time,
        env.control,
        env.usage
    ));
    out.push_str(&format!(
        "GS*{functional_id}*{}*{}*{}*{}*{}*X*{version}~\n",
        clean(&env.sender),
        clean(&env.receiver),
        env.date,
        env.time,
        env.control
    ));
    out.push_str(&format!("ST*{set}*0001*{version}~\n"));
    let n = body.segs.len() + 2;
    for s in body.segs {
        out.push_str(&s);
        out.push_str("~\n");
    }
    out.push_str(&format!(
        "SE*{n}*0001~\nGE*1*{}~\nIEA*1*{:09}~\n",
        env.control, env.control
    ));
    out
}
