//! Finding `provider.service.resource` names in a statement and rewriting
//! them into quoted identifiers that name SQLite virtual tables:
//! `google.aiplatform.custom_jobs` → `"google.aiplatform.custom_jobs"`.

use crate::Error;
use crate::statement::Statement;
use skyql_registry::Registry;
use sqlparser::tokenizer::Token;

pub struct Rewritten {
    pub sql: String,
    /// Resource ids the statement uses, without duplicates.
    pub resources: Vec<String>,
}

fn word(t: Option<&Token>) -> Option<&str> {
    match t {
        Some(Token::Word(w)) => Some(w.value.as_str()),
        _ => None,
    }
}

pub fn rewrite(stmt: &Statement, registry: &Registry) -> Result<Rewritten, Error> {
    let t = &stmt.tokens;
    let mut sql = String::with_capacity(stmt.text.len() + 16);
    let mut copied = 0;
    let mut resources: Vec<String> = Vec::new();
    let mut i = 0;
    while i < t.len() {
        let after_period = i > 0 && matches!(t[i - 1], Token::Period);
        let three = (
            word(t.get(i)),
            matches!(t.get(i + 1), Some(Token::Period)),
            word(t.get(i + 2)),
            matches!(t.get(i + 3), Some(Token::Period)),
            word(t.get(i + 4)),
        );
        if let (Some(p), true, Some(s), true, Some(r)) = three
            && !after_period
            && p.eq_ignore_ascii_case(skyql_provider::PROVIDER)
        {
            let id = format!("{}.{s}.{r}", skyql_provider::PROVIDER);
            registry.resolve(&id)?;
            sql.push_str(&stmt.text[copied..stmt.spans[i].start]);
            // A quote right beside the new quoted name would merge with it
            // (`"a""b"` is one identifier): keep them apart.
            let after = stmt.spans[i + 4].end;
            if sql.ends_with(['"', '`', ']']) {
                sql.push(' ');
            }
            sql.push('"');
            sql.push_str(&id);
            sql.push('"');
            if stmt.text[after..].starts_with(['"', '`', '[']) {
                sql.push(' ');
            }
            copied = after;
            if !resources.contains(&id) {
                resources.push(id);
            }
            i += 5;
            continue;
        }
        // An already-quoted name: "google.aiplatform.custom_jobs".
        if let Some(Token::Word(w)) = t.get(i)
            && w.quote_style.is_some()
            && w.value.split('.').count() == 3
            && w.value.starts_with("google.")
        {
            registry.resolve(&w.value)?;
            if !resources.contains(&w.value) {
                resources.push(w.value.clone());
            }
        }
        i += 1;
    }
    sql.push_str(&stmt.text[copied..]);
    Ok(Rewritten { sql, resources })
}
