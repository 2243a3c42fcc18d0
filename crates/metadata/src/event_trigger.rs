//! Event triggers (on a table) and cron triggers (top level): the webhooks graft calls when a row
//! changes or a schedule fires. Only their shape lives here; `graft-events` installs and delivers.

use crate::permission::Columns;
use crate::{Extra, Metadata, MetadataError};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One entry of a table's `event_triggers`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventTrigger {
    pub name: String,
    pub definition: EventTriggerDefinition,
    #[serde(default)]
    pub retry_conf: EventRetryConf,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_from_env: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<HeaderConf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_transform: Option<Value>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// Which operations fire the trigger, and with which columns.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct EventTriggerDefinition {
    #[serde(default)]
    pub enable_manual: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insert: Option<OperationSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update: Option<OperationSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delete: Option<OperationSpec>,
}

/// `columns`: the columns whose change fires an update (all of them for insert/delete);
/// `payload`: the columns sent in `data.old`/`data.new` (all when absent).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct OperationSpec {
    #[serde(default)]
    pub columns: Columns,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<Columns>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventRetryConf {
    #[serde(default)]
    pub num_retries: u32,
    #[serde(default = "default_interval_sec")]
    pub interval_sec: u32,
    #[serde(default = "default_timeout_sec")]
    pub timeout_sec: u32,
}

impl Default for EventRetryConf {
    fn default() -> Self {
        EventRetryConf {
            num_retries: 0,
            interval_sec: default_interval_sec(),
            timeout_sec: default_timeout_sec(),
        }
    }
}

fn default_interval_sec() -> u32 {
    10
}

fn default_timeout_sec() -> u32 {
    60
}

/// A header sent to a webhook: a literal `value` or `value_from_env`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeaderConf {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_from_env: Option<String>,
}

/// One entry of the top-level `cron_triggers`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CronTrigger {
    pub name: String,
    pub webhook: String,
    pub schedule: String,
    #[serde(default = "yes")]
    pub include_in_metadata: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_conf: Option<ScheduledRetryConf>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<HeaderConf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_transform: Option<Value>,
    #[serde(flatten)]
    pub extra: Extra,
}

fn yes() -> bool {
    true
}

/// Retries of cron and one-off scheduled events; `tolerance_seconds` is how late a missed run
/// may still be delivered (after downtime) before it is marked dead.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScheduledRetryConf {
    #[serde(default)]
    pub num_retries: u32,
    #[serde(default = "default_interval_sec")]
    pub retry_interval_seconds: u32,
    #[serde(default = "default_timeout_sec")]
    pub timeout_seconds: u32,
    #[serde(default = "default_tolerance_seconds")]
    pub tolerance_seconds: u32,
}

impl Default for ScheduledRetryConf {
    fn default() -> Self {
        ScheduledRetryConf {
            num_retries: 0,
            retry_interval_seconds: default_interval_sec(),
            timeout_seconds: default_timeout_sec(),
            tolerance_seconds: default_tolerance_seconds(),
        }
    }
}

fn default_tolerance_seconds() -> u32 {
    21600
}

/// Cron triggers stay in `extra` (so the top-level key order of an export is untouched) and are
/// read and written typed through these.
impl Metadata {
    pub fn cron_triggers(&self) -> Result<Vec<CronTrigger>, MetadataError> {
        match self.extra.get("cron_triggers") {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(value) => Ok(serde_json::from_value(value.clone())?),
        }
    }

    pub fn set_cron_triggers(&mut self, triggers: &[CronTrigger]) {
        if triggers.is_empty() {
            self.extra.shift_remove("cron_triggers");
        } else {
            let value = serde_json::to_value(triggers).unwrap_or(Value::Null);
            self.extra.insert("cron_triggers".to_string(), value);
        }
    }
}
