//! The SQL functions StackQL adds to SQLite, registered on every connection
//! the engine opens: `split_part` (negative indexes count from the end),
//! `regexp_like`, `regexp_substr`, `regexp_replace` (and the `REGEXP`
//! operator), `json_equal`, and SQLite's math functions (`floor`, `ceil`,
//! `pow`, `ln`, ...), which the bundled SQLite is built without. SQLite's
//! own JSON and date functions are there already.
//!
//! Every function returns NULL for a NULL argument; a bad regular
//! expression or a zero `split_part` index is an error that says so.

use rusqlite::Connection;
use rusqlite::functions::{Context, FunctionFlags};
use rusqlite::types::{Value as SqlValue, ValueRef};
use std::sync::Arc;

type FnResult<T> = rusqlite::Result<T>;
/// A named one-argument math function.
type Unary = (&'static str, fn(f64) -> f64);
/// A named two-argument math function.
type Binary = (&'static str, fn(f64, f64) -> f64);

fn user_error(msg: String) -> rusqlite::Error {
    rusqlite::Error::UserFunctionError(msg.into())
}

/// Registers every function on `conn`.
pub fn register(conn: &Connection) -> rusqlite::Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    conn.create_scalar_function("split_part", 3, flags, |ctx| split_part(ctx))?;
    conn.create_scalar_function("regexp_like", 2, flags, |ctx| {
        regex_fn(ctx, "regexp_like", 1, 0, |re, s| {
            SqlValue::Integer(i64::from(re.is_match(s)))
        })
    })?;
    // `x REGEXP y` is `regexp(y, x)`.
    conn.create_scalar_function("regexp", 2, flags, |ctx| {
        regex_fn(ctx, "REGEXP", 0, 1, |re, s| {
            SqlValue::Integer(i64::from(re.is_match(s)))
        })
    })?;
    conn.create_scalar_function("regexp_substr", 2, flags, |ctx| {
        regex_fn(ctx, "regexp_substr", 1, 0, |re, s| {
            re.find(s)
                .map_or(SqlValue::Null, |m| SqlValue::Text(m.as_str().to_string()))
        })
    })?;
    conn.create_scalar_function("regexp_replace", 3, flags, |ctx| {
        let Some(with) = text_arg(ctx, 2)? else {
            return Ok(SqlValue::Null);
        };
        regex_fn(ctx, "regexp_replace", 1, 0, |re, s| {
            SqlValue::Text(re.replace_all(s, with.as_str()).into_owned())
        })
    })?;
    conn.create_scalar_function("json_equal", 2, flags, |ctx| {
        let (Some(a), Some(b)) = (text_arg(ctx, 0)?, text_arg(ctx, 1)?) else {
            return Ok(SqlValue::Null);
        };
        let parse = |s: &str, which: &str| {
            serde_json::from_str::<serde_json::Value>(s).map_err(|e| {
                user_error(format!("json_equal: the {which} argument is not JSON: {e}"))
            })
        };
        Ok(SqlValue::Integer(i64::from(
            parse(&a, "first")? == parse(&b, "second")?,
        )))
    })?;
    register_math(conn, flags)
}

/// A text argument (numbers as their text); `None` for NULL.
fn text_arg(ctx: &Context<'_>, i: usize) -> FnResult<Option<String>> {
    Ok(match ctx.get_raw(i) {
        ValueRef::Null => None,
        ValueRef::Integer(n) => Some(n.to_string()),
        ValueRef::Real(r) => Some(r.to_string()),
        ValueRef::Text(t) | ValueRef::Blob(t) => Some(String::from_utf8_lossy(t).into_owned()),
    })
}

/// `split_part(source, separator, part)`: parts counted from 1, or from -1
/// at the end; a part beyond either end is NULL.
fn split_part(ctx: &Context<'_>) -> FnResult<SqlValue> {
    let (Some(source), Some(sep)) = (text_arg(ctx, 0)?, text_arg(ctx, 1)?) else {
        return Ok(SqlValue::Null);
    };
    let part = match ctx.get_raw(2) {
        ValueRef::Null => return Ok(SqlValue::Null),
        ValueRef::Integer(n) => n,
        ValueRef::Real(r) if r.fract() == 0.0 => r as i64,
        other => {
            return Err(user_error(format!(
                "split_part: the part must be a whole number (1 is the first, -1 the last), not {}",
                crate::value::sql_to_param(other).unwrap_or_default()
            )));
        }
    };
    if sep.is_empty() {
        return Err(user_error(
            "split_part: the separator must not be empty".into(),
        ));
    }
    let parts: Vec<&str> = source.split(sep.as_str()).collect();
    let index = match part {
        0 => {
            return Err(user_error(
                "split_part: parts are numbered from 1 (or from -1 at the end), not 0".into(),
            ));
        }
        p if p > 0 => usize::try_from(p - 1).ok(),
        p => usize::try_from(p.unsigned_abs())
            .ok()
            .and_then(|back| parts.len().checked_sub(back)),
    };
    Ok(index
        .and_then(|i| parts.get(i))
        .map_or(SqlValue::Null, |s| SqlValue::Text((*s).to_string())))
}

/// Runs `f` on the text argument `subject` with the pattern argument
/// `pattern` compiled (once per statement, kept as SQLite aux data).
fn regex_fn(
    ctx: &Context<'_>,
    name: &str,
    pattern: usize,
    subject: usize,
    f: impl Fn(&regex_lite::Regex, &str) -> SqlValue,
) -> FnResult<SqlValue> {
    if matches!(ctx.get_raw(pattern), ValueRef::Null) {
        return Ok(SqlValue::Null);
    }
    let re: Arc<regex_lite::Regex> = ctx.get_or_create_aux(pattern as i32, |v| {
        let p = match v {
            ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
            other => crate::value::sql_to_param(other).unwrap_or_default(),
        };
        regex_lite::Regex::new(&p).map_err(|e| {
            user_error(format!(
                "{name}: `{p}` is not a valid regular expression: {e}"
            ))
        })
    })?;
    let Some(s) = text_arg(ctx, subject)? else {
        return Ok(SqlValue::Null);
    };
    Ok(f(&re, &s))
}

/// A numeric argument as SQLite's math functions read it: numbers as they
/// are, numeric text converted, anything else `None` (the result is NULL).
fn number(v: ValueRef<'_>) -> Option<f64> {
    match v {
        ValueRef::Integer(i) => Some(i as f64),
        ValueRef::Real(r) => Some(r),
        ValueRef::Text(t) => std::str::from_utf8(t).ok()?.trim().parse().ok(),
        _ => None,
    }
}

fn real(x: f64) -> SqlValue {
    if x.is_nan() {
        SqlValue::Null
    } else {
        SqlValue::Real(x)
    }
}

/// SQLite's math functions (as `-DSQLITE_ENABLE_MATH_FUNCTIONS` defines
/// them): a NULL or non-numeric argument, or one outside the function's
/// domain, gives NULL.
fn register_math(conn: &Connection, flags: FunctionFlags) -> rusqlite::Result<()> {
    let unary: &[Unary] = &[
        ("acos", f64::acos),
        ("acosh", f64::acosh),
        ("asin", f64::asin),
        ("asinh", f64::asinh),
        ("atan", f64::atan),
        ("atanh", f64::atanh),
        ("cos", f64::cos),
        ("cosh", f64::cosh),
        ("degrees", f64::to_degrees),
        ("exp", f64::exp),
        ("ln", ln),
        ("log10", |x| if x > 0.0 { x.log10() } else { f64::NAN }),
        ("log2", |x| if x > 0.0 { x.log2() } else { f64::NAN }),
        ("radians", f64::to_radians),
        ("sin", f64::sin),
        ("sinh", f64::sinh),
        ("sqrt", |x| if x >= 0.0 { x.sqrt() } else { f64::NAN }),
        ("tan", f64::tan),
        ("tanh", f64::tanh),
    ];
    for &(name, f) in unary {
        conn.create_scalar_function(name, 1, flags, move |ctx| {
            Ok(number(ctx.get_raw(0)).map_or(SqlValue::Null, |x| real(f(x))))
        })?;
    }
    // Integers stay integers; reals are rounded the named way.
    let rounding: &[Unary] = &[
        ("ceil", f64::ceil),
        ("ceiling", f64::ceil),
        ("floor", f64::floor),
        ("trunc", f64::trunc),
    ];
    for &(name, f) in rounding {
        conn.create_scalar_function(name, 1, flags, move |ctx| {
            Ok(match ctx.get_raw(0) {
                ValueRef::Integer(i) => SqlValue::Integer(i),
                v => number(v).map_or(SqlValue::Null, |x| real(f(x))),
            })
        })?;
    }
    let binary: &[Binary] = &[
        ("atan2", f64::atan2),
        ("mod", |a, b| if b == 0.0 { f64::NAN } else { a % b }),
        ("pow", f64::powf),
        ("power", f64::powf),
        ("log", |b, x| {
            if b > 0.0 && b != 1.0 && x > 0.0 {
                x.ln() / b.ln()
            } else {
                f64::NAN
            }
        }),
    ];
    for &(name, f) in binary {
        conn.create_scalar_function(name, 2, flags, move |ctx| {
            Ok(match (number(ctx.get_raw(0)), number(ctx.get_raw(1))) {
                (Some(a), Some(b)) => real(f(a, b)),
                _ => SqlValue::Null,
            })
        })?;
    }
    // log(x) is the base-10 logarithm.
    conn.create_scalar_function("log", 1, flags, |ctx| {
        Ok(number(ctx.get_raw(0)).map_or(SqlValue::Null, |x| {
            real(if x > 0.0 { x.log10() } else { f64::NAN })
        }))
    })?;
    conn.create_scalar_function("pi", 0, flags, |_| Ok(SqlValue::Real(std::f64::consts::PI)))?;
    Ok(())
}

fn ln(x: f64) -> f64 {
    if x > 0.0 { x.ln() } else { f64::NAN }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn() -> Connection {
        let c = Connection::open_in_memory().expect("db");
        register(&c).expect("register");
        c
    }

    fn one(c: &Connection, sql: &str) -> SqlValue {
        c.query_row(sql, [], |r| r.get::<_, SqlValue>(0))
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    fn fails(c: &Connection, sql: &str) -> String {
        c.query_row(sql, [], |r| r.get::<_, SqlValue>(0))
            .expect_err(sql)
            .to_string()
    }

    fn text(s: &str) -> SqlValue {
        SqlValue::Text(s.into())
    }

    #[test]
    fn split_part_counts_from_either_end() {
        let c = conn();
        let url = "https://www.googleapis.com/compute/v1/projects/p/zones/us-east1-b";
        assert_eq!(
            one(&c, &format!("SELECT split_part('{url}', '/', -1)")),
            text("us-east1-b")
        );
        assert_eq!(
            one(&c, &format!("SELECT split_part('{url}', '/', 1)")),
            text("https:")
        );
        assert_eq!(
            one(&c, &format!("SELECT split_part('{url}', '/', 2)")),
            text("")
        );
        assert_eq!(one(&c, "SELECT split_part('a/b/c', '/', -3)"), text("a"));
        assert_eq!(one(&c, "SELECT split_part('/a/b/c/', '/', 5)"), text(""));
        assert_eq!(one(&c, "SELECT split_part('a//b', '//', 2)"), text("b"));
        for out_of_range in ["4", "-4", "9223372036854775807", "-9223372036854775808"] {
            assert_eq!(
                one(
                    &c,
                    &format!("SELECT split_part('a/b/c', '/', {out_of_range})")
                ),
                SqlValue::Null,
                "{out_of_range}"
            );
        }
        for nulls in ["NULL, '/', 1", "'a/b', NULL, 1", "'a/b', '/', NULL"] {
            assert_eq!(
                one(&c, &format!("SELECT split_part({nulls})")),
                SqlValue::Null
            );
        }
        assert_eq!(one(&c, "SELECT split_part('', '/', 1)"), text(""));
        assert!(fails(&c, "SELECT split_part('a/b', '/', 0)").contains("numbered from 1"));
        assert!(fails(&c, "SELECT split_part('a/b', '', 1)").contains("must not be empty"));
        assert!(fails(&c, "SELECT split_part('a/b', '/', 'x')").contains("whole number"));
    }

    #[test]
    fn regular_expressions() {
        let c = conn();
        assert_eq!(
            one(&c, "SELECT regexp_like('hello world', '^hello')"),
            SqlValue::Integer(1)
        );
        assert_eq!(
            one(&c, "SELECT regexp_like('hello world', '^world')"),
            SqlValue::Integer(0)
        );
        assert_eq!(
            one(&c, "SELECT 'n1-standard-4' REGEXP '^n[12]-'"),
            SqlValue::Integer(1)
        );
        assert_eq!(
            one(&c, "SELECT regexp_substr('hello world', 'w.*d')"),
            text("world")
        );
        assert_eq!(
            one(&c, "SELECT regexp_substr('hello', 'xyz')"),
            SqlValue::Null
        );
        assert_eq!(
            one(&c, "SELECT regexp_replace('a1b22c', '[0-9]+', '#')"),
            text("a#b#c")
        );
        assert_eq!(
            one(&c, "SELECT regexp_replace('abc', 'x', 'y')"),
            text("abc")
        );
        assert_eq!(one(&c, "SELECT regexp_like(NULL, 'a')"), SqlValue::Null);
        assert_eq!(one(&c, "SELECT regexp_like('a', NULL)"), SqlValue::Null);
        assert_eq!(
            one(&c, "SELECT regexp_replace('a', 'a', NULL)"),
            SqlValue::Null
        );
        let e = fails(&c, "SELECT regexp_like('abc', 'a(')");
        assert!(
            e.contains("regexp_like: `a(` is not a valid regular expression"),
            "{e}"
        );
        // The pattern is compiled once for all rows.
        c.execute_batch("CREATE TABLE t(s); INSERT INTO t VALUES ('ab'), ('cd'), (NULL)")
            .expect("t");
        let n: i64 = c
            .query_row(
                "SELECT count(*) FROM t WHERE regexp_like(s, '^[a-c]')",
                [],
                |r| r.get(0),
            )
            .expect("count");
        assert_eq!(n, 2);
    }

    #[test]
    fn json_equal_ignores_key_order() {
        let c = conn();
        assert_eq!(
            one(
                &c,
                r#"SELECT json_equal('{"a":1,"b":[1,2]}', '{"b":[1,2],"a":1}')"#
            ),
            SqlValue::Integer(1)
        );
        assert_eq!(
            one(&c, "SELECT json_equal('[1,2]', '[2,1]')"),
            SqlValue::Integer(0)
        );
        assert_eq!(one(&c, "SELECT json_equal(NULL, '[]')"), SqlValue::Null);
        assert!(fails(&c, "SELECT json_equal('{', '[]')").contains("first argument is not JSON"));
    }

    #[test]
    fn math_functions_like_sqlite_builds_them() {
        let c = conn();
        let cases: &[(&str, SqlValue)] = &[
            ("floor(2.7)", SqlValue::Real(2.0)),
            ("floor(-2.5)", SqlValue::Real(-3.0)),
            ("floor(7)", SqlValue::Integer(7)),
            ("ceil(2.1)", SqlValue::Real(3.0)),
            ("ceiling('2.1')", SqlValue::Real(3.0)),
            ("trunc(-2.7)", SqlValue::Real(-2.0)),
            ("pow(2, 10)", SqlValue::Real(1024.0)),
            ("power(9, 0.5)", SqlValue::Real(3.0)),
            ("sqrt(-1)", SqlValue::Null),
            ("ln(0)", SqlValue::Null),
            ("log(100)", SqlValue::Real(2.0)),
            ("log(2, 8)", SqlValue::Real(3.0)),
            ("log2(8)", SqlValue::Real(3.0)),
            ("mod(7, 3)", SqlValue::Real(1.0)),
            ("mod(7, 0)", SqlValue::Null),
            ("floor(NULL)", SqlValue::Null),
            ("floor('abc')", SqlValue::Null),
            ("degrees(pi())", SqlValue::Real(180.0)),
            ("round(2.567, 2)", SqlValue::Real(2.57)),
        ];
        for (expr, want) in cases {
            assert_eq!(&one(&c, &format!("SELECT {expr}")), want, "{expr}");
        }
        // SQLite's own date and JSON functions are there.
        assert_eq!(
            one(&c, "SELECT date('2026-06-01T12:00:00Z', '+1 day')"),
            text("2026-06-02")
        );
        assert_eq!(
            one(&c, "SELECT json_extract('{\"a\":{\"b\":2}}', '$.a.b')"),
            SqlValue::Integer(2)
        );
    }
}
