//! The engine: takes SQL text, answers metadata statements (SHOW, DESCRIBE)
//! from the provider model, and runs everything else in an embedded SQLite.
//! It also renders the generated reference page (`skyql docs`).

mod docs;
mod error;
mod meta;
mod statement;
mod table;

pub use docs::{insert_template, reference_page};
pub use error::Error;
pub use statement::{Statement, split_statements};
pub use table::{Cell, Table};

use skyql_registry::Registry;
use std::sync::Arc;

/// Executes statements against a registry.
pub struct Engine {
    registry: Arc<Registry>,
    sqlite: Option<rusqlite::Connection>,
}

impl Engine {
    pub fn new(registry: Arc<Registry>) -> Engine {
        Engine {
            registry,
            sqlite: None,
        }
    }

    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Runs every statement of a script, in order, returning one table each.
    /// Stops at the first error.
    pub fn execute_script(&mut self, sql: &str) -> Result<Vec<Table>, Error> {
        let mut out = Vec::new();
        for stmt in split_statements(sql)? {
            out.push(self.execute(&stmt)?);
        }
        Ok(out)
    }

    /// Runs one statement.
    pub fn execute(&mut self, stmt: &Statement) -> Result<Table, Error> {
        match meta::parse(stmt)? {
            Some(m) => meta::run(&self.registry, &m),
            None => self.run_sqlite(stmt),
        }
    }

    fn run_sqlite(&mut self, stmt: &Statement) -> Result<Table, Error> {
        if self.sqlite.is_none() {
            self.sqlite = Some(rusqlite::Connection::open_in_memory()?);
        }
        let Some(conn) = self.sqlite.as_ref() else {
            return Err(Error::Internal("no SQLite connection".into()));
        };
        table::query(conn, &stmt.text)
    }
}
