//! SQL pieces whose text never changes, so that each connection prepares
//! their statements once and reuses them.
//!
//! diesel caches a prepared statement only when nothing in the query marks
//! it unsafe to cache, and two common pieces do: every `sql()` literal, and
//! `eq_any` with a list on SQLite (one placeholder per value, so the text
//! changes with the length). A list page used both and had three of its
//! four statements parsed and planned on every request. These are the
//! same SQL as typed expressions that keep the statement cacheable:
//! [`Fixed`] for constant text, [`Around`] for constant text around an
//! expression, and [`ids_in`] for `column IN (ids)` with one placeholder.
//!
//! diesel never caches an `UPDATE`, an upsert (`ON CONFLICT`) or an
//! `sql_query` either: their text may vary, so it cannot know. The writes
//! made for every comment and view are of constant text; [`Statement`]
//! holds such a statement and its values, and is prepared once.

use std::fmt::Write as _;
use std::marker::PhantomData;

use diesel::backend::Backend;
use diesel::expression::{
    AppearsOnTable, BoxableExpression, Expression, SelectableExpression, TypedExpressionType,
    ValidGrouping, is_aggregate,
};
use diesel::prelude::*;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::{BigInt, Bool, Text};

use super::{Backend as Which, DbBackend};

/// Constant SQL text of type `ST`.
#[derive(Debug, Clone, Copy)]
pub struct Fixed<ST> {
    sql: &'static str,
    _type: PhantomData<ST>,
}

impl<ST> Fixed<ST> {
    pub const fn new(sql: &'static str) -> Self {
        Self {
            sql,
            _type: PhantomData,
        }
    }
}

impl<ST: TypedExpressionType> Expression for Fixed<ST> {
    type SqlType = ST;
}

impl<ST, DB: Backend> QueryFragment<DB> for Fixed<ST> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql(self.sql);
        Ok(())
    }
}

impl<ST> QueryId for Fixed<ST> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<ST, QS> AppearsOnTable<QS> for Fixed<ST> where Self: Expression {}
impl<ST, QS> SelectableExpression<QS> for Fixed<ST> where Self: Expression {}
impl<ST, GB> ValidGrouping<GB> for Fixed<ST> {
    type IsAggregate = is_aggregate::Never;
}

/// Constant SQL text around an expression, of the expression's type:
/// `Around::new("likelihood(", x, ", 0.99)")`.
#[derive(Debug, Clone, Copy)]
pub struct Around<E> {
    before: &'static str,
    inner: E,
    after: &'static str,
}

impl<E> Around<E> {
    pub const fn new(before: &'static str, inner: E, after: &'static str) -> Self {
        Self {
            before,
            inner,
            after,
        }
    }
}

impl<E: Expression> Expression for Around<E> {
    type SqlType = E::SqlType;
}

impl<E: QueryFragment<DB>, DB: Backend> QueryFragment<DB> for Around<E> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql(self.before);
        self.inner.walk_ast(out.reborrow())?;
        out.push_sql(self.after);
        Ok(())
    }
}

impl<E> QueryId for Around<E> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<E: AppearsOnTable<QS>, QS> AppearsOnTable<QS> for Around<E> {}
impl<E: SelectableExpression<QS>, QS> SelectableExpression<QS> for Around<E> {}
impl<E: ValidGrouping<GB>, GB> ValidGrouping<GB> for Around<E> {
    type IsAggregate = E::IsAggregate;
}

/// `column IN (ids)` on SQLite as `column IN (SELECT value FROM
/// json_each(?))`: one placeholder holding the ids as a JSON array.
#[derive(Debug, Clone)]
pub struct InJsonIds<C> {
    column: C,
    ids: String,
}

impl<C: Expression> Expression for InJsonIds<C> {
    type SqlType = Bool;
}

impl<C: QueryFragment<DbBackend>> QueryFragment<DbBackend> for InJsonIds<C> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DbBackend>) -> QueryResult<()> {
        self.column.walk_ast(out.reborrow())?;
        out.push_sql(" IN (SELECT value FROM json_each(");
        out.push_bind_param::<Text, _>(&self.ids)?;
        out.push_sql("))");
        Ok(())
    }
}

impl<C> QueryId for InJsonIds<C> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<C: AppearsOnTable<QS>, QS> AppearsOnTable<QS> for InJsonIds<C> {}
impl<C: SelectableExpression<QS>, QS> SelectableExpression<QS> for InJsonIds<C> {}
impl<C: ValidGrouping<GB>, GB> ValidGrouping<GB> for InJsonIds<C> {
    type IsAggregate = C::IsAggregate;
}

/// `column IN (ids)` with one placeholder on both backends: a JSON array
/// on SQLite, an array (`= ANY(?)`, what `eq_any` writes there) on
/// PostgreSQL.
pub fn ids_in<C, QS>(
    backend: Which,
    column: C,
    ids: &[i64],
) -> Box<dyn BoxableExpression<QS, DbBackend, SqlType = Bool>>
where
    C: Expression<SqlType = BigInt>
        + ExpressionMethods
        + AppearsOnTable<QS>
        + SelectableExpression<QS>
        + ValidGrouping<(), IsAggregate = is_aggregate::No>
        + QueryFragment<DbBackend>
        + Send
        + 'static,
    diesel::dsl::EqAny<C, Vec<i64>>: BoxableExpression<QS, DbBackend, SqlType = Bool>,
{
    match backend {
        Which::Sqlite => Box::new(InJsonIds {
            column,
            ids: json_ids(ids),
        }),
        Which::Postgres => Box::new(column.eq_any(ids.to_vec())),
    }
}

/// `[1,2,3]`.
fn json_ids(ids: &[i64]) -> String {
    let mut out = String::with_capacity(ids.len() * 8 + 2);
    out.push('[');
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        // Writing to a String cannot fail.
        let _ = write!(out, "{id}");
    }
    out.push(']');
    out
}

/// A whole statement of constant text whose `?` marks are its bound
/// values, in order (written `$1`, `$2`... on PostgreSQL), prepared once
/// per connection; `ST` is the SQL type of a row it returns (`RETURNING`),
/// if it is loaded. The text holds no other `?`.
pub struct Statement<'a, ST = ()> {
    sql: &'static str,
    binds: Vec<Box<dyn QueryFragment<DbBackend> + Send + 'a>>,
    _row: PhantomData<ST>,
}

impl<'a, ST> Statement<'a, ST> {
    pub fn new(sql: &'static str) -> Self {
        Self {
            sql,
            binds: Vec::with_capacity(4),
            _row: PhantomData,
        }
    }

    /// Binds the next `?` to `value` as SQL type `T`.
    pub fn bind<T, V>(mut self, value: V) -> Self
    where
        T: diesel::sql_types::SqlType + diesel::sql_types::SingleValue,
        V: diesel::expression::AsExpression<T>,
        V::Expression: QueryFragment<DbBackend> + Send + 'a,
    {
        self.binds.push(Box::new(value.as_expression()));
        self
    }
}

impl<ST> QueryFragment<DbBackend> for Statement<'_, ST> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DbBackend>) -> QueryResult<()> {
        let mut parts = self.sql.split('?');
        out.push_sql(parts.next().unwrap_or_default());
        let mut binds = self.binds.iter();
        for part in parts {
            let bind = binds.next().ok_or_else(|| {
                diesel::result::Error::QueryBuilderError("a `?` without a value".into())
            })?;
            bind.walk_ast(out.reborrow())?;
            out.push_sql(part);
        }
        if binds.next().is_some() {
            return Err(diesel::result::Error::QueryBuilderError(
                "more values than `?` marks".into(),
            ));
        }
        Ok(())
    }
}

impl<ST> QueryId for Statement<'_, ST> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<ST: 'static> diesel::query_builder::Query for Statement<'_, ST> {
    type SqlType = ST;
}

impl<ST, Conn> RunQueryDsl<Conn> for Statement<'_, ST> {}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_become_a_json_array() {
        assert_eq!(super::json_ids(&[]), "[]");
        assert_eq!(super::json_ids(&[3, -1, 40]), "[3,-1,40]");
    }
}
