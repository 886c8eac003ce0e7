import Logging

extension DqliteNode {
    /// Creates and starts a node, runs `body` with it, and always stops it, also when `body` throws.
    ///
    /// ```swift
    /// try await DqliteNode.withRunningNode(id: 1, address: "127.0.0.1:9001", dataDirectory: dir) { node in
    ///     // connect clients to node.address
    /// }
    /// ```
    ///
    /// When `body` throws, its error is rethrown and an error from stopping is dropped (it is logged at
    /// `error` level); otherwise an error from stopping is thrown. `body` may stop the node itself.
    ///
    /// - Parameters: see ``init(id:address:dataDirectory:options:logger:)``; `isolation` keeps `body` on the
    ///   caller's actor.
    /// - Returns: `body`'s result.
    public static func withRunningNode<Result>(
        id: UInt64, address: String, dataDirectory: String, options: Options = Options(),
        logger: Logger = DqliteNode.discardingLogger,
        isolation: isolated (any Actor)? = #isolation,
        _ body: (DqliteNode) async throws -> Result
    ) async throws -> Result {
        let node = try await DqliteNode(
            id: id, address: address, dataDirectory: dataDirectory, options: options, logger: logger)
        do {
            try await node.start()
        } catch {
            // A failed start leaves the node stopped; a refused one leaves it created: release it.
            try? await node.stopIfNeeded()
            throw error
        }
        let result: Result
        do {
            result = try await body(node)
        } catch {
            do {
                try await node.stopIfNeeded()
            } catch let stopError {
                logger.error(
                    "stopping dqlite node after a failed body failed too",
                    metadata: ["node.id": "\(id)", "error": "\(stopError)"])
            }
            throw error
        }
        try await node.stopIfNeeded()
        return result
    }
}
