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
}
