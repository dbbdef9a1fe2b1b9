//! Counts an operator alarms on, as CloudWatch embedded-metric-format lines: Lambda sends every
//! stdout line to CloudWatch Logs, which turns these into metrics (no API call, no SDK). The same
//! counts are kept in the process for tests and the local stack's log.

use std::sync::atomic::{AtomicU64, Ordering};

/// The namespace of the stack's own metrics (template.yaml's alarms watch it).
pub const NAMESPACE: &str = "OnboardingBackend";

/// What made a table write wait or fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq, strum::IntoStaticStr)]
pub enum Contention {
    /// Another transaction touched the same item at the same time (TransactionConflict).
    Conflict,
    /// The table or a partition was over its throughput (throttling).
    Throttle,
}

/// The metric counting each contention a write met and retried (`TableContention`), and each
/// write that gave up after its retries (`TableBusyFailures`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, strum::IntoStaticStr)]
pub enum Metric {
    TableContention,
    TableBusyFailures,
}

static COUNTS: [AtomicU64; 2] = [AtomicU64::new(0), AtomicU64::new(0)];

/// Counts one `metric` event of `kind`.
pub fn count(metric: Metric, kind: Contention) {
    COUNTS[metric as usize].fetch_add(1, Ordering::Relaxed);
    let (name, kind): (&str, &str) = (metric.into(), kind.into());
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or_default();
    println!(
        r#"{{"_aws":{{"Timestamp":{now},"CloudWatchMetrics":[{{"Namespace":"{NAMESPACE}","Dimensions":[["Kind"],[]],"Metrics":[{{"Name":"{name}","Unit":"Count"}}]}}]}},"Kind":"{kind}","{name}":1}}"#
    );
}

/// The most values one embedded metric carries (CloudWatch's limit per metric and line).
const MAX_VALUES: usize = 100;

/// One account's deliveries of a stream batch, as the embedded-metric line the alarms on
/// delivery failure rate and processing time read (`DeliveryFailureRate`, `ProcessingTime`, by
/// `Account`). Signals, not accounts: a batch the stream delivers again is seen again (the
/// reports, not these, are exact).
pub fn delivery_line(account: &str, health: &domain::leads::reports::DeliveryHealth) -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or_default();
    let times: Vec<String> = health.processing_ms.iter().take(MAX_VALUES).map(u64::to_string).collect();
    format!(
        r#"{{"_aws":{{"Timestamp":{now},"CloudWatchMetrics":[{{"Namespace":"{NAMESPACE}","Dimensions":[["Account"]],"Metrics":[{{"Name":"LeadStepsSettled","Unit":"Count"}},{{"Name":"LeadStepsFailed","Unit":"Count"}},{{"Name":"DeliveryFailureRate","Unit":"Percent"}},{{"Name":"ProcessingTime","Unit":"Milliseconds"}}]}}]}},"Account":"{account}","LeadStepsSettled":{},"LeadStepsFailed":{},"DeliveryFailureRate":{:.2},"ProcessingTime":[{}]}}"#,
        health.settled,
        health.failed,
        health.failure_rate(),
        times.join(",")
    )
}

/// How many `metric` events this process counted.
pub fn total(metric: Metric) -> u64 {
    COUNTS[metric as usize].load(Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_count_is_one_embedded_metric_line_and_a_process_count() {
        let before = total(Metric::TableBusyFailures);
        count(Metric::TableBusyFailures, Contention::Throttle);
        assert_eq!(total(Metric::TableBusyFailures), before + 1);
    }

    #[test]
    fn a_delivery_line_is_embedded_metric_format_by_account() {
        let health = domain::leads::reports::DeliveryHealth { settled: 4, failed: 1, processing_ms: vec![120; 150] };
        let line: serde_json::Value = serde_json::from_str(&delivery_line("a1", &health)).expect("JSON");
        let directive = &line["_aws"]["CloudWatchMetrics"][0];
        assert_eq!((directive["Namespace"].as_str(), &directive["Dimensions"]), (Some(NAMESPACE), &serde_json::json!([["Account"]])));
        assert_eq!((line["Account"].as_str(), line["LeadStepsFailed"].as_u64(), line["DeliveryFailureRate"].as_f64()), (Some("a1"), Some(1), Some(25.0)));
        assert_eq!(line["ProcessingTime"].as_array().map(Vec::len), Some(MAX_VALUES), "at most 100 values a line");
    }
}
