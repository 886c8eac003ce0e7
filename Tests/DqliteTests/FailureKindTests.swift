import Testing

@testable import Dqlite

/// How server failures are classified for retries (codes and messages as real servers send them).
@Suite("Failure classification")
struct FailureKindTests {
    static func server(_ code: UInt64, _ message: String, inTransaction: Bool = false) -> FailureKind {
        FailureKind(FailureKind.serverError(code: code, message: message, node: "n"), inTransaction: inTransaction)
    }

    @Test("1.11 during a leadership transfer: code 7 with SQLite's SQLITE_DONE text is raft's NOTLEADER")
    func raftNotLeaderDuringTransfer() {
        #expect(Self.server(7, "no more rows available") == .notLeader)
        #expect(FailureKind.serverError(code: 7, message: "no more rows available", node: "n").outcome == .notApplied)
        // A real out-of-memory error stays final.
        #expect(Self.server(7, "out of memory") == .final)
    }

    @Test("not-leader, leadership-lost and busy codes")
    func codes() {
        #expect(Self.server(10250, "not leader") == .notLeader)
        #expect(Self.server(10506, "leadership lost") == .indeterminate)
        #expect(Self.server(5, "database is locked") == .busy)
        #expect(Self.server(517, "database is locked", inTransaction: true) == .final)
        #expect(Self.server(1, "no such table: t") == .final)
    }
}
