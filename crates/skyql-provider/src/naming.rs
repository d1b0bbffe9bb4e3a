//! StackQL's naming rules for Google: a resource is named after its
//! collection (the last Discovery resource key, scope prefixes such as
//! compute's `region`/`global` dropped), IAM policies and other "get X"
//! reads become resources of their own, and method names are snake_case,
//! spelled out in full where a resource gathers several collections.

/// Words kept whole before snake-casing (`GitHub` is `github`, not `git_hub`).
const WHOLE_WORDS: &[&str] = &["gitlab", "github", "dotcom"];

/// `customJobs` → `custom_jobs`, `getServerconfig` → `get_serverconfig`,
/// `IAMPolicies` → `iampolicies` (StackQL splits only lower-to-upper
/// boundaries), `GitHubEnterpriseConfigs` → `github_enterprise_configs`.
pub fn snake_case(s: &str) -> String {
    // One pass: `lower` finds the whole words (ASCII lowering keeps byte
    // offsets), `prev` is the last character written, as the words leave it.
    let lower = s.to_ascii_lowercase();
    let mut out = String::with_capacity(s.len() + 4);
    let mut prev: Option<char> = None;
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        if let Some(word) = WHOLE_WORDS
            .iter()
            .find(|w| lower.get(i..).is_some_and(|rest| rest.starts_with(**w)))
        {
            out.push_str(word);
            prev = word.chars().last();
            for _ in 1..word.len() {
                chars.next();
            }
            continue;
        }
        if c.is_ascii_uppercase()
            && prev.is_some_and(|p| p.is_ascii_lowercase() || p.is_ascii_digit())
        {
            out.push('_');
        }
        match c {
            '-' | '.' | ' ' => out.push('_'),
            c => out.push(c.to_ascii_lowercase()),
        }
        prev = Some(c);
    }
    out
}

/// Scope prefixes of compute-style collection keys: `regionDisks`,
/// `globalAddresses`, `zoneOperations` and `globalOrganizationOperations`
/// are variants of `disks`, `addresses` and `operations`.
const SCOPE_PREFIXES: &[&str] = &["globalOrganization", "global", "region", "zone"];

/// The snake_case name of a collection key, scope prefix dropped.
pub fn collection_name(key: &str) -> String {
    for prefix in SCOPE_PREFIXES {
        if let Some(rest) = key.strip_prefix(prefix)
            && rest.starts_with(|c: char| c.is_ascii_uppercase())
        {
            return snake_case(rest);
        }
    }
    snake_case(key)
}

/// Actions that make an IAM policy resource.
const IAM_ACTIONS: &[&str] = &[
    "getIamPolicy",
    "setIamPolicy",
    "testIamPermissions",
    "analyzeIamPolicy",
    "analyzeIamPolicyLongrunning",
    "searchAllIamPolicies",
];

/// Verbs that, followed by more words, name a resource of their own
/// (`getSerialPortOutput` → `serial_port_output`).
const ACTION_VERBS: &[&str] = &[
    "get", "list", "delete", "batchGet", "remove", "create", "add", "update", "fetch", "retrieve",
];

/// Collections that only scope others: a "get X" on them is just `x`.
const SCOPES: &[&str] = &["organizations", "folders", "projects", "locations"];

/// The resource a method belongs to, from its collection's name (snake_case,
/// see [`collection_name`]) and its action.
pub fn resource_name(collection: &str, action: &str) -> String {
    let mut name = if IAM_ACTIONS.contains(&action) {
        format!("{collection}_iam_policies")
    } else {
        match ACTION_VERBS
            .iter()
            .find(|v| action.len() > v.len() && action.starts_with(**v))
        {
            Some(verb) => {
                let object = snake_case(&action[verb.len()..]);
                let object = object.trim_start_matches('_');
                if SCOPES.contains(&collection) {
                    object.to_string()
                } else {
                    format!("{collection}_{object}")
                }
            }
            None => collection.to_string(),
        }
    };
    while name.contains("__") {
        name = name.replace("__", "_");
    }
    name.trim_start_matches('_').to_string()
}

/// A method's full name: its Discovery id without the service, snake_case
/// (`logging.projects.locations.savedQueries.list` →
/// `projects_locations_saved_queries_list`).
pub fn full_method_name(id: &str) -> String {
    let tokens: Vec<&str> = id.split('.').skip(1).collect();
    snake_case(&tokens.join("_"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_cases_like_stackql() {
        assert_eq!(snake_case("customJobs"), "custom_jobs");
        assert_eq!(snake_case("dataLabelingJobs"), "data_labeling_jobs");
        assert_eq!(snake_case("IAMPolicies"), "iampolicies");
        assert_eq!(snake_case("v1beta1"), "v1beta1");
        assert_eq!(snake_case("httpHealthChecks"), "http_health_checks");
        assert_eq!(snake_case("Serverconfig"), "serverconfig");
        assert_eq!(snake_case("gitHubInstallations"), "github_installations");
        assert_eq!(
            snake_case("fetchGitHubInstallations"),
            "fetchgithub_installations"
        );
        assert_eq!(
            snake_case("get-fhir-operation-status"),
            "get_fhir_operation_status"
        );
        assert_eq!(snake_case("hl7V2Stores"), "hl7_v2_stores");
    }

    #[test]
    fn scope_prefixes_make_variants() {
        assert_eq!(collection_name("regionDisks"), "disks");
        assert_eq!(
            collection_name("globalOrganizationOperations"),
            "operations"
        );
        assert_eq!(collection_name("zoneOperations"), "operations");
        assert_eq!(collection_name("regions"), "regions");
        assert_eq!(collection_name("globals"), "globals");
    }

    #[test]
    fn actions_name_resources() {
        assert_eq!(resource_name("instances", "get"), "instances");
        assert_eq!(resource_name("instances", "aggregatedList"), "instances");
        assert_eq!(
            resource_name("instances", "getSerialPortOutput"),
            "instances_serial_port_output"
        );
        assert_eq!(
            resource_name("instances", "getIamPolicy"),
            "instances_iam_policies"
        );
        assert_eq!(resource_name("projects", "getCacheConfig"), "cache_config");
        assert_eq!(
            resource_name("zones", "getServerconfig"),
            "zones_serverconfig"
        );
        assert_eq!(
            resource_name("routers", "getRouterStatus"),
            "routers_router_status"
        );
        assert_eq!(resource_name("instances", "setLabels"), "instances");
    }

    #[test]
    fn full_names_drop_the_service() {
        assert_eq!(
            full_method_name("logging.projects.locations.savedQueries.list"),
            "projects_locations_saved_queries_list"
        );
    }
}
