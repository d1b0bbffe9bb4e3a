//! What goes over the wire, shared by every route: an ordered JSON value (so that objects
//! are written in the proto's field order, as Google's front end writes them), proto3
//! Duration text, percent-decoding, query pairs, and JSON responses.
//!
//! `serde_json::Value` keeps object keys sorted (the workspace does not enable serde_json's
//! `preserve_order`, and enabling it would change every other crate's output), so responses
//! are built as [`Json`], whose objects are vectors of pairs written in insertion order.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::ser::{SerializeMap, SerializeSeq};
use serde_json::Value;

/// A JSON value whose objects keep the order their fields were added in.
#[derive(Clone, Debug, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    Num(serde_json::Number),
    Str(String),
    Arr(Vec<Json>),
    Obj(Vec<(String, Json)>),
}

impl Json {
    /// An empty object.
    pub fn obj() -> Json {
        Json::Obj(Vec::new())
    }

    /// Appends a field (objects only; on anything else it does nothing).
    pub fn with(mut self, key: &str, value: impl Into<Json>) -> Json {
        self.push(key, value);
        self
    }

    /// Appends a field unless its value is a proto3 default (`false`, `0`, `""`, an empty
    /// list or map), which proto3 JSON leaves out.
    pub fn with_nondefault(mut self, key: &str, value: impl Into<Json>) -> Json {
        let value = value.into();
        if !value.is_default() {
            self.push(key, value);
        }
        self
    }

    /// Appends a field in place.
    pub fn push(&mut self, key: &str, value: impl Into<Json>) {
        if let Json::Obj(fields) = self {
            fields.push((key.to_string(), value.into()));
        }
    }

    /// Whether proto3 JSON would leave this value out of a message.
    pub fn is_default(&self) -> bool {
        match self {
            Json::Null => true,
            Json::Bool(b) => !b,
            Json::Num(n) => n.as_f64() == Some(0.0),
            Json::Str(s) => s.is_empty(),
            Json::Arr(a) => a.is_empty(),
            Json::Obj(o) => o.is_empty(),
        }
    }

    /// A field of an object.
    pub fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Obj(fields) => fields.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The keys of an object, in order.
    pub fn keys(&self) -> Vec<&str> {
        match self {
            Json::Obj(fields) => fields.iter().map(|(k, _)| k.as_str()).collect(),
            _ => Vec::new(),
        }
    }

    /// Writes the value as bytes, pretty-printed (two spaces, as Google's) or compact.
    pub fn to_bytes(&self, pretty: bool) -> Vec<u8> {
        let written = if pretty {
            serde_json::to_vec_pretty(self)
        } else {
            serde_json::to_vec(self)
        };
        // Serializing a Json tree cannot fail: it holds no maps with non-string keys.
        written.unwrap_or_default()
    }
}

impl From<&Value> for Json {
    /// Objects come out in the `Value`'s (sorted) key order.
    fn from(v: &Value) -> Json {
        match v {
            Value::Null => Json::Null,
            Value::Bool(b) => Json::Bool(*b),
            Value::Number(n) => Json::Num(n.clone()),
            Value::String(s) => Json::Str(s.clone()),
            Value::Array(a) => Json::Arr(a.iter().map(Json::from).collect()),
            Value::Object(o) => Json::Obj(o.iter().map(|(k, v)| (k.clone(), v.into())).collect()),
        }
    }
}

impl From<Value> for Json {
    fn from(v: Value) -> Json {
        Json::from(&v)
    }
}

impl From<&str> for Json {
    fn from(s: &str) -> Json {
        Json::Str(s.to_string())
    }
}

impl From<String> for Json {
    fn from(s: String) -> Json {
        Json::Str(s)
    }
}

impl From<&String> for Json {
    fn from(s: &String) -> Json {
        Json::Str(s.clone())
    }
}

impl From<bool> for Json {
    fn from(b: bool) -> Json {
        Json::Bool(b)
    }
}

impl From<i64> for Json {
    fn from(n: i64) -> Json {
        Json::Num(n.into())
    }
}

impl From<u16> for Json {
    fn from(n: u16) -> Json {
        Json::Num(n.into())
    }
}

impl From<u64> for Json {
    fn from(n: u64) -> Json {
        Json::Num(n.into())
    }
}

impl From<Vec<Json>> for Json {
    fn from(items: Vec<Json>) -> Json {
        Json::Arr(items)
    }
}

impl Serialize for Json {
    fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        match self {
            Json::Null => ser.serialize_unit(),
            Json::Bool(b) => ser.serialize_bool(*b),
            Json::Num(n) => n.serialize(ser),
            Json::Str(s) => ser.serialize_str(s),
            Json::Arr(items) => {
                let mut seq = ser.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Json::Obj(fields) => {
                let mut map = ser.serialize_map(Some(fields.len()))?;
                for (k, v) in fields {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

/// Query parameters every Google API accepts (the system parameters), with their `$`
/// spellings.
pub const SYSTEM_PARAMS: &[&str] = &[
    "alt",
    "$alt",
    "fields",
    "$fields",
    "key",
    "prettyPrint",
    "$prettyPrint",
    "quotaUser",
    "$quotaUser",
    "access_token",
    "oauth_token",
    "callback",
    "$callback",
    "upload_protocol",
    "uploadType",
    "$.xgafv",
    "userIp",
    "trace",
    "$trace",
];

/// Parses proto3 Duration text (`"3.5s"`, `"-1s"`) into seconds and nanoseconds.
pub fn parse_duration(s: &str) -> Option<(i64, i32)> {
    let body = s.strip_suffix('s')?;
    let (negative, body) = match body.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, body),
    };
    let (int, frac) = match body.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (body, None),
    };
    if int.is_empty() || !int.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let secs: i64 = int.parse().ok()?;
    // Protobuf's Duration range: about 10,000 years.
    if secs > 315_576_000_000 {
        return None;
    }
    let nanos = match frac {
        None => 0,
        Some(f) if !f.is_empty() && f.len() <= 9 && f.bytes().all(|b| b.is_ascii_digit()) => {
            format!("{f:0<9}").parse::<i32>().ok()?
        }
        Some(_) => return None,
    };
    Some(if negative {
        (-secs, -nanos)
    } else {
        (secs, nanos)
    })
}

/// Writes a Duration as proto3 JSON does: seconds with 0, 3, 6 or 9 fractional digits.
pub fn format_duration(secs: i64, nanos: i32) -> String {
    let sign = if secs < 0 || nanos < 0 { "-" } else { "" };
    let (s, n) = (secs.unsigned_abs(), nanos.unsigned_abs());
    if n == 0 {
        format!("{sign}{s}s")
    } else if n % 1_000_000 == 0 {
        format!("{sign}{s}.{:03}s", n / 1_000_000)
    } else if n % 1_000 == 0 {
        format!("{sign}{s}.{:06}s", n / 1_000)
    } else {
        format!("{sign}{s}.{n:09}s")
    }
}

/// Percent-decodes; `plus` turns `+` into a space (query strings and forms).
pub fn percent_decode(s: &str, plus: bool) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = bytes.get(i + 1..i + 3)?;
                let h = std::str::from_utf8(hex).ok()?;
                out.push(u8::from_str_radix(h, 16).ok()?);
                i += 3;
            }
            b'+' if plus => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// `a=b&c=d` → decoded pairs, in order; `None` for bad percent-encoding.
pub fn parse_pairs(s: &str) -> Option<Vec<(String, String)>> {
    s.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            Some((percent_decode(k, true)?, percent_decode(v, true)?))
        })
        .collect()
}

/// A header's value, if it is text.
pub fn header_str(headers: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The `Host` the client addressed (with its port, if any).
pub fn host_of(parts: &axum::http::request::Parts) -> String {
    header_str(&parts.headers, header::HOST)
        .map(str::to_string)
        .or_else(|| parts.uri.authority().map(|a| a.to_string()))
        .unwrap_or_else(|| "localhost".into())
}

/// A host without its port.
pub fn hostname(host: &str) -> &str {
    match host.rsplit_once(':') {
        Some((h, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => host,
    }
}

/// A JSON response with Google's content type.
pub fn json_response(status: StatusCode, body: Vec<u8>) -> Response {
    let mut resp = (status, body).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=UTF-8"),
    );
    resp
}

/// 200 with `value` as the body.
pub fn ok(value: &Json, pretty: bool) -> Response {
    json_response(StatusCode::OK, value.to_bytes(pretty))
}

/// 200 with any serializable body (compact), for test-support routes.
pub fn ok_plain<T: Serialize>(value: &T) -> Response {
    json_response(
        StatusCode::OK,
        serde_json::to_vec(value).unwrap_or_default(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_have_0_3_6_or_9_digits() {
        let cases = [
            ("1.5s", "1.500s"),
            ("3600s", "3600s"),
            ("0.000001s", "0.000001s"),
            ("0.0000001s", "0.000000100s"),
            ("-1.25s", "-1.250s"),
            ("0s", "0s"),
            ("2.100000000s", "2.100s"),
        ];
        for (input, want) in cases {
            let (s, n) = parse_duration(input).unwrap_or_else(|| panic!("{input}"));
            assert_eq!(format_duration(s, n), want, "{input}");
        }
        for bad in [
            "1h",
            "s",
            "1.s",
            "1.0000000001s",
            "abc",
            "99999999999999999999s",
        ] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }

    #[test]
    fn objects_keep_insertion_order() {
        let j = Json::obj()
            .with("z", 1i64)
            .with("a", "x")
            .with_nondefault("skipped", false)
            .with_nondefault("empty", "");
        assert_eq!(
            String::from_utf8(j.to_bytes(false)).unwrap(),
            r#"{"z":1,"a":"x"}"#
        );
    }

    #[test]
    fn decodes() {
        assert_eq!(percent_decode("%24alt", true).as_deref(), Some("$alt"));
        assert_eq!(percent_decode("a+b", true).as_deref(), Some("a b"));
        assert_eq!(percent_decode("%zz", true), None);
        assert_eq!(hostname("h:80"), "h");
        assert_eq!(hostname("h"), "h");
    }
}
