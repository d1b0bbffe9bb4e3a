//! The route table of every served document on one port. A request path is tried as it
//! comes (`/v1/projects/...`, the method path alone) and with each served document's
//! `servicePath` removed (`/compute/v1/projects/...`, what a client using the base URL
//! sends). Fixed templates are indexed by HTTP method, segment count and first literal,
//! so a lookup compares only a handful of templates.
//!
//! When several documents have the same path (`v1/projects/{p}/locations` is in many
//! AIP services), the one whose `servicePath` the request carried wins, then the one whose
//! host the `Host` header names (`cloudkms.googleapis.com`, or `cloudkms.localhost`),
//! then (for a request naming an existing resource) the one that holds it, then the one
//! listed first in `--services`.

use std::collections::HashMap;

use crate::api::Api;
use crate::route::{Bound, Seg};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Entry {
    api: usize,
    method: usize,
}

/// A routed request.
#[derive(Debug)]
pub struct Found {
    pub api: usize,
    pub method: usize,
    pub bound: Bound,
    /// How well it matched (service path carried, host named, literals); equal ranks
    /// from different services are the ambiguous case.
    pub rank: (u8, u8, u8),
}

#[derive(Default)]
pub struct Router {
    fixed: HashMap<(String, usize, String), Vec<Entry>>,
    /// Templates starting with a variable or holding `{+x}`.
    other: Vec<Entry>,
    /// Distinct service paths as segments, with the APIs that have them.
    prefixes: Vec<(Vec<String>, Vec<usize>)>,
}

impl Router {
    pub fn new(apis: &[Api]) -> Router {
        let mut r = Router::default();
        for (ai, api) in apis.iter().enumerate() {
            for (mi, m) in api.methods.iter().enumerate() {
                let e = Entry {
                    api: ai,
                    method: mi,
                };
                match (m.template.is_fixed(), m.template.first_literal()) {
                    (true, Some(first)) => r
                        .fixed
                        .entry((m.http.clone(), m.template.segs.len(), first.to_string()))
                        .or_default()
                        .push(e),
                    _ => r.other.push(e),
                }
            }
            let segs: Vec<String> = api
                .service_path
                .split('/')
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect();
            if !segs.is_empty() {
                match r.prefixes.iter_mut().find(|(p, _)| *p == segs) {
                    Some((_, list)) => list.push(ai),
                    None => r.prefixes.push((segs, vec![ai])),
                }
            }
        }
        r
    }

    fn candidates<'a>(&'a self, http: &str, rel: &[String]) -> impl Iterator<Item = Entry> + 'a {
        let fixed = rel
            .first()
            .and_then(|first| {
                self.fixed
                    .get(&(http.to_string(), rel.len(), first.clone()))
            })
            .into_iter()
            .flatten()
            .copied();
        fixed.chain(self.other.iter().copied())
    }

    /// Every method a request may mean, best first.
    pub fn find(&self, apis: &[Api], http: &str, segs: &[String], host: &str) -> Vec<Found> {
        let hostname = host.split(':').next().unwrap_or(host);
        let mut found: Vec<((u8, u8, u8, usize), Found)> = Vec::new();
        let mut consider = |apis: &[Api], rel: &[String], only: Option<&[usize]>| {
            for e in self.candidates(http, rel) {
                if only.is_some_and(|o| !o.contains(&e.api)) {
                    continue;
                }
                let api = &apis[e.api];
                let m = &api.methods[e.method];
                if m.http != http {
                    continue;
                }
                let Some(bound) = m.template.matches(rel) else {
                    continue;
                };
                let host_match = hostname == api.host()
                    || hostname
                        .split('.')
                        .next()
                        .is_some_and(|label| label == api.name);
                let literals = m
                    .template
                    .segs
                    .iter()
                    .filter(|s| matches!(s, Seg::Lit(_)))
                    .count()
                    + usize::from(m.template.verb.is_some());
                let score = (
                    u8::from(only.is_some()),
                    u8::from(host_match),
                    u8::try_from(literals).unwrap_or(u8::MAX),
                    usize::MAX - e.api,
                );
                found.push((
                    score,
                    Found {
                        api: e.api,
                        method: e.method,
                        bound,
                        rank: (score.0, score.1, score.2),
                    },
                ));
            }
        };
        for (prefix, owners) in &self.prefixes {
            if segs.len() > prefix.len() && segs[..prefix.len()] == prefix[..] {
                consider(apis, &segs[prefix.len()..], Some(owners));
            }
        }
        consider(apis, segs, None);
        found.sort_by_key(|f| std::cmp::Reverse(f.0));
        found.into_iter().map(|(_, f)| f).collect()
    }
}
