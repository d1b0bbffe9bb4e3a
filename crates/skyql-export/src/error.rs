//! The crate's one error type. Each variant says whose fault it is: the
//! user's options or statement, the file system, or skyql itself.

use std::path::PathBuf;
use thiserror::Error;

#[derive(Debug, Error)]
// The causes are part of each message (and deliberately not `source`s,
// so that a chain printed with `{:#}` does not say them twice).
pub enum Error {
    /// `--on-error` was not `fail`, `warn` or `skip:CODES` (the user's).
    #[error(
        "--on-error `{0}` is not valid; give fail, warn or skip:CODES (e.g. skip:SERVICE_DISABLED,PERMISSION_DENIED)"
    )]
    OnError(String),
    /// The result cannot become a file with one column per name (the statement's).
    #[error(
        "column `{0}` appears more than once in the result; give each column its own name with AS"
    )]
    DuplicateColumn(String),
    /// A script gave more than one result, or none (the statement's).
    #[error("{0}")]
    Result(String),
    /// Writing a file or folder failed (the file system's: space, permissions).
    #[error("writing {}: {cause}", path.display())]
    Write {
        path: PathBuf,
        cause: std::io::Error,
    },
    /// Reading a file or folder failed (the file system's, or a missing folder).
    #[error("reading {}: {cause}", path.display())]
    Read {
        path: PathBuf,
        cause: std::io::Error,
    },
    /// A manifest that is not one this version writes (someone else's file,
    /// or a damaged one).
    #[error("{} is not a skyql export manifest: {reason}", path.display())]
    Manifest { path: PathBuf, reason: String },
    /// A Parquet file that cannot be read back (damaged or not Parquet).
    #[error("{} is not a readable Parquet file: {cause}", path.display())]
    ParquetRead {
        path: PathBuf,
        cause: parquet::errors::ParquetError,
    },
    /// Building Arrow arrays or the Parquet file failed: skyql's bug (the
    /// columns are built to match the schema).
    #[error("building the Parquet file failed (a bug in skyql, please report it): {0}")]
    Encode(String),
}

impl Error {
    pub(crate) fn write(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |cause| Error::Write { path, cause }
    }

    pub(crate) fn read(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |cause| Error::Read { path, cause }
    }
}

impl From<parquet::errors::ParquetError> for Error {
    fn from(e: parquet::errors::ParquetError) -> Error {
        Error::Encode(e.to_string())
    }
}

impl From<arrow_schema::ArrowError> for Error {
    fn from(e: arrow_schema::ArrowError) -> Error {
        Error::Encode(e.to_string())
    }
}
