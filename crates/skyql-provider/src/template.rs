//! Which path template a method's SQL parameters come from. Discovery gives
//! two: `path` (`v1/{+parent}/customJobs`, or bigquery's
//! `projects/{+projectId}/datasets/{+datasetId}/tables`) and `flatPath`
//! (`v1/projects/{projectsId}/locations/{locationsId}/customJobs`). StackQL
//! names parameters after `path` where each of its placeholders is one
//! segment, after `flatPath` where `path` folds segments into one, and turns
//! flatPaths of the `v1/{v1Id}/{v1Id1}/assets` kind (any parent type) into
//! `v1/{parentType}/{parent}/assets`.

/// The `{name}` / `{+name}` placeholders of a path template, in order.
pub fn placeholders(template: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        let Some(len) = rest[start..].find('}') else {
            break;
        };
        let inner =
            rest[start + 1..start + len].trim_start_matches(['+', '/', '.', ';', '?', '&', '#']);
        if !inner.is_empty() && !out.iter().any(|o: &String| o == inner) {
            out.push(inner.to_string());
        }
        rest = &rest[start + len + 1..];
    }
    out
}

/// The template whose placeholders are the method's SQL parameters and
/// which requests are built from.
pub fn sql_template(path: &str, flat_path: Option<&str>) -> String {
    let Some(flat) = flat_path else {
        return path.to_string();
    };
    let flat_segments: Vec<&str> = flat.split('/').collect();
    if let [first, second, ..] = flat_segments.as_slice()
        && *second == format!("{{{first}Id}}")
    {
        let parent = if path.contains("{+parent}") {
            "{+parent}"
        } else {
            "{parent}"
        };
        return path.replace(parent, "{parentType}/{parent}");
    }
    if path.split('/').count() == flat_segments.len()
        && path.matches('{').count() == flat.matches('{').count()
    {
        return path.to_string();
    }
    flat.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folded_paths_use_the_flat_path() {
        assert_eq!(
            sql_template(
                "v1/{+parent}/customJobs",
                Some("v1/projects/{projectsId}/locations/{locationsId}/customJobs")
            ),
            "v1/projects/{projectsId}/locations/{locationsId}/customJobs"
        );
        assert_eq!(
            sql_template("v1/{+name}", Some("v1/operations/{operationsId}")),
            "v1/operations/{operationsId}"
        );
    }

    #[test]
    fn one_placeholder_per_segment_keeps_the_path() {
        assert_eq!(
            sql_template(
                "projects/{+projectId}/datasets/{+datasetId}/tables",
                Some("projects/{projectsId}/datasets/{datasetsId}/tables")
            ),
            "projects/{+projectId}/datasets/{+datasetId}/tables"
        );
        assert_eq!(
            sql_template("projects/{project}/zones/{zone}/instances", None),
            "projects/{project}/zones/{zone}/instances"
        );
    }

    #[test]
    fn version_id_flat_paths_become_parent_type_and_parent() {
        assert_eq!(
            sql_template("v1/{+parent}/assets", Some("v1/{v1Id}/{v1Id1}/assets")),
            "v1/{parentType}/{parent}/assets"
        );
        assert_eq!(
            sql_template(
                "v1/{+scope}:searchAllResources",
                Some("v1/{v1Id}/{v1Id1}:searchAllResources")
            ),
            "v1/{+scope}:searchAllResources"
        );
        assert_eq!(
            placeholders("v1/{parentType}/{parent}/assets"),
            ["parentType", "parent"]
        );
    }
}
