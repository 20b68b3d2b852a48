//! The `Store` operations behind the domains API: filtered keyset pages of `domains` (by id,
//! oldest first), bulk requeue of finished rows in bounded batches, and deleting a row with
//! its attempts. The SQL lives in `sqlite_listing.rs` and `postgres_listing.rs`.

use super::handle::Pools;
use super::types::{DomainRow, StoreError};
use super::{postgres_listing as pg, sqlite_listing as lite, Store};
use crate::model::{ErrorKind, Status};

/// Which rows a listing, an export or a bulk requeue covers; every field narrows the set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DomainFilter {
    /// Only rows in this status.
    pub status: Option<Status>,
    /// Only rows of this tenant.
    pub tenant_id: Option<String>,
    /// Only rows whose `error_kind` is this.
    pub error_kind: Option<ErrorKind>,
    /// Only rows whose name contains this text, case-insensitively (taken literally: `%` and
    /// `_` are not wildcards).
    pub q: Option<String>,
}

impl DomainFilter {
    /// The `LIKE` pattern for `q`: lowercased, wildcards and the escape character escaped with
    /// `\`, wrapped in `%…%` (the SQL says `ESCAPE '\'`).
    pub(super) fn like_pattern(&self) -> Option<String> {
        self.q.as_deref().map(like_contains)
    }
}

/// Whether a page carries the `metadata` column (export, detail) or leaves it out (listing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Columns {
    /// Every column except `metadata` (returned as `None`).
    Summary,
    /// Every column.
    Full,
}

/// A `LIKE` pattern matching rows that contain `text` literally, lowercased.
fn like_contains(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.to_lowercase().chars() {
        if matches!(c, '\\' | '%' | '_') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

impl Store {
    /// Up to `limit` rows matching `filter` with `id > after_id`, in ascending id order (the
    /// keyset: a row is never seen twice across pages, whatever is inserted meanwhile).
    pub async fn list_domains(
        &self,
        filter: &DomainFilter,
        after_id: i64,
        limit: i64,
        columns: Columns,
    ) -> Result<Vec<DomainRow>, StoreError> {
        match &self.pools {
            Pools::Sqlite { reader, .. } => lite::list(reader, filter, after_id, limit, columns).await,
            Pools::Postgres(pool) => pg::list(pool, filter, after_id, limit, columns).await,
        }
    }

    /// Puts up to `max` finished (`completed` or `error`) rows matching `filter` back to
    /// `pending` now with a fresh attempt budget, lowest ids first (like `requeue`, their
    /// metadata stays until a new result replaces it). Returns how many moved and whether
    /// matching finished rows remain.
    pub async fn requeue_matching(&self, filter: &DomainFilter, max: i64) -> Result<(u64, bool), StoreError> {
        match &self.pools {
            Pools::Sqlite { writer, reader } => {
                let moved = lite::requeue_matching(writer, filter, max).await?;
                Ok((moved, lite::any_finished(reader, filter).await?))
            }
            Pools::Postgres(pool) => {
                let moved = pg::requeue_matching(pool, filter, max).await?;
                Ok((moved, pg::any_finished(pool, filter).await?))
            }
        }
    }

    /// Deletes a row and its `domain_attempts` in one transaction; false when no such row. A
    /// row in flight may be deleted: its result write then matches no row and is fenced out.
    pub async fn delete_domain(&self, id: i64) -> Result<bool, StoreError> {
        match &self.pools {
            Pools::Sqlite { writer, .. } => lite::delete(writer, id).await,
            Pools::Postgres(pool) => pg::delete(pool, id).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_in_a_search_are_taken_literally() {
        assert_eq!(like_contains("Exa"), "%exa%");
        assert_eq!(like_contains("a_b%c\\d"), "%a\\_b\\%c\\\\d%");
        let filter = DomainFilter::default();
        assert_eq!(filter.like_pattern(), None);
    }
}
