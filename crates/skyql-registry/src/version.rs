//! Which of several versions of a service is preferred when no directory says so.

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
    use super::preference_key;

    #[test]
    fn stable_then_newest() {
        let mut v = vec!["v1beta1", "v1", "v2alpha", "v1p1beta1", "v2"];
        v.sort_by_key(|s| std::cmp::Reverse(preference_key(s)));
        assert_eq!(v, ["v2", "v1", "v1p1beta1", "v1beta1", "v2alpha"]);
    }
}
