import DqliteWire
import NIOConcurrencyHelpers

/// A connection to the leader with its database open, as the pool hands it out.
final class PooledConnection: Sendable {
    let connection: DqliteConnection
    let database: String
    /// The leader epoch it was created in.
    let generation: UInt64
    private let state: NIOLockedValueBox<State>

    struct State {
        var behaviour: ServerBehaviour
        /// Prepared statements by SQL (ids are per connection).
        var statements: [String: (id: UInt32, parameters: UInt64)] = [:]
    }

    init(connection: DqliteConnection, database: String, generation: UInt64, behaviour: ServerBehaviour) {
        self.connection = connection
        self.database = database
        self.generation = generation
        self.state = NIOLockedValueBox(State(behaviour: behaviour))
    }

    var behaviour: ServerBehaviour { state.withLockedValue { $0.behaviour } }

    var isUsable: Bool { connection.isUsable }

    /// Whether schema-1 parameter tuples work on this server (probed once per connection).
    func supportsWideParameters(timeout: Duration) async throws -> Bool {
        if let known = state.withLockedValue({ $0.behaviour.wideParameters }) { return known }
        let supported = try await ServerBehaviour.probeWideParameters(connection, timeout: timeout)
        state.withLockedValue { $0.behaviour.wideParameters = supported }
        return supported
    }

    func cachedStatement(_ sql: String) -> (id: UInt32, parameters: UInt64)? {
        state.withLockedValue { $0.statements[sql] }
    }

    func cacheStatement(_ sql: String, id: UInt32, parameters: UInt64) {
        state.withLockedValue { $0.statements[sql] = (id, parameters) }
    }

    func forgetStatement(_ sql: String) {
        state.withLockedValue { _ = $0.statements.removeValue(forKey: sql) }
    }

    var cachedStatementCount: Int { state.withLockedValue { $0.statements.count } }

    /// Closes the connection (fire and forget).
    func close() {
        connection.poison(DqliteError(.connectionClosed, "closed by the pool", node: connection.address.description))
    }
}
