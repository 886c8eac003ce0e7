import Metrics

/// The client's swift-metrics instruments (no-ops unless the application bootstraps a metrics backend).
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

    init(label: String) {
        let dimensions = [("client", label)]
        calls = Counter(label: "dqlite_client_calls_total", dimensions: dimensions)
        failures = Counter(label: "dqlite_client_failures_total", dimensions: dimensions)
        callDuration = Timer(label: "dqlite_client_call_duration", dimensions: dimensions)
        poolWait = Timer(label: "dqlite_client_pool_wait", dimensions: dimensions)
        leaderChanges = Counter(label: "dqlite_client_leader_changes_total", dimensions: dimensions)
        retriesBusy = Counter(label: "dqlite_client_retries_total", dimensions: dimensions + [("reason", "busy")])
        retriesNotLeader = Counter(
            label: "dqlite_client_retries_total", dimensions: dimensions + [("reason", "not_leader")])
        retriesConnection = Counter(
            label: "dqlite_client_retries_total", dimensions: dimensions + [("reason", "connection")])
        retriesRead = Counter(label: "dqlite_client_retries_total", dimensions: dimensions + [("reason", "read")])
        retriesTransaction = Counter(
            label: "dqlite_client_retries_total", dimensions: dimensions + [("reason", "transaction")])
    }
}
