//! LEFT JOIN with the right table's parameters in WHERE. In StackQL a
//! condition on a parameter is an input to the request, not a filter; in
//! SQL, `WHERE d.project = 'p'` after `LEFT JOIN ... d` filters the joined
//! rows, and SQLite does not offer it to `d`'s scan (whose request then has
//! no project). So such conditions (`=` or `IN` with constants, top-level
//! ANDs of the outermost WHERE) move into the join's ON clause, where they
//! feed the request and leave the unmatched left rows alone.
//!
//! A RIGHT JOIN has the same problem with its left table, and SQLite does
//! not give a RIGHT JOIN's ON terms to the left table's scan either; so
//! `A RIGHT JOIN B ON c` (as the first join of the FROM clause) is first
//! written `B LEFT JOIN A ON c`, the same rows, with a `*` projection
//! spelled `A.*, B.*` to keep its column order. A FULL JOIN, or a RIGHT
//! JOIN further along the FROM clause, cannot be helped this way: a
//! parameter condition on its stranded tables is an error that shows the
//! subquery to write instead.

use crate::Error;
use crate::classify::name_of;
use crate::statement::Statement;
use sqlparser::ast::{
    self, BinaryOperator, Expr, JoinConstraint, JoinOperator, SetExpr, Spanned, TableFactor,
};
use sqlparser::dialect::SQLiteDialect;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::Location;

/// A table on the right of a LEFT JOIN: its name, how conditions refer to
/// it, and the span of its ON condition.
struct Right {
    table: String,
    refs: String,
    on: (Location, Location),
}

/// The statement with right-table parameter conditions moved from WHERE
/// into ON, if there are any; `select` is the statement's outermost SELECT
/// as classification parsed it, and `is_param(table, column)` says which
/// columns of a table are request parameters.
pub fn move_parameters(
    stmt: &Statement,
    select: &ast::Select,
    is_param: &mut dyn FnMut(&str, &str) -> Result<bool, Error>,
) -> Result<Option<String>, Error> {
    if select.from.iter().all(|f| f.joins.is_empty()) {
        return Ok(None);
    }
    refuse_unreachable(select, is_param)?;
    // The swapped form is used only when it lets a condition move: a RIGHT
    // JOIN that needs no help stays as written.
    if let Some(swapped) = right_to_left(&stmt.text, select)
        && let Some(swapped_select) = parse_select(&swapped)
        && let Some(moved) = move_into_on(&swapped, &swapped_select, is_param)?
    {
        return Ok(Some(moved));
    }
    move_into_on(&stmt.text, select, is_param)
}

/// The outermost SELECT of a statement that is one (no set operation).
pub fn parse_select(text: &str) -> Option<Box<ast::Select>> {
    let mut parsed = Parser::parse_sql(&SQLiteDialect {}, text).ok()?;
    let ast::Statement::Query(q) = parsed.pop()? else {
        return None;
    };
    match *q.body {
        SetExpr::Select(select) => Some(select),
        _ => None,
    }
}

/// `text` with parameter conditions on LEFT JOINs' right tables moved from
/// WHERE into ON, or `None` when nothing moves.
fn move_into_on(
    text: &str,
    select: &ast::Select,
    is_param: &mut dyn FnMut(&str, &str) -> Result<bool, Error>,
) -> Result<Option<String>, Error> {
    let mut rights = Vec::new();
    for from in &select.from {
        for j in &from.joins {
            let (JoinOperator::Left(JoinConstraint::On(on))
            | JoinOperator::LeftOuter(JoinConstraint::On(on))) = &j.join_operator
            else {
                continue;
            };
            let TableFactor::Table { name, alias, .. } = &j.relation else {
                continue;
            };
            let table = name_of(name);
            let refs = alias
                .as_ref()
                .map_or_else(|| table.clone(), |a| a.name.value.clone());
            let span = on.span();
            rights.push(Right {
                table,
                refs,
                on: (span.start, span.end),
            });
        }
    }
    let Some(selection) = &select.selection else {
        return Ok(None);
    };
    if rights.is_empty() {
        return Ok(None);
    }
    let conjuncts = crate::classify::conjuncts(selection);
    // (byte range of the condition in WHERE, index of the right table)
    let mut moves: Vec<(std::ops::Range<usize>, usize)> = Vec::new();
    let offsets = Offsets::new(text);
    for c in conjuncts {
        let Some((qualifier, column)) = param_condition(c) else {
            continue;
        };
        let Some(i) = rights.iter().position(|r| r.refs == qualifier) else {
            continue;
        };
        if !is_param(&rights[i].table, &column)? {
            continue;
        }
        let span = c.span();
        let (Some(a), Some(b)) = (offsets.byte(span.start), offsets.byte(span.end)) else {
            continue;
        };
        let b = balanced_end(text, a, b);
        if a < b {
            moves.push((a..b, i));
        }
    }
    if moves.is_empty() {
        return Ok(None);
    }
    // Edits from the end so that earlier offsets stay right: each moved
    // condition becomes `1` in WHERE and is ANDed onto its ON clause.
    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    for (i, r) in rights.iter().enumerate() {
        let mine: Vec<&str> = moves
            .iter()
            .filter(|(_, k)| *k == i)
            .map(|(range, _)| &text[range.clone()])
            .collect();
        if mine.is_empty() {
            continue;
        }
        let (Some(a), Some(b)) = (offsets.byte(r.on.0), offsets.byte(r.on.1)) else {
            return Ok(None);
        };
        let b = balanced_end(text, a, b);
        edits.push((a, a, "(".into()));
        edits.push((b, b, format!(") AND {}", mine.join(" AND "))));
    }
    for (range, _) in &moves {
        edits.push((range.start, range.end, "1".into()));
    }
    Ok(Some(apply(text, edits)))
}

/// Tables whose scans are offered nothing from WHERE and that no rewrite
/// here helps: both sides of a FULL JOIN, and the left side of a RIGHT
/// JOIN that is not the first join (or that has no ON, or a side that is
/// not a named table). A parameter condition on one of them is an error
/// that says what to write instead, rather than a "needs ... in the WHERE
/// clause" that it is in.
fn refuse_unreachable(
    select: &ast::Select,
    is_param: &mut dyn FnMut(&str, &str) -> Result<bool, Error>,
) -> Result<(), Error> {
    let Some(selection) = &select.selection else {
        return Ok(());
    };
    let named = |t: &TableFactor| match t {
        TableFactor::Table { name, alias, .. } => {
            let table = name_of(name);
            let refs = alias
                .as_ref()
                .map_or_else(|| table.clone(), |a| a.name.value.clone());
            Some((table, refs))
        }
        _ => None,
    };
    // (table, how conditions refer to it, the join that strands it)
    let mut stuck: Vec<(String, String, &str)> = Vec::new();
    for f in &select.from {
        let rels: Vec<&TableFactor> = std::iter::once(&f.relation)
            .chain(f.joins.iter().map(|j| &j.relation))
            .collect();
        for (i, j) in f.joins.iter().enumerate() {
            let (side, kind) = match &j.join_operator {
                JoinOperator::FullOuter(_) => (&rels[..], "FULL JOIN"),
                JoinOperator::Right(c) | JoinOperator::RightOuter(c) => {
                    let swappable = i == 0
                        && matches!(c, JoinConstraint::On(_))
                        && named(rels[0]).is_some()
                        && named(rels[1]).is_some();
                    if swappable {
                        continue;
                    }
                    (&rels[..=i], "RIGHT JOIN")
                }
                _ => continue,
            };
            stuck.extend(
                side.iter()
                    .filter_map(|t| named(t))
                    .map(|(table, refs)| (table, refs, kind)),
            );
        }
    }
    if stuck.is_empty() {
        return Ok(());
    }
    for c in crate::classify::conjuncts(selection) {
        let Some((qualifier, column)) = param_condition(c) else {
            continue;
        };
        let Some((table, refs, kind)) = stuck.iter().find(|(_, r, _)| *r == qualifier) else {
            continue;
        };
        if is_param(table, &column)? {
            return Err(Error::MissingParams(format!(
                "{table}'s parameter {column} is in the WHERE clause of a {kind}, where it \
                 cannot reach the table's request: give the parameters in a subquery that also \
                 selects the parameter columns the join uses, e.g. FROM (SELECT *, {column} \
                 FROM {table} WHERE {column} = '...') {refs} {kind} ..."
            )));
        }
    }
    Ok(())
}

/// `text` with byte-range replacements made (ranges must not overlap).
fn apply(text: &str, mut edits: Vec<(usize, usize, String)>) -> String {
    edits.sort_by(|x, y| y.0.cmp(&x.0).then(y.1.cmp(&x.1)));
    let mut text = text.to_owned();
    for (a, b, with) in edits {
        text.replace_range(a..b, &with);
    }
    text
}

/// `SELECT ... FROM A RIGHT JOIN B ON c ...` written as
/// `SELECT ... FROM B LEFT JOIN A ON c ...`, when the RIGHT JOIN is the
/// first join and both sides are named tables; `*` becomes `A.*, B.*`.
fn right_to_left(text: &str, select: &ast::Select) -> Option<String> {
    let [from] = select.from.as_slice() else {
        return None;
    };
    let first = from.joins.first()?;
    let (JoinOperator::Right(JoinConstraint::On(_))
    | JoinOperator::RightOuter(JoinConstraint::On(_))) = &first.join_operator
    else {
        return None;
    };
    let refs = |t: &TableFactor| match t {
        TableFactor::Table { name, alias, .. } => Some(
            alias
                .as_ref()
                .map_or_else(|| name.to_string(), |a| a.name.to_string()),
        ),
        _ => None,
    };
    let (left_ref, right_ref) = (refs(&from.relation)?, refs(&first.relation)?);
    let offsets = Offsets::new(text);
    let range = |span: sqlparser::tokenizer::Span| -> Option<std::ops::Range<usize>> {
        let (a, b) = (offsets.byte(span.start)?, offsets.byte(span.end)?);
        (a < b).then_some(a..b)
    };
    let left = range(from.relation.span())?;
    let right = range(first.relation.span())?;
    if left.end > right.start {
        return None;
    }
    let mut edits = vec![
        (left.start, left.end, text[right.clone()].to_owned()),
        (left.end, right.start, " LEFT JOIN ".to_owned()),
        (right.start, right.end, text[left.clone()].to_owned()),
    ];
    for item in &select.projection {
        if let ast::SelectItem::Wildcard(w) = item {
            let star = range(w.wildcard_token.0.span)?;
            edits.push((star.start, star.end, format!("{left_ref}.*, {right_ref}.*")));
        }
    }
    Some(apply(text, edits))
}

/// sqlparser's spans can stop short of closing parentheses (an IN list's):
/// extends `a..b` past as many `)` as it has unclosed `(`.
fn balanced_end(text: &str, a: usize, b: usize) -> usize {
    let Some(inner) = text.get(a..b) else {
        return b;
    };
    let open = inner.matches('(').count();
    let closed = inner.matches(')').count();
    let mut missing = open.saturating_sub(closed);
    let mut end = b;
    for (i, c) in text[b..].char_indices() {
        if missing == 0 {
            break;
        }
        match c {
            ')' => {
                missing -= 1;
                end = b + i + 1;
            }
            c if c.is_whitespace() => {}
            _ => break,
        }
    }
    end
}

fn constant(e: &Expr) -> bool {
    matches!(e, Expr::Value(_))
}

/// `q.col = constant` (either way round) or `q.col IN (constants)`.
fn param_condition(e: &Expr) -> Option<(String, String)> {
    let qualified = |e: &Expr| match e {
        Expr::CompoundIdentifier(parts) if parts.len() == 2 => {
            Some((parts[0].value.clone(), parts[1].value.clone()))
        }
        _ => None,
    };
    match e {
        Expr::BinaryOp {
            left,
            op: BinaryOperator::Eq,
            right,
        } => {
            if constant(right) {
                qualified(left)
            } else if constant(left) {
                qualified(right)
            } else {
                None
            }
        }
        Expr::In {
            expr,
            target: ast::InTarget::List(list),
            negated: false,
            ..
        } if list.iter().all(constant) => qualified(expr),
        _ => None,
    }
}

/// sqlparser locations (1-based line, 1-based character column; a span's
/// end is just past its last character) as byte offsets.
struct Offsets<'a> {
    src: &'a str,
    line_starts: Vec<usize>,
}

impl<'a> Offsets<'a> {
    fn new(src: &'a str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(src.match_indices('\n').map(|(i, _)| i + 1));
        Offsets { src, line_starts }
    }

    fn byte(&self, loc: Location) -> Option<usize> {
        if loc.line == 0 || loc.column == 0 {
            return None;
        }
        let start = *self.line_starts.get(usize::try_from(loc.line - 1).ok()?)?;
        let col = usize::try_from(loc.column - 1).ok()?;
        let line = &self.src[start..];
        let line = &line[..line.find('\n').unwrap_or(line.len())];
        if col == line.chars().count() {
            return Some(start + line.len());
        }
        line.char_indices().nth(col).map(|(i, _)| start + i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn moved(sql: &str) -> Option<String> {
        let s = crate::split_statements(sql).expect("split");
        let select = parse_select(sql)?;
        move_parameters(&s[0], &select, &mut |table, col| {
            Ok(table == "google.compute.disks" && ["project", "zone"].contains(&col))
        })
        .expect("move")
    }

    #[test]
    fn right_table_parameters_move_into_on() {
        assert_eq!(
            moved(
                "SELECT n.name, d.name FROM google.compute.networks n LEFT JOIN google.compute.disks d \
                 ON d.name = n.name OR d.name = 'x' WHERE n.project = 'p' AND d.project = 'p' AND d.zone IN ('a', 'b')"
            )
            .as_deref(),
            Some(
                "SELECT n.name, d.name FROM google.compute.networks n LEFT JOIN google.compute.disks d \
                 ON (d.name = n.name OR d.name = 'x') AND d.project = 'p' AND d.zone IN ('a', 'b') WHERE n.project = 'p' AND 1 AND 1"
            )
        );
        // Not a parameter, not a constant, under OR, or an inner join: left alone.
        assert_eq!(
            moved(
                "SELECT 1 FROM t n LEFT JOIN google.compute.disks d ON d.name = n.name WHERE d.name = 'x' AND d.zone = n.zone"
            ),
            None
        );
        assert_eq!(
            moved(
                "SELECT 1 FROM t n LEFT JOIN google.compute.disks d ON 1 WHERE d.project = 'p' OR d.zone = 'z'"
            ),
            None
        );
        assert_eq!(
            moved("SELECT 1 FROM t n JOIN google.compute.disks d ON 1 WHERE d.project = 'p'"),
            None
        );
    }

    #[test]
    fn a_right_join_becomes_a_left_join_when_that_lets_parameters_move() {
        assert_eq!(
            moved(
                "SELECT * FROM google.compute.disks d RIGHT OUTER JOIN t n ON d.name = n.name \
                 WHERE d.project = 'p' AND d.zone = 'z'"
            )
            .as_deref(),
            Some(
                "SELECT d.*, n.* FROM t n LEFT JOIN google.compute.disks d ON (d.name = n.name) \
                 AND d.project = 'p' AND d.zone = 'z' WHERE 1 AND 1"
            )
        );
        assert_eq!(
            moved(
                "SELECT n.x FROM google.compute.disks RIGHT JOIN t n ON google.compute.disks.name = n.name \
                 WHERE google.compute.disks.project = 'p'"
            ),
            None,
            "a three-part qualifier is not a parameter condition"
        );
        // A FULL JOIN: an error that says what to write instead.
        let s = crate::split_statements(
            "SELECT 1 FROM t n FULL JOIN google.compute.disks d ON d.name = n.name WHERE d.zone = 'z'",
        )
        .expect("split");
        let select = parse_select(&s[0].text).expect("a select");
        let err = move_parameters(&s[0], &select, &mut |table, col| {
            Ok(table == "google.compute.disks" && col == "zone")
        })
        .expect_err("refused");
        assert!(err.to_string().contains("FULL JOIN"), "{err}");
        assert!(
            err.to_string()
                .contains("SELECT *, zone FROM google.compute.disks WHERE zone = '...') d"),
            "{err}"
        );
        // A RIGHT JOIN after another join strands its left side the same way.
        let s = crate::split_statements(
            "SELECT 1 FROM t k JOIN google.compute.disks d ON 1 RIGHT JOIN t n ON d.name = n.name \
             WHERE d.zone = 'z'",
        )
        .expect("split");
        let select = parse_select(&s[0].text).expect("a select");
        let err = move_parameters(&s[0], &select, &mut |table, col| {
            Ok(table == "google.compute.disks" && col == "zone")
        })
        .expect_err("refused");
        assert!(err.to_string().contains("of a RIGHT JOIN"), "{err}");
        // Nothing to move: the RIGHT JOIN stays.
        assert_eq!(
            moved(
                "SELECT * FROM google.compute.disks d RIGHT JOIN t n ON d.name = n.name WHERE n.x = 1"
            ),
            None
        );
    }
}
