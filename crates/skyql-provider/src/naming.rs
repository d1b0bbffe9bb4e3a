//! Naming rules (DESIGN §4): Discovery keys become snake_case SQL names, and
//! resources that share a name within a service are told apart by prefixes.

use std::collections::BTreeMap;

/// `customJobs` → `custom_jobs`, `IAMPolicies` → `iam_policies`, `v1beta1` stays.
pub fn snake_case(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() {
            let prev = i.checked_sub(1).map(|j| chars[j]);
            let next = chars.get(i + 1).copied();
            let boundary = match prev {
                Some(p) if p.is_ascii_lowercase() || p.is_ascii_digit() => true,
                Some(p) if p.is_ascii_uppercase() => next.is_some_and(|n| n.is_ascii_lowercase()),
                _ => false,
            };
            if boundary && !out.ends_with('_') {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else if c == '-' || c == '.' || c == ' ' {
            out.push('_');
        } else {
            out.push(c);
        }
    }
    out
}

/// Gives each resource path (Discovery keys from the root) a unique SQL name.
///
/// Every path starts with the snake_case of its last key. Within a group that
/// shares a name, the single shallowest path keeps it and the others take their
/// parent's snake name as a prefix (`custom_jobs_operations`); this repeats, one
/// more ancestor each round, until all names are unique. If several paths tie
/// for shallowest, all of them are prefixed.
pub fn unique_names(paths: &[Vec<String>]) -> Vec<String> {
    // How many ancestors each path currently uses as a prefix.
    let mut depth_used = vec![0usize; paths.len()];
    let name_of = |i: usize, used: usize| -> String {
        let p = &paths[i];
        let start = p.len().saturating_sub(used + 1);
        p[start..]
            .iter()
            .map(|k| snake_case(k))
            .collect::<Vec<_>>()
            .join("_")
    };
    let mut names: Vec<String> = (0..paths.len()).map(|i| name_of(i, 0)).collect();
    loop {
        let mut groups: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (i, n) in names.iter().enumerate() {
            groups.entry(n.as_str()).or_default().push(i);
        }
        let mut to_prefix = Vec::new();
        for members in groups.values().filter(|m| m.len() > 1) {
            let min_depth = members.iter().map(|&i| paths[i].len()).min().unwrap_or(0);
            let shallowest: Vec<usize> = members
                .iter()
                .copied()
                .filter(|&i| paths[i].len() == min_depth)
                .collect();
            for &i in members {
                let keeps = shallowest.len() == 1 && shallowest[0] == i;
                if !keeps && depth_used[i] + 1 < paths[i].len() {
                    to_prefix.push(i);
                }
            }
        }
        if to_prefix.is_empty() {
            return names;
        }
        for i in to_prefix {
            depth_used[i] += 1;
            names[i] = name_of(i, depth_used[i]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_cases_discovery_keys() {
        assert_eq!(snake_case("customJobs"), "custom_jobs");
        assert_eq!(snake_case("dataLabelingJobs"), "data_labeling_jobs");
        assert_eq!(snake_case("IAMPolicies"), "iam_policies");
        assert_eq!(snake_case("v1beta1"), "v1beta1");
        assert_eq!(snake_case("httpHealthChecks"), "http_health_checks");
        assert_eq!(snake_case("operations"), "operations");
    }

    fn p(s: &str) -> Vec<String> {
        s.split('.').map(String::from).collect()
    }

    #[test]
    fn shallowest_keeps_the_name() {
        let paths = [
            p("projects.locations.operations"),
            p("projects.locations.customJobs"),
            p("projects.locations.customJobs.operations"),
            p("projects.locations.datasets.operations"),
        ];
        assert_eq!(
            unique_names(&paths),
            [
                "operations",
                "custom_jobs",
                "custom_jobs_operations",
                "datasets_operations"
            ]
        );
    }

    #[test]
    fn ties_are_all_prefixed_until_unique() {
        let paths = [
            p("projects.a.jobs.operations"),
            p("projects.b.jobs.operations"),
        ];
        assert_eq!(
            unique_names(&paths),
            ["a_jobs_operations", "b_jobs_operations"]
        );
    }
}
