import DqliteWire
import Logging
import NIOConcurrencyHelpers

/// Finds the cluster's leader and connects to it.
///
/// 1. The leader found last time is tried first.
/// 2. Otherwise every known node (the node store merged with the seeds) is probed in parallel — at most
///    ``Configuration/maxParallelProbes`` at once, voters first — with a LEADER request. A node that names
///    itself is the leader. A node that names another node is followed once, and that node must confirm
///    itself. Reported addresses are validated first (`0.0.0.0`, `::` and malformed addresses are never
///    dialled). The first confirmed leader wins and the other probes are cancelled.
/// 3. Rounds repeat with jittered exponential backoff until ``Configuration/timeout`` — never forever. The
///    final error lists every node tried and why; if voters answered but none knew a leader it is
///    ``DqliteError/Code/noQuorum``.
///
/// On success the members are refreshed from the leader's CLUSTER answer and written to the node store
/// (only entries that validate).
public final class DqliteLeaderDiscovery: Sendable {
    /// Discovery settings.
    public struct Configuration: Sendable {
        /// How probe connections are made (their connect timeout is the dial timeout).
        public var connection: DqliteConnection.Configuration
        /// Deadline of one LEADER request (default 5 s).
        public var probeTimeout: Duration
        /// Overall deadline of a search (default 30 s).
        public var timeout: Duration
        /// Probes in flight at once (default 10).
        public var maxParallelProbes: Int
        /// First backoff between rounds (default 100 ms), doubled per round up to ``backoffCap``, ±50 % jitter.
        public var backoffBase: Duration
        /// Longest backoff (default 1 s).
        public var backoffCap: Duration
        /// The members are fetched (CLUSTER) at most this often while the leader stays the same (default 30 s);
        /// a new leader is always asked. The node store is written only when the member list changed.
        public var membersRefreshInterval: Duration

        public init(
            connection: DqliteConnection.Configuration = .init(), probeTimeout: Duration = .seconds(5),
            timeout: Duration = .seconds(30), maxParallelProbes: Int = 10, backoffBase: Duration = .milliseconds(100),
            backoffCap: Duration = .seconds(1), membersRefreshInterval: Duration = .seconds(30)
        ) {
            self.connection = connection
            self.probeTimeout = probeTimeout
            self.timeout = timeout
            self.maxParallelProbes = maxParallelProbes
            self.backoffBase = backoffBase
            self.backoffCap = backoffCap
            self.membersRefreshInterval = membersRefreshInterval
        }
    }

    /// Seed addresses, always probed in addition to the store's members.
    public let seeds: [DqliteNodeAddress]
    /// The node store.
    public let store: any DqliteNodeStore
    /// The settings.
    public let configuration: Configuration
    private let cachedLeader = NIOLockedValueBox<DqliteNodeAddress?>(nil)
    /// The last member refresh: from which leader, when, and the list stored then.
    private let lastRefresh = NIOLockedValueBox<MembersRefresh?>(nil)

    private struct MembersRefresh {
        var leader: DqliteNodeAddress
        var at: ContinuousClock.Instant
        var members: [DqliteNodeInfo]
    }

    /// How many times the node store was written (for tests).
    var storeWrites: Int { storeWriteCount.withLockedValue { $0 } }
    private let storeWriteCount = NIOLockedValueBox(0)

    /// Creates a discovery over `seeds` and `store`.
    public init(
        seeds: [DqliteNodeAddress], store: any DqliteNodeStore = InMemoryNodeStore(),
        configuration: Configuration = .init()
    ) {
        self.seeds = seeds
        self.store = store
        self.configuration = configuration
    }

    /// The leader found last, if any.
    public var lastKnownLeader: DqliteNodeAddress? { cachedLeader.withLockedValue { $0 } }

    /// Forgets the cached leader (after the connection to it failed with a leadership error).
    public func forgetLeader() { cachedLeader.withLockedValue { $0 = nil } }

    /// Connects to the current leader (confirmed by its own LEADER answer).
    public func connectToLeader(logger: Logger? = nil) async throws -> DqliteConnection {
        let logger = logger ?? DqliteConnection.silentLogger
        let clock = ContinuousClock()
        let deadline = clock.now + configuration.timeout
        var round = 0
        var attempts: [DqliteError.Attempt] = []
        var votersWithoutLeader = 0
        var votersReached = 0
        while true {
            try Task.checkCancellation()
            if let cached = lastKnownLeader {
                switch await probe(cached, logger: logger) {
                case .leader(let connection):
                    await refreshMembers(from: connection, logger: logger)
                    return connection
                case .failed:
                    forgetLeader()
                }
            }
            // An unreadable store is reported, never taken for an empty cluster.
            let stored: [DqliteNodeInfo]
            do { stored = try await store.nodes() } catch let error as DqliteError {
                throw error
            } catch {
                throw DqliteError(.nodeStore, "the node store cannot be read: \(error)", underlying: error)
            }
            let known = stored.merged(withSeeds: seeds).orderedForProbing()
            guard !known.isEmpty else {
                throw DqliteError(.noLeader, "no nodes to probe: the node store and the seed list are empty")
            }
            let outcome = await probeAll(known, logger: logger)
            switch outcome {
            case .leader(let connection):
                cachedLeader.withLockedValue { $0 = connection.address }
                logger.debug("dqlite leader found", metadata: ["leader": "\(connection.address)", "round": "\(round)"])
                await refreshMembers(from: connection, logger: logger)
                return connection
            case .none(let roundAttempts, let voters, let votersNoLeader):
                attempts = roundAttempts
                votersReached = voters
                votersWithoutLeader = votersNoLeader
            }
            let pause = backoff(round: round)
            round += 1
            guard clock.now + pause < deadline else { break }
            do { try await Task.sleep(for: pause) } catch { throw DqliteError(.cancelled, "leader search cancelled") }
        }
        if votersReached > 0 && votersWithoutLeader == votersReached {
            throw DqliteError(
                .noQuorum,
                "\(votersReached) voter(s) answered but none knows a leader after \(round) round(s): the cluster has no quorum",
                attempts: attempts)
        }
        throw DqliteError(.noLeader, "no leader found after \(round) round(s)", attempts: attempts)
    }

    // MARK: - Probing

    enum ProbeResult: Sendable {
        case leader(DqliteConnection)
        /// `reached`: the node answered (a voter that answered counts towards the quorum diagnosis).
        case failed(DqliteError.Attempt, reached: Bool, noLeaderKnown: Bool)
    }

    enum RoundResult {
        case leader(DqliteConnection)
        case none(attempts: [DqliteError.Attempt], voters: Int, votersWithoutLeader: Int)
    }

    /// Probes `nodes` in parallel (bounded); the first confirmed leader wins.
    func probeAll(_ nodes: [DqliteNodeInfo], logger: Logger) async -> RoundResult {
        await withTaskGroup(of: (DqliteNodeInfo, ProbeResult).self) { group in
            var pending = nodes[...]
            var attempts: [DqliteError.Attempt] = []
            var voters = 0
            var votersWithoutLeader = 0
            var winner: DqliteConnection?
            func launch() {
                guard let node = pending.popFirst() else { return }
                group.addTask { (node, await self.probe(node.address, logger: logger)) }
            }
            for _ in 0..<max(1, configuration.maxParallelProbes) { launch() }
            while let (node, result) = await group.next() {
                switch result {
                case .leader(let connection):
                    if winner == nil {
                        winner = connection
                        group.cancelAll()
                        pending = []
                    } else {
                        await connection.close()
                    }
                case .failed(let attempt, let reached, let noLeaderKnown):
                    attempts.append(attempt)
                    if node.role == .voter && reached {
                        voters += 1
                        if noLeaderKnown { votersWithoutLeader += 1 }
                    }
                    if winner == nil { launch() }
                }
            }
            if let winner { return .leader(winner) }
            return .none(attempts: attempts, voters: voters, votersWithoutLeader: votersWithoutLeader)
        }
    }

    /// Asks one node who leads; follows one redirect, which must confirm itself.
    func probe(_ address: DqliteNodeAddress, logger: Logger) async -> ProbeResult {
        let dialled = address.description
        let first: DqliteConnection
        do {
            first = try await DqliteConnection.connect(
                to: address, configuration: configuration.connection, logger: logger)
        } catch {
            return .failed(
                .init(address: dialled, outcome: Self.reason(error, action: "cannot connect")), reached: false,
                noLeaderKnown: false)
        }
        let answer: (UInt64, String)
        do {
            answer = try await askLeader(first)
        } catch {
            await first.close()
            return .failed(
                .init(address: dialled, outcome: Self.reason(error, action: "LEADER failed")), reached: false,
                noLeaderKnown: false)
        }
        let (id, reported) = answer
        if id == 0 || reported.isEmpty {
            await first.close()
            return .failed(.init(address: dialled, outcome: "no leader known"), reached: true, noLeaderKnown: true)
        }
        guard let leader = try? DqliteNodeAddress(reported), leader.isDialable else {
            await first.close()
            return .failed(
                .init(
                    address: dialled,
                    outcome: "reported an invalid leader address \"\(NodeAddressSyntax.printable(reported))\""),
                reached: true, noLeaderKnown: false)
        }
        if leader == address { return .leader(first) }
        await first.close()
        // One hop: the named node must confirm that it leads.
        let second: DqliteConnection
        do {
            second = try await DqliteConnection.connect(
                to: leader, configuration: configuration.connection, logger: logger)
        } catch {
            return .failed(
                .init(
                    address: dialled,
                    outcome: "redirected to \(leader), which \(Self.reason(error, action: "cannot be reached"))"),
                reached: true, noLeaderKnown: false)
        }
        do {
            let (_, confirmed) = try await askLeader(second)
            if (try? DqliteNodeAddress(confirmed)) == leader { return .leader(second) }
            await second.close()
            return .failed(
                .init(
                    address: dialled,
                    outcome:
                        "redirected to \(leader), which did not confirm (it names \"\(NodeAddressSyntax.printable(confirmed))\")"
                ),
                reached: true, noLeaderKnown: false)
        } catch {
            await second.close()
            return .failed(
                .init(
                    address: dialled, outcome: "redirected to \(leader): \(Self.reason(error, action: "LEADER failed"))"
                ),
                reached: true, noLeaderKnown: false)
        }
    }

    private func askLeader(_ connection: DqliteConnection) async throws -> (UInt64, String) {
        let response = try await connection.call(.leader, timeout: configuration.probeTimeout)
        guard case .server(let id, let address) = response else {
            throw DqliteError(.protocolViolation, "LEADER answered with \(response.type.name)")
        }
        return (id, address)
    }

    /// Refreshes the node store from the leader's CLUSTER answer, keeping only entries that validate.
    ///
    /// Not on every connection: while the leader is the one asked last, at most once per
    /// ``Configuration/membersRefreshInterval``; and the store (for ``FileNodeStore``, a write, an fsync and a
    /// rename) is written only when the list differs from the one stored last.
    func refreshMembers(from leader: DqliteConnection, logger: Logger) async {
        let now = ContinuousClock.now
        let previous = lastRefresh.withLockedValue { $0 }
        if let previous, previous.leader == leader.address,
            now - previous.at < configuration.membersRefreshInterval
        {
            return
        }
        guard
            case .servers(let nodes)? = try? await leader.call(.cluster(format: 1), timeout: configuration.probeTimeout)
        else { return }
        let valid = nodes.compactMap(DqliteNodeInfo.init(validating:))
        guard !valid.isEmpty, valid.count == nodes.count else {
            logger.warning(
                "dqlite CLUSTER answer not stored: it has invalid entries",
                metadata: ["leader": "\(leader.address)", "entries": "\(nodes.count)", "valid": "\(valid.count)"])
            return
        }
        // Decided under the lock against the latest refresh, so concurrent connections write a new list once.
        let changed = lastRefresh.withLockedValue { latest -> Bool in
            let changed = latest?.members != valid
            latest = MembersRefresh(leader: leader.address, at: now, members: valid)
            return changed
        }
        guard changed else { return }
        do {
            try await store.setNodes(valid)
            storeWriteCount.withLockedValue { $0 += 1 }
        } catch {
            lastRefresh.withLockedValue { $0 = nil }  // try again next time
            logger.warning("dqlite node store not updated", metadata: ["error": "\(error)"])
        }
    }

    /// Backoff before round `round + 1`: base·2^round, capped, with ±50 % jitter.
    func backoff(round: Int) -> Duration {
        let base = configuration.backoffBase * (1 << min(round, 20))
        let capped = min(base, configuration.backoffCap)
        return capped * Double.random(in: 0.5...1.5)
    }

    static func reason(_ error: any Error, action: String) -> String {
        guard let error = error as? DqliteError else { return "\(action): \(error)" }
        switch error.code {
        case .timeout: return "timeout"
        case .connectFailed:
            let prefix = "cannot connect: "
            let detail = error.message.hasPrefix(prefix) ? String(error.message.dropFirst(prefix.count)) : error.message
            return "cannot connect (\(detail))"
        case .server: return "\(action): \(error.message) (\(error.resultCode.map { "\($0)" } ?? "?"))"
        default: return "\(action): \(error.message)"
        }
    }
}
