//! Pieces of SQL the areas share (the office scope has its own module, `scope`).

use sqlx::QueryBuilder;

/// Rows per multi-row INSERT, and values per `IN` list: under SQLite's 32,766 bound parameters
/// at 20 columns a row.
pub(crate) const INSERT_CHUNK: usize = 1000;

/// ` IN ($1, $2, ...)` over `values` (at most [`INSERT_CHUNK`] of them).
pub(crate) fn push_in<DB: sqlx::Database>(b: &mut QueryBuilder<DB>, values: &[String])
where
    for<'q> String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    b.push(" IN (");
    let mut list = b.separated(", ");
    for v in values {
        list.push_bind(v.clone());
    }
    b.push(")");
}
