//! Metadata statements, answered from the provider model without SQLite:
//! SHOW PROVIDERS | SERVICES | RESOURCES | METHODS | INSERT INTO, and DESCRIBE.

use crate::docs::insert_template;
use crate::statement::Statement;
use crate::{Cell, Error, Table};
use skyql_provider::Resource;
use skyql_registry::Registry;
use sqlparser::tokenizer::Token;

#[derive(Debug, Clone, PartialEq)]
pub enum Meta {
    Providers,
    Services {
        extended: bool,
        provider: String,
        like: Option<String>,
    },
    Resources {
        extended: bool,
        service: String,
        like: Option<String>,
    },
    Methods {
        extended: bool,
        resource: String,
        like: Option<String>,
    },
    Describe {
        extended: bool,
        resource: String,
    },
    ShowInsert {
        resource: String,
    },
}

/// A cursor over a statement's tokens.
struct Cursor<'a> {
    tokens: &'a [Token],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn keyword(&mut self, kw: &str) -> bool {
        match self.tokens.get(self.pos) {
            Some(Token::Word(w)) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(kw) => {
                self.pos += 1;
                true
            }
            _ => false,
        }
    }

    fn at_end(&self) -> bool {
        self.pos >= self.tokens.len()
    }

    /// `a.b.c`, `"a.b.c"` or `` `a.b.c` ``.
    fn dotted_name(&mut self) -> Option<String> {
        let mut parts = Vec::new();
        loop {
            match self.tokens.get(self.pos) {
                Some(Token::Word(w)) => parts.push(w.value.clone()),
                Some(Token::DoubleQuotedString(s)) => parts.push(s.clone()),
                _ => break,
            }
            self.pos += 1;
            if matches!(self.tokens.get(self.pos), Some(Token::Period)) {
                self.pos += 1;
            } else {
                break;
            }
        }
        (!parts.is_empty()).then(|| parts.join("."))
    }

    fn string(&mut self) -> Option<String> {
        match self.tokens.get(self.pos) {
            Some(Token::SingleQuotedString(s)) => {
                self.pos += 1;
                Some(s.clone())
            }
            _ => None,
        }
    }

    fn rest(&self) -> String {
        self.tokens[self.pos.min(self.tokens.len())..]
            .iter()
            .map(|t| t.to_string())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Recognises a metadata statement; `None` means "not ours, give it to SQLite".
pub fn parse(stmt: &Statement) -> Result<Option<Meta>, Error> {
    let mut c = Cursor {
        tokens: &stmt.tokens,
        pos: 0,
    };
    let meta = if c.keyword("SHOW") {
        let extended = c.keyword("EXTENDED");
        if c.keyword("PROVIDERS") {
            Meta::Providers
        } else if c.keyword("SERVICES") {
            let provider = if c.keyword("IN") || c.keyword("FROM") {
                c.dotted_name().ok_or_else(|| {
                    Error::syntax_at(
                        stmt,
                        c.pos,
                        "SHOW SERVICES IN needs a provider, e.g. SHOW SERVICES IN google",
                    )
                })?
            } else {
                skyql_provider::PROVIDER.to_string()
            };
            Meta::Services {
                extended,
                provider,
                like: like(&mut c, stmt)?,
            }
        } else if c.keyword("RESOURCES") {
            let service = in_name(&mut c, stmt, "SHOW RESOURCES IN google.aiplatform")?;
            Meta::Resources {
                extended,
                service,
                like: like(&mut c, stmt)?,
            }
        } else if c.keyword("METHODS") {
            let resource = in_name(
                &mut c,
                stmt,
                "SHOW METHODS IN google.aiplatform.custom_jobs",
            )?;
            Meta::Methods {
                extended,
                resource,
                like: like(&mut c, stmt)?,
            }
        } else if c.keyword("INSERT") {
            if !c.keyword("INTO") {
                return Err(Error::syntax_at(
                    stmt,
                    c.pos,
                    "expected SHOW INSERT INTO <provider.service.resource>",
                ));
            }
            let resource = c.dotted_name().ok_or_else(|| {
                Error::syntax_at(
                    stmt,
                    c.pos,
                    "expected SHOW INSERT INTO <provider.service.resource>",
                )
            })?;
            Meta::ShowInsert { resource }
        } else {
            // SHOW of anything else is not SQLite syntax either: say what exists.
            return Err(Error::syntax_at(
                stmt,
                c.pos,
                format!(
                    "unknown SHOW statement `SHOW {}`: expected SHOW PROVIDERS, SHOW SERVICES IN google, SHOW RESOURCES IN google.<service>, SHOW METHODS IN <resource> or SHOW INSERT INTO <resource>",
                    c.rest()
                ),
            ));
        }
    } else if c.keyword("DESCRIBE") || c.keyword("DESC") {
        let extended = c.keyword("EXTENDED");
        let resource = c.dotted_name().ok_or_else(|| {
            Error::syntax_at(
                stmt,
                c.pos,
                "expected DESCRIBE [EXTENDED] <provider.service.resource>",
            )
        })?;
        Meta::Describe { extended, resource }
    } else {
        return Ok(None);
    };
    if !c.at_end() {
        return Err(Error::syntax_at(
            stmt,
            c.pos,
            format!("unexpected `{}` at the end of the statement", c.rest()),
        ));
    }
    Ok(Some(meta))
}

fn in_name(c: &mut Cursor<'_>, stmt: &Statement, example: &str) -> Result<String, Error> {
    if !(c.keyword("IN") || c.keyword("FROM")) {
        return Err(Error::syntax_at(
            stmt,
            c.pos,
            format!("expected IN after the keyword, e.g. {example}"),
        ));
    }
    c.dotted_name().ok_or_else(|| {
        Error::syntax_at(
            stmt,
            c.pos,
            format!("expected a name after IN, e.g. {example}"),
        )
    })
}

fn like(c: &mut Cursor<'_>, stmt: &Statement) -> Result<Option<String>, Error> {
    if !c.keyword("LIKE") {
        return Ok(None);
    }
    c.string().map(Some).ok_or_else(|| {
        Error::syntax_at(
            stmt,
            c.pos,
            "LIKE needs a quoted pattern, e.g. LIKE '%job%'",
        )
    })
}

/// SQL LIKE: `%` any run, `_` one character, ASCII case-insensitive.
pub fn like_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().map(|c| c.to_ascii_lowercase()).collect();
    let t: Vec<char> = text.chars().map(|c| c.to_ascii_lowercase()).collect();
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '_' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '%' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '%')
}

fn keep(like: &Option<String>, name: &str) -> bool {
    like.as_deref().is_none_or(|p| like_match(p, name))
}

pub fn run(registry: &Registry, meta: &Meta) -> Result<Table, Error> {
    match meta {
        Meta::Providers => {
            let mut t = Table::new(["name"]);
            for p in registry.providers() {
                t.push(vec![p.into()]);
            }
            Ok(t)
        }
        Meta::Services {
            extended,
            provider,
            like,
        } => {
            registry.check_provider(provider)?;
            let mut t = if *extended {
                Table::new(["id", "name", "title", "version", "revision", "source"])
            } else {
                Table::new(["id", "name", "title"])
            };
            for s in registry
                .services()
                .into_iter()
                .filter(|s| keep(like, &s.name))
            {
                let mut row: Vec<Cell> =
                    vec![s.id().into(), s.name.clone().into(), s.title.clone().into()];
                if *extended {
                    row.extend([
                        s.version.clone().into(),
                        s.revision.clone().into(),
                        s.source.as_str().into(),
                    ]);
                }
                t.push(row);
            }
            Ok(t)
        }
        Meta::Resources {
            extended,
            service,
            like,
        } => {
            let (provider, name) =
                service
                    .split_once('.')
                    .ok_or_else(|| skyql_registry::Error::BadName {
                        name: service.clone(),
                    })?;
            registry.check_provider(provider)?;
            let svc = registry.service(name)?;
            let mut t = if *extended {
                Table::new(["name", "id", "path", "methods"])
            } else {
                Table::new(["name", "id", "path"])
            };
            for r in svc.resources.iter().filter(|r| keep(like, &r.name)) {
                let mut row: Vec<Cell> = vec![
                    r.name.clone().into(),
                    r.id.clone().into(),
                    r.discovery_path.clone().into(),
                ];
                if *extended {
                    let names: Vec<&str> = r.methods.iter().map(|m| m.name.as_str()).collect();
                    row.push(names.join(", ").into());
                }
                t.push(row);
            }
            Ok(t)
        }
        Meta::Methods {
            extended,
            resource,
            like,
        } => {
            let (svc, name) = registry.resolve(resource)?;
            let r = svc.resource(&name)?;
            let mut t = if *extended {
                Table::new(["MethodName", "RequiredParams", "SQLVerb", "description"])
            } else {
                Table::new(["MethodName", "RequiredParams", "SQLVerb"])
            };
            for m in r.methods.iter().filter(|m| keep(like, &m.name)) {
                let mut row: Vec<Cell> = vec![
                    m.name.clone().into(),
                    m.required_params().join(", ").into(),
                    m.verb.as_str().into(),
                ];
                if *extended {
                    row.push(m.description.clone().into());
                }
                t.push(row);
            }
            Ok(t)
        }
        Meta::Describe { extended, resource } => {
            let (svc, name) = registry.resolve(resource)?;
            Ok(describe(svc.resource(&name)?, *extended))
        }
        Meta::ShowInsert { resource } => {
            let (svc, name) = registry.resolve(resource)?;
            let r = svc.resource(&name)?;
            let template = insert_template(&svc, r).ok_or_else(|| Error::NoVerb {
                resource: r.id.clone(),
                verb: "INSERT",
            })?;
            let mut t = Table::new(["insert_statement"]);
            t.push(vec![template.into()]);
            Ok(t)
        }
    }
}

fn describe(r: &Resource, extended: bool) -> Table {
    let mut t = if extended {
        Table::new(["name", "type", "description"])
    } else {
        Table::new(["name", "type"])
    };
    for c in &r.columns {
        let mut row: Vec<Cell> = vec![c.name.clone().into(), c.ty.clone().into()];
        if extended {
            row.push(c.description.clone().into());
        }
        t.push(row);
    }
    if !r.notes.is_empty() {
        t.notice = Some(r.notes.join("\n"));
    }
    t
}

#[cfg(test)]
mod tests {
    use super::like_match;

    #[test]
    fn like_matches_sql_style() {
        assert!(like_match("%job%", "custom_jobs"));
        // `_` is exactly one character.
        assert!(like_match("custom_jobs", "customxjobs"));
        assert!(!like_match("custom_jobs", "customjobs"));
        // As in SQLite, a backslash is no escape without ESCAPE: it is itself.
        assert!(like_match("custom\\_jobs", "custom\\_jobs"));
        assert!(!like_match("custom\\_jobs", "custom_jobs"));
        assert!(like_match("AI%", "aiplatform"));
        assert!(!like_match("%zz%", "aiplatform"));
        assert!(like_match("%", ""));
    }
}
