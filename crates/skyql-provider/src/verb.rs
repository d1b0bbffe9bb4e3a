//! Which SQL statement reaches a Discovery method: StackQL's verb rules,
//! decided by the method's name (its action) and HTTP method.

use std::fmt;

/// How a method is reached from SQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SqlVerb {
    Select,
    Insert,
    Update,
    Replace,
    Delete,
    Exec,
}

/// Action prefixes per (verb, HTTP method). A later row wins over an
/// earlier one, as in StackQL's provider generator: a `GET` that starts
/// with `list` is a read whatever else it starts with.
const RULES: &[(SqlVerb, &str, &[&str])] = &[
    (
        SqlVerb::Insert,
        "POST",
        &["insert", "create", "add", "batchCreate", "bulkInsert"],
    ),
    (SqlVerb::Update, "PATCH", &["update", "patch"]),
    (SqlVerb::Update, "POST", &["update", "patch", "batchUpdate"]),
    (SqlVerb::Replace, "PUT", &["update", "replace"]),
    (SqlVerb::Replace, "POST", &["replace"]),
    (SqlVerb::Delete, "DELETE", &["delete", "remove"]),
    (
        SqlVerb::Delete,
        "POST",
        &["delete", "destroy", "batchDelete", "bulkDelete", "remove"],
    ),
    (
        SqlVerb::Select,
        "GET",
        &[
            "aggregatedList",
            "get",
            "batchGet",
            "list",
            "query",
            "fetch",
            "retrieve",
        ],
    ),
    (SqlVerb::Select, "POST", &["get", "list", "fetch"]),
];

impl SqlVerb {
    pub fn as_str(self) -> &'static str {
        match self {
            SqlVerb::Select => "SELECT",
            SqlVerb::Insert => "INSERT",
            SqlVerb::Update => "UPDATE",
            SqlVerb::Replace => "REPLACE",
            SqlVerb::Delete => "DELETE",
            SqlVerb::Exec => "EXEC",
        }
    }

    /// The verb of a Discovery method, from its action (`list`,
    /// `getIamPolicy`, `bulkInsert`) and HTTP method. IAM policies read with
    /// SELECT and are written whole with REPLACE; anything no rule names is
    /// EXEC.
    pub fn of(action: &str, http_method: &str) -> SqlVerb {
        match action {
            "getIamPolicy" => return SqlVerb::Select,
            "setIamPolicy" => return SqlVerb::Replace,
            "testIamPermissions" => return SqlVerb::Exec,
            _ => {}
        }
        let http = http_method.to_ascii_uppercase();
        let mut verb = SqlVerb::Exec;
        for (v, method, prefixes) in RULES {
            if http == *method && prefixes.iter().any(|p| action.starts_with(p)) {
                verb = *v;
            }
        }
        verb
    }
}

impl fmt::Display for SqlVerb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::SqlVerb::{self, *};

    #[test]
    fn verbs_follow_action_and_http_method() {
        let cases = [
            ("get", "GET", Select),
            ("list", "GET", Select),
            ("aggregatedList", "GET", Select),
            ("getSerialPortOutput", "GET", Select),
            ("fetchFeatureValues", "POST", Select),
            ("create", "POST", Insert),
            ("insert", "POST", Insert),
            ("bulkInsert", "POST", Insert),
            ("patch", "PATCH", Update),
            ("update", "PATCH", Update),
            ("update", "PUT", Replace),
            ("delete", "DELETE", Delete),
            ("batchDelete", "POST", Delete),
            ("getIamPolicy", "POST", Select),
            ("setIamPolicy", "POST", Replace),
            ("testIamPermissions", "POST", Exec),
            ("cancel", "POST", Exec),
            ("start", "POST", Exec),
            ("search", "GET", Exec),
        ];
        for (action, http, want) in cases {
            assert_eq!(SqlVerb::of(action, http), want, "{action} {http}");
        }
    }
}
