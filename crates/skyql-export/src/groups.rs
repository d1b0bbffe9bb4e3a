//! The engine's statement report (one entry per request group of its
//! fan-outs) as the manifest's groups: the table, the parameters with the
//! project and location picked out, how the group ended, its rows, error
//! and error codes, and whether it is one of the groups `--shard` split.

use crate::Shard;
use crate::manifest::{Group, Status};
use skyql_engine::{PartStatus, StatementReport};

/// Parameter names that hold a project, in the names Google's APIs use.
const PROJECT_PARAMS: &[&str] = &["projectsId", "project", "projectId"];
/// Parameter names that hold a location, region or zone.
const LOCATION_PARAMS: &[&str] = &[
    "locationsId",
    "location",
    "region",
    "zone",
    "regionsId",
    "zonesId",
];

fn first_of(params: &std::collections::BTreeMap<String, String>, names: &[&str]) -> Option<String> {
    names.iter().find_map(|n| params.get(*n).cloned())
}

/// The groups of one statement's report, as shard `shard` records them.
///
/// A statement with no fan-out to split returns its rows in the first
/// shard only (the engine empties the others' result), so only the first
/// shard records its groups: each group is then accounted for once.
pub fn groups_of(report: &StatementReport, shard: Shard) -> Vec<Group> {
    if shard.count > 1 && report.sharded_table.is_none() && shard.index != 1 {
        return Vec::new();
    }
    report
        .parts
        .iter()
        .map(|p| {
            let (status, error) = match p.status {
                PartStatus::Ok => (Status::Ok, p.error.clone()),
                PartStatus::Skipped => (Status::Skipped, p.error.clone()),
                PartStatus::Failed => (Status::Failed, p.error.clone()),
                PartStatus::Cancelled => (
                    Status::Failed,
                    Some(p.error.clone().unwrap_or_else(|| {
                        "stopped unfinished: the statement failed on another request group".into()
                    })),
                ),
                PartStatus::Running => (
                    Status::Failed,
                    Some(
                        "still running when the statement ended (a bug in skyql, please report it)"
                            .into(),
                    ),
                ),
            };
            Group {
                resource: Some(p.table.clone()),
                project: first_of(&p.params, PROJECT_PARAMS),
                location: first_of(&p.params, LOCATION_PARAMS),
                parameters: p.params.clone(),
                status,
                rows: p.rows,
                codes: p.codes.clone(),
                sharded: report.sharded_table.as_deref() == Some(p.table.as_str()),
                error,
            }
        })
        .collect()
}
