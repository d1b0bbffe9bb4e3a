//! Choosing the method a SELECT runs, from the constraints SQLite offers:
//! the most specific SELECT method whose required parameters all have a
//! usable `=` or `IN` constraint. The choice is a typed `Plan`, kept in the
//! table's `Plans`; SQLite carries only its number to `filter`.

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
        "projectsId" | "projectId" | "project" => "my-project",
        "locationsId" | "location" | "region" => "us-central1",
        "zone" => "us-central1-a",
        _ => "...",
    }
}

/// What `best_index` decided, for `filter`. Arguments arrive in this
/// order: `params`, then the LIMIT (if any), then `pushes`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Plan {
    pub method: usize,
    pub params: Vec<PlanParam>,
    pub has_limit: bool,
    /// Response columns and operators pushed into the list `filter`.
    pub pushes: Vec<(String, Op)>,
    /// Response fields for `readMask` (empty: all).
    pub mask: Vec<String>,
    /// Some parameter value comes from another table (a join): `filter`
    /// runs once per outer row.
    pub joined: bool,
}

/// A request parameter a plan fills from a constraint.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanParam {
    pub name: String,
    /// From an IN list, its values all at once.
    pub is_in: bool,
}

/// The plans `best_index` chose for one table, by number: SQLite carries
/// only a number from `best_index` to `filter`. Equal plans share a number,
/// so the list is only as long as the set of distinct plans.
#[derive(Debug, Default)]
pub struct Plans(std::sync::Mutex<Vec<Plan>>);

impl Plans {
    /// The number of `plan` (added if new).
    pub fn number(&self, plan: Plan) -> i32 {
        let Ok(mut plans) = self.0.lock() else {
            return -1;
        };
        let at = match plans.iter().position(|p| *p == plan) {
            Some(i) => i,
            None => {
                plans.push(plan);
                plans.len() - 1
            }
        };
        i32::try_from(at).unwrap_or(-1)
    }

    pub fn get(&self, number: i32) -> Option<Plan> {
        let i = usize::try_from(number).ok()?;
        self.0.lock().ok()?.get(i).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_plans_share_a_number() {
        let plans = Plans::default();
        let p = Plan {
            method: 3,
            params: vec![PlanParam {
                name: "locationsId".into(),
                is_in: true,
            }],
            has_limit: true,
            pushes: vec![("state".into(), Op::Ne)],
            mask: vec!["name".into()],
            joined: true,
        };
        let n = plans.number(p.clone());
        assert_eq!(plans.number(Plan::default()), n + 1);
        assert_eq!(plans.number(p.clone()), n);
        assert_eq!(plans.get(n), Some(p));
        assert_eq!(plans.get(-1), None);
        assert_eq!(plans.get(9), None);
    }
}
