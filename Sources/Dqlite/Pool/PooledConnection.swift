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
        /// Live prepared statements by SQL (ids are per connection, and the server reuses freed ids).
        var statements: [String: PreparedHandle] = [:]
        var nextHandle: UInt64 = 1
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

    /// A statement prepared on this connection; `handle` is unique for the connection's life, so a finalized
    /// statement can never be mistaken for a later one that got the same server id.
    struct PreparedHandle: Hashable, Sendable {
        var id: UInt32
        var parameters: UInt64
        var handle: UInt64
    }

    func cachedStatement(_ sql: String) -> PreparedHandle? {
        state.withLockedValue { $0.statements[sql] }
    }

    func cacheStatement(_ sql: String, id: UInt32, parameters: UInt64) -> PreparedHandle {
        state.withLockedValue { state in
            let prepared = PreparedHandle(id: id, parameters: parameters, handle: state.nextHandle)
            state.nextHandle += 1
            state.statements[sql] = prepared
            return prepared
        }
    }

    /// True while the statement has not been finalized.
    func isLive(_ sql: String, handle: UInt64) -> Bool {
        state.withLockedValue { $0.statements[sql]?.handle == handle }
    }

    /// Forgets the statement; false if it was already finalized.
    func forgetStatement(_ sql: String, handle: UInt64) -> Bool {
        state.withLockedValue { state in
            guard state.statements[sql]?.handle == handle else { return false }
            state.statements.removeValue(forKey: sql)
            return true
        }
    }

    var cachedStatementCount: Int { state.withLockedValue { $0.statements.count } }

    /// Closes the connection (fire and forget).
    func close() {
        connection.poison(DqliteError(.connectionClosed, "closed by the pool", node: connection.address.description))
    }
}
