//! Integer enums (`$alt=json;enum-encoding=int`, which Google's generated REST clients such
//! as google-cloud-kms send). A Discovery document lists an enum's names in its own order,
//! which is not the proto's numbering (KMS's `ASYMMETRIC_SIGN` is 5, the document's third
//! name), so numbers come only from `data/enum_numbers.json`, written from the protos.
//! A field without a table is refused with a message naming it, never guessed.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde::Deserialize;

/// The embedded numbering table.
pub const ENUM_NUMBERS_JSON: &str = include_str!("../data/enum_numbers.json");

#[derive(Deserialize)]
struct File {
    services: BTreeMap<String, ServiceEntry>,
}

#[derive(Deserialize, Default)]
struct ServiceEntry {
    #[serde(default)]
    names_only: bool,
    #[serde(default)]
    fields: BTreeMap<String, String>,
    #[serde(default)]
    types: BTreeMap<String, BTreeMap<String, i64>>,
}

/// One proto enum: name ↔ number.
#[derive(Debug, Default)]
pub struct Numbering {
    pub by_name: HashMap<String, i64>,
    pub by_number: HashMap<i64, String>,
}

/// The integer encodings a service's enum fields have.
#[derive(Debug, Default)]
pub struct EnumTable {
    /// The service's protos declare enum fields as strings: names either way.
    pub names_only: bool,
    /// `Schema.field` → numbering.
    fields: HashMap<String, Arc<Numbering>>,
}

/// Why an enum could not be converted.
#[derive(Debug, PartialEq, Eq)]
pub enum EnumError {
    /// No numbering is known for the field.
    NoTable(String),
    /// The value is not in the numbering.
    Unknown { field: String, value: String },
}

impl EnumTable {
    /// The table for `name` (all versions) or `name:version`.
    pub fn for_service(name: &str, version: &str) -> EnumTable {
        let Ok(file) = serde_json::from_str::<File>(ENUM_NUMBERS_JSON) else {
            return EnumTable::default();
        };
        let entry = file
            .services
            .get(&format!("{name}:{version}"))
            .or_else(|| file.services.get(name));
        let Some(entry) = entry else {
            return EnumTable::default();
        };
        let types: HashMap<&String, Arc<Numbering>> = entry
            .types
            .iter()
            .map(|(t, values)| {
                let n = Numbering {
                    by_name: values.iter().map(|(k, v)| (k.clone(), *v)).collect(),
                    by_number: values.iter().map(|(k, v)| (*v, k.clone())).collect(),
                };
                (t, Arc::new(n))
            })
            .collect();
        EnumTable {
            names_only: entry.names_only,
            fields: entry
                .fields
                .iter()
                .filter_map(|(f, t)| types.get(t).map(|n| (f.clone(), n.clone())))
                .collect(),
        }
    }

    /// The numbering of `schema.field`.
    pub fn field(&self, schema: &str, field: &str) -> Result<Option<&Numbering>, EnumError> {
        if self.names_only {
            return Ok(None);
        }
        let key = format!("{schema}.{field}");
        match self.fields.get(&key) {
            Some(n) => Ok(Some(n)),
            None => Err(EnumError::NoTable(key)),
        }
    }

    /// Every `Schema.field` with a numbering (for the test against the documents).
    pub fn fields(&self) -> impl Iterator<Item = (&String, &Numbering)> {
        self.fields.iter().map(|(k, v)| (k, v.as_ref()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kms_numbers_are_the_protos_not_the_documents_order() {
        let t = EnumTable::for_service("cloudkms", "v1");
        let n = t.field("CryptoKey", "purpose").unwrap().unwrap();
        assert_eq!(n.by_name["ASYMMETRIC_SIGN"], 5);
        assert_eq!(n.by_number[&1], "ENCRYPT_DECRYPT");
        assert_eq!(
            t.field("AutokeyConfig", "state").unwrap_err(),
            EnumError::NoTable("AutokeyConfig.state".into())
        );
        assert!(EnumTable::for_service("compute", "v1").names_only);
        assert!(
            EnumTable::for_service("pubsub", "v1")
                .field("X", "y")
                .is_err()
        );
    }
}
