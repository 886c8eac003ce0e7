import DqliteLocalCluster
import Testing

@testable import Dqlite

/// A repository on an actor, as server code writes it: the closures touch the actor's state directly and
/// return non-Sendable values. This file compiles only because `withConnection` / `withTransaction` take
/// `isolation: isolated (any Actor)? = #isolation` and return `sending` results (before: "sending 'body'
/// risks causing data races" for each call below).
private actor Inventory {
    final class Receipt {
        var items: [String] = []
    }

    let client: DqliteClient
    var stocked: [String: Int] = [:]

    init(client: DqliteClient) { self.client = client }

    func restock(_ item: String, count: Int) async throws -> sending Receipt {
        try await client.withTransaction { session in
            try await session.execute("INSERT INTO stock (item, count) VALUES (\(item), \(count))")
            self.stocked[item, default: 0] += count
            let receipt = Receipt()
            receipt.items.append(item)
            return receipt
        }
    }

    func total() async throws -> Int {
        try await client.withConnection { session in
            let rows = try await session.query("SELECT count FROM stock").collect()
            var sum = 0
            for row in rows { sum += try row.decode(Int.self, at: 0) }
            self.stocked["(checked)"] = sum
            return sum
        }
    }
}

@Suite("Sessions from an actor", .timeLimit(.minutes(2)))
struct ActorIsolationTests {
    @Test("withTransaction and withConnection run their closures on the caller's actor")
    func closuresOnTheActor() async throws {
        try await withClusterClient(.v1_11) { _, client in
            try await client.execute("CREATE TABLE stock (item TEXT, count INTEGER)")
            let inventory = Inventory(client: client)
            let receipt = try await inventory.restock("apples", count: 3)
            _ = try await inventory.restock("pears", count: 4)
            #expect(receipt.items == ["apples"])
            #expect(try await inventory.total() == 7)
            #expect(await inventory.stocked == ["apples": 3, "pears": 4, "(checked)": 7])
        }
    }
}
