/// Runs `body` with a freshly formed local dqlite cluster and always tears it down afterwards: every node
/// stopped (child processes included), data directories removed, ports released — also when `body`
/// throws or formation fails half-way.
///
/// ```swift
/// try await withLocalCluster(nodes: 3, generation: .v1_18) { cluster in
///     let leader = try await cluster.leaderAddress()
///     try await cluster.stop(node: 1)
///     try await cluster.restart(node: 1)
/// }
/// ```
///
/// - Parameters:
///   - nodes: How many nodes (ids 1…`nodes`); node 1 bootstraps, the others join as voters.
///   - generation: ``DqliteGeneration/v1_11`` (in-process, host libdqlite) or ``DqliteGeneration/v1_18``
///     (child processes via `scripts/dqlite118.sh`; needs root, never skipped silently).
///   - options: Network latency (default 20 ms, for fast elections), formation timeout, directories.
///   - isolation: Keeps `body` on the caller's actor.
/// - Returns: `body`'s result.
/// - Throws: ``LocalClusterError`` if the cluster cannot be formed; `body`'s error; otherwise the first
///   teardown problem (a node that did not stop cleanly, a directory that could not be removed).
public func withLocalCluster<Result>(
    nodes: Int = 3, generation: DqliteGeneration = .v1_11, options: LocalClusterOptions = LocalClusterOptions(),
    isolation: isolated (any Actor)? = #isolation,
    _ body: (LocalCluster) async throws -> Result
) async throws -> Result {
    let cluster = try await LocalCluster.start(nodes: nodes, generation: generation, options: options)
    let result: Result
    do {
        result = try await body(cluster)
    } catch {
        _ = await cluster.shutdown()
        throw error
    }
    if let problem = await cluster.shutdown().first { throw problem }
    return result
}
