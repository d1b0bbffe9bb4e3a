//! The columns of a resource's virtual table: response fields (visible),
//! then parameters and request-body fields (hidden: usable in WHERE and
//! INSERT, left out of `SELECT *`).

use skyql_provider::{Resource, Service, SqlVerb};

#[derive(Debug, Clone, PartialEq)]
pub struct TableColumn {
    pub name: String,
    /// Discovery type of the response field or parameter.
    pub ty: String,
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
        let mut columns: Vec<TableColumn> = r
            .columns
            .iter()
            .map(|c| TableColumn {
                name: c.name.clone(),
                ty: c.ty.clone(),
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
                let ty = match c.ty.as_str() {
                    "integer" => "INTEGER",
                    "number" => "REAL",
                    "boolean" => "INTEGER",
                    _ => "TEXT",
                };
                let hidden = if c.hidden { " HIDDEN" } else { "" };
                format!("\"{}\" {ty}{hidden}", c.name.replace('"', "\"\""))
            })
            .collect();
        format!("CREATE TABLE x({})", cols.join(", "))
    }
}
