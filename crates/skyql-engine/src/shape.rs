//! The columns of a resource's virtual table: response fields (visible),
//! then parameters and request-body fields (hidden: usable in WHERE and
//! INSERT, left out of `SELECT *`).

use crate::table::ColumnType;
use skyql_provider::{Resource, Service, SqlVerb};

#[derive(Debug, Clone, PartialEq)]
pub struct TableColumn {
    pub name: String,
    /// Discovery type of the response field or parameter.
    pub ty: String,
    /// What SQLite is told the column holds (and results are typed by).
    pub col_type: ColumnType,
    pub hidden: bool,
    /// A field of the response rows.
    pub response: bool,
    /// A method parameter of this name exists.
    pub param: bool,
    /// A request-body field this column fills (`data__x` or bare `x`).
    pub body_field: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Shape {
    pub columns: Vec<TableColumn>,
}

impl Shape {
    pub fn of(svc: &Service, r: &Resource) -> Shape {
        let formats = row_formats(svc, r);
        let mut columns: Vec<TableColumn> = r
            .columns
            .iter()
            .map(|c| TableColumn {
                name: c.name.clone(),
                ty: c.ty.clone(),
                col_type: ColumnType::of_discovery(&c.ty, formats.get(&c.name).map(String::as_str)),
                hidden: false,
                response: true,
                param: false,
                body_field: None,
            })
            .collect();
        for m in &r.methods {
            for p in &m.params {
                match columns.iter_mut().find(|c| c.name == p.name) {
                    Some(c) => c.param = true,
                    None => columns.push(TableColumn {
                        name: p.name.clone(),
                        ty: p.ty.clone(),
                        col_type: ColumnType::of_discovery(&p.ty, None),
                        hidden: true,
                        response: false,
                        param: true,
                        body_field: None,
                    }),
                }
            }
        }
        for m in &r.methods {
            if !matches!(m.verb, SqlVerb::Insert | SqlVerb::Update | SqlVerb::Replace) {
                continue;
            }
            let Some(req) = svc.request_schema(m) else {
                continue;
            };
            for (field, prop) in &req.properties {
                let ty = prop.ty.clone().unwrap_or_else(|| "object".into());
                let data = format!("data__{field}");
                if !columns.iter().any(|c| c.name == data) {
                    columns.push(TableColumn {
                        name: data,
                        col_type: ColumnType::of_discovery(&ty, prop.format.as_deref()),
                        ty: ty.clone(),
                        hidden: true,
                        response: false,
                        param: false,
                        body_field: Some(field.clone()),
                    });
                }
                // The bare name fills the body too, unless it is a parameter.
                match columns.iter_mut().find(|c| &c.name == field) {
                    Some(c) if !c.param => {
                        if c.body_field.is_none() {
                            c.body_field = Some(field.clone());
                        }
                    }
                    Some(_) => {}
                    None => columns.push(TableColumn {
                        name: field.clone(),
                        col_type: ColumnType::of_discovery(&ty, prop.format.as_deref()),
                        ty,
                        hidden: true,
                        response: false,
                        param: false,
                        body_field: Some(field.clone()),
                    }),
                }
            }
        }
        Shape { columns }
    }

    pub fn index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }

    /// `CREATE TABLE x(...)` for `sqlite3_declare_vtab`.
    pub fn declaration(&self) -> String {
        let cols: Vec<String> = self
            .columns
            .iter()
            .map(|c| {
                let ty = c.col_type.declared();
                let hidden = if c.hidden { " HIDDEN" } else { "" };
                format!("\"{}\" {ty}{hidden}", c.name.replace('"', "\"\""))
            })
            .collect();
        format!("CREATE TABLE x({})", cols.join(", "))
    }
}

/// The `format` of each string field of the rows a resource's SELECT
/// methods return (`google-datetime`, ...), by field name.
fn row_formats(svc: &Service, r: &Resource) -> std::collections::BTreeMap<String, String> {
    let mut out = std::collections::BTreeMap::new();
    for m in r.methods.iter().filter(|m| m.verb == SqlVerb::Select) {
        let Some(resp) = m.response.as_deref().and_then(|n| svc.schemas.get(n)) else {
            continue;
        };
        let row = match &m.items_key {
            Some(k) => match resp.properties.get(k).and_then(|p| p.items.as_deref()) {
                Some(items) => match &items.reference {
                    Some(r) => svc.schemas.get(r),
                    None => Some(items),
                },
                None => None,
            },
            None => Some(resp),
        };
        for (name, prop) in row.map(|s| s.properties.iter()).into_iter().flatten() {
            if let Some(f) = &prop.format {
                out.entry(name.clone()).or_insert_with(|| f.clone());
            }
        }
    }
    out
}
