import DqliteWire

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

extension ShellEngine {
    /// Carries out a dot-command.
    func perform(_ command: DotCommand, item: PendingItem, session: (any ShellSession)?) async {
        switch command {
        case .quit:
            quit()
        case .read(let path):
            read(path: path, item: item)
        case .output(let path):
            redirectOutput(to: path, item: item)
        case .databases:
            let node = session.map { " on \($0.node)" } ?? ""
            emit("main: \"\(connector.database)\" (dqlite database\(node))\n")
        case .tables(let pattern):
            await listTables(pattern: pattern, item: item, session: session)
        case .schema(let table):
            await showSchema(table: table, item: item, session: session)
        case .dump(nil):
            guard let session = requireSession(session, for: item) else { return }
            let output = results
            _ = await interruptible(item: item, session: session) {
                try await SQLDump.write(session: session, to: output)
            }
        case .dump(let path?):
            await dumpFiles(to: path, item: item)
        case .leader, .cluster, .add, .assign, .remove, .transfer, .describe, .weight:
            await performClusterCommand(command, item: item)
        case .help, .mode, .headers, .timer, .bail, .param:
            if let text = settings.apply(command), !text.isEmpty { emit(text) }
        }
    }

    // MARK: - Schema

    private func listTables(pattern: String?, item: PendingItem, session: (any ShellSession)?) async {
        guard let session = requireSession(session, for: item) else { return }
        var sql =
            "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
        var parameters: [WireValue] = []
        if let pattern {
            sql += " AND name LIKE ?"
            parameters.append(.text(pattern))
        }
        sql += " ORDER BY name;"
        guard let rows = await catalogRows(sql, parameters, item: item, session: session) else { return }
        emit(rows.compactMap { row in row.first.flatMap(Self.text) }.map { $0 + "\n" }.joined())
    }

    private func showSchema(table: String?, item: PendingItem, session: (any ShellSession)?) async {
        guard let session = requireSession(session, for: item) else { return }
        var sql = "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
        var parameters: [WireValue] = []
        if let table {
            sql += " AND (tbl_name LIKE ?1 OR name LIKE ?1)"
            parameters.append(.text(table))
        }
        sql +=
            " ORDER BY tbl_name, CASE type WHEN 'table' THEN 0 WHEN 'view' THEN 0 WHEN 'index' THEN 1 ELSE 2 END, name;"
        guard let rows = await catalogRows(sql, parameters, item: item, session: session) else { return }
        emit(rows.compactMap { row in row.first.flatMap(Self.text) }.map { $0 + ";\n" }.joined())
    }

    /// Rows of a catalog query (`.tables`, `.schema`), interruptible; nil if it failed or was interrupted
    /// (the error has been reported).
    private func catalogRows(
        _ statement: String, _ bound: [WireValue], item: PendingItem, session: any ShellSession
    ) async -> [[WireValue]]? {
        await interruptible(
            item: item, session: session,
            { () async throws -> [[WireValue]] in
                var collector = RowCollector(limit: 1_000_000)
                _ = try await session.run(statement, parameters: bound, returnsRows: true, sink: &collector)
                return collector.rows
            })
    }

    private static func text(_ value: WireValue) -> String? {
        switch value {
        case .text(let text), .iso8601(let text): return text
        default: return nil
        }
    }

    // MARK: - Dump to files

    /// `.dump FILE`: DUMP's files written as FILE (the database) and FILE-wal (its WAL, when not empty).
    private func dumpFiles(to path: String, item: PendingItem) async {
        let cluster = connector.cluster
        let database = connector.database
        guard let files = await interruptible(item: item, session: nil, { try await cluster.dump(database: database) })
        else { return }
        guard let main = files.first else {
            fail(".dump: the server returned no files for database \"\(database)\"", at: item)
            return
        }
        let wal = files.dropFirst().first.flatMap { $0.data.isEmpty ? nil : $0 }
        let messages = self.messages
        let progress = isInteractiveOutput
        let written = await BlockingThread.run { () -> Result<Void, ShellFailure> in
            // A stale WAL or shared-memory file next to the new database would be replayed into it.
            for suffix in ["-wal", "-shm"] { _ = unlink(path + suffix) }
            do throws(ShellFailure) {
                let total = main.data.count + (wal?.data.count ?? 0)
                var done = 0
                try Self.writeFile(path, main.data, total: total, done: &done, progress: progress ? messages : nil)
                if let wal {
                    try Self.writeFile(
                        path + "-wal", wal.data, total: total, done: &done, progress: progress ? messages : nil)
                }
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        if case .failure(let error) = written {
            fail(".dump: \(error.message)", at: item)
            return
        }
        var text = "wrote \(path) (\(Self.byteCount(main.data.count)))"
        if let wal {
            text +=
                " and \(path)-wal (\(Self.byteCount(wal.data.count))); keep them side by side: sqlite3 \(path) reads both"
        }
        note(text)
    }

    private static func byteCount(_ count: Int) -> String {
        count == 1 ? "1 byte" : "\(count) bytes"
    }

    /// Whether progress lines make sense (the shell talks to a terminal).
    private var isInteractiveOutput: Bool { isatty(STDERR_FILENO) != 0 }

    private static func writeFile(
        _ path: String, _ bytes: [UInt8], total: Int, done: inout Int, progress: (any ShellTextSink)?
    ) throws(ShellFailure) {
        let descriptor = openFile(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw ShellFailure(message: "cannot create \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        let chunk = 1 << 20
        let showProgress = progress != nil && total >= 16 << 20
        var offset = 0
        while offset < bytes.count {
            let count = min(chunk, bytes.count - offset)
            let written = bytes.withUnsafeBytes { buffer in
                systemWrite(descriptor, UnsafeRawBufferPointer(rebasing: buffer[offset..<offset + count]))
            }
            if written < 0 {
                if errno == EINTR { continue }
                throw ShellFailure(message: "cannot write \(path): \(String(cString: strerror(errno)))")
            }
            offset += written
            done += written
            if showProgress, let progress {
                progress.write("\rwriting \(path): \(done >> 20) of \(total >> 20) MiB")
                progress.flush()
            }
        }
        if showProgress, let progress {
            progress.write("\n")
            progress.flush()
        }
        guard fsync(descriptor) == 0 else {
            throw ShellFailure(message: "cannot write \(path): \(String(cString: strerror(errno)))")
        }
    }

    // MARK: - Cluster

    private func performClusterCommand(_ command: DotCommand, item: PendingItem) async {
        let cluster = connector.cluster
        switch command {
        case .leader:
            guard let leader = await interruptible(item: item, session: nil, { try await cluster.leader() }) else {
                return
            }
            emit(columns: ["id", "address"], rows: [[.integer(Int64(bitPattern: leader.id)), .text(leader.address)]])
        case .cluster:
            await showCluster(item: item)
        case .add(let id, let address, let role):
            guard
                await interruptible(
                    item: item, session: nil, { try await cluster.add(id: id, address: address, role: role) })
                    != nil
            else { return }
            emit("node \(id) at \(address) is a \(role)\n")
        case .assign(let id, let role):
            guard await interruptible(item: item, session: nil, { try await cluster.assign(id: id, role: role) }) != nil
            else { return }
            emit("node \(id) is a \(role)\n")
        case .remove(let node):
            guard await interruptible(item: item, session: nil, { try await cluster.remove(node) }) != nil else {
                return
            }
            switch node {
            case .id(let id): emit("node \(id) removed\n")
            case .address(let address): emit("node at \(address) removed\n")
            }
        case .transfer(let id):
            guard let leader = await interruptible(item: item, session: nil, { try await cluster.transfer(to: id) })
            else { return }
            emit("leadership transferred to node \(leader.id) at \(leader.address)\n")
        case .describe(let address):
            guard
                let metadata = await interruptible(
                    item: item, session: nil, { try await cluster.describe(address: address) })
            else { return }
            emit(
                columns: ["address", "failure_domain", "weight"],
                rows: [
                    [
                        .text(metadata.address), .integer(Int64(bitPattern: metadata.failureDomain)),
                        .integer(Int64(bitPattern: metadata.weight)),
                    ]
                ])
        case .weight(let address, let weight):
            guard
                await interruptible(item: item, session: nil, { try await cluster.setWeight(weight, address: address) })
                    != nil
            else { return }
            emit("weight of \(address) set to \(weight)\n")
        default:
            break
        }
    }

    /// `.cluster`: every member with its role, and whether it answers right now.
    private func showCluster(item: PendingItem) async {
        let cluster = connector.cluster
        let timeout = probeTimeout
        guard
            let (members, leader, reachability) = await interruptible(
                item: item, session: nil,
                {
                    () async throws -> ([ShellNodeInfo], String?, [ShellReachability]) in
                    let (members, leader) = try await cluster.members()
                    let reachability = await withTaskGroup(of: (Int, ShellReachability).self) { group in
                        for (index, member) in members.enumerated() {
                            group.addTask { (index, await cluster.probe(member.address, timeout: timeout)) }
                        }
                        var statuses = [ShellReachability](repeating: .unreachable("not probed"), count: members.count)
                        for await (index, status) in group { statuses[index] = status }
                        return statuses
                    }
                    return (members, leader, reachability)
                })
        else { return }
        let rows: [[WireValue]] = zip(members, reachability).map { member, status in
            [
                .integer(Int64(bitPattern: member.id)), .text(member.address),
                .text(member.nodeRole?.description ?? "unknown"),
                .text(member.address == leader ? "yes" : "no"), .text(status.description),
            ]
        }
        emit(columns: ["id", "address", "role", "leader", "status"], rows: rows)
    }
}
