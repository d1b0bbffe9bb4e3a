//! Queries written with StackQL's names, end to end against a loopback fake
//! of the hand-written `gadgets` fixture: the variant of a collection chosen
//! from the WHERE clause, the URL each name leads to, and one row per IAM
//! binding carrying its policy's etag and version.

use crate::loopback::Log;
use crate::{client_config, remote_engine, runtime};
use skyql_client::AuthConfig;
use skyql_engine::{Engine, Table};
use skyql_registry::Registry;
use std::sync::Arc;

const GADGETS: &[u8] = include_bytes!("../fixtures/gadgets.v1.json");

/// Answers the fixture's URLs as the APIs it imitates would.
fn reply(method: &str, path: &str) -> Option<String> {
    let sink = |parent: &str, id: &str| {
        format!(r#"{{"name":"{parent}/sinks/{id}","destination":"storage.googleapis.com/{id}"}}"#)
    };
    Some(match (method, path) {
        ("GET", "/v1/projects/p1/sinks") => format!(r#"{{"sinks":[{}]}}"#, sink("projects/p1", "ps")),
        ("GET", "/v1/organizations/o1/sinks") => format!(
            r#"{{"sinks":[{},{}]}}"#,
            sink("organizations/o1", "os1"),
            sink("organizations/o1", "os2")
        ),
        ("GET", "/v1/organizations/o1/sinks/os1") => sink("organizations/o1", "os1"),
        ("DELETE", "/v1/organizations/o1/sinks/os1") => "{}".into(),
        ("POST", "/v1/projects/p1/gadgets/g1:getIamPolicy") => r#"{"version":3,"etag":"BwYx","bindings":[
            {"role":"roles/owner","members":["user:ana@example.com"]},
            {"role":"roles/viewer","members":["group:all@example.com","user:bo@example.com"],
             "condition":{"expression":"request.time < timestamp('2030-01-01T00:00:00Z')","title":"until 2030"}}]}"#
            .into(),
        ("GET", "/projects/p1/datasets/d1/tables") => {
            r#"{"tables":[{"id":"p1:d1.t1","type":"TABLE"},{"id":"p1:d1.v1","type":"VIEW"}]}"#.into()
        }
        ("GET", "/v1/folders/f1/assets") => {
            r#"{"assets":[{"name":"//compute.googleapis.com/x","assetType":"compute.googleapis.com/Instance"}]}"#.into()
        }
        _ => return None,
    })
}

/// The fake: the fixture's URLs answered, anything else a Google 404.
fn serve() -> (String, Log) {
    crate::loopback::serve(|method, target, _body| {
        let path = target.split('?').next().unwrap_or("");
        match reply(method, path) {
            Some(body) => (200, body),
            None => (
                404,
                r#"{"error":{"code":404,"message":"not found","status":"NOT_FOUND"}}"#.into(),
            ),
        }
    })
}

struct Setup {
    engine: Engine,
    log: Log,
    _home: tempfile::TempDir,
    _rt: tokio::runtime::Runtime,
}

fn setup() -> Setup {
    let (base, log) = serve();
    let rt = runtime(1);
    let home = tempfile::tempdir().expect("tempdir");
    let reg = Registry::open(home.path());
    reg.pull_document(GADGETS, "gadgets.v1.json", None)
        .expect("fixture pulls");
    let engine = remote_engine(
        Arc::new(reg),
        client_config(base, AuthConfig::Anonymous),
        &rt,
        std::time::Duration::from_secs(5),
    );
    Setup {
        engine,
        log,
        _home: home,
        _rt: rt,
    }
}

fn run(s: &mut Setup, sql: &str) -> Table {
    s.log.lock().expect("log").clear();
    let mut tables = s
        .engine
        .execute_script(sql)
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    tables.pop().expect("one table")
}

/// (method, path with query) of every request since the statement began.
fn requests(s: &Setup) -> Vec<(String, String)> {
    s.log
        .lock()
        .expect("log")
        .iter()
        .map(|(m, p, _)| (m.clone(), p.clone()))
        .collect()
}

fn column(t: &Table, name: &str) -> Vec<String> {
    let i = t
        .columns
        .iter()
        .position(|c| c == name)
        .unwrap_or_else(|| panic!("no column {name} in {:?}", t.columns));
    t.rows.iter().map(|r| r[i].to_text()).collect()
}

fn get(path: &str) -> (String, String) {
    ("GET".to_string(), path.to_string())
}

#[test]
fn the_where_clause_picks_the_variant() {
    let mut s = setup();
    let t = run(
        &mut s,
        "SELECT name FROM google.gadgets.sinks WHERE organizationsId = 'o1' ORDER BY name",
    );
    assert_eq!(
        column(&t, "name"),
        ["organizations/o1/sinks/os1", "organizations/o1/sinks/os2"]
    );
    assert_eq!(requests(&s), [get("/v1/organizations/o1/sinks")]);
    let t = run(
        &mut s,
        "SELECT name, destination FROM google.gadgets.sinks WHERE projectsId = 'p1'",
    );
    assert_eq!(column(&t, "name"), ["projects/p1/sinks/ps"]);
    assert_eq!(requests(&s), [get("/v1/projects/p1/sinks")]);
    // The most specific variant: a get, by the organisation's parameters.
    let t = run(
        &mut s,
        "SELECT destination FROM google.gadgets.sinks WHERE organizationsId = 'o1' AND sinksId = 'os1'",
    );
    assert_eq!(column(&t, "destination"), ["storage.googleapis.com/os1"]);
    assert_eq!(requests(&s), [get("/v1/organizations/o1/sinks/os1")]);
    // DELETE reaches the organisation's delete, not the project's.
    let t = run(
        &mut s,
        "DELETE FROM google.gadgets.sinks WHERE organizationsId = 'o1' AND sinksId = 'os1'",
    );
    assert_eq!(t.notice.as_deref(), Some("DELETE 1"));
    assert!(
        requests(&s).contains(&(
            "DELETE".to_string(),
            "/v1/organizations/o1/sinks/os1".to_string()
        )),
        "{:?}",
        requests(&s)
    );
}

#[test]
fn an_iam_policy_is_a_row_per_binding() {
    let mut s = setup();
    let t = run(
        &mut s,
        "SELECT role, members, etag, version FROM google.gadgets.gadgets_iam_policies \
         WHERE projectsId = 'p1' AND gadgetsId = 'g1' ORDER BY role",
    );
    assert_eq!(column(&t, "role"), ["roles/owner", "roles/viewer"]);
    assert_eq!(column(&t, "etag"), ["BwYx", "BwYx"]);
    assert_eq!(column(&t, "version"), ["3", "3"]);
    assert_eq!(
        column(&t, "members")[1],
        r#"["group:all@example.com","user:bo@example.com"]"#
    );
    assert_eq!(
        requests(&s),
        [(
            "POST".to_string(),
            "/v1/projects/p1/gadgets/g1:getIamPolicy".to_string()
        )]
    );
    let t = run(
        &mut s,
        "SHOW METHODS IN google.gadgets.gadgets_iam_policies",
    );
    assert_eq!(
        column(&t, "MethodName"),
        ["get_iam_policy", "set_iam_policy", "test_iam_permissions"]
    );
    assert_eq!(column(&t, "SQLVerb"), ["SELECT", "REPLACE", "EXEC"]);
}

#[test]
fn parameters_are_named_as_stackql_names_them() {
    let mut s = setup();
    let t = run(
        &mut s,
        "SELECT id, type FROM google.gadgets.tables WHERE projectId = 'p1' AND datasetId = 'd1' ORDER BY id",
    );
    assert_eq!(column(&t, "id"), ["p1:d1.t1", "p1:d1.v1"]);
    assert_eq!(requests(&s), [get("/projects/p1/datasets/d1/tables")]);
    let t = run(
        &mut s,
        "SELECT assetType FROM google.gadgets.assets WHERE parentType = 'folders' AND parent = 'f1'",
    );
    assert_eq!(column(&t, "assetType"), ["compute.googleapis.com/Instance"]);
    assert_eq!(requests(&s), [get("/v1/folders/f1/assets")]);
}

#[test]
fn names_follow_stackql_in_metadata_and_errors() {
    let mut s = setup();
    let t = run(&mut s, "SHOW RESOURCES IN google.gadgets");
    assert_eq!(
        column(&t, "name"),
        [
            "assets",
            "gadgets",
            "gadgets_iam_policies",
            "sinks",
            "tables"
        ]
    );
    let t = run(&mut s, "SHOW METHODS IN google.gadgets.sinks");
    assert_eq!(
        column(&t, "MethodName"),
        [
            "organizations_sinks_get",
            "organizations_sinks_list",
            "projects_sinks_get",
            "projects_sinks_list",
            "create",
            "organizations_sinks_delete",
            "projects_sinks_delete",
            "_organizations_sinks_list",
            "_projects_sinks_list"
        ]
    );
    let err = s
        .engine
        .execute_script(
            "SELECT * FROM google.gadgets.organizations_sinks WHERE organizationsId = 'o1'",
        )
        .expect_err("old name")
        .to_string();
    assert!(err.contains("did you mean sinks?"), "{err}");
    let err = s
        .engine
        .execute_script("SELECT * FROM google.gadgets.sinks")
        .expect_err("no parent")
        .to_string();
    assert!(
        err.contains("one of its variants")
            && err.contains("WHERE organizationsId = '...', or WHERE projectsId = 'my-project'"),
        "{err}"
    );
    assert!(requests(&s).is_empty(), "{:?}", requests(&s));
}
