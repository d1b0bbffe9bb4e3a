//! Writing to the terminal without ever panicking: `print!`/`eprintln!`
//! panic when stdout or stderr cannot be written (a closed pipe, a full
//! disk). Output goes through `?` instead, and the exit status says what
//! happened: 0 when the reader closed the pipe (`skyql exec ... | head`), 1
//! for any other write failure (`> /dev/full`). Also: creating files that
//! hold secrets readable by their owner only.

use std::io::Write;
use std::path::Path;

/// Writes one line to stderr; a failure to do so is ignored (there is
/// nowhere left to report it).
pub fn err_line(msg: impl std::fmt::Display) {
    let mut e = std::io::stderr().lock();
    let _ = writeln!(e, "{msg}");
    let _ = e.flush();
}

/// Writes text to stdout (and flushes it).
pub fn out(text: impl std::fmt::Display) -> std::io::Result<()> {
    let mut o = std::io::stdout().lock();
    write!(o, "{text}")?;
    o.flush()
}

/// Writes one line to stdout (and flushes it).
pub fn out_line(text: impl std::fmt::Display) -> std::io::Result<()> {
    out(format_args!("{text}\n"))
}

/// The exit status for an error: `Some(0)` when it is a closed output pipe
/// (quiet, like `cat`), `None` for everything else.
pub fn quiet_exit(e: &anyhow::Error) -> Option<i32> {
    let broken = e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    });
    broken.then_some(0)
}

/// An error and its causes on one line, `outer: cause: cause`, leaving out
/// a cause whose text the line already holds (many errors write their
/// source into their own message and also expose it as the source, and
/// "Address already in use" was printed twice).
pub fn error_line(e: &anyhow::Error) -> String {
    let mut line = e.to_string();
    for cause in e.chain().skip(1) {
        let text = cause.to_string();
        if !line.contains(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
    }
    line
}

/// Creates (or replaces) a file readable and writable by its owner only
/// (0600 on Unix), never world-readable even for a moment: the bytes go to
/// a new private file in the same folder, which then replaces `path`.
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "secret".into());
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = private_options().open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Makes sure a file exists and is private (0600), keeping its contents.
pub fn ensure_private(path: &Path) -> std::io::Result<()> {
    let mut options = private_options();
    options.create_new(false).create(true).truncate(false);
    drop(options.open(path)?);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}

fn private_options() -> std::fs::OpenOptions {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closed_pipes_exit_quietly_and_other_errors_do_not() {
        let broken = anyhow::Error::new(std::io::Error::from(std::io::ErrorKind::BrokenPipe))
            .context("writing the result");
        assert_eq!(quiet_exit(&broken), Some(0));
        let full = anyhow::Error::new(std::io::Error::from(std::io::ErrorKind::StorageFull));
        assert_eq!(quiet_exit(&full), None);
    }

    #[test]
    fn an_error_line_names_each_cause_once() {
        /// Writes its source into its message and exposes it too.
        #[derive(Debug)]
        struct Bind {
            source: std::io::Error,
        }
        impl std::fmt::Display for Bind {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "cannot listen on 127.0.0.1:1: {}", self.source)
            }
        }
        impl std::error::Error for Bind {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.source)
            }
        }
        let e = anyhow::Error::new(Bind {
            source: std::io::Error::from(std::io::ErrorKind::AddrInUse),
        })
        .context("starting the emulator");
        let line = error_line(&e);
        assert_eq!(
            line,
            format!(
                "starting the emulator: cannot listen on 127.0.0.1:1: {}",
                std::io::Error::from(std::io::ErrorKind::AddrInUse)
            )
        );
        let plain = anyhow::anyhow!("inner").context("outer");
        assert_eq!(error_line(&plain), "outer: inner");
    }

    #[cfg(unix)]
    #[test]
    fn private_files_are_0600_from_the_start() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("key.json");
        std::fs::write(&path, "old").expect("old");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        write_private(&path, b"secret").expect("write");
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(std::fs::read(&path).expect("read"), b"secret");
        let hist = dir.path().join("history");
        ensure_private(&hist).expect("history");
        let mode = std::fs::metadata(&hist).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
}
