//! What clients ask before their own queries: a small `pg_catalog` and
//! `information_schema` in an in-memory SQLite database per session, with
//! services as schemas and resources as tables (columns: the response fields,
//! then the parameters), and the functions drivers and psql call
//! (`version()`, `current_schema()`, `format_type`, `pg_table_is_visible`, ...).

use crate::encode::ResultSet;
use pgwire::api::Type;
use rusqlite::functions::FunctionFlags;
use rusqlite::{Connection, params};
use skyql_engine::{Cell, ColumnType};
use skyql_provider::SqlVerb;
use skyql_registry::Registry;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// OID of the first service schema; PostgreSQL's user objects start here too.
const FIRST_OID: i64 = 16384;
const PG_CATALOG_OID: i64 = 11;
const PUBLIC_OID: i64 = 2200;
const INFORMATION_SCHEMA_OID: i64 = 13000;
const OWNER_OID: i64 = 10;

/// The installed services and their resources, computed once per server.
pub struct CatalogData {
    registry: Arc<Registry>,
    built: OnceLock<Arc<Built>>,
}

struct Built {
    schemas: Vec<(i64, String)>,
    tables: Vec<TableRow>,
}

struct TableRow {
    oid: i64,
    name: String,
    schema: i64,
    /// Name, type, and whether it is a parameter every SELECT method needs.
    columns: Vec<(String, Type, bool)>,
}

impl CatalogData {
    pub fn new(registry: Arc<Registry>) -> CatalogData {
        CatalogData {
            registry,
            built: OnceLock::new(),
        }
    }

    fn built(&self) -> Arc<Built> {
        self.built
            .get_or_init(|| Arc::new(build(&self.registry)))
            .clone()
    }
}

fn pg_type(t: ColumnType) -> Type {
    match t {
        ColumnType::Text => Type::TEXT,
        ColumnType::Integer => Type::INT8,
        ColumnType::Real => Type::FLOAT8,
        ColumnType::Bool => Type::BOOL,
        ColumnType::Json => Type::JSON,
        ColumnType::Timestamp => Type::TIMESTAMPTZ,
    }
}

fn build(registry: &Registry) -> Built {
    let mut names: Vec<String> = registry.documents().into_iter().map(|d| d.name).collect();
    names.sort();
    names.dedup();
    let mut schemas = Vec::new();
    let mut tables = Vec::new();
    let mut oid = FIRST_OID;
    for name in names {
        let Ok(svc) = registry.service(&name) else {
            continue;
        };
        let schema = oid;
        oid += 1;
        schemas.push((schema, name));
        for r in &svc.resources {
            // Response fields, then parameters; request-body fields are for
            // INSERT and UPDATE only.
            let selects: Vec<_> = r.methods_for(SqlVerb::Select).collect();
            let columns: Vec<(String, Type, bool)> = skyql_engine::resource_columns(&svc, r)
                .into_iter()
                .filter(|c| !c.hidden || c.param)
                .map(|c| {
                    let required = c.hidden
                        && !selects.is_empty()
                        && selects
                            .iter()
                            .all(|m| m.params.iter().any(|q| q.name == c.name && q.required));
                    (c.name, pg_type(c.col_type), required)
                })
                .collect();
            tables.push(TableRow {
                oid,
                name: r.name.clone(),
                schema,
                columns,
            });
            oid += 1;
        }
    }
    Built { schemas, tables }
}

/// The base types clients look up: OID, name, length, category.
const TYPES: &[(u32, &str, i64, &str)] = &[
    (16, "bool", 1, "B"),
    (17, "bytea", -1, "U"),
    (18, "char", 1, "S"),
    (19, "name", 64, "S"),
    (20, "int8", 8, "N"),
    (21, "int2", 2, "N"),
    (23, "int4", 4, "N"),
    (25, "text", -1, "S"),
    (26, "oid", 4, "N"),
    (114, "json", -1, "U"),
    (700, "float4", 4, "N"),
    (701, "float8", 8, "N"),
    (705, "unknown", -2, "X"),
    (1043, "varchar", -1, "S"),
    (1082, "date", 4, "D"),
    (1114, "timestamp", 8, "D"),
    (1184, "timestamptz", 8, "D"),
    (1700, "numeric", -1, "N"),
    (2205, "regclass", 4, "N"),
    (3802, "jsonb", -1, "U"),
];

/// How PostgreSQL prints a type (`format_type`).
fn format_type(oid: i64) -> Option<&'static str> {
    Some(match oid {
        16 => "boolean",
        17 => "bytea",
        18 => "\"char\"",
        19 => "name",
        20 => "bigint",
        21 => "smallint",
        23 => "integer",
        25 => "text",
        26 => "oid",
        114 => "json",
        700 => "real",
        701 => "double precision",
        1043 => "character varying",
        1082 => "date",
        1114 => "timestamp without time zone",
        1184 => "timestamp with time zone",
        1700 => "numeric",
        3802 => "jsonb",
        _ => return None,
    })
}

const SCHEMA: &str = r#"
ATTACH DATABASE ':memory:' AS pg_catalog;
ATTACH DATABASE ':memory:' AS information_schema;
CREATE TABLE pg_catalog.pg_namespace(oid OID, nspname NAME, nspowner OID, nspacl TEXT);
CREATE TABLE pg_catalog.pg_class(oid OID, relname NAME, relnamespace OID, relkind CHAR,
  relowner OID, relam OID, reltuples FLOAT4, relpages INT4, relhasindex BOOL, relhasrules BOOL,
  relhastriggers BOOL, relrowsecurity BOOL, relforcerowsecurity BOOL, relispartition BOOL,
  relpersistence CHAR, relreplident CHAR, reloftype OID, reltoastrelid OID, relchecks INT2,
  reloptions TEXT, relacl TEXT, relispopulated BOOL, relpartbound TEXT, reltablespace OID,
  relnatts INT2, relhassubclass BOOL, reltype OID);
CREATE TABLE pg_catalog.pg_attribute(attrelid OID, attname NAME, atttypid OID, attnum INT2,
  attlen INT2, atttypmod INT4, attnotnull BOOL, atthasdef BOOL, attisdropped BOOL,
  attidentity CHAR, attgenerated CHAR, attcollation OID, attstattarget INT4, attstorage CHAR,
  attcompression CHAR, attfdwoptions TEXT, attacl TEXT, attoptions TEXT, attndims INT4,
  attislocal BOOL, attinhcount INT4, atthasmissing BOOL);
CREATE TABLE pg_catalog.pg_type(oid OID, typname NAME, typnamespace OID, typlen INT2,
  typtype CHAR, typrelid OID, typelem OID, typbasetype OID, typtypmod INT4, typnotnull BOOL,
  typarray OID, typcategory CHAR, typdelim CHAR, typowner OID, typcollation OID,
  typdefault TEXT, typisdefined BOOL, typinput TEXT, typoutput TEXT, typreceive TEXT,
  typsend TEXT, typndims INT4, typbyval BOOL, typalign CHAR, typstorage CHAR, typacl TEXT);
CREATE TABLE pg_catalog.pg_database(oid OID, datname NAME, datdba OID, encoding INT4,
  datcollate TEXT, datctype TEXT, datallowconn BOOL, datistemplate BOOL, datacl TEXT,
  datconnlimit INT4, dattablespace OID, daticulocale TEXT, datlocprovider CHAR,
  datcollversion TEXT);
CREATE TABLE pg_catalog.pg_roles(oid OID, rolname NAME, rolsuper BOOL, rolinherit BOOL,
  rolcreaterole BOOL, rolcreatedb BOOL, rolcanlogin BOOL, rolreplication BOOL,
  rolconnlimit INT4, rolvaliduntil TEXT, rolbypassrls BOOL, rolconfig TEXT);
CREATE TABLE pg_catalog.pg_sequence(seqrelid OID, seqtypid OID, seqstart INT8,
  seqincrement INT8, seqmax INT8, seqmin INT8, seqcache INT8, seqcycle BOOL);
CREATE TABLE pg_catalog.pg_auth_members(roleid OID, member OID, grantor OID, admin_option BOOL);
CREATE TABLE pg_catalog.pg_language(oid OID, lanname NAME);
CREATE TABLE pg_catalog.pg_default_acl(oid OID, defaclrole OID, defaclnamespace OID,
  defaclobjtype CHAR, defaclacl TEXT);
CREATE TABLE pg_catalog.pg_user(usename NAME, usesysid OID, usecreatedb BOOL, usesuper BOOL);
CREATE TABLE pg_catalog.pg_settings(name TEXT, setting TEXT, unit TEXT, category TEXT,
  short_desc TEXT, vartype TEXT, source TEXT);
CREATE TABLE pg_catalog.pg_description(objoid OID, classoid OID, objsubid INT4, description TEXT);
CREATE TABLE pg_catalog.pg_attrdef(oid OID, adrelid OID, adnum INT2, adbin TEXT);
CREATE TABLE pg_catalog.pg_index(indexrelid OID, indrelid OID, indisprimary BOOL,
  indisunique BOOL, indkey TEXT, indisvalid BOOL, indisclustered BOOL, indisreplident BOOL);
CREATE TABLE pg_catalog.pg_constraint(oid OID, conname NAME, connamespace OID, contype CHAR,
  conrelid OID, confrelid OID, conkey TEXT, confkey TEXT, conindid OID, condeferrable BOOL,
  condeferred BOOL, convalidated BOOL, conparentid OID, contypid OID, conbin TEXT);
CREATE TABLE pg_catalog.pg_inherits(inhrelid OID, inhparent OID, inhseqno INT4,
  inhdetachpending BOOL);
CREATE TABLE pg_catalog.pg_policy(oid OID, polname NAME, polrelid OID, polcmd CHAR,
  polpermissive BOOL, polroles TEXT, polqual TEXT, polwithcheck TEXT);
CREATE TABLE pg_catalog.pg_statistic_ext(oid OID, stxrelid OID, stxname NAME,
  stxnamespace OID, stxkeys TEXT, stxkind TEXT, stxstattarget INT4);
CREATE TABLE pg_catalog.pg_publication(oid OID, pubname NAME, puballtables BOOL);
CREATE TABLE pg_catalog.pg_publication_rel(oid OID, prpubid OID, prrelid OID, prqual TEXT,
  prattrs TEXT);
CREATE TABLE pg_catalog.pg_publication_namespace(oid OID, pnpubid OID, pnnspid OID);
CREATE TABLE pg_catalog.pg_trigger(oid OID, tgrelid OID, tgname NAME, tgisinternal BOOL,
  tgenabled CHAR, tgparentid OID);
CREATE TABLE pg_catalog.pg_rewrite(oid OID, rulename NAME, ev_class OID);
CREATE TABLE pg_catalog.pg_am(oid OID, amname NAME, amtype CHAR);
CREATE TABLE pg_catalog.pg_tablespace(oid OID, spcname NAME);
CREATE TABLE pg_catalog.pg_collation(oid OID, collname NAME, collnamespace OID);
CREATE TABLE pg_catalog.pg_proc(oid OID, proname NAME, pronamespace OID, prorettype OID,
  proargtypes TEXT, prokind CHAR, proretset BOOL, provolatile CHAR, proparallel CHAR,
  prosecdef BOOL, proleakproof BOOL, prolang OID, prosrc TEXT, proacl TEXT, proowner OID,
  proallargtypes TEXT, proargmodes TEXT, proargnames TEXT, pronargs INT2);
CREATE TABLE pg_catalog.pg_foreign_table(ftrelid OID, ftserver OID, ftoptions TEXT);
CREATE TABLE pg_catalog.pg_foreign_server(oid OID, srvname NAME);
CREATE TABLE pg_catalog.pg_range(rngtypid OID, rngsubtype OID);
CREATE TABLE pg_catalog.pg_enum(oid OID, enumtypid OID, enumsortorder FLOAT4, enumlabel NAME);
CREATE TABLE pg_catalog.pg_extension(oid OID, extname NAME, extversion TEXT, extnamespace OID);
CREATE TABLE pg_catalog.pg_event_trigger(oid OID, evtname NAME);
CREATE TABLE pg_catalog.pg_partitioned_table(partrelid OID, partstrat CHAR);
CREATE TABLE information_schema.schemata(catalog_name TEXT, schema_name TEXT, schema_owner TEXT);
CREATE TABLE information_schema.tables(table_catalog TEXT, table_schema TEXT, table_name TEXT,
  table_type TEXT, is_insertable_into TEXT);
CREATE TABLE information_schema.columns(table_catalog TEXT, table_schema TEXT,
  table_name TEXT, column_name TEXT, ordinal_position INT4, column_default TEXT,
  is_nullable TEXT, data_type TEXT, udt_name TEXT, character_maximum_length INT4,
  numeric_precision INT4, numeric_scale INT4);
CREATE TABLE information_schema.views(table_catalog TEXT, table_schema TEXT, table_name TEXT);
"#;

/// One session's catalog database.
pub struct Session {
    conn: Connection,
}

pub type Settings = Arc<Mutex<HashMap<String, String>>>;

/// Cancels the statement of the connection with this process id.
pub type CancelFn = Arc<dyn Fn(i32) -> bool + Send + Sync>;

impl Session {
    pub fn open(
        data: &CatalogData,
        settings: Settings,
        pid: i32,
        cancel: CancelFn,
    ) -> rusqlite::Result<Session> {
        let mut conn = Connection::open_in_memory()?;
        conn.execute_batch(SCHEMA)?;
        // Clients' SQL runs here too: it may not reach the server's files
        // (ATTACH, VACUUM INTO, load_extension), whatever the server's flags.
        skyql_engine::refuse_local_files(&mut conn)?;
        fill(&conn, &data.built())?;
        functions(&conn, settings, pid)?;
        let built = data.built();
        let classes: HashMap<String, i64> = built
            .tables
            .iter()
            .filter_map(|t| {
                let schema = built.schemas.iter().find(|s| s.0 == t.schema)?;
                Some((format!("{}.{}", schema.1, t.name), t.oid))
            })
            .collect();
        conn.create_scalar_function(
            "to_regclass",
            1,
            FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
            move |ctx| {
                let name: Option<String> = ctx.get(0)?;
                Ok(name.and_then(|n| classes.get(&n.replace('"', "")).copied()))
            },
        )?;
        conn.create_scalar_function(
            "pg_cancel_backend",
            1,
            FunctionFlags::SQLITE_UTF8,
            move |ctx| {
                let pid: i32 = ctx.get(0)?;
                Ok(cancel(pid))
            },
        )?;
        Ok(Session { conn })
    }

    /// Stops the running query from another thread (a cancel).
    pub fn interrupt_handle(&self) -> rusqlite::InterruptHandle {
        self.conn.get_interrupt_handle()
    }

    /// Runs a (translated) query; BOOL/OID/... declared columns keep their type.
    pub fn query(&self, sql: &str) -> rusqlite::Result<ResultSet> {
        let mut stmt = self.conn.prepare(sql)?;
        let columns: Vec<(String, Type)> = stmt
            .columns()
            .map(|c| (c.name().to_string(), declared(c.decl_type())))
            .collect();
        let width = columns.len();
        let mut rows = stmt.query([])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            let mut cells = Vec::with_capacity(width);
            for i in 0..width {
                use rusqlite::types::ValueRef;
                cells.push(match row.get_ref(i)? {
                    ValueRef::Null => Cell::Null,
                    ValueRef::Integer(v) => Cell::Integer(v),
                    ValueRef::Real(v) => Cell::Real(v),
                    ValueRef::Text(t) | ValueRef::Blob(t) => {
                        Cell::Text(String::from_utf8_lossy(t).into_owned())
                    }
                });
            }
            out.push(cells);
        }
        // Expressions have no declared type: type them by their values.
        let mut set = ResultSet {
            columns,
            rows: out,
            tag: "SELECT".into(),
        };
        for i in 0..width {
            if set.columns[i].1 == Type::UNKNOWN {
                set.columns[i].1 = infer(&set.rows, i);
            }
        }
        Ok(set)
    }
}

fn declared(decl: Option<&str>) -> Type {
    match decl.map(|d| d.to_ascii_uppercase()) {
        Some(d) => match d.as_str() {
            "OID" => Type::OID,
            "NAME" => Type::NAME,
            "CHAR" => Type::CHAR,
            "BOOL" => Type::BOOL,
            "INT2" => Type::INT2,
            "INT4" => Type::INT4,
            "INT8" => Type::INT8,
            "FLOAT4" => Type::FLOAT4,
            "TEXT" => Type::TEXT,
            _ => Type::TEXT,
        },
        None => Type::UNKNOWN,
    }
}

fn infer(rows: &[Vec<Cell>], i: usize) -> Type {
    let mut ty = None;
    for c in rows.iter().filter_map(|r| r.get(i)) {
        let t = match c {
            Cell::Null => continue,
            Cell::Integer(_) => Type::INT8,
            Cell::Real(_) => Type::FLOAT8,
            _ => Type::TEXT,
        };
        match &ty {
            None => ty = Some(t),
            Some(a) if *a == t => {}
            _ => return Type::TEXT,
        }
    }
    ty.unwrap_or(Type::TEXT)
}

fn fill(conn: &Connection, built: &Built) -> rusqlite::Result<()> {
    let tx = conn.unchecked_transaction()?;
    {
        let mut ns = tx.prepare("INSERT INTO pg_namespace VALUES (?1, ?2, ?3, NULL)")?;
        let mut schemata =
            tx.prepare("INSERT INTO information_schema.schemata VALUES ('skyql', ?1, 'skyql')")?;
        for (oid, name) in [
            (PG_CATALOG_OID, "pg_catalog"),
            (PUBLIC_OID, "public"),
            (INFORMATION_SCHEMA_OID, "information_schema"),
        ] {
            ns.execute(params![oid, name, OWNER_OID])?;
            schemata.execute(params![name])?;
        }
        for (oid, name) in &built.schemas {
            ns.execute(params![oid, name, OWNER_OID])?;
            schemata.execute(params![name])?;
        }
        let mut class = tx.prepare(
            "INSERT INTO pg_class (oid, relname, relnamespace, relkind, relowner, relam, reltuples,
               relpages, relhasindex, relhasrules, relhastriggers, relrowsecurity,
               relforcerowsecurity, relispartition, relpersistence, relreplident, reloftype,
               reltoastrelid, relchecks, relispopulated, reltablespace, relnatts, relhassubclass, reltype)
             VALUES (?1, ?2, ?3, 'r', 10, 0, -1, 0, 0, 0, 0, 0, 0, 0, 'p', 'd', 0, 0, 0, 1, 0, ?4, 0, 0)",
        )?;
        let mut attr = tx.prepare(
            "INSERT INTO pg_attribute VALUES (?1, ?2, ?3, ?4, ?5, -1, ?6, 0, 0, '', '', 0, -1, 'x',
               '', NULL, NULL, NULL, 0, 1, 0, 0)",
        )?;
        let mut tables = tx.prepare(
            "INSERT INTO information_schema.tables VALUES ('skyql', ?1, ?2, 'BASE TABLE', 'YES')",
        )?;
        let mut columns = tx.prepare(
            "INSERT INTO information_schema.columns VALUES ('skyql', ?1, ?2, ?3, ?4, NULL, ?5, ?6, ?7,
               NULL, NULL, NULL)",
        )?;
        let schema_names: HashMap<i64, &str> = built
            .schemas
            .iter()
            .map(|(o, n)| (*o, n.as_str()))
            .collect();
        for t in &built.tables {
            class.execute(params![t.oid, t.name, t.schema, t.columns.len() as i64])?;
            let schema = schema_names.get(&t.schema).copied().unwrap_or("");
            tables.execute(params![schema, t.name])?;
            for (n, (name, ty, required)) in t.columns.iter().enumerate() {
                let num = n as i64 + 1;
                let len = TYPES.iter().find(|x| x.0 == ty.oid()).map_or(-1, |x| x.2);
                attr.execute(params![t.oid, name, ty.oid(), num, len, *required])?;
                columns.execute(params![
                    schema,
                    t.name,
                    name,
                    num,
                    if *required { "NO" } else { "YES" },
                    format_type(ty.oid() as i64).unwrap_or("text"),
                    ty.name()
                ])?;
            }
        }
        let mut types = tx.prepare(
            "INSERT INTO pg_type (oid, typname, typnamespace, typlen, typtype, typrelid, typelem,
               typbasetype, typtypmod, typnotnull, typarray, typcategory, typdelim, typowner,
               typcollation, typisdefined, typinput, typoutput, typndims, typbyval, typalign, typstorage)
             VALUES (?1, ?2, 11, ?3, 'b', 0, 0, 0, -1, 0, 0, ?4, ',', 10, 0, 1, ?5, ?6, 0, ?7, 'i', 'p')",
        )?;
        for (oid, name, len, cat) in TYPES {
            types.execute(params![
                oid,
                name,
                len,
                cat,
                format!("{name}in"),
                format!("{name}out"),
                *len > 0 && *len <= 8
            ])?;
        }
        tx.execute(
            "INSERT INTO pg_database VALUES (1, 'skyql', 10, 6, 'C.UTF-8', 'C.UTF-8', 1, 0, NULL, -1,
               1663, NULL, 'c', NULL)",
            [],
        )?;
        tx.execute(
            "INSERT INTO pg_roles VALUES (10, 'skyql', 0, 1, 0, 0, 1, 0, -1, NULL, 0, NULL)",
            [],
        )?;
        tx.execute("INSERT INTO pg_user VALUES ('skyql', 10, 0, 0)", [])?;
        tx.execute("INSERT INTO pg_am VALUES (2, 'heap', 't')", [])?;
        tx.execute("INSERT INTO pg_tablespace VALUES (1663, 'pg_default')", [])?;
    }
    tx.commit()
}

fn functions(conn: &Connection, settings: Settings, pid: i32) -> rusqlite::Result<()> {
    let det = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    let f = FunctionFlags::SQLITE_UTF8;
    let version = format!(
        "PostgreSQL 15.0 (skyql {}) on {}, a Google Cloud SQL front end",
        env!("CARGO_PKG_VERSION"),
        std::env::consts::ARCH
    );
    conn.create_scalar_function("version", 0, det, move |_| Ok(version.clone()))?;
    let s = settings.clone();
    conn.create_scalar_function("current_schema", 0, f, move |_| {
        Ok(setting(&s, "search_path")
            .split(',')
            .map(|x| x.trim().trim_matches('"').to_string())
            .find(|x| !x.is_empty() && x != "$user")
            .unwrap_or_else(|| "public".into()))
    })?;
    let s = settings.clone();
    conn.create_scalar_function("current_database", 0, f, move |_| {
        Ok(setting(&s, "database"))
    })?;
    let s = settings.clone();
    conn.create_scalar_function("current_user", 0, f, move |_| Ok(setting(&s, "user")))?;
    conn.create_scalar_function("pg_backend_pid", 0, det, move |_| Ok(pid))?;
    let s = settings.clone();
    conn.create_scalar_function("current_setting", -1, f, move |ctx| {
        let name: String = ctx.get(0)?;
        Ok(setting(&s, &name.to_ascii_lowercase()))
    })?;
    let s = settings;
    conn.create_scalar_function("set_config", 3, f, move |ctx| {
        let name: String = ctx.get(0)?;
        let value: String = ctx.get(1)?;
        if let Ok(mut m) = s.lock() {
            m.insert(name.to_ascii_lowercase(), value.clone());
        }
        Ok(value)
    })?;
    for name in [
        "pg_table_is_visible",
        "pg_type_is_visible",
        "pg_function_is_visible",
        "has_table_privilege",
        "has_schema_privilege",
        "has_database_privilege",
        "has_column_privilege",
    ] {
        conn.create_scalar_function(name, -1, det, |_| Ok(1))?;
    }
    for name in [
        "obj_description",
        "col_description",
        "shobj_description",
        "pg_get_expr",
        "pg_get_constraintdef",
        "pg_get_indexdef",
        "pg_get_viewdef",
        "pg_get_partkeydef",
        "pg_get_triggerdef",
        "pg_get_statisticsobjdef_columns",
        "inet_server_addr",
        "array_upper",
        "array_length",
        "pg_get_serial_sequence",
        "pg_get_function_result",
        "pg_get_function_arguments",
        "pg_get_function_identity_arguments",
    ] {
        conn.create_scalar_function(name, -1, det, |_| Ok(None::<String>))?;
    }
    conn.create_scalar_function("pg_get_userbyid", 1, det, |_| Ok("skyql"))?;
    conn.create_scalar_function("pg_encoding_to_char", 1, det, |_| Ok("UTF8"))?;
    conn.create_scalar_function("pg_is_in_recovery", 0, det, |_| Ok(false))?;
    conn.create_scalar_function("pg_relation_is_publishable", 1, det, |_| Ok(false))?;
    rusqlite::vtab::series::load_module(conn)?;
    conn.create_scalar_function("pg_relation_size", -1, det, |_| Ok(0))?;
    conn.create_scalar_function("pg_table_size", 1, det, |_| Ok(0))?;
    conn.create_scalar_function("pg_indexes_size", 1, det, |_| Ok(0))?;
    conn.create_scalar_function("pg_database_size", 1, det, |_| Ok(0))?;
    conn.create_scalar_function("pg_tablespace_location", 1, det, |_| Ok(""))?;
    conn.create_scalar_function("pg_size_pretty", 1, det, |ctx| {
        let n: Option<i64> = ctx.get(0)?;
        Ok(n.map(|n| format!("{n} bytes")))
    })?;
    conn.create_scalar_function("pg_total_relation_size", -1, det, |_| Ok(0))?;
    conn.create_scalar_function("txid_current", 0, det, |_| Ok(1))?;
    conn.create_scalar_function("array_to_string", -1, det, |ctx| {
        ctx.get::<Option<String>>(0)
    })?;
    conn.create_scalar_function("to_regtype", 1, det, |ctx| {
        let name: Option<String> = ctx.get(0)?;
        Ok(name.and_then(|n| {
            let n = n
                .trim_start_matches("pg_catalog.")
                .trim_matches('"')
                .to_string();
            TYPES
                .iter()
                .find(|t| t.1 == n || format_type(t.0 as i64) == Some(n.as_str()))
                .map(|t| t.0)
        }))
    })?;
    conn.create_scalar_function("format_type", 2, det, |ctx| {
        let oid: Option<i64> = ctx.get(0)?;
        Ok(oid.and_then(format_type).map(str::to_string))
    })?;
    conn.create_scalar_function("quote_ident", 1, det, |ctx| {
        let s: String = ctx.get(0)?;
        Ok(
            if !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            {
                s
            } else {
                format!("\"{}\"", s.replace('"', "\"\""))
            },
        )
    })?;
    conn.create_scalar_function("regexp", 2, det, |ctx| {
        let pattern: Option<String> = ctx.get(0)?;
        let text: Option<String> = ctx.get(1)?;
        let (Some(pattern), Some(text)) = (pattern, text) else {
            return Ok(None);
        };
        let re = regex_lite::Regex::new(&pattern)
            .map_err(|e| rusqlite::Error::UserFunctionError(Box::new(e)))?;
        Ok(Some(re.is_match(&text)))
    })?;
    Ok(())
}

/// A session setting, with PostgreSQL's defaults for what clients ask.
pub fn setting(settings: &Settings, name: &str) -> String {
    if let Ok(m) = settings.lock()
        && let Some(v) = m.get(name)
    {
        return v.clone();
    }
    default_setting(name).unwrap_or("").to_string()
}

pub fn default_setting(name: &str) -> Option<&'static str> {
    Some(match name {
        "server_version" => "15.0",
        "server_version_num" => "150000",
        "server_encoding" | "client_encoding" => "UTF8",
        "datestyle" => "ISO, MDY",
        "intervalstyle" => "postgres",
        "timezone" => "UTC",
        "search_path" => "\"$user\", public",
        "standard_conforming_strings" => "on",
        "transaction isolation level"
        | "transaction_isolation"
        | "default_transaction_isolation" => "read committed",
        "transaction_read_only" | "default_transaction_read_only" => "off",
        "integer_datetimes" => "on",
        "max_identifier_length" => "63",
        "extra_float_digits" => "1",
        "lc_collate" | "lc_ctype" => "C.UTF-8",
        "lc_messages" | "lc_monetary" | "lc_numeric" | "lc_time" => "C",
        "application_name" => "",
        "is_superuser" => "off",
        "database" => "skyql",
        "user" => "skyql",
        _ => return None,
    })
}
