//! The organisation the emulator's Resource Manager (v3) answers for: one organization,
//! a small folder tree and the seeded projects, so that organisation-wide fan-outs
//! (`WHERE projectsId IN (SELECT projectId FROM google.cloudresourcemanager.projects ...)`)
//! and folder-recursion recipes can be tried offline.
//!
//! The tree is fixed and documented (docs/emulator.md):
//!
//! ```text
//! organizations/123456789012 (example.com)
//! ├── folders/100000000001 (engineering)
//! │   └── folders/100000000003 (engineering-prod)
//! └── folders/100000000002 (operations)
//! ```
//!
//! Without `--seed-projects` the one project is `demo-project`, directly under the
//! organization. With `--seed-projects N` the projects are `demo-project-1` …
//! `demo-project-N`; project `k` lives under the organization when `k % 4 == 1`, under
//! `engineering` when `k % 4 == 2`, `operations` when `k % 4 == 3`, and
//! `engineering-prod` when `k % 4 == 0`, so that only a recursive walk finds them all.
//! Times and etags derive from the index and the clock's start alone.

use crate::clock::rfc3339;
use crate::ids::{project_number, splitmix64};
use crate::seed::SEED_PROJECT;
use crate::wire::Json;

/// The organization's id (`organizations/123456789012`).
pub const ORGANIZATION_ID: u64 = 123_456_789_012;
/// The organization's display name (its domain).
pub const ORGANIZATION_DOMAIN: &str = "example.com";
/// The Google Workspace customer id of the organization.
pub const DIRECTORY_CUSTOMER_ID: &str = "C0demo1x2";
/// The most projects `--seed-projects` may ask for.
pub const MAX_SEED_PROJECTS: usize = 100_000;

/// The folders: (id, display name, parent's resource name index: `None` for the
/// organization, else the index of the parent folder in this list).
const FOLDERS: [(u64, &str, Option<usize>); 3] = [
    (100_000_000_001, "engineering", None),
    (100_000_000_002, "operations", None),
    (100_000_000_003, "engineering-prod", Some(0)),
];

const SEC: i64 = 1_000_000;
const DAY: i64 = 86_400 * SEC;

/// A project of the organisation.
#[derive(Clone, Debug)]
pub struct Project {
    pub id: String,
    pub number: u64,
    /// `organizations/N` or `folders/N`.
    pub parent: String,
    pub create_us: i64,
    pub etag: String,
}

/// A folder of the organisation.
#[derive(Clone, Debug)]
pub struct Folder {
    pub id: u64,
    pub display_name: &'static str,
    pub parent: String,
    pub create_us: i64,
    pub etag: String,
}

/// The organization, its folders and its projects (in seeding order).
#[derive(Clone, Debug)]
pub struct Org {
    pub create_us: i64,
    pub folders: Vec<Folder>,
    pub projects: Vec<Project>,
}

/// The organization's resource name.
pub fn organization_name() -> String {
    format!("organizations/{ORGANIZATION_ID}")
}

/// The id of seeded project `k` (1-based) under `--seed-projects`.
pub fn seeded_project_id(k: usize) -> String {
    format!("{SEED_PROJECT}-{k}")
}

/// A weak etag (`W/"..."`) from a stable hash, as Resource Manager writes them.
fn etag(salt: u64) -> String {
    let mut s = salt;
    let a = splitmix64(&mut s);
    let b = splitmix64(&mut s);
    format!("W/\"{a:016x}{:08x}\"", b as u32)
}

fn folder_name(index: usize) -> String {
    format!("folders/{}", FOLDERS[index].0)
}

impl Org {
    /// The organisation: `demo-project` alone when `seed_projects` is 0, else
    /// `demo-project-1` … `demo-project-N` spread over the tree (see the module page).
    pub fn new(seed_projects: usize, start_us: i64) -> Org {
        let create_us = start_us - 3_000 * DAY;
        let folders = FOLDERS
            .iter()
            .enumerate()
            .map(|(i, (id, display_name, parent))| Folder {
                id: *id,
                display_name,
                parent: parent.map_or_else(organization_name, folder_name),
                create_us: create_us + (i as i64 + 1) * DAY,
                etag: etag(*id),
            })
            .collect();
        let project = |id: String, parent: String, age_days: i64| {
            let number = project_number(&id);
            Project {
                create_us: start_us - age_days * DAY - (number % 86_400) as i64 * SEC,
                etag: etag(number),
                id,
                number,
                parent,
            }
        };
        let projects = if seed_projects == 0 {
            vec![project(SEED_PROJECT.to_string(), organization_name(), 400)]
        } else {
            (1..=seed_projects)
                .map(|k| {
                    let parent = match k % 4 {
                        1 => organization_name(),
                        2 => folder_name(0),
                        3 => folder_name(1),
                        _ => folder_name(2),
                    };
                    let age = 1_000 - (k as i64 * 1_000 / (seed_projects as i64 + 1));
                    project(seeded_project_id(k), parent, age)
                })
                .collect()
        };
        Org {
            create_us,
            folders,
            projects,
        }
    }

    /// The project with this id or number.
    pub fn project(&self, id_or_number: &str) -> Option<&Project> {
        self.projects
            .iter()
            .find(|p| p.id == id_or_number || p.number.to_string() == id_or_number)
    }

    /// The folder with this id.
    pub fn folder(&self, id: &str) -> Option<&Folder> {
        self.folders.iter().find(|f| f.id.to_string() == id)
    }

    /// Whether `name` (`organizations/N` or `folders/N`) names a node of the tree.
    pub fn has_parent(&self, name: &str) -> bool {
        name == organization_name()
            || name
                .strip_prefix("folders/")
                .is_some_and(|id| self.folder(id).is_some())
    }

    /// The organization as `google.cloud.resourcemanager.v3.Organization` JSON (proto
    /// field order).
    pub fn organization_json(&self) -> Json {
        Json::obj()
            .with("name", organization_name())
            .with("displayName", ORGANIZATION_DOMAIN)
            .with("directoryCustomerId", DIRECTORY_CUSTOMER_ID)
            .with("state", "ACTIVE")
            .with("createTime", rfc3339(self.create_us))
            .with("updateTime", rfc3339(self.create_us))
            .with("etag", etag(ORGANIZATION_ID))
    }
}

impl Project {
    /// `google.cloud.resourcemanager.v3.Project` JSON, fields in proto order (name,
    /// parent, projectId, state, displayName, createTime, updateTime, etag).
    pub fn json(&self) -> Json {
        Json::obj()
            .with("name", format!("projects/{}", self.number))
            .with("parent", self.parent.as_str())
            .with("projectId", self.id.as_str())
            .with("state", "ACTIVE")
            .with("displayName", self.id.as_str())
            .with("createTime", rfc3339(self.create_us))
            .with("updateTime", rfc3339(self.create_us))
            .with("etag", self.etag.as_str())
    }
}

impl Folder {
    /// `google.cloud.resourcemanager.v3.Folder` JSON, fields in proto order.
    pub fn json(&self) -> Json {
        Json::obj()
            .with("name", format!("folders/{}", self.id))
            .with("parent", self.parent.as_str())
            .with("displayName", self.display_name)
            .with("state", "ACTIVE")
            .with("createTime", rfc3339(self.create_us))
            .with("updateTime", rfc3339(self.create_us))
            .with("etag", self.etag.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tree_spreads_projects_over_every_node() {
        let org = Org::new(8, 1_700_000_000 * SEC);
        let parents: Vec<&str> = org.projects.iter().map(|p| p.parent.as_str()).collect();
        assert_eq!(parents[0], "organizations/123456789012");
        assert_eq!(parents[1], "folders/100000000001");
        assert_eq!(parents[2], "folders/100000000002");
        assert_eq!(parents[3], "folders/100000000003");
        assert_eq!(org.folders[2].parent, "folders/100000000001");
        assert_eq!(org.projects[7].id, "demo-project-8");
        assert!(org.has_parent("folders/100000000003"));
        assert!(!org.has_parent("folders/1"));
        let single = Org::new(0, 0);
        assert_eq!(single.projects.len(), 1);
        assert_eq!(single.projects[0].id, "demo-project");
        assert!(org.projects[0].etag.starts_with("W/\""));
        assert_eq!(
            Org::new(8, 5).projects[3].etag,
            Org::new(8, 5).projects[3].etag
        );
    }
}
