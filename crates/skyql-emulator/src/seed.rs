//! Deterministic sample jobs for `--seed-jobs N`.
//!
//! Job `i` (0-based) lives in project `demo-project` (with `--seed-projects`, each of
//! `demo-project-1` … `demo-project-N` gets the same jobs, ids apart), in `us-central1` when `i` is even and
//! `europe-west4` when odd. Its id, display name, machine type, labels and times derive from
//! `i` alone (and the clock's start), so two runs seed the same jobs. Job 0 is the newest;
//! each next one was created about ten minutes earlier. States, by `i % 20`: 0 pending,
//! 1-2 running, 3 failed, 4 cancelled, the rest succeeded (long-lived pending and running
//! jobs stay so for days of real time).

use std::collections::BTreeMap;

use serde_json::json;

use crate::ids::{nineteen_digits, project_number, splitmix64};
use crate::jobs::{CompactJson, Job};

/// The project seeded jobs live in.
pub const SEED_PROJECT: &str = "demo-project";
const LOCATIONS: [&str; 2] = ["us-central1", "europe-west4"];
const NAMES: [&str; 8] = [
    "train-resnet50",
    "bert-finetune",
    "xgboost-tabular",
    "hparam-sweep",
    "eval-nightly",
    "data-prep",
    "llm-distill",
    "forecast-retrain",
];
const TEAMS: [&str; 4] = ["vision", "nlp", "ranking", "infra"];
const ENVS: [&str; 3] = ["dev", "staging", "prod"];
/// (machine type, accelerator, count)
const MACHINES: [(&str, Option<&str>, u32); 6] = [
    ("n1-standard-4", None, 0),
    ("n1-standard-8", Some("NVIDIA_TESLA_T4"), 1),
    ("n1-highmem-16", None, 0),
    ("a2-highgpu-1g", Some("NVIDIA_TESLA_A100"), 1),
    ("g2-standard-8", Some("NVIDIA_L4"), 1),
    ("e2-standard-4", None, 0),
];

const SEC: i64 = 1_000_000;
const DAY: i64 = 86_400 * SEC;

/// The seeded jobs of `demo-project`, given the clock's start time; `seq` numbers start
/// after `first_seq`.
pub fn seed_jobs(n: usize, start_us: i64, first_seq: u64) -> Vec<Job> {
    seed_project_jobs(SEED_PROJECT, n, start_us, first_seq)
}

/// The same `n` jobs in `project_id` (for `--seed-projects`): names, states and times
/// as in `demo-project`, ids mixed with the project number so that they differ between
/// projects (`demo-project` keeps the ids it always had).
pub fn seed_project_jobs(project_id: &str, n: usize, start_us: i64, first_seq: u64) -> Vec<Job> {
    let project = project_number(project_id);
    let salt = if project_id == SEED_PROJECT {
        0
    } else {
        project.rotate_left(17)
    };
    (0..n)
        .map(|i| {
            let mut rs = (i as u64).wrapping_mul(0x2545_F491_4F6C_DD1D) ^ 0x5EED ^ salt;
            let id = nineteen_digits(splitmix64(&mut rs));
            let h = splitmix64(&mut rs);
            let name = NAMES[i % NAMES.len()];
            let (machine, accel, count) = MACHINES[(i / 2) % MACHINES.len()];
            let age = (i as i64 + 1) * 600 * SEC + (h % 300) as i64 * SEC;
            let create_us = start_us - age;
            let category = i % 20;
            let (pending_us, running_us) = match category {
                0 => (age + DAY, 3_600 * SEC),
                1 | 2 => (120 * SEC, age + 2 * DAY),
                _ => {
                    let pending = (30 + (h % 150) as i64) * SEC;
                    let running = ((120 + (h >> 8) % 3_600) as i64 * SEC).min(age - pending - 10 * SEC);
                    (pending, running)
                }
            };
            let cancel_us = (category == 4).then(|| create_us + pending_us + running_us / 2);
            let mut machine_spec = json!({"machineType": machine});
            if let Some(a) = accel {
                machine_spec["acceleratorType"] = json!(a);
                machine_spec["acceleratorCount"] = json!(count);
            }
            let mut labels = BTreeMap::new();
            labels.insert("team".to_string(), TEAMS[i % TEAMS.len()].to_string());
            labels.insert("env".to_string(), ENVS[i % ENVS.len()].to_string());
            if i % 5 == 0 {
                labels.insert("owner".to_string(), format!("user-{}", i % 7));
            }
            if category == 3 {
                labels.insert("emulator-outcome".to_string(), "failed".to_string());
            }
            let task = if i % 4 == 3 {
                json!({"pythonPackageSpec": {
                    "executorImageUri": "us-docker.pkg.dev/vertex-ai/training/pytorch-gpu.2-1:latest",
                    "packageUris": [format!("gs://{project_id}-artifacts/{name}/trainer-0.1.tar.gz")],
                    "pythonModule": "trainer.task",
                    "args": [format!("--epochs={}", 5 + i % 20)]
                }})
            } else {
                json!({"containerSpec": {
                    "imageUri": format!("us-docker.pkg.dev/{project_id}/training/{name}:v{}", 1 + i % 3),
                    "args": [format!("--epochs={}", 5 + i % 20), "--batch-size=64"]
                }})
            };
            let mut pool = json!({
                "machineSpec": machine_spec,
                "replicaCount": "1",
                "diskSpec": {"bootDiskType": "pd-ssd", "bootDiskSizeGb": 100}
            });
            if let (Some(p), Some(t)) = (pool.as_object_mut(), task.as_object()) {
                p.extend(t.clone());
            }
            Job {
                id,
                project_number: project,
                location: LOCATIONS[i % 2].to_string(),
                seq: first_seq + (n - i) as u64,
                display_name: format!("{name}-{i:05}"),
                job_spec: CompactJson::new(&json!({
                    "workerPoolSpecs": [pool],
                    "baseOutputDirectory": {"outputUriPrefix": format!("gs://{project_id}-artifacts/{name}/{i:05}")}
                })),
                labels,
                encryption_spec: None,
                create_us,
                pending_us,
                running_us,
                fails: category == 3,
                cancel_us,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{HashMap, HashSet};

    #[test]
    fn deterministic_spread() {
        let start = 1_700_000_000 * SEC;
        let a = seed_jobs(200, start, 0);
        let b = seed_jobs(200, start, 0);
        assert_eq!(
            a.iter().map(|j| j.id).collect::<Vec<_>>(),
            b.iter().map(|j| j.id).collect::<Vec<_>>()
        );
        let ids: HashSet<u64> = a.iter().map(|j| j.id).collect();
        assert_eq!(ids.len(), 200);
        let mut states: HashMap<&str, usize> = HashMap::new();
        for j in &a {
            *states.entry(j.view(start).state).or_default() += 1;
        }
        assert_eq!(states["JOB_STATE_PENDING"], 10);
        assert_eq!(states["JOB_STATE_RUNNING"], 20);
        assert_eq!(states["JOB_STATE_FAILED"], 10);
        assert_eq!(states["JOB_STATE_CANCELLED"], 10);
        assert_eq!(states["JOB_STATE_SUCCEEDED"], 150);
    }
}
