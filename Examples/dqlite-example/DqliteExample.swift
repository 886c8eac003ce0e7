import Dqlite
import DqliteServer
import Foundation
import Logging

/// A tour of the `Dqlite` API that compiles with the package (the DocC articles quote it):
/// an embedded node, a client, statements, queries, decoding, a transaction, and cluster administration.
///
/// ```
/// swift run dqlite-example
/// ```
@main
struct DqliteExample {
    struct User: Decodable {
        var id: Int
        var name: String
        var email: String?
        var joined: Date
    }

    enum Plan: String, DqliteCodable {
        case free, pro
    }

    static func main() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dqlite-example-\(getpid())")
        defer { try? FileManager.default.removeItem(at: directory) }
        try await DqliteNode.withRunningNode(id: 1, address: "127.0.0.1:24001", dataDirectory: directory.path) { node in
            try await tour(node: node.address)
        }
    }

    static func tour(node: String) async throws {
        // snippet.client
        let configuration = DqliteClient.Configuration(nodes: [try DqliteNodeAddress(node)], database: "app")
        let client = DqliteClient(configuration: configuration)
        defer { client.shutdown() }
        // snippet.end

        // snippet.execute
        try await client.execute(
            "CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT, joined DATETIME, plan TEXT)"
        )
        let name = "Ada"
        let result = try await client.execute(
            "INSERT INTO users (name, email, joined, plan) VALUES (\(name), \(nil as String?), \(Date()), \(Plan.pro))")
        print("inserted row \(result.lastInsertID)")
        // snippet.end

        // snippet.query
        for try await row in try await client.query("SELECT id, name, plan FROM users WHERE id >= \(1)") {
            let (id, name, plan) = try row.decode((Int, String, Plan).self)
            print(id, name, plan)
        }
        let users = try await client.query("SELECT id, name, email, joined FROM users").collect().map {
            try $0.decode(User.self)
        }
        print(users.map(\.name))
        // snippet.end

        // snippet.transaction
        let total = try await client.withTransaction(retry: .onLeadershipChange()) { tx in
            try await tx.execute("UPDATE users SET plan = \(Plan.free) WHERE name = \(name)")
            return try await tx.query("SELECT count(*) FROM users").collect()[0].decode(Int.self, at: 0)
        }
        print("users: \(total)")
        // snippet.end

        // snippet.errors
        do {
            try await client.execute("INSERT INTO users (id, name) VALUES (\(1), \("duplicate"))")
        } catch let error as DqliteError {
            switch error.resultCode {
            case .SQLITE_CONSTRAINT_PRIMARYKEY?: print("already there")
            case .SQLITE_CONSTRAINT?: print("another constraint: \(error.message)")
            default:
                if error.code == .ambiguousCommit { print("may or may not have been written") } else { throw error }
            }
        }
        // snippet.end

        // snippet.admin
        let admin = client.admin
        let leader = try await admin.leader()
        let members = try await admin.cluster()
        print("leader \(leader.address); members: \(members.map(\.description))")
        // snippet.end
    }
}
