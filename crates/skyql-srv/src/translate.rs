//! PostgreSQL's spelling of a statement into what the engine (or the
//! catalog's SQLite) understands, token by token so that strings and
//! comments are never touched: `$n` parameters become literals, `::type`
//! casts go, `service.resource` (quoted or not, as postgres_fdw and psql
//! send it) becomes `google.service.resource`, and for the catalog the
//! `pg_catalog.` qualifier of functions and the regular-expression operators
//! become SQLite's.

use skyql_registry::Registry;
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::tokenizer::{Location, Token, Tokenizer, Word};

/// A bound parameter value.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    Null,
    Text(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    /// Left as `$n` (describing a statement before its parameters are bound).
    Unbound(usize),
}

impl Param {
    fn literal(&self) -> String {
        match self {
            Param::Null => "NULL".into(),
            Param::Text(s) => format!("'{}'", s.replace('\'', "''")),
            Param::Int(i) => i.to_string(),
            Param::Float(f) if f.is_finite() => format!("{f:?}"),
            // PostgreSQL's spelling of the non-finite values, as text.
            Param::Float(f) if f.is_nan() => "'NaN'".into(),
            Param::Float(f) if *f > 0.0 => "'Infinity'".into(),
            Param::Float(_) => "'-Infinity'".into(),
            Param::Bool(b) => if *b { "1" } else { "0" }.into(),
            Param::Unbound(n) => format!("${n}"),
        }
    }
}

/// Where the statement goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Engine,
    Catalog,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Translated {
    pub sql: String,
    /// How many skyql resources it names.
    pub resources: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TranslateError {
    Syntax(String),
    MissingParam(usize),
}

impl std::fmt::Display for TranslateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TranslateError::Syntax(m) => write!(f, "syntax error: {m}"),
            TranslateError::MissingParam(n) => write!(
                f,
                "the statement uses ${n} but only {} parameter(s) were bound",
                n - 1
            ),
        }
    }
}

struct Tok {
    token: Token,
    start: usize,
    end: usize,
}

fn tokens(sql: &str) -> Result<Vec<Tok>, TranslateError> {
    let dialect = PostgreSqlDialect {};
    let raw = Tokenizer::new(&dialect, sql)
        .tokenize_with_location()
        .map_err(|e| TranslateError::Syntax(e.to_string()))?;
    let mut line_starts = vec![0];
    line_starts.extend(sql.match_indices('\n').map(|(i, _)| i + 1));
    let byte = |loc: Location| -> usize {
        let Some(&start) = line_starts.get(loc.line.saturating_sub(1) as usize) else {
            return sql.len();
        };
        sql[start..]
            .char_indices()
            .nth(loc.column.saturating_sub(1) as usize)
            .map_or(sql.len(), |(i, _)| start + i)
    };
    Ok(raw
        .into_iter()
        .filter(|t| !matches!(t.token, Token::Whitespace(_) | Token::EOF))
        .map(|t| Tok {
            start: byte(t.span.start),
            end: byte(t.span.end),
            token: t.token,
        })
        .collect())
}

fn word(t: Option<&Tok>) -> Option<&Word> {
    match t {
        Some(Tok {
            token: Token::Word(w),
            ..
        }) => Some(w),
        _ => None,
    }
}

fn is(t: Option<&Tok>, token: &Token) -> bool {
    t.is_some_and(|t| &t.token == token)
}

fn is_kw(t: Option<&Tok>, kw: &str) -> bool {
    word(t).is_some_and(|w| w.quote_style.is_none() && w.value.eq_ignore_ascii_case(kw))
}

/// Words that continue a multi-word type name after `::`.
const TYPE_WORDS: &[&str] = &["varying", "precision", "with", "without", "time", "zone"];

/// Translates one statement.
pub fn translate(
    sql: &str,
    params: &[Param],
    registry: &Registry,
    target: Target,
) -> Result<Translated, TranslateError> {
    let toks = tokens(sql)?;
    let mut installed = Installed {
        registry,
        names: None,
    };
    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    let mut resources = 0;
    let mut i = 0;
    while i < toks.len() {
        let t = &toks[i];
        match &t.token {
            Token::Placeholder(p) if p.starts_with('$') => {
                let n: usize = p[1..]
                    .parse()
                    .map_err(|_| TranslateError::Syntax(format!("bad parameter {p}")))?;
                let v = n
                    .checked_sub(1)
                    .and_then(|k| params.get(k))
                    .ok_or(TranslateError::MissingParam(n))?;
                edits.push((t.start, t.end, v.literal()));
            }
            Token::DoubleColon => {
                // `::type`, `::character varying(10)`, `::text[]`
                let mut j = i + 1;
                if word(toks.get(j)).is_some() {
                    j += 1;
                    while TYPE_WORDS.iter().any(|w| is_kw(toks.get(j), w)) {
                        j += 1;
                    }
                    if is(toks.get(j), &Token::Period) && word(toks.get(j + 1)).is_some() {
                        j += 2;
                    }
                    if is(toks.get(j), &Token::LParen) {
                        while j < toks.len() && !is(toks.get(j), &Token::RParen) {
                            j += 1;
                        }
                        j += 1;
                    }
                    while is(toks.get(j), &Token::LBracket) && is(toks.get(j + 1), &Token::RBracket)
                    {
                        j += 2;
                    }
                    let end = toks.get(j - 1).map_or(t.end, |x| x.end);
                    edits.push((t.start, end, String::new()));
                    i = j;
                    continue;
                }
            }
            Token::Word(_) if i == 0 || !is(toks.get(i - 1), &Token::Period) => {
                if let Some((len, name)) = resource_at(&toks, i, &mut installed) {
                    let end = toks[i + len - 1].end;
                    edits.push((t.start, end, name));
                    resources += 1;
                    i += len;
                    continue;
                }
                if target == Target::Catalog
                    && let Some(n) = catalog_word(&toks, i, &mut edits)
                {
                    i += n;
                    continue;
                }
            }
            Token::Eq
                if target == Target::Catalog
                    && is_kw(toks.get(i + 1), "ANY")
                    && is(toks.get(i + 2), &Token::LParen)
                    && is_kw(toks.get(i + 3), "ARRAY")
                    && is(toks.get(i + 4), &Token::LBracket) =>
            {
                // `= ANY (ARRAY[a, b])` → `IN (a, b)`
                let close = (i + 5..toks.len()).find(|&j| is(toks.get(j), &Token::RBracket));
                if let Some(j) = close
                    && is(toks.get(j + 1), &Token::RParen)
                {
                    edits.push((t.start, toks[i + 4].end, " IN (".into()));
                    edits.push((toks[j].start, toks[j + 1].end, ")".into()));
                    i += 5;
                    continue;
                }
            }
            Token::Eq
                if target == Target::Catalog
                    && is_kw(toks.get(i + 1), "ANY")
                    && is(toks.get(i + 2), &Token::LParen) =>
            {
                edits.push((t.start, toks[i + 1].end, " IN ".into()));
                i += 2;
                continue;
            }
            Token::EscapedStringLiteral(v) => {
                // E'...': SQLite has only plain strings (the tokenizer has
                // already resolved the escapes).
                edits.push((t.start, t.end, format!("'{}'", v.replace('\'', "''"))));
            }
            Token::LBracket if target == Target::Catalog => {
                // An array subscript (`prattrs[s]`): the catalog has no arrays.
                let mut j = i + 1;
                let mut depth = 1;
                while j < toks.len() {
                    match toks[j].token {
                        Token::LBracket => depth += 1,
                        Token::RBracket => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                    j += 1;
                }
                let end = toks.get(j).map_or(t.end, |x| x.end);
                edits.push((t.start, end, String::new()));
                i = j + 1;
                continue;
            }
            Token::Tilde | Token::TildeAsterisk if target == Target::Catalog => {
                edits.push((t.start, t.end, " REGEXP ".into()));
            }
            Token::ExclamationMarkTilde | Token::ExclamationMarkTildeAsterisk
                if target == Target::Catalog =>
            {
                edits.push((t.start, t.end, " NOT REGEXP ".into()));
            }
            _ => {}
        }
        i += 1;
    }
    edits.sort_by_key(|e| e.0);
    let mut out = String::with_capacity(sql.len());
    let mut at = 0;
    for (s, e, text) in edits {
        if s < at {
            continue;
        }
        out.push_str(&sql[at..s]);
        out.push_str(&text);
        at = e;
    }
    out.push_str(&sql[at..]);
    Ok(Translated {
        sql: out,
        resources,
    })
}

/// `[google.]service.resource` at `i`, as the engine spells it: the number
/// of tokens it spans and `google.service.resource`.
/// The installed services' names, read from the registry once per statement.
struct Installed<'a> {
    registry: &'a Registry,
    names: Option<Vec<String>>,
}

impl Installed<'_> {
    fn contains(&mut self, service: &str) -> bool {
        let registry = self.registry;
        self.names
            .get_or_insert_with(|| registry.documents().into_iter().map(|d| d.name).collect())
            .iter()
            .any(|n| n == service)
    }
}

fn resource_at(toks: &[Tok], i: usize, installed: &mut Installed<'_>) -> Option<(usize, String)> {
    let part = |k: usize| word(toks.get(i + 2 * k)).map(|w| w.value.clone());
    let dot = |k: usize| is(toks.get(i + 2 * k + 1), &Token::Period);
    let (len, provider, service, resource) = if dot(0) && dot(1) && !dot(2) {
        (5, part(0)?, part(1)?, part(2)?)
    } else if dot(0) && !dot(1) {
        (3, "google".to_string(), part(0)?, part(1)?)
    } else {
        return None;
    };
    if !provider.eq_ignore_ascii_case("google") || !simple(&service) || !simple(&resource) {
        return None;
    }
    // `google.service.resource` is always meant for the engine (which says
    // what is wrong with it); `service.resource` only for installed
    // services, so that `alias.column` stays what it is.
    if len == 3 && !installed.contains(&service) {
        return None;
    }
    Some((len, format!("google.{service}.{resource}")))
}

fn simple(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Catalog-only rewrites at a word: `pg_catalog.f(` → `f(`,
/// `OPERATOR(pg_catalog.~)` → `REGEXP`, `COLLATE pg_catalog.default` → ``.
/// Returns how many tokens it consumed.
fn catalog_word(toks: &[Tok], i: usize, edits: &mut Vec<(usize, usize, String)>) -> Option<usize> {
    let t = &toks[i];
    if is_kw(Some(t), "pg_catalog")
        && is(toks.get(i + 1), &Token::Period)
        && word(toks.get(i + 2)).is_some()
        && is(toks.get(i + 3), &Token::LParen)
    {
        edits.push((t.start, toks[i + 1].end, String::new()));
        return Some(2 + catalog_word(toks, i + 2, edits).unwrap_or(0));
    }
    if is_kw(Some(t), "OPERATOR") && is(toks.get(i + 1), &Token::LParen) {
        // OPERATOR(pg_catalog.~) and friends
        let mut j = i + 2;
        let mut op = None;
        while j < toks.len() && !is(toks.get(j), &Token::RParen) {
            match toks[j].token {
                Token::Tilde | Token::TildeAsterisk => op = Some(" REGEXP "),
                Token::ExclamationMarkTilde | Token::ExclamationMarkTildeAsterisk => {
                    op = Some(" NOT REGEXP ")
                }
                Token::Eq => op = Some(" = "),
                Token::Neq => op = Some(" <> "),
                _ => {}
            }
            j += 1;
        }
        let op = op?;
        edits.push((t.start, toks.get(j)?.end, op.into()));
        return Some(j - i + 1);
    }
    // SQL's niladic functions, which SQLite knows as plain functions.
    for f in [
        "current_user",
        "session_user",
        "current_role",
        "current_catalog",
        "current_schema",
    ] {
        if is_kw(Some(t), f) && !is(toks.get(i + 1), &Token::LParen) {
            let call = match f {
                "current_schema" => "current_schema()",
                "current_catalog" => "current_database()",
                _ => "current_user()",
            };
            edits.push((t.start, t.end, call.into()));
            return Some(1);
        }
    }
    // unnest(array) alias in FROM: the catalog's arrays are all empty, so
    // it is a table of no rows with one column named like its alias.
    if is_kw(Some(t), "unnest") && is(toks.get(i + 1), &Token::LParen) {
        let mut j = i + 2;
        let mut depth = 1;
        while j < toks.len() && depth > 0 {
            match toks[j].token {
                Token::LParen => depth += 1,
                Token::RParen => depth -= 1,
                _ => {}
            }
            j += 1;
        }
        let mut k = j;
        if is_kw(toks.get(k), "AS") {
            k += 1;
        }
        let alias = word(toks.get(k))
            .filter(|w| {
                w.quote_style.is_some()
                    || !["WHERE", "ON", "JOIN", "ORDER", "GROUP", "LIMIT", "UNION"]
                        .iter()
                        .any(|kw| w.value.eq_ignore_ascii_case(kw))
            })
            .map(|w| w.value.clone());
        let (end, alias) = match alias {
            Some(a) => (toks[k].end, a),
            None => (toks[j - 1].end, "unnest".to_string()),
        };
        edits.push((
            t.start,
            end,
            format!("(SELECT NULL AS \"{alias}\" WHERE 0) \"{alias}\""),
        ));
        return Some(if end == toks[j - 1].end {
            j - i
        } else {
            k - i + 1
        });
    }
    // Aggregates into arrays: the catalog has none, a list reads alike.
    if is_kw(Some(t), "array_agg") && is(toks.get(i + 1), &Token::LParen) {
        edits.push((t.start, t.end, "group_concat".into()));
        return Some(1);
    }
    if is_kw(Some(t), "string_agg") && is(toks.get(i + 1), &Token::LParen) {
        edits.push((t.start, t.end, "group_concat".into()));
        return Some(1);
    }
    if is_kw(Some(t), "json_build_object") && is(toks.get(i + 1), &Token::LParen) {
        edits.push((t.start, t.end, "json_object".into()));
        return Some(1);
    }
    // ARRAY(SELECT ...) → (SELECT ...): the first element is what psql shows.
    if is_kw(Some(t), "ARRAY")
        && is(toks.get(i + 1), &Token::LParen)
        && is_kw(toks.get(i + 2), "SELECT")
    {
        edits.push((t.start, t.end, String::new()));
        return Some(1);
    }
    if is_kw(Some(t), "COLLATE") {
        // COLLATE pg_catalog.default / COLLATE "C"
        let mut j = i + 1;
        if word(toks.get(j)).is_some() && is(toks.get(j + 1), &Token::Period) {
            j += 2;
        }
        word(toks.get(j))?;
        edits.push((t.start, toks[j].end, String::new()));
        return Some(j - i + 1);
    }
    None
}

/// The highest `$n` in a statement (its parameter count).
pub fn param_count(sql: &str) -> usize {
    tokens(sql)
        .map(|toks| {
            toks.iter()
                .filter_map(|t| match &t.token {
                    Token::Placeholder(p) => p.strip_prefix('$')?.parse::<usize>().ok(),
                    _ => None,
                })
                .max()
                .unwrap_or(0)
        })
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registry() -> Registry {
        Registry::open(std::env::temp_dir().join("skyql-srv-translate-test-home"))
    }

    /// `sql` translated for `target` with `params` bound.
    fn translated(sql: &str, params: &[Param], target: Target) -> Translated {
        translate(sql, params, &registry(), target).expect("translate")
    }

    #[test]
    fn postgres_fdw_spelling_reaches_the_engine_spelling() {
        let t = translated(
            r#"SELECT "name", "state" FROM "aiplatform"."custom_jobs" WHERE (("projectsId" = 'demo-project'::text)) AND "locationsId" = $1::character varying"#,
            &[Param::Text("us-central1".into())],
            Target::Engine,
        );
        assert_eq!(
            t.sql,
            r#"SELECT "name", "state" FROM google.aiplatform.custom_jobs WHERE (("projectsId" = 'demo-project')) AND "locationsId" = 'us-central1'"#
        );
        assert_eq!(t.resources, 1);
    }

    #[test]
    fn strings_and_aliases_are_left_alone() {
        let t = translated(
            "SELECT j.name, 'aiplatform.custom_jobs::text' FROM google.aiplatform.custom_jobs j WHERE x = $2",
            &[Param::Int(1), Param::Text("it's".into())],
            Target::Engine,
        );
        assert_eq!(
            t.sql,
            "SELECT j.name, 'aiplatform.custom_jobs::text' FROM google.aiplatform.custom_jobs j WHERE x = 'it''s'"
        );
        assert_eq!(
            translate("SELECT $3", &[], &registry(), Target::Engine),
            Err(TranslateError::MissingParam(3))
        );
    }

    #[test]
    fn catalog_operators_become_sqlite() {
        let t = translated(
            "SELECT pg_catalog.format_type(a.atttypid, NULL) FROM pg_catalog.pg_class c WHERE c.relname OPERATOR(pg_catalog.~) '^(x)$' COLLATE pg_catalog.default AND n.nspname !~ '^pg_' AND c.oid = '1'::regclass",
            &[],
            Target::Catalog,
        );
        assert_eq!(
            t.sql,
            "SELECT format_type(a.atttypid, NULL) FROM pg_catalog.pg_class c WHERE c.relname  REGEXP  '^(x)$'  AND n.nspname  NOT REGEXP  '^pg_' AND c.oid = '1'"
        );
        assert_eq!(param_count("SELECT $1, $3, '$4'"), 3);
        let t = translated(
            "SELECT 1 WHERE c.relkind = ANY (ARRAY['r'::VARCHAR, $1::VARCHAR]) AND x[1] = 2",
            &[Param::Text("p".into())],
            Target::Catalog,
        );
        assert_eq!(t.sql, "SELECT 1 WHERE c.relkind  IN ('r', 'p') AND x = 2");
        let t = translated(
            "select 'toast.' || x from pg_catalog.unnest(tc.reloptions) x",
            &[],
            Target::Catalog,
        );
        assert_eq!(
            t.sql,
            r#"select 'toast.' || x from (SELECT NULL AS "x" WHERE 0) "x""#
        );
    }
}
