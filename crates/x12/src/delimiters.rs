//! The four X12 delimiters, read from the fixed-layout ISA segment.

use serde::Serialize;

/// Delimiters of one interchange. ISA fixes them: byte 3 is the element separator,
/// ISA11 the repetition separator, ISA16 the component separator and the byte after
/// ISA16 the segment terminator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Delimiters {
    pub element: u8,
    /// `None` when ISA11 is not a usable separator (e.g. the 4010 value `U`).
    pub repetition: Option<u8>,
    pub component: u8,
    pub segment: u8,
}

impl Default for Delimiters {
    fn default() -> Self {
        Delimiters {
            element: b'*',
            repetition: Some(b'^'),
            component: b':',
            segment: b'~',
        }
    }
}

/// Why delimiters could not be taken from an ISA; each maps to a TA1 note code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DelimiterError {
    /// Fewer than 16 element separators in the first bytes: the ISA is cut short.
    Truncated,
    /// The element separator is a letter, digit or space.
    BadElement(u8),
    /// ISA16 is a letter, digit or repeats another delimiter.
    BadComponent(u8),
    /// The segment terminator is a letter or digit or repeats another delimiter.
    BadTerminator(u8),
}

impl DelimiterError {
    /// TA105 interchange note code for this problem.
    pub fn ta1_code(&self) -> &'static str {
        match self {
            DelimiterError::Truncated => "023",
            DelimiterError::BadElement(_) => "026",
            DelimiterError::BadComponent(_) => "027",
            DelimiterError::BadTerminator(_) => "004",
        }
    }
}

/// Non-fatal findings while reading the ISA.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DelimiterNote {
    /// ISA11 holds a letter or digit (4010's `U`): no repetition separator is used.
    NoRepetition(u8),
    /// The ISA is not the fixed 106 bytes the standard requires (separators still found).
    NotFixedLength,
}

/// Reads the delimiters from `isa`, which must start with `ISA` and hold at least the
/// whole ISA segment plus its terminator. Returns the delimiters, the length of the ISA
/// including its terminator, and notes.
pub fn from_isa(isa: &[u8]) -> Result<(Delimiters, usize, Vec<DelimiterNote>), DelimiterError> {
    if isa.len() < 4 {
        return Err(DelimiterError::Truncated);
    }
    let element = isa[3];
    if element.is_ascii_alphanumeric() || element == b' ' {
        return Err(DelimiterError::BadElement(element));
    }
    let mut notes = Vec::new();
    let mut seps = [0usize; 16];
    let mut n = 0;
    for (i, &b) in isa.iter().enumerate().skip(3).take(400) {
        if b == element {
            seps[n] = i;
            n += 1;
            if n == 16 {
                break;
            }
        }
    }
    if n < 16 || seps[15] + 2 >= isa.len() {
        return Err(DelimiterError::Truncated);
    }
    let component = isa[seps[15] + 1];
    let segment = isa[seps[15] + 2];
    if seps[15] != 103 {
        notes.push(DelimiterNote::NotFixedLength);
    }
    let rep_field = &isa[seps[10] + 1..seps[11]];
    let repetition = match rep_field {
        [b] if !b.is_ascii_alphanumeric() && *b != b' ' => Some(*b),
        [b] => {
            notes.push(DelimiterNote::NoRepetition(*b));
            None
        }
        _ => None,
    };
    if component.is_ascii_alphanumeric() || component == b' ' || component == element {
        return Err(DelimiterError::BadComponent(component));
    }
    if segment.is_ascii_alphanumeric()
        || segment == b' '
        || segment == element
        || segment == component
    {
        return Err(DelimiterError::BadTerminator(segment));
    }
    let repetition = repetition.filter(|&r| r != element && r != component && r != segment);
    Ok((
        Delimiters {
            element,
            repetition,
            component,
            segment,
        },
        seps[15] + 3,
        notes,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISA: &[u8] = b"ISA*00*          *00*          *ZZ*SUBMITTERID    *ZZ*RECEIVERID     *200101*1253*^*00501*000000905*0*T*:~";

    #[test]
    fn reads_standard_isa() {
        let (d, len, notes) = from_isa(ISA).unwrap();
        assert_eq!(d, Delimiters::default());
        assert_eq!(len, 106);
        assert!(notes.is_empty());
    }

    #[test]
    fn u_in_isa11_means_no_repetition() {
        let isa = String::from_utf8(ISA.to_vec())
            .unwrap()
            .replace("*^*", "*U*");
        let (d, _, notes) = from_isa(isa.as_bytes()).unwrap();
        assert_eq!(d.repetition, None);
        assert_eq!(notes, vec![DelimiterNote::NoRepetition(b'U')]);
    }

    #[test]
    fn truncated_isa_is_an_error() {
        assert_eq!(from_isa(&ISA[..60]), Err(DelimiterError::Truncated));
        assert_eq!(from_isa(b"ISA"), Err(DelimiterError::Truncated));
    }

    #[test]
    fn alphanumeric_terminator_rejected() {
        let mut isa = ISA.to_vec();
        isa[105] = b'A';
        assert_eq!(from_isa(&isa), Err(DelimiterError::BadTerminator(b'A')));
    }
}
