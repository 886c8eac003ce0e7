import Metrics

/// The client's swift-metrics instruments for one database (no-ops unless the application bootstraps a
/// metrics backend or configures ``DqliteClient/Configuration/metricsFactory``).
///
/// Every instrument carries the dimension `database`: the database the call really used (the client's own,
/// or the one named in ``DqliteClient/database(_:)``).
struct ClientMetrics: Sendable {
    let calls: Counter
    let failures: Counter
    let callDuration: Timer
    let poolWait: Timer
    let leaderChanges: Counter
    let retriesBusy: Counter
    let retriesNotLeader: Counter
    let retriesConnection: Counter
    let retriesRead: Counter
    let retriesTransaction: Counter

    init(database: String, factory: any MetricsFactory) {
        let dimensions = [("database", database)]
        func counter(_ label: String, reason: String? = nil) -> Counter {
            Counter(label: label, dimensions: dimensions + (reason.map { [("reason", $0)] } ?? []), factory: factory)
        }
        calls = counter("dqlite_client_calls_total")
        failures = counter("dqlite_client_failures_total")
        callDuration = Timer(label: "dqlite_client_call_duration", dimensions: dimensions, factory: factory)
        poolWait = Timer(label: "dqlite_client_pool_wait", dimensions: dimensions, factory: factory)
        leaderChanges = counter("dqlite_client_leader_changes_total")
        retriesBusy = counter("dqlite_client_retries_total", reason: "busy")
        retriesNotLeader = counter("dqlite_client_retries_total", reason: "not_leader")
        retriesConnection = counter("dqlite_client_retries_total", reason: "connection")
        retriesRead = counter("dqlite_client_retries_total", reason: "read")
        retriesTransaction = counter("dqlite_client_retries_total", reason: "transaction")
    }
}
