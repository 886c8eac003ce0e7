import CoreMetrics
import Dqlite
import Synchronization

/// Names errors by kind, with the same name as the Go side for "database is locked".
enum ErrorKind {
    static let locked = "database is locked (SQLITE_BUSY)"

    static func name(_ error: any Error) -> String {
        guard let error = error as? DqliteError else { return "\(type(of: error)): \(error)" }
        if let code = error.resultCode, code.primary == .SQLITE_BUSY { return locked }
        if error.message.contains("database is locked") { return locked }
        if let code = error.resultCode { return "\(error.code) \(code): \(error.message.prefix(100))" }
        return "\(error.code): \(error.message.prefix(100))"
    }
}

/// A minimal swift-metrics backend that counts the client's busy retries (`dqlite_client_retries_total`,
/// reason "busy"): how often SQLITE_BUSY was absorbed by the busy policy instead of reaching the caller.
/// Every other instrument is a no-op. Bootstrapped only for the write workloads.
enum BusyRetryMetrics {
    static let counter = AtomicCounter()

    static var busyRetries: Int { Int(counter.value.load(ordering: .relaxed)) }

    static func bootstrap() {
        MetricsSystem.bootstrap(Factory())
    }

    final class AtomicCounter: CounterHandler, Sendable {
        let value = Atomic<Int64>(0)
        func increment(by amount: Int64) { value.add(amount, ordering: .relaxed) }
        func reset() { value.store(0, ordering: .relaxed) }
    }

    final class Ignored: CounterHandler, RecorderHandler, TimerHandler, Sendable {
        func increment(by: Int64) {}
        func reset() {}
        func record(_ value: Int64) {}
        func record(_ value: Double) {}
        func recordNanoseconds(_ duration: Int64) {}
    }

    struct Factory: MetricsFactory {
        static let ignored = Ignored()

        func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
            if label == "dqlite_client_retries_total" && dimensions.contains(where: { $0 == ("reason", "busy") }) {
                return BusyRetryMetrics.counter
            }
            return Self.ignored
        }

        func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
            Self.ignored
        }

        func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler { Self.ignored }

        func destroyCounter(_ handler: any CounterHandler) {}
        func destroyRecorder(_ handler: any RecorderHandler) {}
        func destroyTimer(_ handler: any TimerHandler) {}
    }
}
