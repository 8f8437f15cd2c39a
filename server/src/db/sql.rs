//! One way to run a statement on either database: SQLite (`rusqlite`, the embedded default) or
//! PostgreSQL (`postgres`, for several nodes). Every query of [`super`] is written once, in the
//! subset of SQL both speak, with SQLite's `?N` parameters (rewritten to `$N` for PostgreSQL);
//! the few places where the dialects part are named in [`Dialect`].
//!
//! Values cross as [`Val`] both ways and convert by what the other side wants: PostgreSQL is
//! strict about types (a `BIGINT` column takes no `i32`, `SUM` of one is `NUMERIC`), SQLite is
//! not, and the queries should not have to care.

use super::{DbError, Result};
use postgres::types::{FromSql, IsNull, ToSql, Type};
use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;

/// A value passed to or read from a statement.
#[derive(Debug, Clone, PartialEq)]
pub enum Val<'a> {
    Null,
    Int(i64),
    Real(f64),
    Text(Cow<'a, str>),
    Bytes(Cow<'a, [u8]>),
}

/// Something that can be a statement's parameter (see [`params!`]).
pub trait ToVal {
    fn to_val(&self) -> Val<'_>;
}

macro_rules! int_to_val {
    ($($t:ty),*) => {$(
        impl ToVal for $t {
            fn to_val(&self) -> Val<'_> {
                Val::Int(*self as i64)
            }
        }
    )*};
}
int_to_val!(i64, i32, u32, u16, u8, usize);

impl ToVal for u64 {
    fn to_val(&self) -> Val<'_> {
        Val::Int(i64::try_from(*self).unwrap_or(i64::MAX))
    }
}
impl ToVal for bool {
    fn to_val(&self) -> Val<'_> {
        Val::Int(i64::from(*self))
    }
}
impl ToVal for f64 {
    fn to_val(&self) -> Val<'_> {
        Val::Real(*self)
    }
}
impl ToVal for f32 {
    fn to_val(&self) -> Val<'_> {
        Val::Real(f64::from(*self))
    }
}
impl ToVal for str {
    fn to_val(&self) -> Val<'_> {
        Val::Text(Cow::Borrowed(self))
    }
}
impl ToVal for String {
    fn to_val(&self) -> Val<'_> {
        Val::Text(Cow::Borrowed(self))
    }
}
impl ToVal for [u8] {
    fn to_val(&self) -> Val<'_> {
        Val::Bytes(Cow::Borrowed(self))
    }
}
impl ToVal for Vec<u8> {
    fn to_val(&self) -> Val<'_> {
        Val::Bytes(Cow::Borrowed(self))
    }
}
impl<T: ToVal + ?Sized> ToVal for &T {
    fn to_val(&self) -> Val<'_> {
        (**self).to_val()
    }
}
impl<T: ToVal> ToVal for Option<T> {
    fn to_val(&self) -> Val<'_> {
        self.as_ref().map_or(Val::Null, ToVal::to_val)
    }
}
impl ToVal for Val<'_> {
    fn to_val(&self) -> Val<'_> {
        match self {
            Val::Text(t) => Val::Text(Cow::Borrowed(t)),
            Val::Bytes(b) => Val::Bytes(Cow::Borrowed(b)),
            v => v.clone(),
        }
    }
}

impl From<String> for Val<'static> {
    fn from(s: String) -> Self {
        Val::Text(Cow::Owned(s))
    }
}
impl From<i64> for Val<'static> {
    fn from(v: i64) -> Self {
        Val::Int(v)
    }
}

/// A statement's parameters: `params![a, b]`, an array of one type, or `()` for none.
pub trait Params {
    fn vals(&self) -> Vec<Val<'_>>;
}
impl Params for () {
    fn vals(&self) -> Vec<Val<'_>> {
        Vec::new()
    }
}
impl<T: ToVal, const N: usize> Params for [T; N] {
    fn vals(&self) -> Vec<Val<'_>> {
        self.iter().map(ToVal::to_val).collect()
    }
}
impl Params for &[Val<'_>] {
    fn vals(&self) -> Vec<Val<'_>> {
        self.iter().map(ToVal::to_val).collect()
    }
}
impl Params for Vec<Val<'_>> {
    fn vals(&self) -> Vec<Val<'_>> {
        self.iter().map(ToVal::to_val).collect()
    }
}

/// Parameters of several types: `params![user_id, name, None::<i64>]` (each borrowed).
macro_rules! params {
    ($($x:expr),* $(,)?) => {
        &[$($crate::db::sql::ToVal::to_val(&$x)),*] as &[$crate::db::sql::Val<'_>]
    };
}
pub(crate) use params;

/// A column read into a Rust type (integers, reals, text, bytes, booleans, and `Option`s of them
/// for a nullable column).
pub trait FromVal: Sized {
    fn from_val(v: &Val<'static>) -> std::result::Result<Self, String>;
}

macro_rules! int_from_val {
    ($($t:ty),*) => {$(
        impl FromVal for $t {
            fn from_val(v: &Val<'static>) -> std::result::Result<Self, String> {
                match v {
                    Val::Int(i) => <$t>::try_from(*i).map_err(|e| e.to_string()),
                    v => Err(format!("{v:?} is not an integer")),
                }
            }
        }
    )*};
}
int_from_val!(i64, i32, u32, u64, usize, u16, u8);

impl FromVal for bool {
    fn from_val(v: &Val<'static>) -> std::result::Result<Self, String> {
        i64::from_val(v).map(|i| i != 0)
    }
}
impl FromVal for f64 {
    fn from_val(v: &Val<'static>) -> std::result::Result<Self, String> {
        match v {
            Val::Real(f) => Ok(*f),
            Val::Int(i) => Ok(*i as f64),
            v => Err(format!("{v:?} is not a number")),
        }
    }
}
impl FromVal for String {
    fn from_val(v: &Val<'static>) -> std::result::Result<Self, String> {
        match v {
            Val::Text(t) => Ok(t.to_string()),
            v => Err(format!("{v:?} is not text")),
        }
    }
}
impl FromVal for Vec<u8> {
    fn from_val(v: &Val<'static>) -> std::result::Result<Self, String> {
        match v {
            Val::Bytes(b) => Ok(b.to_vec()),
            Val::Text(t) => Ok(t.as_bytes().to_vec()),
            v => Err(format!("{v:?} is not bytes")),
        }
    }
}
impl<T: FromVal> FromVal for Option<T> {
    fn from_val(v: &Val<'static>) -> std::result::Result<Self, String> {
        match v {
            Val::Null => Ok(None),
            v => T::from_val(v).map(Some),
        }
    }
}
impl FromVal for Val<'static> {
    fn from_val(v: &Val<'static>) -> std::result::Result<Self, String> {
        Ok(v.clone())
    }
}

/// A column's position (only `usize`, so that `r.get(0)` needs no annotation).
pub trait ColIndex {
    fn index(self) -> usize;
}
impl ColIndex for usize {
    fn index(self) -> usize {
        self
    }
}

/// One result row, its columns already read.
pub struct Row {
    cols: Vec<Val<'static>>,
}

impl Row {
    /// Column `i` as `T` (`r.get::<_, T>(i)`, as with rusqlite).
    pub fn get<I: ColIndex, T: FromVal>(&self, i: I) -> Result<T> {
        let i = i.index();
        T::from_val(self.cols.get(i).unwrap_or(&Val::Null))
            .map_err(|why| DbError::Type(format!("column {i}: {why}")))
    }
}

/// Where the two dialects part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// `col` is one of the strings in the JSON array given as the next parameter.
    pub fn in_json_list(self, col: &str) -> String {
        match self {
            Dialect::Sqlite => format!("{col} IN (SELECT value FROM json_each(?))"),
            Dialect::Postgres => {
                format!("{col} IN (SELECT json_array_elements_text(CAST(? AS TEXT)::json))")
            }
        }
    }

    /// The Monday on or before the ISO date in `col`, as an ISO date.
    pub fn monday_of(self, col: &str) -> String {
        match self {
            // Back six days, then forward to a Monday.
            Dialect::Sqlite => format!("date({col}, '-6 days', 'weekday 1')"),
            Dialect::Postgres => {
                format!("to_char(date_trunc('week', CAST({col} AS DATE)), 'YYYY-MM-DD')")
            }
        }
    }

    /// An inner join that keeps the planner's order: SQLite takes the left table first with
    /// `CROSS JOIN`; PostgreSQL plans an ordinary join well and has no `CROSS JOIN … ON`.
    pub fn ordered_join(self) -> &'static str {
        match self {
            Dialect::Sqlite => "CROSS JOIN",
            Dialect::Postgres => "JOIN",
        }
    }
}

/// A connection to either database.
pub enum Sql {
    Lite(rusqlite::Connection),
    Pg(Box<RefCell<PgConn>>),
}

/// A PostgreSQL connection with its prepared statements; reconnects when it was cut.
pub struct PgConn {
    config: postgres::Config,
    client: Option<postgres::Client>,
    statements: HashMap<String, postgres::Statement>,
}

impl PgConn {
    pub fn new(config: postgres::Config) -> Result<PgConn> {
        let client = config.connect(postgres::NoTls)?;
        Ok(PgConn {
            config,
            client: Some(client),
            statements: HashMap::new(),
        })
    }

    fn client(&mut self) -> Result<&mut postgres::Client> {
        if self.client.as_ref().is_none_or(postgres::Client::is_closed) {
            // A statement prepared on the old connection does not exist on the new one.
            self.statements.clear();
            self.client = Some(self.config.connect(postgres::NoTls)?);
        }
        Ok(self.client.as_mut().expect("connected above"))
    }

    fn statement(&mut self, sql: &str) -> Result<(postgres::Statement, &mut postgres::Client)> {
        self.client()?;
        let client = self.client.as_mut().expect("connected above");
        let st = match self.statements.get(sql) {
            Some(st) => st.clone(),
            None => {
                let st = client.prepare(&dollar_params(sql)).map_err(|e| {
                    let why = e
                        .as_db_error()
                        .map_or(e.to_string(), |d| d.message().to_string());
                    DbError::Prepare(format!("{why}, in: {sql}"))
                })?;
                // Statements built at run time (the office's filters) are many; the cache is for
                // the fixed ones, which are few, so a full cache just starts again.
                if self.statements.len() > 500 {
                    self.statements.clear();
                }
                self.statements.insert(sql.to_string(), st.clone());
                st
            }
        };
        Ok((st, client))
    }
}

impl Drop for PgConn {
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            // Dropping a client blocks on its own small runtime, which panics on an async worker.
            let _ = std::thread::Builder::new()
                .name("pg-close".into())
                .spawn(move || drop(client));
        }
    }
}

/// SQLite's numbered parameters (`?1`, or `?` counted in order) as PostgreSQL's `$N`, outside
/// quoted text.
fn dollar_params(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut next = 0;
    let mut chars = sql.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        if c == '\'' {
            quoted = !quoted;
        }
        if c != '?' || quoted {
            out.push(c);
            continue;
        }
        let mut n = String::new();
        while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
            n.push(*d);
            chars.next();
        }
        if n.is_empty() {
            next += 1;
            n = next.to_string();
        }
        out.push('$');
        out.push_str(&n);
    }
    out
}

impl Sql {
    pub fn dialect(&self) -> Dialect {
        match self {
            Sql::Lite(_) => Dialect::Sqlite,
            Sql::Pg(_) => Dialect::Postgres,
        }
    }

    /// Run a statement; the number of rows it changed.
    pub fn execute(&self, sql: &str, params: impl Params) -> Result<usize> {
        let vals = params.vals();
        match self {
            Sql::Lite(c) => Ok(c.execute(sql, rusqlite::params_from_iter(vals.iter()))?),
            Sql::Pg(c) => {
                let mut c = c.borrow_mut();
                let (st, client) = c.statement(sql)?;
                let n = client.execute(&st, &pg_params(&vals))?;
                Ok(n as usize)
            }
        }
    }

    /// Run statements with no parameters (and no results), one after another.
    pub fn execute_batch(&self, sql: &str) -> Result<()> {
        match self {
            Sql::Lite(c) => Ok(c.execute_batch(sql)?),
            Sql::Pg(c) => Ok(c.borrow_mut().client()?.batch_execute(sql)?),
        }
    }

    /// Every row of a query.
    pub fn rows(&self, sql: &str, params: impl Params) -> Result<Vec<Row>> {
        let vals = params.vals();
        match self {
            Sql::Lite(c) => {
                let mut st = c.prepare_cached(sql)?;
                let n = st.column_count();
                let mut rows = st.query(rusqlite::params_from_iter(vals.iter()))?;
                let mut out = Vec::new();
                while let Some(r) = rows.next()? {
                    let cols = (0..n)
                        .map(|i| r.get_ref(i).map(lite_val))
                        .collect::<rusqlite::Result<_>>()?;
                    out.push(Row { cols });
                }
                Ok(out)
            }
            Sql::Pg(c) => {
                let mut c = c.borrow_mut();
                let (st, client) = c.statement(sql)?;
                let rows = client.query(&st, &pg_params(&vals))?;
                rows.iter()
                    .map(|r| {
                        let cols = (0..r.len())
                            .map(|i| Ok(r.try_get::<_, PgVal>(i)?.0))
                            .collect::<Result<_>>()?;
                        Ok(Row { cols })
                    })
                    .collect()
            }
        }
    }

    /// A whole query's column names and values (tests and dumps).
    pub fn table(&self, sql: &str) -> Result<(Vec<String>, Vec<Vec<Val<'static>>>)> {
        let names = match self {
            Sql::Lite(c) => c
                .prepare(sql)?
                .column_names()
                .into_iter()
                .map(String::from)
                .collect(),
            Sql::Pg(c) => {
                let mut c = c.borrow_mut();
                let (st, _) = c.statement(sql)?;
                st.columns().iter().map(|c| c.name().to_string()).collect()
            }
        };
        let rows = self.rows(sql, ())?.into_iter().map(|r| r.cols).collect();
        Ok((names, rows))
    }

    /// The first row of a query through `f`; [`DbError::NoRows`] if there is none.
    pub fn query_row<T>(
        &self,
        sql: &str,
        params: impl Params,
        f: impl FnOnce(&Row) -> Result<T>,
    ) -> Result<T> {
        let rows = self.rows(sql, params)?;
        f(rows.first().ok_or(DbError::NoRows)?)
    }

    /// Every row of a query through `f`.
    pub fn query_map<T>(
        &self,
        sql: &str,
        params: impl Params,
        f: impl FnMut(&Row) -> Result<T>,
    ) -> Result<std::vec::IntoIter<Result<T>>> {
        Ok(self
            .rows(sql, params)?
            .iter()
            .map(f)
            .collect::<Vec<_>>()
            .into_iter())
    }

    /// A query to run (once or several times) with [`Stmt::query_map`].
    pub fn prepare<'c>(&'c self, sql: &'c str) -> Result<Stmt<'c>> {
        Ok(Stmt {
            sql: self,
            text: sql,
        })
    }

    /// Begin a transaction: committed by [`Tx::commit`], rolled back when dropped before. On
    /// SQLite it takes the write lock at once (`IMMEDIATE`): every transaction here writes, and
    /// one that read first and then found the lock taken would have to start again.
    pub fn transaction(&self) -> Result<Tx<'_>> {
        self.execute_batch(match self {
            Sql::Lite(_) => "BEGIN IMMEDIATE",
            Sql::Pg(_) => "BEGIN",
        })?;
        Ok(Tx {
            sql: self,
            done: false,
        })
    }

    /// Serialise this transaction with every other holding `key`, on every node: nothing on
    /// SQLite, whose `IMMEDIATE` transactions are serial already; an advisory lock on PostgreSQL
    /// (released at commit or rollback).
    pub fn lock(&self, key: &str) -> Result<()> {
        if let Sql::Pg(_) = self {
            self.rows("SELECT pg_advisory_xact_lock(hashtext(?1))", [key])?;
        }
        Ok(())
    }
}

/// A prepared query ([`Sql::prepare`]).
pub struct Stmt<'c> {
    sql: &'c Sql,
    text: &'c str,
}

impl Stmt<'_> {
    pub fn query_map<T>(
        &mut self,
        params: impl Params,
        f: impl FnMut(&Row) -> Result<T>,
    ) -> Result<std::vec::IntoIter<Result<T>>> {
        self.sql.query_map(self.text, params, f)
    }
}

/// An open transaction ([`Sql::transaction`]).
pub struct Tx<'c> {
    sql: &'c Sql,
    done: bool,
}

impl Tx<'_> {
    pub fn commit(mut self) -> Result<()> {
        self.done = true;
        self.sql.execute_batch("COMMIT")
    }
}

impl std::ops::Deref for Tx<'_> {
    type Target = Sql;
    fn deref(&self) -> &Sql {
        self.sql
    }
}

impl Drop for Tx<'_> {
    fn drop(&mut self) {
        if !self.done
            && let Err(e) = self.sql.execute_batch("ROLLBACK")
        {
            tracing::warn!(error = %e, "rollback failed");
        }
    }
}

/// `Ok(None)` for a query that found no row (as rusqlite's `OptionalExtension`).
pub trait OptionalExtension<T> {
    fn optional(self) -> Result<Option<T>>;
}

impl<T> OptionalExtension<T> for Result<T> {
    fn optional(self) -> Result<Option<T>> {
        match self {
            Ok(v) => Ok(Some(v)),
            Err(DbError::NoRows) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

fn lite_val(v: rusqlite::types::ValueRef<'_>) -> Val<'static> {
    use rusqlite::types::ValueRef;
    match v {
        ValueRef::Null => Val::Null,
        ValueRef::Integer(i) => Val::Int(i),
        ValueRef::Real(f) => Val::Real(f),
        ValueRef::Text(t) => Val::Text(Cow::Owned(String::from_utf8_lossy(t).into_owned())),
        ValueRef::Blob(b) => Val::Bytes(Cow::Owned(b.to_vec())),
    }
}

impl rusqlite::ToSql for Val<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(ToSqlOutput::Borrowed(match self {
            Val::Null => ValueRef::Null,
            Val::Int(i) => ValueRef::Integer(*i),
            Val::Real(f) => ValueRef::Real(*f),
            Val::Text(t) => ValueRef::Text(t.as_bytes()),
            Val::Bytes(b) => ValueRef::Blob(b),
        }))
    }
}

fn pg_params<'v>(vals: &'v [Val<'_>]) -> Vec<&'v (dyn ToSql + Sync)> {
    vals.iter().map(|v| v as &(dyn ToSql + Sync)).collect()
}

/// A parameter becomes whatever type PostgreSQL inferred for its place.
impl ToSql for Val<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> std::result::Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match (self, ty) {
            (Val::Null, _) => Ok(IsNull::Yes),
            (Val::Int(i), &Type::INT8) => i.to_sql(ty, out),
            (Val::Int(i), &Type::INT4) => i32::try_from(*i)?.to_sql(ty, out),
            (Val::Int(i), &Type::INT2) => i16::try_from(*i)?.to_sql(ty, out),
            (Val::Int(i), &Type::BOOL) => (*i != 0).to_sql(ty, out),
            (Val::Int(i), &Type::FLOAT8) => (*i as f64).to_sql(ty, out),
            (Val::Int(i), &Type::FLOAT4) => (*i as f32).to_sql(ty, out),
            (Val::Int(i), &Type::TEXT | &Type::VARCHAR) => i.to_string().to_sql(ty, out),
            (Val::Real(f), &Type::FLOAT8) => f.to_sql(ty, out),
            (Val::Real(f), &Type::FLOAT4) => (*f as f32).to_sql(ty, out),
            (Val::Text(t), _) if <&str as ToSql>::accepts(ty) => t.as_ref().to_sql(ty, out),
            (Val::Bytes(b), &Type::BYTEA) => b.as_ref().to_sql(ty, out),
            (v, ty) => Err(format!("{v:?} cannot be passed as {ty}").into()),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    postgres::types::to_sql_checked!();
}

/// A PostgreSQL column of any type this server uses, as a [`Val`].
struct PgVal(Val<'static>);

impl<'a> FromSql<'a> for PgVal {
    fn from_sql(
        ty: &Type,
        raw: &'a [u8],
    ) -> std::result::Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(PgVal(match *ty {
            Type::INT8 => Val::Int(i64::from_sql(ty, raw)?),
            Type::INT4 => Val::Int(i32::from_sql(ty, raw)?.into()),
            Type::INT2 => Val::Int(i16::from_sql(ty, raw)?.into()),
            Type::BOOL => Val::Int(bool::from_sql(ty, raw)?.into()),
            Type::FLOAT8 => Val::Real(f64::from_sql(ty, raw)?),
            Type::FLOAT4 => Val::Real(f32::from_sql(ty, raw)?.into()),
            Type::NUMERIC => numeric(raw)?,
            Type::BYTEA => Val::Bytes(Cow::Owned(raw.to_vec())),
            _ => Val::Text(Cow::Owned(String::from_sql(ty, raw)?)),
        }))
    }

    fn from_sql_null(
        _: &Type,
    ) -> std::result::Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(PgVal(Val::Null))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

/// A `NUMERIC` (what PostgreSQL's `SUM` of integers gives) as an integer when it is one, else a
/// real. The wire format: digit count, weight (of the first digit, in powers of 10,000), sign,
/// scale, then base-10,000 digits.
fn numeric(
    raw: &[u8],
) -> std::result::Result<Val<'static>, Box<dyn std::error::Error + Sync + Send>> {
    let word = |i: usize| -> std::result::Result<i16, String> {
        raw.get(2 * i..2 * i + 2)
            .map(|b| i16::from_be_bytes([b[0], b[1]]))
            .ok_or_else(|| "a short NUMERIC".to_string())
    };
    let (ndigits, weight, sign, scale) = (word(0)?, word(1)?, word(2)? as u16, word(3)?);
    if sign == 0xC000 {
        return Err("NUMERIC NaN".into());
    }
    let mut value = 0f64;
    let mut int = 0i128;
    let mut whole = scale == 0;
    for k in 0..ndigits as usize {
        let d = word(4 + k)?;
        let power = i32::from(weight) - k as i32;
        value += f64::from(d) * 10_000f64.powi(power);
        if power >= 0 {
            int += i128::from(d) * 10_000i128.pow(power as u32);
        } else if d != 0 {
            whole = false;
        }
    }
    let negative = sign == 0x4000;
    Ok(match i64::try_from(if negative { -int } else { int }) {
        Ok(i) if whole => Val::Int(i),
        _ => Val::Real(if negative { -value } else { value }),
    })
}

/// Run `f` on `sql`. A PostgreSQL client blocks on a runtime of its own, which it may not do on
/// one of tokio's threads: there, `f` runs on a thread of its own for the call.
pub fn run<T: Send>(sql: &mut Sql, f: impl FnOnce(&Sql) -> Result<T> + Send) -> Result<T> {
    match sql {
        Sql::Pg(_) if tokio::runtime::Handle::try_current().is_ok() => std::thread::scope(|s| {
            // `&mut`: `Sql` is `Send` but not `Sync` (the connection's cell).
            s.spawn(move || f(sql))
                .join()
                .unwrap_or_else(|p| std::panic::resume_unwind(p))
        }),
        _ => f(sql),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_numbered_for_postgres_outside_quotes() {
        assert_eq!(
            dollar_params("SELECT a FROM t WHERE b = ?1 AND c = ?12 AND d = '?' AND e = ?2"),
            "SELECT a FROM t WHERE b = $1 AND c = $12 AND d = '?' AND e = $2"
        );
        assert_eq!(
            dollar_params("a = ? AND b LIKE ? ESCAPE '\\'"),
            "a = $1 AND b LIKE $2 ESCAPE '\\'"
        );
    }

    #[test]
    fn numerics_read_as_integers_when_whole() {
        // 12345678 = 1234 * 10^4 + 5678: two digits, weight 1.
        let raw = [0, 2, 0, 1, 0, 0, 0, 0, 0x04, 0xD2, 0x16, 0x2E];
        assert_eq!(numeric(&raw).unwrap(), Val::Int(12_345_678));
        let neg = [0, 1, 0, 0, 0x40, 0, 0, 0, 0, 7];
        assert_eq!(numeric(&neg).unwrap(), Val::Int(-7));
        let zero = [0, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(numeric(&zero).unwrap(), Val::Int(0));
        assert!(numeric(&[0, 1]).is_err());
    }
}
