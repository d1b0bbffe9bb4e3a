//! Keeping SQL away from the local file system. The engine's SQLite database
//! lives in memory, but SQL can still reach files: `ATTACH 'path' AS x`
//! creates or opens any file, `VACUUM INTO 'path'` writes one,
//! `load_extension` loads code, and a few pragmas move temporary files.
//! Statements come from users, scripts and (through `srv`) the network, so
//! these are refused by SQLite's authorizer unless the embedder allows them
//! (the CLI's `--allow-local-files`; never in `srv`).

use crate::{Error, StatementState};
use rusqlite::hooks::{AuthAction, AuthContext, Authorization};
use std::sync::{Arc, Mutex};

/// SQL functions that read, write or load local files (the last three exist
/// only in builds with the fileio extension; refusing them costs nothing).
const FILE_FUNCTIONS: &[&str] = &["load_extension", "readfile", "writefile", "edit"];

/// Pragmas that name local folders or files.
const FILE_PRAGMAS: &[&str] = &["temp_store_directory", "data_store_directory"];

/// What an action would touch, when it is a local file.
fn file_access(action: &AuthAction<'_>) -> Option<String> {
    match action {
        AuthAction::Attach { filename: "" } => {
            Some("ATTACH (or VACUUM INTO) of a temporary database".into())
        }
        AuthAction::Attach { filename } => Some(format!(
            "ATTACH (or VACUUM INTO) of the file `{}`",
            filename.escape_debug()
        )),
        AuthAction::Detach { database_name } => Some(format!("DETACH of `{database_name}`")),
        AuthAction::Function { function_name }
            if FILE_FUNCTIONS
                .iter()
                .any(|f| f.eq_ignore_ascii_case(function_name)) =>
        {
            Some(format!("the function {function_name}()"))
        }
        AuthAction::Pragma { pragma_name, .. }
            if FILE_PRAGMAS
                .iter()
                .any(|p| p.eq_ignore_ascii_case(pragma_name)) =>
        {
            Some(format!("PRAGMA {pragma_name}"))
        }
        _ => None,
    }
}

/// Installs the authorizer on a fresh connection. A refusal leaves a full
/// error in the statement state (SQLite itself only says "not authorized").
pub fn guard(
    conn: &mut rusqlite::Connection,
    state: Arc<Mutex<StatementState>>,
) -> Result<(), Error> {
    install(conn, Some(state))?;
    Ok(())
}

/// Refuses local-file access on a connection of the embedder's own (srv's
/// catalog database): the same rule as the engine's, with SQLite's "not
/// authorized" as the error. Install it after the connection's own setup.
pub fn refuse_local_files(conn: &mut rusqlite::Connection) -> rusqlite::Result<()> {
    install(conn, None)
}

fn install(
    conn: &mut rusqlite::Connection,
    state: Option<Arc<Mutex<StatementState>>>,
) -> rusqlite::Result<()> {
    conn.authorizer(Some(move |ctx: AuthContext<'_>| {
        let Some(what) = file_access(&ctx.action) else {
            return Authorization::Allow;
        };
        if let Some(state) = &state
            && let Ok(mut st) = state.lock()
            && st.error.is_none()
        {
            st.error = Some(Error::LocalFiles(what));
        }
        Authorization::Deny
    }))
}

#[cfg(test)]
mod tests {
    use crate::{Engine, Error};
    use std::sync::Arc;

    fn engine(allow: bool) -> (tempfile::TempDir, Engine) {
        let home = tempfile::tempdir().expect("home");
        let mut e = Engine::new(Arc::new(skyql_registry::Registry::open(home.path())));
        e.allow_local_files(allow);
        (home, e)
    }

    #[test]
    fn statements_that_reach_files_are_refused_by_default() {
        let dir = tempfile::tempdir().expect("dir");
        let file = dir.path().join("x.db");
        let file = file.display();
        let (_home, mut e) = engine(false);
        for sql in [
            format!("ATTACH DATABASE '{file}' AS x"),
            "ATTACH DATABASE '' AS t".to_string(),
            format!("VACUUM INTO '{file}'"),
            "DETACH DATABASE main".to_string(),
            "SELECT load_extension('x')".to_string(),
            "PRAGMA temp_store_directory = '/tmp'".to_string(),
        ] {
            match e.execute_script(&sql) {
                Err(Error::LocalFiles(what)) => assert!(!what.is_empty(), "{sql}"),
                other => panic!("{sql}: {other:?}"),
            }
        }
        assert!(!dir.path().join("x.db").exists());
        // Everything else still runs.
        e.execute_script("CREATE TABLE t(a); INSERT INTO t VALUES (1); SELECT a FROM t")
            .expect("plain SQL");
    }

    #[test]
    fn other_connections_can_refuse_them_too() {
        let dir = tempfile::tempdir().expect("dir");
        let file = dir.path().join("x.db");
        let mut conn = rusqlite::Connection::open_in_memory().expect("sqlite");
        conn.execute_batch("ATTACH DATABASE ':memory:' AS setup")
            .expect("setup runs before the guard");
        super::refuse_local_files(&mut conn).expect("guard");
        for sql in [
            format!("ATTACH DATABASE '{}' AS x", file.display()),
            format!("VACUUM INTO '{}'", file.display()),
        ] {
            let e = conn.execute_batch(&sql).expect_err(&sql).to_string();
            assert!(
                e.contains("not authorized") || e.contains("authorization denied"),
                "{sql}: {e}"
            );
        }
        assert!(!file.exists());
        conn.execute_batch("CREATE TABLE setup.t(a)")
            .expect("plain SQL");
    }

    #[test]
    fn an_embedder_may_allow_them() {
        let dir = tempfile::tempdir().expect("dir");
        let file = dir.path().join("x.db");
        let (_home, mut e) = engine(true);
        e.execute_script(&format!("ATTACH DATABASE '{}' AS x", file.display()))
            .expect("allowed");
        assert!(file.exists());
    }
}
