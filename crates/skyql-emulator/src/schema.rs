//! The wire shape of a CustomJob, as a small static schema.
//!
//! The real service binds JSON to protobuf messages: it accepts camelCase and snake_case
//! names, rejects unknown names, takes enums as names or numbers, takes int64 as numbers or
//! strings, ignores output-only fields, and writes enums as numbers when asked to
//! (`$alt=json;enum-encoding=int`). This module does the same for the CustomJob subtree,
//! from a hand-written table of field names and types (only names and types, no
//! descriptions), so that the rest of the emulator works on normalized camelCase JSON.

use serde_json::{Map, Value};

use crate::wire::{Json, format_duration, parse_duration};

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

/// One field of a message. Tables list fields in field-number order, the order proto3
/// JSON writes them in.
pub struct Field {
    pub name: &'static str,
    pub number: u32,
    pub ty: Ty,
    pub output_only: bool,
    /// The oneof the field belongs to, if any.
    pub oneof: Option<&'static str>,
    /// Marked `REQUIRED` in the proto: a create without it is refused.
    pub required: bool,
}

const fn f(name: &'static str, number: u32, ty: Ty) -> Field {
    Field {
        name,
        number,
        ty,
        output_only: false,
        oneof: None,
        required: false,
    }
}
const fn rq(name: &'static str, number: u32, ty: Ty) -> Field {
    Field {
        required: true,
        ..f(name, number, ty)
    }
}
const fn ro(name: &'static str, number: u32, ty: Ty) -> Field {
    Field {
        output_only: true,
        ..f(name, number, ty)
    }
}
/// A message whose fields are all required strings, numbered 1, 2, 3... in the order
/// given (`EnvVar`, `NfsMount`, `DnsPeeringConfig`...).
const fn required_strings<const N: usize>(names: [&'static str; N]) -> [Field; N] {
    const UNSET: Field = rq("", 0, Ty::Str);
    let mut fields = [UNSET; N];
    let mut i = 0;
    while i < N {
        fields[i] = rq(names[i], i as u32 + 1, Ty::Str);
        i += 1;
    }
    fields
}
const fn one(name: &'static str, number: u32, ty: Ty, oneof: &'static str) -> Field {
    Field {
        oneof: Some(oneof),
        ..f(name, number, ty)
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

/// `EnvVar`.
pub static ENV_VAR: &[Field] = &required_strings(["name", "value"]);
static ENV_ARR: Ty = Ty::Arr(&Ty::Msg(ENV_VAR));
static CONTAINER_SPEC: &[Field] = &[
    rq("imageUri", 1, Ty::Str),
    f("command", 2, STR_ARR),
    f("args", 3, STR_ARR),
    f("env", 4, ENV_ARR),
];
static PYTHON_PACKAGE_SPEC: &[Field] = &[
    rq("executorImageUri", 1, Ty::Str),
    rq("packageUris", 2, STR_ARR),
    rq("pythonModule", 3, Ty::Str),
    f("args", 4, STR_ARR),
    f("env", 5, ENV_ARR),
];
static RESERVATION_AFFINITY: &[Field] = &[
    rq("reservationAffinityType", 1, Ty::Enum(&RESERVATION_TYPE)),
    f("key", 2, Ty::Str),
    f("values", 3, STR_ARR),
];
static MACHINE_SPEC: &[Field] = &[
    f("machineType", 1, Ty::Str),
    f("acceleratorType", 2, Ty::Enum(&ACCELERATOR)),
    f("acceleratorCount", 3, Ty::I32),
    f("tpuTopology", 4, Ty::Str),
    f("reservationAffinity", 5, Ty::Msg(RESERVATION_AFFINITY)),
    f("gpuPartitionSize", 7, Ty::Str),
];
static DISK_SPEC: &[Field] = &[
    f("bootDiskType", 1, Ty::Str),
    f("bootDiskSizeGb", 2, Ty::I32),
];
static NFS_MOUNT: &[Field] = &required_strings(["server", "path", "mountPoint"]);
static LUSTRE_MOUNT: &[Field] =
    &required_strings(["instanceIp", "volumeHandle", "filesystem", "mountPoint"]);
/// `WorkerPoolSpec` (`task` is the oneof of container and Python package).
pub static WORKER_POOL_SPEC: &[Field] = &[
    f("machineSpec", 1, Ty::Msg(MACHINE_SPEC)),
    f("replicaCount", 2, Ty::I64),
    f("nfsMounts", 4, Ty::Arr(&Ty::Msg(NFS_MOUNT))),
    f("diskSpec", 5, Ty::Msg(DISK_SPEC)),
    one("containerSpec", 6, Ty::Msg(CONTAINER_SPEC), "task"),
    one("pythonPackageSpec", 7, Ty::Msg(PYTHON_PACKAGE_SPEC), "task"),
    f("lustreMounts", 9, Ty::Arr(&Ty::Msg(LUSTRE_MOUNT))),
];
static SCHEDULING: &[Field] = &[
    f("timeout", 1, Ty::Duration),
    f("restartJobOnWorkerRestart", 3, Ty::Bool),
    f("strategy", 4, Ty::Enum(&STRATEGY)),
    f("disableRetries", 5, Ty::Bool),
    f("maxWaitDuration", 6, Ty::Duration),
];
static GCS_DESTINATION: &[Field] = &required_strings(["outputUriPrefix"]);
static DNS_PEERING: &[Field] = &required_strings(["domain", "targetProject", "targetNetwork"]);
static PSC_INTERFACE: &[Field] = &[
    f("networkAttachment", 1, Ty::Str),
    f("dnsPeeringConfigs", 2, Ty::Arr(&Ty::Msg(DNS_PEERING))),
];
/// `CustomJobSpec`.
pub static JOB_SPEC: &[Field] = &[
    rq("workerPoolSpecs", 1, Ty::Arr(&Ty::Msg(WORKER_POOL_SPEC))),
    f("scheduling", 3, Ty::Msg(SCHEDULING)),
    f("serviceAccount", 4, Ty::Str),
    f("network", 5, Ty::Str),
    f("baseOutputDirectory", 6, Ty::Msg(GCS_DESTINATION)),
    f("tensorboard", 7, Ty::Str),
    f("enableWebAccess", 10, Ty::Bool),
    f("reservedIpRanges", 13, STR_ARR),
    f("persistentResourceId", 14, Ty::Str),
    f("enableDashboardAccess", 16, Ty::Bool),
    f("experiment", 17, Ty::Str),
    f("experimentRun", 18, Ty::Str),
    f("protectedArtifactLocationId", 19, Ty::Str),
    f("models", 20, STR_ARR),
    f("pscInterfaceConfig", 21, Ty::Msg(PSC_INTERFACE)),
];
/// `EncryptionSpec`.
pub static ENCRYPTION_SPEC: &[Field] = &required_strings(["kmsKeyName"]);
static STATUS: &[Field] = &[
    f("code", 1, Ty::I32),
    f("message", 2, Ty::Str),
    f("details", 3, Ty::Arr(&Ty::Any)),
];
/// `CustomJob`, fields in proto order (the order the real service writes them).
pub static CUSTOM_JOB: &[Field] = &[
    ro("name", 1, Ty::Str),
    rq("displayName", 2, Ty::Str),
    rq("jobSpec", 4, Ty::Msg(JOB_SPEC)),
    ro("state", 5, Ty::Enum(&JOB_STATE)),
    ro("createTime", 6, Ty::Time),
    ro("startTime", 7, Ty::Time),
    ro("endTime", 8, Ty::Time),
    ro("updateTime", 9, Ty::Time),
    ro("error", 10, Ty::Msg(STATUS)),
    f("labels", 11, Ty::StrMap),
    f("encryptionSpec", 12, Ty::Msg(ENCRYPTION_SPEC)),
    ro("webAccessUris", 16, Ty::StrMap),
    ro("satisfiesPzs", 18, Ty::Bool),
    ro("satisfiesPzi", 19, Ty::Bool),
];

/// `CancelCustomJobRequest` and `CancelOperationRequest`: a cancel's body (`body: "*"`)
/// binds to one, whose only field, `name`, also comes from the path.
pub static CANCEL_REQUEST: &[Field] = &[f("name", 1, Ty::Str)];
/// `WaitOperationRequest`.
pub static WAIT_OPERATION_REQUEST: &[Field] =
    &[f("name", 1, Ty::Str), f("timeout", 2, Ty::Duration)];

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

/// Binds `value` to a message: normalizes names to camelCase, checks types, turns enum
/// numbers into names and int64 into strings, and drops output-only fields and nulls.
pub fn bind_message(
    fields: &'static [Field],
    value: &Value,
    path: &str,
) -> Result<Map<String, Value>, BindError> {
    let Value::Object(obj) = value else {
        let message = if path.is_empty() {
            format!(
                "Invalid JSON payload received. Expected an object for the request message, got {}.",
                short(value)
            )
        } else {
            format!("Invalid value at '{path}' (TYPE_MESSAGE), {}", short(value))
        };
        return Err(BindError { message });
    };
    let mut out = Map::new();
    let mut oneofs: Vec<&'static str> = Vec::new();
    for (key, v) in obj {
        let Some(field) = find_field(fields, key) else {
            let at = if path.is_empty() {
                String::new()
            } else {
                format!(" at '{path}'")
            };
            return Err(BindError {
                message: format!(
                    "Invalid JSON payload received. Unknown name \"{key}\"{at}: Cannot find field."
                ),
            });
        };
        if field.output_only || v.is_null() {
            continue;
        }
        if let Some(group) = field.oneof {
            if oneofs.contains(&group) {
                return Err(BindError {
                    message: format!(
                        "Invalid JSON payload received. Invalid value at '{path}' (oneof), oneof field '{group}' is already set. Cannot set '{key}'"
                    ),
                });
            }
            oneofs.push(group);
        }
        let child = join(path, field.name);
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
            Value::String(s) if parse_duration(s).is_some() => Ok(v.clone()),
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

/// Writes a bound message as proto3 JSON: fields in field-number order, default values
/// (`false`, `0`, `""`, empty lists and maps, `*_UNSPECIFIED` enums) left out, Durations
/// with 0, 3, 6 or 9 fractional digits, enums as names or (with `enum_int`) numbers.
pub fn message_json(fields: &'static [Field], value: &Value, enum_int: bool) -> Json {
    let mut out = Json::obj();
    let Value::Object(obj) = value else {
        return out;
    };
    for field in fields {
        let Some(v) = obj.get(field.name) else {
            continue;
        };
        if let Some(j) = value_json(&field.ty, v, enum_int) {
            out.push(field.name, j);
        }
    }
    out
}

/// One value as proto3 JSON; `None` when proto3 leaves it out.
fn value_json(ty: &Ty, v: &Value, enum_int: bool) -> Option<Json> {
    let j = match ty {
        Ty::Str | Ty::Bool | Ty::I32 | Ty::I64 => {
            let j = Json::from(v);
            let zero = matches!(v, Value::String(s) if matches!(ty, Ty::I64) && s == "0");
            if j.is_default() || zero {
                return None;
            }
            j
        }
        Ty::Duration => match v.as_str().and_then(parse_duration) {
            Some((s, n)) => Json::Str(format_duration(s, n)),
            None => Json::from(v),
        },
        Ty::Time | Ty::Any => Json::from(v),
        Ty::Enum(def) => {
            let name = v.as_str().unwrap_or_default();
            let number = def.number(name).unwrap_or(0);
            if number == 0 {
                return None;
            }
            if enum_int {
                Json::from(number)
            } else {
                Json::from(name)
            }
        }
        Ty::Msg(fields) => message_json(fields, v, enum_int),
        Ty::Arr(inner) => {
            let items: Vec<Json> = v
                .as_array()?
                .iter()
                .map(|item| value_json(inner, item, enum_int).unwrap_or_else(|| default_of(inner)))
                .collect();
            if items.is_empty() {
                return None;
            }
            Json::Arr(items)
        }
        Ty::StrMap => {
            let j = Json::from(v);
            if j.is_default() {
                return None;
            }
            j
        }
    };
    Some(j)
}

/// What a repeated field's default element is written as (elements are never left out).
fn default_of(ty: &Ty) -> Json {
    match ty {
        Ty::Str | Ty::Time | Ty::Duration => Json::Str(String::new()),
        Ty::I64 => Json::Str("0".into()),
        Ty::Bool => Json::Bool(false),
        Ty::I32 | Ty::Enum(_) => Json::from(0i64),
        _ => Json::obj(),
    }
}

/// The `REQUIRED` fields missing from a bound message and the messages inside it, as
/// snake_case paths below `path` (`job_spec.worker_pool_specs[0].container_spec.env[1].name`).
pub fn missing_required(fields: &'static [Field], value: &Value, path: &str) -> Vec<String> {
    let mut out = Vec::new();
    walk_required(fields, value, path, &mut out);
    out
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        camel_to_snake(name)
    } else {
        format!("{path}.{}", camel_to_snake(name))
    }
}

fn walk_required(fields: &'static [Field], value: &Value, path: &str, out: &mut Vec<String>) {
    let Value::Object(obj) = value else { return };
    for field in fields {
        let v = obj.get(field.name);
        let unset = match v {
            None | Some(Value::Null) => true,
            Some(Value::String(s)) => {
                s.is_empty() || matches!(field.ty, Ty::Enum(def) if def.number(s) == Some(0))
            }
            Some(Value::Array(a)) => a.is_empty(),
            Some(_) => false,
        };
        if field.required && unset {
            out.push(join(path, field.name));
            continue;
        }
        match (&field.ty, v) {
            (Ty::Msg(inner), Some(v)) => walk_required(inner, v, &join(path, field.name), out),
            (Ty::Arr(Ty::Msg(inner)), Some(Value::Array(items))) => {
                for (i, item) in items.iter().enumerate() {
                    let p = format!("{}[{i}]", join(path, field.name));
                    walk_required(inner, item, &p, out);
                }
            }
            _ => {}
        }
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
        let spec = message_json(JOB_SPEC, &out["jobSpec"], true);
        let text = String::from_utf8(spec.to_bytes(false)).unwrap();
        assert_eq!(
            text,
            r#"{"workerPoolSpecs":[{"machineSpec":{"machineType":"n1","acceleratorType":5},"replicaCount":"2"}],"scheduling":{"timeout":"3600s","strategy":4}}"#
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
