//! Integration tests of the Discovery-driven emulator over loopback, against Google's real
//! documents (compute, storage, cloudkms) from $SKYQL_DISCOVERY_DIR. Without that folder
//! those tests print why and pass (a fresh clone has no documents); `fixture` runs
//! everywhere, on a hand-written document.

mod discovery_emulator {
    pub mod aip;
    pub mod common;
    pub mod compute;
    pub mod coverage;
    pub mod fixture;
    pub mod storage;
}
