//! The wire shape of a CustomJob, as a small static schema.
//!
//! The real service binds JSON to protobuf messages: it accepts camelCase and snake_case
//! names, rejects unknown names, takes enums as names or numbers, takes int64 as numbers or
//! strings, ignores output-only fields, and writes enums as numbers when asked to
//! (`$alt=json;enum-encoding=int`). This module does the same for the CustomJob subtree,
//! from a hand-written table of field names and types (only names and types, no
//! descriptions), so that the rest of the emulator works on normalized camelCase JSON.

use serde_json::{Map, Value};

/// A protobuf enum: its full type name and its (name, number) pairs.
pub struct EnumDef {
    pub type_name: &'static str,
    pub values: &'static [(&'static str, i64)],
}

impl EnumDef {
    /// The number of an enum name.
    pub fn number(&self, name: &str) -> Option<i64> {
        self.values
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| *v)
    }
    /// The name of an enum number.
    pub fn name(&self, number: i64) -> Option<&'static str> {
        self.values
            .iter()
            .find(|(_, v)| *v == number)
            .map(|(n, _)| *n)
    }
}

/// The JSON type of a field.
#[derive(Clone, Copy)]
pub enum Ty {
    Str,
    Bool,
    I32,
    I64,
    Duration,
    Time,
    Enum(&'static EnumDef),
    Msg(&'static [Field]),
    Arr(&'static Ty),
    StrMap,
    Any,
}

/// One field of a message.
pub struct Field {
    pub name: &'static str,
    pub ty: Ty,
    pub output_only: bool,
}

const fn f(name: &'static str, ty: Ty) -> Field {
    Field {
        name,
        ty,
        output_only: false,
    }
}
const fn ro(name: &'static str, ty: Ty) -> Field {
    Field {
        name,
        ty,
        output_only: true,
    }
}

pub static JOB_STATE: EnumDef = EnumDef {
    type_name: "google.cloud.aiplatform.v1.JobState",
    values: &[
        ("JOB_STATE_UNSPECIFIED", 0),
        ("JOB_STATE_QUEUED", 1),
        ("JOB_STATE_PENDING", 2),
        ("JOB_STATE_RUNNING", 3),
        ("JOB_STATE_SUCCEEDED", 4),
        ("JOB_STATE_FAILED", 5),
        ("JOB_STATE_CANCELLING", 6),
        ("JOB_STATE_CANCELLED", 7),
        ("JOB_STATE_PAUSED", 8),
        ("JOB_STATE_EXPIRED", 9),
        ("JOB_STATE_UPDATING", 10),
        ("JOB_STATE_PARTIALLY_SUCCEEDED", 11),
    ],
};

static STRATEGY: EnumDef = EnumDef {
    type_name: "google.cloud.aiplatform.v1.Scheduling.Strategy",
    values: &[
        ("STRATEGY_UNSPECIFIED", 0),
        ("ON_DEMAND", 1),
        ("LOW_COST", 2),
        ("STANDARD", 3),
        ("SPOT", 4),
        ("FLEX_START", 6),
    ],
};

static ACCELERATOR: EnumDef = EnumDef {
    type_name: "google.cloud.aiplatform.v1.AcceleratorType",
    values: &[
        ("ACCELERATOR_TYPE_UNSPECIFIED", 0),
        ("NVIDIA_TESLA_K80", 1),
        ("NVIDIA_TESLA_P100", 2),
        ("NVIDIA_TESLA_V100", 3),
        ("NVIDIA_TESLA_P4", 4),
        ("NVIDIA_TESLA_T4", 5),
        ("TPU_V2", 6),
        ("TPU_V3", 7),
        ("NVIDIA_TESLA_A100", 8),
        ("NVIDIA_A100_80GB", 9),
        ("TPU_V4_POD", 10),
        ("NVIDIA_L4", 11),
        ("TPU_V5_LITEPOD", 12),
        ("NVIDIA_H100_80GB", 13),
        ("NVIDIA_H100_MEGA_80GB", 14),
        ("NVIDIA_H200_141GB", 15),
        ("NVIDIA_B200", 16),
        ("NVIDIA_GB200", 17),
        ("NVIDIA_RTX_PRO_6000", 18),
    ],
};

static RESERVATION_TYPE: EnumDef = EnumDef {
    type_name: "google.cloud.aiplatform.v1.ReservationAffinity.Type",
    values: &[
        ("TYPE_UNSPECIFIED", 0),
        ("NO_RESERVATION", 1),
        ("ANY_RESERVATION", 2),
        ("SPECIFIC_RESERVATION", 3),
    ],
};

const STR_ARR: Ty = Ty::Arr(&Ty::Str);

static ENV_VAR: &[Field] = &[f("name", Ty::Str), f("value", Ty::Str)];
static ENV_ARR: Ty = Ty::Arr(&Ty::Msg(ENV_VAR));
static CONTAINER_SPEC: &[Field] = &[
    f("imageUri", Ty::Str),
    f("command", STR_ARR),
    f("args", STR_ARR),
    f("env", ENV_ARR),
];
static PYTHON_PACKAGE_SPEC: &[Field] = &[
    f("executorImageUri", Ty::Str),
    f("packageUris", STR_ARR),
    f("pythonModule", Ty::Str),
    f("args", STR_ARR),
    f("env", ENV_ARR),
];
static RESERVATION_AFFINITY: &[Field] = &[
    f("reservationAffinityType", Ty::Enum(&RESERVATION_TYPE)),
    f("key", Ty::Str),
    f("values", STR_ARR),
];
static MACHINE_SPEC: &[Field] = &[
    f("machineType", Ty::Str),
    f("acceleratorType", Ty::Enum(&ACCELERATOR)),
    f("acceleratorCount", Ty::I32),
    f("gpuPartitionSize", Ty::Str),
    f("tpuTopology", Ty::Str),
    f("reservationAffinity", Ty::Msg(RESERVATION_AFFINITY)),
];
static DISK_SPEC: &[Field] = &[f("bootDiskType", Ty::Str), f("bootDiskSizeGb", Ty::I32)];
static NFS_MOUNT: &[Field] = &[
    f("server", Ty::Str),
    f("path", Ty::Str),
    f("mountPoint", Ty::Str),
];
static LUSTRE_MOUNT: &[Field] = &[
    f("instanceIp", Ty::Str),
    f("volumeHandle", Ty::Str),
    f("filesystem", Ty::Str),
    f("mountPoint", Ty::Str),
];
static WORKER_POOL_SPEC: &[Field] = &[
    f("containerSpec", Ty::Msg(CONTAINER_SPEC)),
    f("pythonPackageSpec", Ty::Msg(PYTHON_PACKAGE_SPEC)),
    f("machineSpec", Ty::Msg(MACHINE_SPEC)),
    f("replicaCount", Ty::I64),
    f("nfsMounts", Ty::Arr(&Ty::Msg(NFS_MOUNT))),
    f("lustreMounts", Ty::Arr(&Ty::Msg(LUSTRE_MOUNT))),
    f("diskSpec", Ty::Msg(DISK_SPEC)),
];
static SCHEDULING: &[Field] = &[
    f("timeout", Ty::Duration),
    f("restartJobOnWorkerRestart", Ty::Bool),
    f("strategy", Ty::Enum(&STRATEGY)),
    f("disableRetries", Ty::Bool),
    f("maxWaitDuration", Ty::Duration),
];
static GCS_DESTINATION: &[Field] = &[f("outputUriPrefix", Ty::Str)];
static DNS_PEERING: &[Field] = &[
    f("domain", Ty::Str),
    f("targetProject", Ty::Str),
    f("targetNetwork", Ty::Str),
];
static PSC_INTERFACE: &[Field] = &[
    f("networkAttachment", Ty::Str),
    f("dnsPeeringConfigs", Ty::Arr(&Ty::Msg(DNS_PEERING))),
];
/// `CustomJobSpec`.
pub static JOB_SPEC: &[Field] = &[
    f("persistentResourceId", Ty::Str),
    f("workerPoolSpecs", Ty::Arr(&Ty::Msg(WORKER_POOL_SPEC))),
    f("scheduling", Ty::Msg(SCHEDULING)),
    f("serviceAccount", Ty::Str),
    f("network", Ty::Str),
    f("reservedIpRanges", STR_ARR),
    f("pscInterfaceConfig", Ty::Msg(PSC_INTERFACE)),
    f("baseOutputDirectory", Ty::Msg(GCS_DESTINATION)),
    f("protectedArtifactLocationId", Ty::Str),
    f("tensorboard", Ty::Str),
    f("enableWebAccess", Ty::Bool),
    f("enableDashboardAccess", Ty::Bool),
    f("experiment", Ty::Str),
    f("experimentRun", Ty::Str),
    f("models", STR_ARR),
];
static ENCRYPTION_SPEC: &[Field] = &[f("kmsKeyName", Ty::Str)];
static STATUS: &[Field] = &[
    f("code", Ty::I32),
    f("message", Ty::Str),
    f("details", Ty::Arr(&Ty::Any)),
];
/// `CustomJob`, fields in proto order (the order the real service writes them).
pub static CUSTOM_JOB: &[Field] = &[
    ro("name", Ty::Str),
    f("displayName", Ty::Str),
    f("jobSpec", Ty::Msg(JOB_SPEC)),
    ro("state", Ty::Enum(&JOB_STATE)),
    ro("createTime", Ty::Time),
    ro("startTime", Ty::Time),
    ro("endTime", Ty::Time),
    ro("updateTime", Ty::Time),
    ro("error", Ty::Msg(STATUS)),
    f("labels", Ty::StrMap),
    f("encryptionSpec", Ty::Msg(ENCRYPTION_SPEC)),
    ro("webAccessUris", Ty::StrMap),
    ro("satisfiesPzs", Ty::Bool),
    ro("satisfiesPzi", Ty::Bool),
];

/// `display_name` → `displayName`; camelCase input is returned unchanged.
pub fn snake_to_camel(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut upper = false;
    for c in s.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// `displayName` → `display_name`, for error paths written the way the real service writes them.
pub fn camel_to_snake(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 4);
    for c in s.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Finds a field by its JSON or proto name.
pub fn find_field(fields: &'static [Field], name: &str) -> Option<&'static Field> {
    let camel = snake_to_camel(name);
    fields.iter().find(|f| f.name == camel)
}

/// Why a request body could not be bound to the message.
#[derive(Debug, Clone, PartialEq)]
pub struct BindError {
    pub message: String,
}

fn type_label(ty: &Ty) -> String {
    match ty {
        Ty::Str => "TYPE_STRING".into(),
        Ty::Bool => "TYPE_BOOL".into(),
        Ty::I32 => "TYPE_INT32".into(),
        Ty::I64 => "TYPE_INT64".into(),
        Ty::Duration => "type.googleapis.com/google.protobuf.Duration".into(),
        Ty::Time => "type.googleapis.com/google.protobuf.Timestamp".into(),
        Ty::Enum(e) => format!("type.googleapis.com/{}", e.type_name),
        Ty::Msg(_) | Ty::Any => "TYPE_MESSAGE".into(),
        Ty::Arr(t) => type_label(t),
        Ty::StrMap => "TYPE_STRING".into(),
    }
}

fn invalid(path: &str, ty: &Ty, v: &Value) -> BindError {
    BindError {
        message: format!(
            "Invalid value at '{path}' ({}), {}",
            type_label(ty),
            short(v)
        ),
    }
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 80 {
        let cut: String = s.chars().take(77).collect();
        format!("{cut}...")
    } else {
        s
    }
}

fn parse_int(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9.2e18)
                .map(|f| f as i64)
        }),
        Value::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    }
}

fn is_duration(s: &str) -> bool {
    let Some(body) = s.strip_suffix('s') else {
        return false;
    };
    let body = body.strip_prefix('-').unwrap_or(body);
    let (int, frac) = match body.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (body, None),
    };
    !int.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac
            .is_none_or(|f| !f.is_empty() && f.len() <= 9 && f.bytes().all(|b| b.is_ascii_digit()))
}

/// Binds `value` to a message: normalizes names to camelCase, checks types, turns enum
/// numbers into names and int64 into strings, and drops output-only fields and nulls.
pub fn bind_message(
    fields: &'static [Field],
    value: &Value,
    path: &str,
) -> Result<Map<String, Value>, BindError> {
    let Value::Object(obj) = value else {
        return Err(BindError {
            message: format!("Invalid value at '{path}' (TYPE_MESSAGE), {}", short(value)),
        });
    };
    let mut out = Map::new();
    for (key, v) in obj {
        let Some(field) = find_field(fields, key) else {
            return Err(BindError {
                message: format!(
                    "Invalid JSON payload received. Unknown name \"{key}\" at '{path}': Cannot find field."
                ),
            });
        };
        if field.output_only || v.is_null() {
            continue;
        }
        let child = format!("{path}.{}", camel_to_snake(field.name));
        out.insert(field.name.to_string(), bind_value(&field.ty, v, &child)?);
    }
    Ok(out)
}

fn bind_value(ty: &Ty, v: &Value, path: &str) -> Result<Value, BindError> {
    match ty {
        Ty::Str => match v {
            Value::String(_) => Ok(v.clone()),
            _ => Err(invalid(path, ty, v)),
        },
        Ty::Bool => match v {
            Value::Bool(_) => Ok(v.clone()),
            Value::String(s) if s == "true" || s == "false" => Ok(Value::Bool(s == "true")),
            _ => Err(invalid(path, ty, v)),
        },
        Ty::I32 => match parse_int(v) {
            Some(n) if i32::try_from(n).is_ok() => Ok(Value::from(n)),
            _ => Err(invalid(path, ty, v)),
        },
        Ty::I64 => match parse_int(v) {
            Some(n) => Ok(Value::String(n.to_string())),
            None => Err(invalid(path, ty, v)),
        },
        Ty::Duration => match v {
            Value::String(s) if is_duration(s) => Ok(v.clone()),
            _ => Err(invalid(path, ty, v)),
        },
        Ty::Time => match v {
            Value::String(s) if chrono::DateTime::parse_from_rfc3339(s).is_ok() => Ok(v.clone()),
            _ => Err(invalid(path, ty, v)),
        },
        Ty::Enum(def) => match v {
            Value::String(s) if def.number(s).is_some() => Ok(v.clone()),
            Value::Number(_) => match parse_int(v).and_then(|n| def.name(n)) {
                Some(name) => Ok(Value::String(name.to_string())),
                None => Err(invalid(path, ty, v)),
            },
            _ => Err(invalid(path, ty, v)),
        },
        Ty::Msg(fields) => Ok(Value::Object(bind_message(fields, v, path)?)),
        Ty::Arr(inner) => match v {
            Value::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, item)| bind_value(inner, item, &format!("{path}[{i}]")))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array),
            _ => Err(invalid(path, ty, v)),
        },
        Ty::StrMap => match v {
            Value::Object(m) => {
                for (k, item) in m {
                    if !item.is_string() {
                        return Err(invalid(&format!("{path}[{k}]"), &Ty::Str, item));
                    }
                }
                Ok(v.clone())
            }
            _ => Err(invalid(path, ty, v)),
        },
        Ty::Any => Ok(v.clone()),
    }
}

/// Rewrites enum names as their numbers, in place (for `enum-encoding=int`).
pub fn enums_to_int(fields: &'static [Field], value: &mut Value) {
    let Value::Object(obj) = value else { return };
    for (key, v) in obj.iter_mut() {
        if let Some(field) = fields.iter().find(|f| f.name == key) {
            enum_value_to_int(&field.ty, v);
        }
    }
}

fn enum_value_to_int(ty: &Ty, v: &mut Value) {
    match ty {
        Ty::Enum(def) => {
            if let Some(n) = v.as_str().and_then(|s| def.number(s)) {
                *v = Value::from(n);
            }
        }
        Ty::Msg(fields) => enums_to_int(fields, v),
        Ty::Arr(inner) => {
            if let Value::Array(items) = v {
                for item in items {
                    enum_value_to_int(inner, item);
                }
            }
        }
        _ => {}
    }
}

/// Checks a field-mask path (camel or snake segments) against the schema and returns it in
/// camelCase segments.
pub fn resolve_mask_path(fields: &'static [Field], path: &str) -> Option<Vec<String>> {
    let mut current: Option<&'static [Field]> = Some(fields);
    let mut out = Vec::new();
    for seg in path.split('.') {
        let fs = current?;
        let field = find_field(fs, seg)?;
        out.push(field.name.to_string());
        current = match field.ty {
            Ty::Msg(inner) => Some(inner),
            Ty::Arr(Ty::Msg(inner)) => Some(inner),
            _ => None,
        };
    }
    if out.is_empty() { None } else { Some(out) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn binds_snake_case_enums_and_int64() {
        let v = json!({"display_name": "x", "job_spec": {"worker_pool_specs": [
            {"machine_spec": {"machine_type": "n1", "accelerator_type": 5}, "replica_count": 2}
        ], "scheduling": {"strategy": "SPOT", "timeout": "3600s"}}, "state": 3, "createTime": "x"});
        let out = bind_message(CUSTOM_JOB, &v, "custom_job").unwrap();
        let out = Value::Object(out);
        assert_eq!(out["displayName"], "x");
        let pool = &out["jobSpec"]["workerPoolSpecs"][0];
        assert_eq!(pool["machineSpec"]["acceleratorType"], "NVIDIA_TESLA_T4");
        assert_eq!(pool["replicaCount"], "2");
        assert!(out.get("state").is_none());
        let mut spec = out["jobSpec"].clone();
        enums_to_int(JOB_SPEC, &mut spec);
        assert_eq!(spec["scheduling"]["strategy"], 4);
        assert_eq!(
            spec["workerPoolSpecs"][0]["machineSpec"]["acceleratorType"],
            5
        );
    }

    #[test]
    fn rejects_unknown_and_mistyped() {
        let e = bind_message(CUSTOM_JOB, &json!({"foo": 1}), "custom_job").unwrap_err();
        assert!(e.message.contains("Unknown name \"foo\""), "{}", e.message);
        let e = bind_message(CUSTOM_JOB, &json!({"displayName": 5}), "custom_job").unwrap_err();
        assert!(
            e.message.contains("custom_job.display_name"),
            "{}",
            e.message
        );
        let e = bind_message(
            CUSTOM_JOB,
            &json!({"jobSpec": {"scheduling": {"timeout": "1h"}}}),
            "custom_job",
        )
        .unwrap_err();
        assert!(e.message.contains("Duration"), "{}", e.message);
    }

    #[test]
    fn mask_paths() {
        assert_eq!(
            resolve_mask_path(CUSTOM_JOB, "job_spec.worker_pool_specs"),
            Some(vec!["jobSpec".to_string(), "workerPoolSpecs".to_string()])
        );
        assert_eq!(resolve_mask_path(CUSTOM_JOB, "nope"), None);
        assert_eq!(resolve_mask_path(CUSTOM_JOB, "state.x"), None);
    }
}
