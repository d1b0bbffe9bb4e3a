//! `skyql srv`: serves SQL over the PostgreSQL wire protocol (crate
//! `skyql-srv`), so that psql, drivers, BI tools and PostgreSQL's
//! `postgres_fdw` can query Google Cloud. The first line on stdout is the
//! address it listens on, exactly `HOST:PORT`, so that scripts and tests can
//! start it on port 0 and read where it listens; log lines go to stderr.

use crate::Global;
use anyhow::{Context, Result, bail};
use skyql_registry::Registry;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Options of `skyql srv`.
#[derive(clap::Args, Debug)]
pub struct SrvArgs {
    /// Address to listen on (port 0 picks a free port). Anything but a
    /// loopback address needs --password-file.
    #[arg(long, default_value = "127.0.0.1:5444")]
    pub addr: SocketAddr,
    /// Serve an in-process emulator seeded with sample jobs in project
    /// `demo-project`, instead of Google.
    #[arg(long)]
    pub emulator: bool,
    /// PEM certificate (chain) for TLS; clients may then connect with sslmode=require.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// A file whose first line is the password clients must give
    /// (SCRAM-SHA-256, any user name). Without it, no password is asked,
    /// which is only allowed on a loopback address.
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,
    #[command(flatten)]
    pub on_error: crate::OnErrorArg,
}

fn read_password(path: &Path) -> Result<String> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the password file {}", path.display()))?;
    let line = text.lines().next().unwrap_or("").to_string();
    if line.is_empty() {
        bail!(
            "the password file {} is empty; put the password on its first line",
            path.display()
        );
    }
    Ok(line)
}

pub fn run(global: &Global, registry: Arc<Registry>, args: SrvArgs) -> Result<()> {
    let password = match &args.password_file {
        Some(p) => Some(read_password(p)?),
        None => None,
    };
    let emulator = args.emulator.then(crate::remote::EmulatorOptions::default);
    let (connection, remote) = crate::remote::connect(global, emulator)?;
    let tls = match (args.tls_cert, args.tls_key) {
        (Some(cert), Some(key)) => Some(skyql_srv::TlsFiles { cert, key }),
        _ => None,
    };
    let config = skyql_srv::Config {
        addr: args.addr,
        password,
        tls,
        registry,
        client: remote.client,
        await_timeout: remote.await_timeout,
        on_error: args.on_error.on_error.clone().unwrap_or_default(),
        log: Arc::new(|line: &str| crate::term::err_line(format_args!("skyql srv: {line}"))),
    };
    connection.runtime.block_on(async move {
        let server = skyql_srv::Server::bind(config).await?;
        let addr = server.local_addr()?;
        {
            let mut out = std::io::stdout().lock();
            writeln!(out, "{addr}")?;
            out.flush()?;
        }
        crate::term::err_line(format_args!(
            "skyql srv: listening on {addr}; connect with: psql -h {} -p {}",
            addr.ip(),
            addr.port()
        ));
        server.serve().await?;
        Ok::<(), anyhow::Error>(())
    })?;
    drop(connection);
    Ok(())
}
