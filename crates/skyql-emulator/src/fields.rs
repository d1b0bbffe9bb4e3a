//! Partial responses: the `fields` system parameter (AIP-157, Google's field-selector
//! syntax), honoured on every method, never ignored.
//!
//! Syntax: a comma-separated list of paths; `/` steps into a field
//! (`jobSpec/workerPoolSpecs`); `a(b,c)` selects `b` and `c` inside `a`; a list applies the
//! selection to each element (`customJobs(name,state),nextPageToken`); `*` selects all
//! at its level. Each name is checked
//! against the shape of the method's response (camelCase or snake_case accepted); an
//! unknown name or a malformed selector is 400 as One Platform answers it ("Request
//! contains an invalid argument." with a `BadRequest` violation on the selector, "Error
//! expanding 'fields' parameter. Cannot find matching fields for path '...'.").

use crate::schema::{self, Field, Ty};
use crate::wire::Json;

/// The shape of a response, for checking a selector.
pub enum Shape {
    /// Anything below is accepted unchecked (`google.protobuf.Any` payloads, maps).
    Any,
    /// A message of the CustomJob schema.
    Msg(&'static [Field]),
    /// A fixed set of fields.
    Obj(&'static [(&'static str, Shape)]),
}

/// A parsed selector: selected names, each with what is selected inside it (empty: all).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Selection(pub Vec<(String, Selection)>);

impl Selection {
    /// Parses a `fields` value.
    pub fn parse(input: &str) -> Result<Selection, String> {
        let chars: Vec<char> = input.chars().collect();
        let mut pos = 0;
        let sel = parse_list(&chars, &mut pos, 0)?;
        if pos < chars.len() {
            return Err(format!(
                "unexpected '{}' at position {}",
                chars[pos],
                pos + 1
            ));
        }
        Ok(sel)
    }

    fn merge(&mut self, name: String, inner: Selection) {
        match self.0.iter_mut().find(|(n, _)| *n == name) {
            Some((_, existing)) => {
                if existing.0.is_empty() || inner.0.is_empty() {
                    existing.0.clear();
                } else {
                    for (n, s) in inner.0 {
                        existing.merge(n, s);
                    }
                }
            }
            None => self.0.push((name, inner)),
        }
    }

    /// Checks every name against `shape` and spells it as the response does; the error is
    /// the dotted path of the first name that is not there.
    pub fn resolve(self, shape: &Shape) -> Result<Selection, String> {
        // `*` selects everything at its level.
        if self.0.iter().any(|(n, _)| n == "*") {
            return Ok(Selection::default());
        }
        let mut out = Selection::default();
        for (name, inner) in self.0 {
            let (canonical, below) = match shape {
                Shape::Any => (name, Shape::Any),
                Shape::Obj(fields) => match fields
                    .iter()
                    .find(|(n, _)| *n == name || *n == schema::snake_to_camel(&name))
                {
                    Some((n, s)) => (n.to_string(), shape_ref(s)),
                    None => return Err(name),
                },
                Shape::Msg(fields) => match schema::find_field(fields, &name) {
                    Some(f) => (f.name.to_string(), field_shape(&f.ty)),
                    None => return Err(name),
                },
            };
            let inner = if inner.0.is_empty() {
                inner
            } else {
                match below {
                    Shape::Obj(&[]) => return Err(format!("{canonical}.{}", inner.0[0].0)),
                    below => inner
                        .resolve(&below)
                        .map_err(|e| format!("{canonical}.{e}"))?,
                }
            };
            out.merge(canonical, inner);
        }
        Ok(out)
    }

    /// The selected part of a response.
    pub fn apply(&self, j: &Json) -> Json {
        if self.0.is_empty() {
            return j.clone();
        }
        match j {
            Json::Obj(fields) => Json::Obj(
                fields
                    .iter()
                    .filter_map(|(k, v)| {
                        self.0
                            .iter()
                            .find(|(n, _)| n == k)
                            .map(|(_, sub)| (k.clone(), sub.apply(v)))
                    })
                    .collect(),
            ),
            Json::Arr(items) => Json::Arr(items.iter().map(|i| self.apply(i)).collect()),
            other => other.clone(),
        }
    }
}

/// A copy of a static shape (shapes hold only static references).
fn shape_ref(s: &Shape) -> Shape {
    match s {
        Shape::Any => Shape::Any,
        Shape::Msg(f) => Shape::Msg(f),
        Shape::Obj(f) => Shape::Obj(f),
    }
}

/// What lies below a schema field: a message's fields, anything in a map, nothing in a
/// scalar.
fn field_shape(ty: &Ty) -> Shape {
    match ty {
        Ty::Msg(fields) => Shape::Msg(fields),
        Ty::Arr(inner) => field_shape(inner),
        Ty::StrMap | Ty::Any => Shape::Any,
        _ => Shape::Obj(&[]),
    }
}

fn parse_list(chars: &[char], pos: &mut usize, depth: usize) -> Result<Selection, String> {
    if depth > 32 {
        return Err("the selector nests parentheses too deeply".into());
    }
    let mut sel = Selection::default();
    loop {
        let start = *pos;
        while chars
            .get(*pos)
            .is_some_and(|c| c.is_alphanumeric() || matches!(c, '_' | '/' | '@' | '.' | '*'))
        {
            *pos += 1;
        }
        let path: String = chars[start..*pos].iter().collect();
        if path.is_empty() || path.split('/').any(str::is_empty) {
            return Err(format!("expected a field name at position {}", start + 1));
        }
        let mut inner = Selection::default();
        if chars.get(*pos) == Some(&'(') {
            *pos += 1;
            inner = parse_list(chars, pos, depth + 1)?;
            if chars.get(*pos) != Some(&')') {
                return Err(format!("expected ')' at position {}", *pos + 1));
            }
            *pos += 1;
        }
        // `a/b/c(d)` is `a(b(c(d)))`.
        let mut names: Vec<&str> = path.split('/').collect();
        let mut node = inner;
        while names.len() > 1 {
            let last = names.pop().unwrap_or_default();
            node = Selection(vec![(last.to_string(), node)]);
        }
        sel.merge(names[0].to_string(), node);
        match chars.get(*pos) {
            Some(',') => *pos += 1,
            _ => return Ok(sel),
        }
    }
}

/// A CustomJob.
pub static JOB: Shape = Shape::Msg(schema::CUSTOM_JOB);
/// `ListCustomJobsResponse`.
pub static JOB_LIST: Shape = Shape::Obj(&[
    ("customJobs", Shape::Msg(schema::CUSTOM_JOB)),
    ("nextPageToken", Shape::Obj(&[])),
]);
const OPERATION_FIELDS: &[(&str, Shape)] = &[
    ("name", Shape::Obj(&[])),
    ("metadata", Shape::Any),
    ("done", Shape::Obj(&[])),
    ("error", Shape::Any),
    ("response", Shape::Any),
];
/// `google.longrunning.Operation`.
pub static OPERATION: Shape = Shape::Obj(OPERATION_FIELDS);
/// `ListOperationsResponse`.
pub static OPERATION_LIST: Shape = Shape::Obj(&[
    ("operations", Shape::Obj(OPERATION_FIELDS)),
    ("nextPageToken", Shape::Obj(&[])),
    ("unreachable", Shape::Obj(&[])),
]);
const LOCATION_FIELDS: &[(&str, Shape)] = &[
    ("name", Shape::Obj(&[])),
    ("locationId", Shape::Obj(&[])),
    ("displayName", Shape::Obj(&[])),
    ("labels", Shape::Any),
    ("metadata", Shape::Any),
];
/// `google.cloud.location.Location`.
pub static LOCATION: Shape = Shape::Obj(LOCATION_FIELDS);
/// `ListLocationsResponse`.
pub static LOCATION_LIST: Shape = Shape::Obj(&[
    ("locations", Shape::Obj(LOCATION_FIELDS)),
    ("nextPageToken", Shape::Obj(&[])),
]);
/// `google.protobuf.Empty`.
pub static EMPTY: Shape = Shape::Obj(&[]);

#[cfg(test)]
mod tests {
    use super::*;

    fn sel(s: &str, shape: &Shape) -> Result<Selection, String> {
        Selection::parse(s)?.resolve(shape)
    }

    #[test]
    fn parses_and_applies() {
        let job = Json::obj().with("name", "n").with("displayName", "d").with(
            "jobSpec",
            Json::obj().with(
                "workerPoolSpecs",
                vec![
                    Json::obj()
                        .with("replicaCount", "1")
                        .with("machineSpec", "m"),
                ],
            ),
        );
        let list = Json::obj()
            .with("customJobs", vec![job.clone()])
            .with("nextPageToken", "t");
        let s = sel(
            "customJobs(name,job_spec/worker_pool_specs/machineSpec)",
            &JOB_LIST,
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(s.apply(&list).to_bytes(false)).unwrap(),
            r#"{"customJobs":[{"name":"n","jobSpec":{"workerPoolSpecs":[{"machineSpec":"m"}]}}]}"#
        );
        let s = sel("displayName,name", &JOB).unwrap();
        assert_eq!(s.apply(&job).keys(), vec!["name", "displayName"]);
    }

    #[test]
    fn refuses_unknown_and_malformed() {
        assert_eq!(sel("nope", &JOB), Err("nope".into()));
        assert_eq!(sel("name/x", &JOB), Err("name.x".into()));
        assert_eq!(
            sel("customJobs(bogus)", &JOB_LIST),
            Err("customJobs.bogus".into())
        );
        assert!(Selection::parse("a(b").is_err());
        assert!(Selection::parse("a,,b").is_err());
        assert!(Selection::parse("").is_err());
        assert!(sel("metadata/anything/goes,done", &OPERATION).is_ok());
        assert!(sel("labels/team", &JOB).is_ok());
        assert_eq!(sel("*", &JOB), Ok(Selection::default()));
        assert!(sel("customJobs(*),nextPageToken", &JOB_LIST).is_ok());
    }
}
