//! Choosing the method a SELECT runs, from the constraints SQLite offers:
//! the most specific SELECT method whose required parameters all have a
//! usable `=` or `IN` constraint. The choice is encoded in `idx_str` and
//! decoded again in `filter`.

use crate::pushdown::Op;
use crate::shape::Shape;
use skyql_provider::{Resource, SqlVerb};

/// One constraint as `best_index` sees it.
#[derive(Debug, Clone)]
pub struct Offered {
    pub column: usize,
    pub eq: bool,
    pub usable: bool,
    /// The comparison, where pushdown could use it.
    pub op: Option<Op>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Choice {
    /// Run `method` (index into `resource.methods`); `args[i]` is the
    /// constraint feeding parameter `params[i]`.
    Use {
        method: usize,
        params: Vec<String>,
        args: Vec<usize>,
    },
    /// This join order cannot work (a required value comes from a table not
    /// yet scanned): let SQLite try another.
    Reject,
    /// No order can work: the user must give these parameters.
    Missing { message: String },
}

pub fn choose(r: &Resource, shape: &Shape, offered: &[Offered]) -> Choice {
    let usable_eq = |name: &str| -> Option<usize> {
        let col = shape.index(name)?;
        offered
            .iter()
            .position(|o| o.column == col && o.eq && o.usable)
    };
    let any_eq = |name: &str| -> bool {
        shape
            .index(name)
            .is_some_and(|col| offered.iter().any(|o| o.column == col && o.eq))
    };
    let mut selects: Vec<(usize, &skyql_provider::Method)> = r
        .methods
        .iter()
        .enumerate()
        .filter(|(_, m)| m.verb == SqlVerb::Select)
        .collect();
    if selects.is_empty() {
        return Choice::Missing {
            message: format!(
                "{} cannot be read with SELECT: it has no get or list method; `SHOW METHODS IN {}` lists what it has",
                r.id, r.id
            ),
        };
    }
    // Most specific first: more required parameters, then `get` before others.
    selects.sort_by_key(|(_, m)| {
        (
            std::cmp::Reverse(m.required_params().len()),
            m.name != "get",
        )
    });
    for (idx, m) in &selects {
        let required = m.required_params();
        if required.iter().all(|p| usable_eq(p).is_some()) {
            let mut params = Vec::new();
            let mut args = Vec::new();
            for p in &m.params {
                if let Some(c) = usable_eq(&p.name) {
                    params.push(p.name.clone());
                    args.push(c);
                }
            }
            return Choice::Use {
                method: *idx,
                params,
                args,
            };
        }
    }
    // Nothing runs now. If some method's required parameters are all
    // constrained (some by columns of tables not yet scanned), another join
    // order can work.
    if selects
        .iter()
        .any(|(_, m)| m.required_params().iter().all(|p| any_eq(p)))
    {
        return Choice::Reject;
    }
    // A collection under several parents: each variant's parameters will do.
    let mut sets: Vec<Vec<&str>> = selects.iter().map(|(_, m)| m.required_params()).collect();
    sets.sort();
    sets.dedup();
    let fewest = sets.iter().map(Vec::len).min().unwrap_or(0);
    let variants: Vec<String> = sets
        .iter()
        .filter(|s| s.len() == fewest)
        .map(|s| {
            s.iter()
                .map(|p| format!("{p} = '{}'", example_value(p)))
                .collect::<Vec<_>>()
                .join(" AND ")
        })
        .collect();
    if variants.len() > 1 {
        return Choice::Missing {
            message: format!(
                "{} needs the parameters of one of its variants in the WHERE clause (given by = or IN): WHERE {}",
                r.id,
                variants.join(", or WHERE ")
            ),
        };
    }
    let (_, least) = selects
        .iter()
        .min_by_key(|(_, m)| m.required_params().len())
        .copied()
        .unwrap_or(selects[0]);
    let required = least.required_params();
    let missing: Vec<&str> = required.iter().copied().filter(|p| !any_eq(p)).collect();
    let example: Vec<String> = required
        .iter()
        .map(|p| format!("{p} = '{}'", example_value(p)))
        .collect();
    Choice::Missing {
        message: format!(
            "{} needs {} in the WHERE clause (given by = or IN), e.g. WHERE {}",
            r.id,
            missing.join(", "),
            example.join(" AND ")
        ),
    }
}

fn example_value(param: &str) -> &'static str {
    match param {
        "projectsId" | "project" => "my-project",
        "locationsId" | "location" | "region" => "us-central1",
        "zone" => "us-central1-a",
        _ => "...",
    }
}

/// What `best_index` decided, carried to `filter` in `idx_str`. Arguments
/// arrive in this order: `params`, then the LIMIT (if any), then `pushes`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Plan {
    pub method: usize,
    /// Parameter names; a trailing `+` marks an IN list.
    pub params: Vec<String>,
    pub has_limit: bool,
    /// Response columns and operators pushed into the list `filter`.
    pub pushes: Vec<(String, Op)>,
    /// Response fields for `readMask` (empty: all).
    pub mask: Vec<String>,
    /// Some parameter value comes from another table (a join): `filter`
    /// runs once per outer row.
    pub joined: bool,
}

impl Plan {
    pub fn encode(&self) -> String {
        let pushes: Vec<String> = self
            .pushes
            .iter()
            .map(|(c, op)| format!("{c}{}", op.code()))
            .collect();
        format!(
            "{}|{}|{}|{}|{}|{}",
            self.method,
            self.params.join(","),
            u8::from(self.has_limit),
            pushes.join(","),
            self.mask.join(","),
            u8::from(self.joined)
        )
    }

    pub fn decode(s: &str) -> Option<Plan> {
        let mut parts = s.split('|');
        let method = parts.next()?.parse().ok()?;
        let list = |p: &str| -> Vec<String> {
            if p.is_empty() {
                Vec::new()
            } else {
                p.split(',').map(String::from).collect()
            }
        };
        let params = list(parts.next()?);
        let has_limit = parts.next()? == "1";
        let mut pushes = Vec::new();
        for p in list(parts.next()?) {
            let at = p.find(|c: char| "=!<>".contains(c))?;
            pushes.push((p[..at].to_string(), Op::parse(&p[at..])?));
        }
        let mask = list(parts.next()?);
        let joined = parts.next()? == "1";
        Some(Plan {
            method,
            params,
            has_limit,
            pushes,
            mask,
            joined,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_round_trip() {
        let p = Plan {
            method: 3,
            params: vec!["projectsId".into(), "locationsId+".into()],
            has_limit: true,
            pushes: vec![("state".into(), Op::Ne), ("createTime".into(), Op::Ge)],
            mask: vec!["name".into(), "state".into()],
            joined: true,
        };
        assert_eq!(Plan::decode(&p.encode()), Some(p));
        assert_eq!(
            Plan::decode(&Plan::default().encode()),
            Some(Plan::default())
        );
    }
}
