//! Where a webhook call goes and with which headers: `webhook` (a URL that may hold
//! `{{ENV_VAR}}` templates), `webhook_from_env`, and headers with `value` or `value_from_env`.
//! Resolved once per metadata version, so a missing variable is reported when the trigger is
//! created, not at delivery time.

use crate::EventsError;
use graft_metadata::HeaderConf;

/// Replaces each `{{NAME}}` with the environment variable `NAME`.
pub fn expand_env_template(template: &str) -> Result<String, EventsError> {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            return Err(EventsError::InvalidWebhook(format!(
                "unclosed \"{{{{\" in \"{template}\""
            )));
        };
        let name = after[..end].trim();
        let value = std::env::var(name).map_err(|_| EventsError::MissingEnv(name.to_string()))?;
        out.push_str(&value);
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The URL of `webhook` or `webhook_from_env` (exactly one must be given).
pub fn resolve_url(webhook: Option<&str>, from_env: Option<&str>) -> Result<String, EventsError> {
    match (webhook, from_env) {
        (Some(url), None) => expand_env_template(url),
        (None, Some(var)) => {
            std::env::var(var).map_err(|_| EventsError::MissingEnv(var.to_string()))
        }
        (Some(_), Some(_)) => Err(EventsError::InvalidWebhook(
            "only one of webhook or webhook_from_env should be given".to_string(),
        )),
        (None, None) => Err(EventsError::InvalidWebhook(
            "must provide webhook or webhook_from_env".to_string(),
        )),
    }
}

/// Header names and values; a missing `value_from_env` variable is an error.
pub fn resolve_headers(headers: &[HeaderConf]) -> Result<Vec<(String, String)>, EventsError> {
    headers
        .iter()
        .map(|header| {
            let value = match (&header.value, &header.value_from_env) {
                (Some(value), _) => value.clone(),
                (None, Some(var)) => {
                    std::env::var(var).map_err(|_| EventsError::MissingEnv(var.clone()))?
                }
                (None, None) => {
                    return Err(EventsError::InvalidWebhook(format!(
                        "header \"{}\" has neither value nor value_from_env",
                        header.name
                    )));
                }
            };
            Ok((header.name.clone(), value))
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn expands_templates_and_reports_missing_variables() {
        // PATH is set in every test environment.
        let path = std::env::var("PATH").unwrap();
        assert_eq!(
            expand_env_template("{{PATH}}/x").unwrap(),
            format!("{path}/x")
        );
        assert_eq!(expand_env_template("http://a/b").unwrap(), "http://a/b");
        assert!(matches!(
            expand_env_template("{{GRAFT_SURELY_UNSET_VAR}}"),
            Err(EventsError::MissingEnv(_))
        ));
        assert!(expand_env_template("{{PATH").is_err());
    }
}
