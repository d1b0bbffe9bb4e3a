//! "Did you mean ...?" suggestions for misspelt names.

/// Returns the candidate closest to `wanted`, if any is close enough to be a
/// plausible typo (or contains / is contained in the wanted name).
pub fn closest<'a, I>(wanted: &str, candidates: I) -> Option<String>
where
    I: IntoIterator<Item = &'a str>,
{
    let wanted_l = wanted.to_ascii_lowercase();
    let mut best: Option<(usize, &str)> = None;
    for cand in candidates {
        let cand_l = cand.to_ascii_lowercase();
        let mut dist = strsim::levenshtein(&wanted_l, &cand_l);
        if wanted_l.len() >= 3 && (cand_l.contains(&wanted_l) || wanted_l.contains(&cand_l)) {
            dist = dist.min(1 + cand_l.len().abs_diff(wanted_l.len()) / 4);
        }
        if best.is_none_or(|(d, c)| dist < d || (dist == d && cand < c)) {
            best = Some((dist, cand));
        }
    }
    let (dist, cand) = best?;
    let limit = (wanted.chars().count() / 3).max(2);
    (dist <= limit).then(|| cand.to_string())
}

#[cfg(test)]
mod tests {
    use super::closest;

    #[test]
    fn finds_typos_and_plural_slips() {
        let names = ["custom_jobs", "batch_prediction_jobs", "datasets"];
        assert_eq!(closest("custom_job", names).as_deref(), Some("custom_jobs"));
        assert_eq!(closest("custm_jobs", names).as_deref(), Some("custom_jobs"));
        assert_eq!(closest("dataset", names).as_deref(), Some("datasets"));
        assert_eq!(closest("zzzzzzzz", names), None);
    }
}
