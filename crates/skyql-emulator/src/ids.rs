//! Identifiers: project numbers derived from project ids, 19-digit job and operation ids.
//!
//! The real service names resources by project number, so the emulator derives a stable
//! 12-digit number from each project id (FNV-1a), and draws 19-digit ids from a splitmix64
//! stream (seeded from the OS for created resources, from the index for seeded ones, so
//! that seeding is reproducible).

/// A splitmix64 step: a fast, well-mixed 64-bit sequence.
pub fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Maps a random value to a 19-digit id below 2^63 (as the real service's int64 ids are).
pub fn nineteen_digits(r: u64) -> u64 {
    const LOW: u64 = 1_000_000_000_000_000_000;
    const SPAN: u64 = 8_000_000_000_000_000_000;
    LOW + r % SPAN
}

/// The project number of a project id: 12 digits, stable across runs.
pub fn project_number(project_id: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in project_id.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01B3);
    }
    100_000_000_000 + h % 900_000_000_000
}

/// Whether a path segment is a project number rather than a project id.
pub fn is_number(s: &str) -> bool {
    !s.is_empty() && s.len() <= 19 && s.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_stable_and_twelve_digits() {
        let n = project_number("demo-project");
        assert_eq!(n, project_number("demo-project"));
        assert_eq!(n.to_string().len(), 12);
        assert_ne!(n, project_number("other-project"));
        let mut s = 7;
        let id = nineteen_digits(splitmix64(&mut s));
        assert_eq!(id.to_string().len(), 19);
        assert!(id < (1u64 << 63));
    }
}
