//! Integration tests of the Discovery-driven emulator over loopback, against Google's real
//! documents (compute, storage, cloudkms) from $SKYQL_DISCOVERY_DIR. Without that folder
//! the tests print why and pass (a fresh clone has no documents).

mod discovery_emulator {
    pub mod aip;
    pub mod common;
    pub mod compute;
    pub mod coverage;
    pub mod storage;
}
