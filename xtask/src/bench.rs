//! Start-up and loading benchmarks (filled in below).
use anyhow::Result;
pub fn run(_args: &[String]) -> Result<()> {
    Ok(())
}
