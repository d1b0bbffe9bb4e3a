//! `skyql srv` against real clients: the server runs in process in front of
//! the in-process Vertex AI emulator, and psql, node-postgres, pgjdbc and
//! PostgreSQL's postgres_fdw talk to it over loopback. A client that is not
//! installed fails the test under CI=true and skips it, with the reason,
//! otherwise (`cargo xtask test` installs them all).

#[path = "skyql-srv/cancel.rs"]
mod cancel;
#[path = "skyql-srv/clients.rs"]
mod clients;
#[path = "skyql-srv/fdw.rs"]
mod fdw;
#[path = "skyql-srv/harness.rs"]
mod harness;
#[path = "skyql-srv/pg_cluster.rs"]
mod pg_cluster;
#[path = "skyql-srv/psql.rs"]
mod psql;
#[path = "skyql-srv/secure.rs"]
mod secure;
#[path = "skyql-srv/wire.rs"]
mod wire;
