//! Routing: a Discovery method's path template (`flatPath`, else `path`) as segments, and
//! the matching of a request path against it.
//!
//! A request is matched as Google's front end does: the path is split on `/` first and
//! each segment percent-decoded after, so an encoded slash stays inside its segment (a
//! storage object name); `.` and `..` segments are refused. A template's custom verb
//! (`{keyRingsId}:getIamPolicy`, `cryptoKeys:list`) must be the end of the last segment.

use skyql_emulator::wire::percent_decode;

/// One segment of a path template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seg {
    /// A literal segment.
    Lit(String),
    /// `{name}`: exactly one segment.
    Var(String),
    /// `{+name}`: one or more segments.
    Rest(String),
}

/// A parsed path template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template {
    pub segs: Vec<Seg>,
    /// The custom verb after the last segment (`getIamPolicy`), if any.
    pub verb: Option<String>,
}

/// What a matched template bound.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Bound {
    /// Template variables, in template order, decoded.
    pub vars: Vec<(String, String)>,
    /// The concrete segments (decoded), custom verb removed.
    pub segs: Vec<String>,
}

impl Bound {
    /// The value bound to a variable.
    pub fn var(&self, name: &str) -> Option<&str> {
        self.vars
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

impl Template {
    /// Parses `projects/{project}/zones/{zone}` or `v1/{+name}:cancel`.
    pub fn parse(template: &str) -> Template {
        let template = template.trim_start_matches('/');
        let mut segs = Vec::new();
        let mut verb = None;
        let parts: Vec<&str> = template.split('/').collect();
        for (i, part) in parts.iter().enumerate() {
            let mut part = *part;
            if i + 1 == parts.len() {
                // A verb follows the last `}` or sits in a literal last segment.
                let after = part.rfind('}').map_or(0, |p| p + 1);
                if let Some(colon) = part[after..].find(':') {
                    let at = after + colon;
                    verb = Some(part[at + 1..].to_string());
                    part = &part[..at];
                }
            }
            if let Some(name) = part.strip_prefix("{+").and_then(|p| p.strip_suffix('}')) {
                segs.push(Seg::Rest(name.to_string()));
            } else if let Some(name) = part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                segs.push(Seg::Var(name.to_string()));
            } else {
                segs.push(Seg::Lit(part.to_string()));
            }
        }
        Template { segs, verb }
    }

    /// True when the template has no multi-segment variable.
    pub fn is_fixed(&self) -> bool {
        !self.segs.iter().any(|s| matches!(s, Seg::Rest(_)))
    }

    /// The first literal, used to index routes.
    pub fn first_literal(&self) -> Option<&str> {
        match self.segs.first() {
            Some(Seg::Lit(l)) => Some(l),
            _ => None,
        }
    }

    /// Matches decoded request segments; the last one may carry `:verb`.
    pub fn matches(&self, request: &[String]) -> Option<Bound> {
        let mut segs: Vec<String> = request.to_vec();
        if let Some(verb) = &self.verb {
            let last = segs.last_mut()?;
            let stripped = last.strip_suffix(verb.as_str())?.strip_suffix(':')?;
            *last = stripped.to_string();
        }
        let mut vars = Vec::new();
        if match_from(&self.segs, &segs, &mut vars) {
            Some(Bound { vars, segs })
        } else {
            None
        }
    }
}

fn match_from(tpl: &[Seg], req: &[String], vars: &mut Vec<(String, String)>) -> bool {
    let Some((first, rest)) = tpl.split_first() else {
        return req.is_empty();
    };
    match first {
        Seg::Lit(l) => req.first().is_some_and(|r| r == l) && match_from(rest, &req[1..], vars),
        Seg::Var(name) => {
            let Some(value) = req.first().filter(|r| !r.is_empty()) else {
                return false;
            };
            vars.push((name.clone(), value.clone()));
            if match_from(rest, &req[1..], vars) {
                return true;
            }
            vars.pop();
            false
        }
        Seg::Rest(name) => {
            // Shortest first leaves the literals after `{+name}` their segments; the value
            // is joined only once the rest has matched.
            for take in 1..=req.len() {
                if req[take - 1].is_empty() {
                    return false;
                }
                let mark = vars.len();
                if match_from(rest, &req[take..], vars) {
                    vars.insert(mark, (name.clone(), req[..take].join("/")));
                    return true;
                }
                vars.truncate(mark);
            }
            false
        }
    }
}

/// Why a request path cannot be routed at all.
#[derive(Debug, PartialEq, Eq)]
pub enum PathError {
    BadEncoding(String),
    DotSegment,
}

/// Splits a raw request path into decoded segments.
pub fn split_path(path: &str) -> Result<Vec<String>, PathError> {
    let path = path.strip_prefix('/').unwrap_or(path);
    if path.is_empty() {
        return Ok(Vec::new());
    }
    path.split('/')
        .map(|raw| {
            let seg =
                percent_decode(raw, false).ok_or_else(|| PathError::BadEncoding(raw.into()))?;
            if seg == "." || seg == ".." {
                return Err(PathError::DotSegment);
            }
            Ok(seg)
        })
        .collect()
}

/// Percent-encodes one path segment (for self links and names in URLs).
pub fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segs(p: &str) -> Vec<String> {
        split_path(p).unwrap()
    }

    #[test]
    fn parses_templates() {
        let t = Template::parse("v1/projects/{projectsId}/keyRings/{keyRingsId}:getIamPolicy");
        assert_eq!(t.verb.as_deref(), Some("getIamPolicy"));
        assert_eq!(t.segs.last(), Some(&Seg::Var("keyRingsId".into())));
        let t = Template::parse("v1/{+parent}/cryptoKeys:list");
        assert_eq!(t.verb.as_deref(), Some("list"));
        assert_eq!(t.segs.last(), Some(&Seg::Lit("cryptoKeys".into())));
        assert!(!t.is_fixed());
    }

    #[test]
    fn matches_vars_rest_and_verbs() {
        let t = Template::parse("projects/{project}/zones/{zone}/instances/{instance}");
        let b = t.matches(&segs("/projects/p/zones/z/instances/i")).unwrap();
        assert_eq!(b.var("instance"), Some("i"));
        assert!(t.matches(&segs("/projects/p/zones/z/instances")).is_none());
        assert!(t.matches(&segs("/projects/p/zones//instances/i")).is_none());

        let t = Template::parse("v1/{+resource}:getIamPolicy");
        let b = t
            .matches(&segs("/v1/projects/p/locations/l/keyRings/k:getIamPolicy"))
            .unwrap();
        assert_eq!(b.var("resource"), Some("projects/p/locations/l/keyRings/k"));
        assert!(t.matches(&segs("/v1/projects/p:setIamPolicy")).is_none());

        let t = Template::parse("v1/{+parent}/keyRings");
        let b = t
            .matches(&segs("/v1/projects/p/locations/l/keyRings"))
            .unwrap();
        assert_eq!(b.var("parent"), Some("projects/p/locations/l"));

        let t = Template::parse("b/{bucket}/o/{object}");
        let b = t.matches(&segs("/b/bk/o/dir%2Ffile:x")).unwrap();
        assert_eq!(b.var("object"), Some("dir/file:x"));
    }

    #[test]
    fn refuses_dot_segments_and_bad_escapes() {
        assert_eq!(split_path("/a/../b"), Err(PathError::DotSegment));
        assert!(matches!(
            split_path("/a/%zz"),
            Err(PathError::BadEncoding(_))
        ));
        assert_eq!(encode_segment("a/b c"), "a%2Fb%20c");
    }
}
