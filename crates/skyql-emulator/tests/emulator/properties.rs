//! Property tests of the filter parser (proptest, with shrinking and kept
//! seeds; `cargo fuzz` needs a nightly toolchain): whatever the text, a
//! filter parses or fails with a position inside it, and nesting of any
//! depth is refused before it can exhaust the stack. Bounded case counts
//! for CI; `PROPTEST_CASES=N` runs longer.

use proptest::prelude::*;
use skyql_emulator::filter::{Filter, MAX_DEPTH, Target};

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|c| c.parse().ok())
            .unwrap_or(256),
        failure_persistence: Some(Box::new(
            proptest::test_runner::FileFailurePersistence::WithSource("regressions"),
        )),
        ..ProptestConfig::default()
    }
}

const PIECES: &[&str] = &[
    "(",
    ")",
    " ",
    "AND",
    "OR",
    "NOT",
    "-",
    "state",
    "=",
    "!=",
    "<",
    ">=",
    ":",
    "*",
    "\"",
    "'",
    "\\",
    "display_name",
    "displayName",
    "labels.",
    "labels",
    "create_time",
    "done",
    "JOB_STATE_FAILED",
    "2021-05-18T00:00:00Z",
    "true",
    "x",
    "é",
    "\u{0}",
    "\n",
];

fn filter_text() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::collection::vec(prop::sample::select(PIECES), 0..40).prop_map(|v| v.concat()),
        any::<String>(),
    ]
}

fn check(text: &str) -> Result<(), TestCaseError> {
    for target in [Target::Jobs, Target::Operations] {
        if let Err(e) = Filter::parse_for(text, target) {
            let len = text.chars().count();
            prop_assert!(
                e.position >= 1 && e.position <= len + 1,
                "{text:?}: {e} is outside the text"
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_text_parses_or_names_a_position(text in filter_text()) {
        check(&text)?;
    }

    #[test]
    fn nesting_of_any_depth_is_refused_not_a_crash(
        depth in 0usize..5000,
        open in prop::sample::select(vec!["(", "-(", "NOT (", "(-"]),
    ) {
        let text = format!("{}state=JOB_STATE_FAILED{}", open.repeat(depth), ")".repeat(depth));
        let parsed = Filter::parse(&text);
        if depth > MAX_DEPTH {
            prop_assert!(parsed.is_err(), "depth {depth} accepted");
        }
        check(&text)?;
    }
}
