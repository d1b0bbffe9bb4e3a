//! Generated reference pages (`skyql docs`) and statement templates
//! (`SHOW INSERT INTO`), in the shape of StackQL's provider documentation.

use skyql_provider::{Method, Resource, Service, SqlVerb};
use std::fmt::Write;

/// Makes prose safe for one markdown table cell.
fn cell(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace('|', "\\|")
}

/// One row of a markdown table: `code` cells, then a prose cell.
fn table_row(p: &mut String, code: &[&str], prose: &str) {
    for c in code {
        let _ = write!(p, "| `{c}` ");
    }
    let _ = writeln!(p, "| {} |", cell(prose));
}

/// The markdown reference page of a resource.
pub fn reference_page(svc: &Service, r: &Resource) -> String {
    let mut p = String::new();
    let _ = write!(
        p,
        "---\ntitle: {name}\nhide_title: false\nhide_table_of_contents: false\nkeywords:\n  - {name}\n  - {service}\n  - {provider}\n  - skyql\n  - infrastructure-as-code\n  - configuration-as-data\n  - cloud inventory\ndescription: Query, deploy and manage Google Cloud resources using SQL\ncustom_edit_url: null\n---\n\n",
        name = r.name,
        service = svc.name,
        provider = svc.provider,
    );
    p.push_str("## Overview\n<table><tbody>\n");
    let _ = writeln!(
        p,
        "<tr><td><b>Name</b></td><td><code>{}</code></td></tr>",
        r.name
    );
    p.push_str("<tr><td><b>Type</b></td><td>Resource</td></tr>\n");
    let _ = writeln!(
        p,
        "<tr><td><b>Id</b></td><td><code>{}</code></td></tr>",
        r.id
    );
    p.push_str("</tbody></table>\n\n");

    p.push_str("## Fields\n| Name | Datatype | Description |\n|:-----|:---------|:------------|\n");
    for c in &r.columns {
        table_row(&mut p, &[&c.name, &c.ty], &c.description);
    }
    p.push_str("\n## Methods\n| Name | Accessible by | Required Params | Description |\n|:-----|:--------------|:----------------|:------------|\n");
    for m in &r.methods {
        let verb = m.verb.to_string();
        let required = m.required_params().join(", ");
        table_row(&mut p, &[&m.name, &verb, &required], &m.description);
    }

    if let Some(m) = r
        .methods_for(SqlVerb::Select)
        .min_by_key(|m| m.required_params().len())
    {
        p.push_str("\n## `SELECT` example\n");
        describe_method(&mut p, m);
        let cols: Vec<&str> = r.columns.iter().map(|c| c.name.as_str()).collect();
        let _ = write!(p, "```sql\nSELECT\n{}\nFROM {}\n", cols.join(",\n"), r.id);
        where_clause(&mut p, m);
        p.push_str(";\n```\n");
    }
    if let Some(t) = insert_template(svc, r) {
        p.push_str("\n## `INSERT` example\n");
        if let Some(m) = r.methods_for(SqlVerb::Insert).next() {
            describe_method(&mut p, m);
        }
        let _ = write!(p, "```sql\n{t}\n```\n");
    }
    for (verb, title) in [(SqlVerb::Update, "UPDATE"), (SqlVerb::Replace, "REPLACE")] {
        for m in r.methods_for(verb) {
            let _ = write!(p, "\n## `{title}` example\n");
            describe_method(&mut p, m);
            let _ = write!(
                p,
                "```sql\n{title} {}\nSET data__{{{{ field }}}} = '{{{{ value }}}}'\n",
                r.id
            );
            where_clause(&mut p, m);
            p.push_str(";\n```\n");
        }
    }
    if let Some(m) = r.methods_for(SqlVerb::Delete).next() {
        p.push_str("\n## `DELETE` example\n");
        describe_method(&mut p, m);
        let _ = write!(p, "```sql\nDELETE FROM {}\n", r.id);
        where_clause(&mut p, m);
        p.push_str(";\n```\n");
    }
    let execs: Vec<&Method> = r.methods_for(SqlVerb::Exec).collect();
    if !execs.is_empty() {
        p.push_str("\n## `EXEC` examples\n");
        for m in execs {
            let _ = write!(p, "\n### `{}`\n", m.name);
            describe_method(&mut p, m);
            let _ = write!(p, "```sql\nEXEC {}.{}", r.id, m.name);
            let mut args: Vec<String> = m
                .required_params()
                .iter()
                .map(|n| format!("@{n}='{{{{ {n} }}}}'"))
                .collect();
            let body = body_fields(svc, m);
            if !body.is_empty() {
                let fields: Vec<String> = body
                    .iter()
                    .map(|f| format!("  \"{f}\": \"{{{{ {f} }}}}\""))
                    .collect();
                args.push(format!("@@json='{{\n{}\n}}'", fields.join(",\n")));
            }
            if !args.is_empty() {
                let _ = write!(p, "\n{}", args.join(",\n"));
            }
            p.push_str(";\n```\n");
        }
    }
    p
}

fn describe_method(p: &mut String, m: &Method) {
    if !m.description.is_empty() {
        let prose = m
            .description
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        let _ = writeln!(p, "{prose}\n");
    }
}

fn where_clause(p: &mut String, m: &Method) {
    let conds: Vec<String> = m
        .required_params()
        .iter()
        .map(|n| format!("{n} = '{{{{ {n} }}}}'"))
        .collect();
    if !conds.is_empty() {
        let _ = write!(p, "WHERE {}", conds.join("\nAND "));
    }
}

/// Writable fields of a method's request body (read-only ones left out).
fn body_fields(svc: &Service, m: &Method) -> Vec<String> {
    svc.request_schema(m)
        .map(|s| {
            s.properties
                .iter()
                .filter(|(_, p)| !p.read_only)
                .map(|(k, _)| k.clone())
                .collect()
        })
        .unwrap_or_default()
}

/// An INSERT statement to fill in: the required parameters and the request
/// body's `data__` columns. `None` when the resource has no INSERT method.
pub fn insert_template(svc: &Service, r: &Resource) -> Option<String> {
    let m = r.methods_for(SqlVerb::Insert).next()?;
    let mut cols: Vec<String> = body_fields(svc, m)
        .iter()
        .map(|f| format!("data__{f}"))
        .collect();
    let params: Vec<String> = m.required_params().iter().map(|s| s.to_string()).collect();
    cols.extend(params.iter().cloned());
    let values: Vec<String> = cols
        .iter()
        .map(|c| format!("'{{{{ {} }}}}'", c.strip_prefix("data__").unwrap_or(c)))
        .collect();
    Some(format!(
        "INSERT INTO {} (\n{}\n)\nSELECT\n{}\n;",
        r.id,
        cols.join(",\n"),
        values.join(",\n")
    ))
}
