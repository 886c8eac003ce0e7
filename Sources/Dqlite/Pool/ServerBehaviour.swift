import DqliteWire

/// What a server does with requests whose handling changed between releases, detected by probing —
/// never guessed from a version number (the wire has no version query, and Debian's 1.11.1 even reports
/// 1.10.0).
struct ServerBehaviour: Hashable, Sendable {
    /// From 1.18.2 the server runs statements through its new exec state machine: `INSERT … RETURNING` sent
    /// as QUERY_SQL works. Before, it loses the write and the next write aborts the server. Probe: EXEC_SQL
    /// `SELECT 1` fails with code 100 up to 1.18.1 and code 1 from 1.18.2.
    var returningIsSafe: Bool
    /// Schema-1 (u32 count) parameter tuples, needed above 255 parameters: 1.12.0+. Probed lazily.
    var wideParameters: Bool?

    /// Probes a freshly opened connection (one round trip).
    static func probe(_ connection: DqliteConnection, timeout: Duration) async throws -> ServerBehaviour {
        do {
            try await connection.call(.execSQL(SQLCall(sql: "SELECT 1")), timeout: timeout)
            // No server accepts a row-returning statement as EXEC; be conservative.
            return ServerBehaviour(returningIsSafe: false)
        } catch let error as DqliteError where error.code == .server {
            return ServerBehaviour(returningIsSafe: error.resultCode == .SQLITE_ERROR)
        }
    }

    /// Whether the server reads schema-1 parameter tuples: EXEC_SQL `SELECT ?` with one parameter in a
    /// schema-1 tuple. 1.11.1 misreads it (FAILURE 1005); 1.12+ parse it and then refuse the SELECT as EXEC.
    static func probeWideParameters(_ connection: DqliteConnection, timeout: Duration) async throws -> Bool {
        do {
            try await connection.call(
                .execSQL(SQLCall(sql: "SELECT ?", parameters: [.integer(1)], schema: .v1)), timeout: timeout)
            return true
        } catch let error as DqliteError where error.code == .server {
            return error.resultCode != .DQLITE_PARSE
        }
    }
}
