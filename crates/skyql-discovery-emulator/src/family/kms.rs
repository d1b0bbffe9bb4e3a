//! Cloud KMS's own rules for a new crypto key, which its clients read back: the
//! `versionTemplate` defaults (`SOFTWARE`; `GOOGLE_SYMMETRIC_ENCRYPTION` for
//! `ENCRYPT_DECRYPT` keys, whose algorithm is otherwise required), and the first version
//! (`cryptoKeyVersions/1`, `ENABLED`) created with the key unless
//! `skipInitialVersionCreation` is set; a symmetric key's `primary` is that version.

use serde_json::{Map, Value, json};

use crate::api::Api;
use crate::google_error::ApiError;
use crate::store::Item;

/// A child item to store beside the new resource: (collection key, id, item).
pub type Extra = (String, String, Item);

/// Completes a new crypto key; other resources and services are left alone.
pub fn on_create(
    api: &Api,
    key: &[String],
    body: &mut Map<String, Value>,
    now_us: i64,
    query: &std::collections::BTreeMap<String, String>,
) -> Result<Option<Extra>, ApiError> {
    if api.name != "cloudkms" || key.len() < 2 || key[key.len() - 2] != "cryptoKeys" {
        return Ok(None);
    }
    let purpose = body
        .get("purpose")
        .and_then(Value::as_str)
        .unwrap_or("CRYPTO_KEY_PURPOSE_UNSPECIFIED")
        .to_string();
    if purpose == "CRYPTO_KEY_PURPOSE_UNSPECIFIED" {
        return Err(ApiError::bad_payload(
            "crypto_key.purpose",
            "CryptoKey.purpose must be specified.",
        ));
    }
    let symmetric = purpose == "ENCRYPT_DECRYPT";
    let template = body.entry("versionTemplate").or_insert_with(|| json!({}));
    let Value::Object(template) = template else {
        return Err(ApiError::bad_payload(
            "crypto_key.version_template",
            "versionTemplate must be an object.",
        ));
    };
    template
        .entry("protectionLevel")
        .or_insert_with(|| json!("SOFTWARE"));
    if !template.contains_key("algorithm") {
        if !symmetric {
            return Err(ApiError::bad_payload(
                "crypto_key.version_template.algorithm",
                format!(
                    "CryptoKey.version_template.algorithm must be specified for purpose {purpose}."
                ),
            ));
        }
        template.insert("algorithm".into(), json!("GOOGLE_SYMMETRIC_ENCRYPTION"));
    }
    let skip = query
        .get("skipInitialVersionCreation")
        .is_some_and(|v| v == "true");
    if skip {
        return Ok(None);
    }
    let now = skyql_emulator::clock::rfc3339(now_us);
    let name = format!("{}/cryptoKeyVersions/1", key.join("/"));
    let version = json!({
        "name": name,
        "state": "ENABLED",
        "protectionLevel": template["protectionLevel"],
        "algorithm": template["algorithm"],
        "createTime": now,
        "generateTime": now,
    });
    if symmetric {
        body.insert("primary".into(), version.clone());
    }
    Ok(Some((
        format!("{}/cryptoKeyVersions", key.join("/")),
        "1".into(),
        Item {
            body: version,
            created_us: now_us,
            scope: Default::default(),
            op: None,
        },
    )))
}
