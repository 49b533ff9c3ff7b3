//! Full-text search over articles, the one place where the two backends
//! differ in SQL: SQLite's FTS5 table `articles_fts` (kept in sync by
//! triggers) and PostgreSQL's generated `articles.search_vector` with its GIN
//! index. Both are reached through SQL fragments with bound parameters, so
//! the rest of the article list stays one diesel query.
//!
//! Whatever a user types is searched as plain words, all of which must
//! match: FTS5 operators (`OR`, `NOT`, `NEAR`, `*`, `^`, `-`, column filters
//! such as `title:x`, parentheses, quotes) never reach the query syntax, so
//! no input can make a search fail.

use diesel::dsl::sql;
use diesel::expression::BoxableExpression;
use diesel::sql_types::{Bool, Double, Nullable, Text};

use super::schema::{article_tags, articles, users};
use super::{Backend, DbBackend};

diesel::table! {
    /// SQLite only: the FTS5 index over articles (created by the content
    /// migration, kept in sync by triggers). Joined on `rowid = articles.id`
    /// when results are ranked, so that FTS5 scores each match once.
    articles_fts (rowid) {
        rowid -> BigInt,
    }
}

// Pair by pair: the pairs among the schema's own tables exist already.
diesel::allow_tables_to_appear_in_same_query!(articles_fts, articles);
diesel::allow_tables_to_appear_in_same_query!(articles_fts, users);
diesel::allow_tables_to_appear_in_same_query!(articles_fts, article_tags);

/// At most this many words of a query are used (a 1,000-character query
/// still answers quickly; relevance is decided by the first words anyway).
pub const MAX_TERMS: usize = 32;
/// Input beyond this many characters is ignored.
pub const MAX_QUERY_CHARS: usize = 1000;

/// A query ready for one backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchQuery {
    backend: Backend,
    text: String,
}

/// The words of a query: runs of letters and digits in any script.
pub fn words(raw: &str) -> Vec<String> {
    raw.chars()
        .take(MAX_QUERY_CHARS)
        .collect::<String>()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(MAX_TERMS)
        .map(str::to_string)
        .collect()
}

impl SearchQuery {
    /// Prepares what a user typed; `None` when it holds no word at all
    /// (only punctuation or emoji), which matches nothing.
    pub fn prepare(backend: Backend, raw: &str) -> Option<Self> {
        let words = words(raw);
        if words.is_empty() {
            return None;
        }
        let text = match backend {
            // Every word becomes a quoted FTS5 string: the tokenizer still
            // stems it, but no character of it can be read as an operator.
            // Words hold no quotes (they are letters and digits only).
            Backend::Sqlite => words
                .iter()
                .map(|w| format!("\"{w}\""))
                .collect::<Vec<_>>()
                .join(" "),
            // plainto_tsquery ignores all operator syntax and ANDs the
            // lexemes. It gets the text itself (not our words) so that its
            // parser sees what it saw in the documents: `U.S.` is one lexeme.
            // NUL is the one character PostgreSQL text cannot hold.
            Backend::Postgres => raw
                .chars()
                .take(MAX_QUERY_CHARS)
                .filter(|c| *c != '\0')
                .collect(),
        };
        Some(Self { backend, text })
    }

    /// The text bound to the backend's query (for tests and logs).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// `articles.id` matches the query.
    pub fn matches<QS>(&self) -> Box<dyn BoxableExpression<QS, DbBackend, SqlType = Bool>> {
        match self.backend {
            Backend::Sqlite => Box::new(
                sql::<Bool>(
                    "articles.id IN (SELECT rowid FROM articles_fts WHERE articles_fts MATCH ",
                )
                .bind::<Text, _>(self.text.clone())
                .sql(")"),
            ),
            Backend::Postgres => Box::new(
                sql::<Bool>("articles.search_vector @@ plainto_tsquery('english', ")
                    .bind::<Text, _>(self.text.clone())
                    .sql(")"),
            ),
        }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// SQLite: the match on a joined `articles_fts` (see [`articles_fts`]).
    pub fn fts_match<QS>(&self) -> Box<dyn BoxableExpression<QS, DbBackend, SqlType = Bool>> {
        Box::new(sql::<Bool>("articles_fts MATCH ").bind::<Text, _>(self.text.clone()))
    }

    /// A relevance score where smaller is better, so that ordering by it
    /// ascending lists the best match first on both backends. Titles weigh
    /// more than excerpts, excerpts more than the body. On SQLite the query
    /// must join `articles_fts` and filter with [`Self::fts_match`].
    pub fn rank<QS>(
        &self,
    ) -> Box<dyn BoxableExpression<QS, DbBackend, SqlType = Nullable<Double>>> {
        match self.backend {
            // bm25() is negative, more negative for better matches.
            Backend::Sqlite => Box::new(sql::<Nullable<Double>>(
                "bm25(articles_fts, 10.0, 4.0, 1.0)",
            )),
            Backend::Postgres => Box::new(
                sql::<Nullable<Double>>(
                    "CAST(-ts_rank(articles.search_vector, plainto_tsquery('english', ",
                )
                .bind::<Text, _>(self.text.clone())
                .sql(")) AS DOUBLE PRECISION)"),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_input_becomes_quoted_words() {
        let q = SearchQuery::prepare(
            Backend::Sqlite,
            r#"title:korea OR "human rights" -x* NEAR(a b) ((( ^y 🎉"#,
        )
        .unwrap();
        assert_eq!(
            q.as_str(),
            r#""title" "korea" "OR" "human" "rights" "x" "NEAR" "a" "b" "y""#
        );
        assert_eq!(SearchQuery::prepare(Backend::Sqlite, "🎉 *** ((("), None);
        assert_eq!(SearchQuery::prepare(Backend::Postgres, " "), None);
        let pg = SearchQuery::prepare(Backend::Postgres, "U.S.\0 talks").unwrap();
        assert_eq!(pg.as_str(), "U.S. talks");
        let long = "word ".repeat(400);
        assert_eq!(words(&long).len(), MAX_TERMS);
        assert_eq!(words("Straße Ürümqi 北京"), ["Straße", "Ürümqi", "北京"]);
    }
}
