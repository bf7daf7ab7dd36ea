//! The batch eligibility file: the CSV offices upload, read into rows (columns by the names
//! offices use, a row's number its line in the file), and the result CSV written back with
//! every text cell safe to open in a spreadsheet.

use crate::kit::csv::csv_cell;
use crate::kit::format::phone_label;
use crate::kit::format::thousands;
use crate::pages::eligibility::pcp_label;
use domain::Npi;
use domain::eligibility::{BatchOutcome, LookupForm};
use domain::member::{EligibilitySpan, Member};
use domain::plan::HealthNetwork;
use domain::provider::Provider;
use std::collections::HashMap;

/// Largest batch file and most rows in one.
pub const BATCH_MAX_BYTES: usize = 1024 * 1024;
pub const BATCH_MAX_ROWS: usize = 5000;

/// The input columns, by what offices call them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Column {
    MemberId,
    BirthDate,
    LastName,
    FirstName,
    DateOfService,
}

pub(crate) fn column(header: &str) -> Option<Column> {
    let h: String = header
        .trim()
        .trim_start_matches('\u{feff}')
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c == ' ' || c == '-' { '_' } else { c })
        .collect();
    Some(match h.as_str() {
        "member_id" | "memberid" | "member" | "member_number" | "subscriber_id" | "id" => {
            Column::MemberId
        }
        "birth_date" | "birthdate" | "dob" | "date_of_birth" => Column::BirthDate,
        "last_name" | "lastname" | "last" | "surname" => Column::LastName,
        "first_name" | "firstname" | "first" => Column::FirstName,
        "date_of_service" | "dos" | "service_date" => Column::DateOfService,
        _ => return None,
    })
}

/// One input row as read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InputRow {
    pub line: usize,
    pub form: LookupForm,
}

/// Reads the uploaded file into rows, or says what is wrong with the file (shown next to the
/// file field).
pub fn read_batch(bytes: &[u8]) -> Result<Vec<InputRow>, String> {
    if bytes.len() > BATCH_MAX_BYTES {
        return Err(format!(
            "The file is {} KB; the largest accepted is 1,024 KB ({} rows). Split it into smaller files.",
            bytes.len() / 1024,
            thousands(BATCH_MAX_ROWS as i64)
        ));
    }
    if let Some(kind) = infer::get(bytes) {
        let what = match kind.extension() {
            "zip" | "xlsx" => "an Excel workbook or a ZIP archive",
            "xls" | "ole" | "doc" => "an Excel or Word file",
            "pdf" => "a PDF",
            _ => "not a text file",
        };
        return Err(format!(
            "This file is {what}, not CSV. In your spreadsheet use Save As → CSV, then upload that file."
        ));
    }
    if bytes.contains(&0) {
        return Err("This is not a CSV file (it holds binary data). Upload a .csv file saved from your spreadsheet or practice system.".into());
    }
    // UTF-8 (with or without a byte-order mark); spreadsheets on Windows may save Latin-1.
    let text: String = match std::str::from_utf8(bytes) {
        Ok(s) => s.trim_start_matches('\u{feff}').to_string(),
        Err(_) => bytes.iter().map(|&b| b as char).collect(),
    };
    // One line, one row (member lists have no quoted line breaks), so that a row's number is
    // its line in the file, blank lines counted.
    let parse_line = |line: &str| -> Option<csv::StringRecord> {
        let mut r = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(line.as_bytes());
        r.records().next().and_then(Result::ok)
    };
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let headers = lines
        .next()
        .and_then(|(_, l)| parse_line(l))
        .ok_or_else(|| "The file is empty: its first row must name the columns.".to_string())?;
    let cols: Vec<Option<Column>> = headers.iter().map(column).collect();
    let has = |c: Column| cols.contains(&Some(c));
    if !has(Column::BirthDate) || !(has(Column::MemberId) || has(Column::LastName)) {
        let mut missing = Vec::new();
        if !has(Column::MemberId) && !has(Column::LastName) {
            missing.push("member_id (or last_name)");
        }
        if !has(Column::BirthDate) {
            missing.push("birth_date");
        }
        return Err(format!(
            "The first row must name the columns: member_id, birth_date, and optionally last_name, first_name, date_of_service. Missing: {}.",
            missing.join(", ")
        ));
    }
    let mut rows = Vec::new();
    for (i, text_line) in lines {
        let line = i + 1;
        let Some(rec) = parse_line(text_line) else {
            return Err(format!("Row {line} of the file cannot be read as CSV."));
        };
        if rec.iter().all(|v| v.trim().is_empty()) {
            continue;
        }
        if rows.len() == BATCH_MAX_ROWS {
            return Err(format!(
                "The file has more than {} rows. Split it into smaller files.",
                thousands(BATCH_MAX_ROWS as i64)
            ));
        }
        let mut form = LookupForm::default();
        for (value, col) in rec.iter().zip(&cols) {
            let v: String = value.trim().chars().take(100).collect();
            match col {
                Some(Column::MemberId) => form.member_id = v,
                Some(Column::BirthDate) => form.birth_date = v,
                Some(Column::LastName) => form.last_name = v,
                Some(Column::FirstName) => form.first_name = v,
                Some(Column::DateOfService) => form.date_of_service = v,
                None => {}
            }
        }
        rows.push(InputRow { line, form });
    }
    if rows.is_empty() {
        return Err("The file has column names but no rows of members.".into());
    }
    Ok(rows)
}

/// The answer for one row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowResult {
    pub outcome: BatchOutcome,
    pub message: String,
    pub member: Option<Member>,
    pub span: Option<EligibilitySpan>,
}

pub(crate) fn result(outcome: BatchOutcome, message: impl Into<String>) -> RowResult {
    RowResult {
        outcome,
        message: message.into(),
        member: None,
        span: None,
    }
}

pub const CSV_HEADER: [&str; 17] = [
    "row",
    "member_id",
    "birth_date",
    "last_name",
    "first_name",
    "date_of_service",
    "result",
    "matched_member_id",
    "member_name",
    "line_of_business",
    "network",
    "pcp_npi",
    "pcp_name",
    "pcp_phone",
    "span_start",
    "span_end",
    "message",
];

/// One output row, every text cell safe to open in a spreadsheet.
pub fn csv_row(
    input: &InputRow,
    r: &RowResult,
    networks: &[HealthNetwork],
    providers: &HashMap<Npi, Provider>,
) -> [String; 17] {
    let cell = |s: &str| csv_cell(s).into_owned();
    let span = r.span.as_ref();
    let pcp = span.and_then(|s| s.pcp);
    let provider = pcp.and_then(|n| providers.get(&n));
    [
        input.line.to_string(),
        cell(&input.form.member_id),
        cell(&input.form.birth_date),
        cell(&input.form.last_name),
        cell(&input.form.first_name),
        cell(&input.form.date_of_service),
        r.outcome.code().to_string(),
        r.member
            .as_ref()
            .map(|m| m.id.to_string())
            .unwrap_or_default(),
        r.member
            .as_ref()
            .map(|m| cell(&format!("{} {}", m.first_name, m.last_name)))
            .unwrap_or_default(),
        span.map(|s| s.line_of_business.label().to_string())
            .unwrap_or_default(),
        span.map(|s| {
            cell(
                &networks
                    .iter()
                    .find(|n| n.code == s.network)
                    .map(|n| n.name.clone())
                    .unwrap_or_else(|| s.network.clone()),
            )
        })
        .unwrap_or_default(),
        pcp.map(|n| n.to_string()).unwrap_or_default(),
        provider.map(|p| cell(&pcp_label(p))).unwrap_or_default(),
        provider
            .map(|p| cell(&phone_label(&p.location.phone)))
            .unwrap_or_default(),
        span.map(|s| s.start.to_string()).unwrap_or_default(),
        span.and_then(|s| s.end)
            .map(|e| e.to_string())
            .unwrap_or_default(),
        cell(&r.message),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_by_common_names() {
        assert_eq!(column("Member ID"), Some(Column::MemberId));
        assert_eq!(column("\u{feff}member_id"), Some(Column::MemberId));
        assert_eq!(column("DOB"), Some(Column::BirthDate));
        assert_eq!(column("date-of-service"), Some(Column::DateOfService));
        assert_eq!(column("zip"), None);
    }

    #[test]
    fn files_are_read_or_refused_with_a_reason() {
        let rows = read_batch(
            b"member_id,birth_date\r\nM000000001,01/31/1980\r\n\r\n,\r\nM2,1980-01-31\r\n",
        )
        .unwrap();
        assert_eq!(rows.len(), 2, "blank rows are skipped");
        assert_eq!(rows[0].line, 2);
        assert_eq!(rows[0].form.birth_date, "01/31/1980");
        assert_eq!(rows[1].line, 5);
        let e = read_batch(b"name,zip\r\nAna,92701\r\n").unwrap_err();
        assert!(
            e.contains("Missing: member_id (or last_name), birth_date"),
            "{e}"
        );
        assert!(
            read_batch(b"member_id,birth_date\r\n")
                .unwrap_err()
                .contains("no rows")
        );
        assert!(
            read_batch(b"PK\x03\x04\x14\x00\x06\x00")
                .unwrap_err()
                .contains("not CSV")
        );
        assert!(read_batch(b"%PDF-1.7\n").unwrap_err().contains("PDF"));
        assert!(
            read_batch(b"member_id,birth_date\n\x00\x01")
                .unwrap_err()
                .contains("binary")
        );
        let big = vec![b'a'; BATCH_MAX_BYTES + 1];
        assert!(read_batch(&big).unwrap_err().contains("1,024 KB"));
        let mut many = String::from("member_id,birth_date\n");
        for i in 0..=BATCH_MAX_ROWS {
            many.push_str(&format!("M{i:09},1980-01-01\n"));
        }
        assert!(
            read_batch(many.as_bytes())
                .unwrap_err()
                .contains("more than 5,000 rows")
        );
        // Latin-1 names from a Windows spreadsheet are read, not refused.
        let rows = read_batch(b"last_name,birth_date\nGarc\xeda,1980-01-31\n").unwrap();
        assert_eq!(rows[0].form.last_name, "García");
    }

    #[test]
    fn output_cells_never_start_a_formula() {
        let input = InputRow {
            line: 2,
            form: LookupForm {
                member_id: "=HYPERLINK(\"http://x\")".into(),
                last_name: "@SUM(A1)".into(),
                first_name: "+1".into(),
                birth_date: "-2".into(),
                date_of_service: "\t3".into(),
            },
        };
        let r = result(BatchOutcome::Error, "=cmd|' /C calc'!A0");
        let row = csv_row(&input, &r, &[], &HashMap::new());
        for cell in &row {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "{cell:?}"
            );
        }
        assert_eq!(row[1], "'=HYPERLINK(\"http://x\")");
        assert_eq!(row[6], "error");
    }
}
