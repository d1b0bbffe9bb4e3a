//! Which version of a service SQL uses: the one StackQL's Google provider
//! uses. That is the Discovery directory's preferred version, except where
//! the bundled directory is older than the documents beside it: a newer GA
//! version it does not list wins (cloudresourcemanager v3 over v2). A few
//! services keep an older version by hand ([`VERSION_EXCEPTIONS`]).

use crate::catalog::CatalogEntry;

/// Versions StackQL uses where the rule would pick a newer one (Google's
/// current directory still prefers these).
pub const VERSION_EXCEPTIONS: &[(&str, &str)] = &[
    // iam v2 and v2beta are StackQL's separate `iamv2` / `iamv2beta` services.
    ("iam", "v1"),
    // dns v2 lacks v1's managed zone IAM policies.
    ("dns", "v1"),
    // integrations v2 has a handful of v1's resources.
    ("integrations", "v1"),
];

/// Versions StackQL serves as services of their own: (name, service, version).
pub const SERVICE_ALIASES: &[(&str, &str, &str)] =
    &[("iamv2", "iam", "v2"), ("iamv2beta", "iam", "v2beta")];

fn is_ga(version: &str) -> bool {
    preference_key(version).0 == 2
}

/// The version of `name` that SQL uses among the `present` ones, given what
/// a Discovery directory (`directory`, possibly stale) lists.
pub fn choose_version(
    name: &str,
    present: &[String],
    directory: &[CatalogEntry],
) -> Option<String> {
    if let Some((_, v)) = VERSION_EXCEPTIONS.iter().find(|(n, _)| *n == name)
        && present.iter().any(|p| p == v)
    {
        return Some((*v).to_string());
    }
    let listed = |v: &str| directory.iter().any(|d| d.name == name && d.version == v);
    let newest = |vs: Vec<&String>| vs.into_iter().max_by_key(|v| preference_key(v)).cloned();
    let preferred = directory
        .iter()
        .find(|d| d.name == name && d.preferred && present.contains(&d.version));
    match preferred {
        Some(p) => {
            let newer_unlisted_ga = present
                .iter()
                .filter(|v| {
                    is_ga(v) && !listed(v) && preference_key(v) > preference_key(&p.version)
                })
                .collect();
            newest(newer_unlisted_ga).or_else(|| Some(p.version.clone()))
        }
        None => newest(present.iter().collect()),
    }
}

/// A sort key: greater is more preferred. Stable beats beta beats alpha; then
/// the higher major and minor numbers win (`v2` > `v1` > `v1beta1`).
pub fn preference_key(version: &str) -> (u8, u32, u32, String) {
    let v = version.trim_start_matches('v');
    let digits: String = v.chars().take_while(|c| c.is_ascii_digit()).collect();
    let major = digits.parse().unwrap_or(0);
    let rest = &v[digits.len()..];
    let stability = if rest.contains("alpha") {
        0
    } else if rest.contains("beta") {
        1
    } else {
        2
    };
    let minor_digits: String = rest
        .trim_start_matches(|c: char| !c.is_ascii_digit())
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    let minor = minor_digits.parse().unwrap_or(0);
    (stability, major, minor, version.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str, version: &str, preferred: bool) -> CatalogEntry {
        CatalogEntry {
            name: name.into(),
            version: version.into(),
            title: String::new(),
            preferred,
        }
    }

    fn owned(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_stale_directory_gives_way_to_a_newer_ga_version() {
        let dir = [
            entry("cloudresourcemanager", "v1", false),
            entry("cloudresourcemanager", "v2", true),
            entry("cloudresourcemanager", "v2beta1", false),
        ];
        let present = owned(&["v1", "v2", "v2beta1", "v3"]);
        assert_eq!(
            choose_version("cloudresourcemanager", &present, &dir).as_deref(),
            Some("v3")
        );
        // A listed newer version does not override the directory's choice.
        let dir = [
            entry("compute", "v1", true),
            entry("compute", "beta", false),
        ];
        assert_eq!(
            choose_version("compute", &owned(&["v1", "beta", "preview"]), &dir).as_deref(),
            Some("v1")
        );
        // Unlisted services: the most stable, newest.
        assert_eq!(
            choose_version("x", &owned(&["v1alpha", "v1", "v1beta"]), &[]).as_deref(),
            Some("v1")
        );
        assert_eq!(
            choose_version(
                "iam",
                &owned(&["v1", "v2", "v2beta"]),
                &[entry("iam", "v1", true)]
            )
            .as_deref(),
            Some("v1")
        );
    }

    #[test]
    fn stable_then_newest() {
        let mut v = vec!["v1beta1", "v1", "v2alpha", "v1p1beta1", "v2"];
        v.sort_by_key(|s| std::cmp::Reverse(preference_key(s)));
        assert_eq!(v, ["v2", "v1", "v1p1beta1", "v1beta1", "v2alpha"]);
    }
}
