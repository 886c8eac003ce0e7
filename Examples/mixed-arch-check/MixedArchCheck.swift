import ArgumentParser
import Dqlite
import DqliteWire

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The amd64 Swift client's side of `scripts/mixed-arch.sh`: checks a cluster of amd64 `dqlite-node`s and an
/// arm64 `dqlite-demo` (under qemu) through `Dqlite`, and moves leadership between the architectures.
///
/// ```
/// mixed-arch-check cluster --nodes A,B,C --arm64 C      # voters, writes/reads per leader, checksums, latency
/// mixed-arch-check transfer --nodes A,B,C --to C        # make C the leader
/// ```
///
/// Prints `check ok:` / `check FAILED:` lines, `leadership`, `checksum`, `latency` and `TABLE` lines that the
/// script parses, and ends with `mixed-arch-check: N passed, M failed` (exit 1 if any failed).
@main
struct MixedArchCheck: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mixed-arch-check",
        abstract: "Check a mixed amd64/arm64 dqlite cluster through the Swift client (scripts/mixed-arch.sh).",
        subcommands: [ClusterCheck.self, Transfer.self, Dump.self])
}

/// Options shared by both subcommands.
struct ClusterOptions: ParsableArguments {
    @Option(help: "Comma-separated addresses of every member.")
    var nodes: String

    @Option(help: "Address of the arm64 member (for labels).")
    var arm64: String?

    var addresses: [DqliteNodeAddress] {
        get throws { try nodes.split(separator: ",").map { try DqliteNodeAddress(String($0)) } }
    }

    func admin() throws -> DqliteClusterAdmin {
        DqliteClusterAdmin(
            seeds: try addresses,
            configuration: .init(requestTimeout: .seconds(20), confirmationTimeout: .seconds(60)))
    }

    func label(_ node: DqliteNodeInfo) -> String {
        "node \(node.id) (\(node.address.description == arm64 ? "arm64, qemu" : "amd64") \(node.address))"
    }
}

/// `transfer --to ADDRESS`: makes that member the leader.
struct Transfer: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Transfer leadership to the member with this address.")

    @OptionGroup var cluster: ClusterOptions

    @Option(help: "Address of the member that should lead.")
    var to: String

    func run() async throws {
        let admin = try cluster.admin()
        guard let target = try await admin.cluster().first(where: { $0.address.description == to }) else {
            throw ValidationError("no member has address \(to)")
        }
        let old = try await admin.leader()
        if old.id == target.id {
            printLine("leadership: \(cluster.label(old)) already leads")
            return
        }
        let start = ContinuousClock.now
        let (new, attempts) = try await transferLeadership(admin, to: target.id)
        printLine(
            "leadership: \(cluster.label(old)) -> \(cluster.label(new)) in \(milliseconds(ContinuousClock.now - start))"
                + (attempts > 1 ? " (\(attempts) attempts)" : ""))
        guard new.id == target.id else { throw ExitCode(1) }
    }
}

/// `dump --out DIR`: each member's own copy of the database (DUMP answered by that node, leader or not), written
/// to DIR/node-ID/ for the host's sqlite3 to read.
struct Dump: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Download every member's copy of a database (DUMP).")

    @OptionGroup var cluster: ClusterOptions

    @Option(help: "Database name.")
    var database = "mixarch"

    @Option(help: "Folder to write node-ID/ folders into (created).")
    var out: String

    func run() async throws {
        let admin = try cluster.admin()
        try makeDirectory(out)
        for member in try await admin.cluster().sorted(by: { $0.id < $1.id }) {
            let files = try await admin.dump(database: database, from: member.address)
            let directory = "\(out)/node-\(member.id)"
            try makeDirectory(directory)
            for file in files {
                try write(file.data, to: "\(directory)/\(file.name)")
            }
            printLine(
                "dump: \(cluster.label(member)): "
                    + files.map { "\($0.name) \($0.data.count) bytes" }.joined(separator: ", "))
        }
    }

    func makeDirectory(_ path: String) throws {
        guard mkdir(path, 0o755) == 0 || errno == EEXIST else { throw ValidationError("cannot create \(path)") }
    }

    func write(_ bytes: [UInt8], to path: String) throws {
        guard let file = fopen(path, "wb") else { throw ValidationError("cannot create \(path)") }
        defer { fclose(file) }
        let written = bytes.withUnsafeBytes { raw in raw.isEmpty ? 0 : fwrite(raw.baseAddress, 1, raw.count, file) }
        guard written == bytes.count else { throw ValidationError("cannot write \(path)") }
    }
}

/// `cluster`: the checks.
struct ClusterCheck: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster",
        abstract: "Wait for three voters, write and read every value type with each leader, compare checksums.")

    @OptionGroup var cluster: ClusterOptions

    @Option(help: "Database name.")
    var database = "mixarch"

    @Option(help: "Samples per latency figure.")
    var samples = 200

    @Option(name: .customLong("voter-timeout"), help: "Seconds to wait for three voters.")
    var voterTimeout = 120

    func run() async throws {
        let checks = Checks()
        let admin = try cluster.admin()
        guard let arm64 = cluster.arm64 else { throw ValidationError("--arm64 is required") }

        let members = try await waitForVoters(admin, arm64: arm64, checks)
        guard let arm64Node = members.first(where: { $0.address.description == arm64 }) else {
            throw ValidationError("the arm64 node \(arm64) is not a member")
        }
        let amd64Nodes = members.filter { $0.id != arm64Node.id }.sorted { $0.id < $1.id }
        guard amd64Nodes.count == 2 else { throw ValidationError("expected two amd64 members") }

        let client = DqliteClient(configuration: .init(nodes: try cluster.addresses, database: database))
        defer { client.shutdown() }
        try await client.execute("DROP TABLE IF EXISTS vals")
        try await client.execute("DROP TABLE IF EXISTS lat")
        try await client.execute(
            """
            CREATE TABLE vals (id INTEGER PRIMARY KEY, leader TEXT, i INTEGER, f REAL, t TEXT, b BLOB, n TEXT,
                u DATETIME, s DATETIME, o BOOLEAN, x)
            """)
        try await client.execute("CREATE TABLE lat (k INTEGER PRIMARY KEY, v INTEGER)")

        // 1. To the arm64 node and back: with each leader, write and read every value type, and time it.
        for (phase, target) in [amd64Nodes[0], arm64Node, amd64Nodes[0]].enumerated() {
            try await lead(target, admin, checks)
            try await writeAndRead(client, leader: target, phase: phase, checks)
            try await latency(client, leader: target)
            let still = try await admin.leader()
            checks(still.id == target.id, "\(cluster.label(target)) stayed leader during phase \(phase + 1)")
        }

        // 2. Each node as leader in turn: the table's checksum, as each leader serves it, is the same.
        var digests: [String] = []
        var rowCount = 0
        var tableDigest = ""
        for target in [amd64Nodes[0], amd64Nodes[1], arm64Node, amd64Nodes[0]] {
            try await lead(target, admin, checks)
            let rows = try await client.query("SELECT * FROM vals ORDER BY id").collect().map(\.values)
            let aggregate = try await client.query(
                """
                SELECT count(*), sum(length(CAST(t AS BLOB))), group_concat(hex(b), ''), group_concat(i, ','),
                    group_concat(typeof(i) || typeof(f) || typeof(t) || typeof(b) || typeof(n) || typeof(u) ||
                    typeof(s) || typeof(o) || typeof(x), ',') FROM vals
                """
            ).collect().map(\.values)
            tableDigest = hex(try rowsDigest(rows))
            let digest = "rows=\(rows.count) fnv1a64=\(tableDigest) sql=\(hex(try rowsDigest(aggregate)))"
            printLine("checksum: leader \(cluster.label(target)): \(digest)")
            digests.append(digest)
            rowCount = rows.count
        }
        checks(
            Set(digests).count == 1 && rowCount > 0,
            "the same checksum with each node as leader (\(digests.count) leaders, \(rowCount) rows)",
            "\(digests)")
        printLine("TABLE vals rows=\(rowCount) fnv1a64=\(tableDigest)")

        printLine("mixed-arch-check: \(checks.passed) passed, \(checks.failed) failed")
        if checks.failed > 0 { throw ExitCode(1) }
    }

    /// Polls CLUSTER until every member is a voter; a non-voter arm64 node is promoted after 20 s (go-dqlite's
    /// app normally promotes itself at startup).
    func waitForVoters(_ admin: DqliteClusterAdmin, arm64: String, _ checks: Checks) async throws -> [DqliteNodeInfo] {
        let start = ContinuousClock.now
        let deadline = start + .seconds(voterTimeout)
        var promoted = false
        var last: [DqliteNodeInfo] = []
        while ContinuousClock.now < deadline {
            if let members = try? await admin.cluster() {
                last = members
                if members.count == 3 && members.allSatisfy({ $0.role == .voter }) {
                    printLine(
                        "voters: \(members.map { cluster.label($0) }.joined(separator: ", ")) after "
                            + milliseconds(ContinuousClock.now - start))
                    checks(true, "three voters: two amd64 dqlite-node + one arm64 dqlite-demo")
                    return members
                }
                if !promoted, ContinuousClock.now - start > .seconds(20),
                    let node = members.first(where: { $0.address.description == arm64 && $0.role != .voter })
                {
                    printLine("promoting \(cluster.label(node)) from \(node.role) to voter")
                    try await admin.assign(id: node.id, role: .voter)
                    promoted = true
                }
            }
            try await Task.sleep(for: .milliseconds(250))
        }
        checks(false, "three voters", "members: \(last)")
        throw ExitCode(1)
    }

    /// Makes `target` the leader (TRANSFER) unless it already is.
    func lead(_ target: DqliteNodeInfo, _ admin: DqliteClusterAdmin, _ checks: Checks) async throws {
        let old = try await admin.leader()
        if old.id == target.id {
            printLine("leadership: \(cluster.label(target)) already leads")
            return
        }
        let start = ContinuousClock.now
        let (new, attempts) = try await transferLeadership(admin, to: target.id)
        checks(
            new.id == target.id,
            "leadership \(cluster.label(old)) -> \(cluster.label(new)) in \(milliseconds(ContinuousClock.now - start))"
                + (attempts > 1 ? " (\(attempts) attempts)" : ""))
    }

    /// Rows of every value type (tagged with the leader), written through the client and read back exactly.
    func writeAndRead(_ client: DqliteClient, leader: DqliteNodeInfo, phase: Int, _ checks: Checks) async throws {
        let tag = "phase \(phase + 1), leader \(cluster.label(leader))"
        var ids: [Int64] = []
        let rows = valueRows(tag)
        for row in rows {
            let result = try await client.execute(
                DqliteQuery(
                    unsafeSQL:
                        "INSERT INTO vals (leader, i, f, t, b, n, u, s, o, x) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    parameters: [.text(tag)] + parameters(row)))
            ids.append(result.lastInsertID)
        }
        var mismatches: [String] = []
        for (id, row) in zip(ids, rows) {
            let stored = try await client.query(
                "SELECT leader, i, f, t, b, n, u, s, o, x FROM vals WHERE id = \(id)"
            ).collect()
            guard stored.count == 1 else {
                mismatches.append("row \(id) missing")
                continue
            }
            let want: [DqliteValue] = [.text(tag)] + row
            for (column, (got, expected)) in zip(stored[0].values, want).enumerated() where got != expected {
                mismatches.append("row \(id) column \(column): got \(got), expected \(expected)")
            }
        }
        checks(
            mismatches.isEmpty,
            "\(tag): \(rows.count) rows × 8 value types written and read back exactly",
            mismatches.joined(separator: "; "))
    }

    /// Median/p99 of a single-row INSERT and a point SELECT through the client, with this leader.
    func latency(_ client: DqliteClient, leader: DqliteNodeInfo) async throws {
        let label = "\(leader.address.description == cluster.arm64 ? "arm64 (qemu)" : "amd64") leader node \(leader.id)"
        var keys: [Int64] = []
        for i in 0..<10 {  // warm-up: the pool's connection to this leader
            keys.append(try await client.execute("INSERT INTO lat (v) VALUES (\(i))").lastInsertID)
        }
        var inserts: [Duration] = []
        for i in 0..<samples {
            let start = ContinuousClock.now
            keys.append(try await client.execute("INSERT INTO lat (v) VALUES (\(i))").lastInsertID)
            inserts.append(ContinuousClock.now - start)
        }
        var selects: [Duration] = []
        for i in 0..<samples {
            let key = keys[i % keys.count]
            let start = ContinuousClock.now
            let rows = try await client.query("SELECT v FROM lat WHERE k = \(key)").collect()
            selects.append(ContinuousClock.now - start)
            guard rows.count == 1 else { throw ValidationError("row \(key) missing") }
        }
        printLine("latency \(label), amd64 Swift client, INSERT (1 row): \(summary(inserts))")
        printLine("latency \(label), amd64 Swift client, point SELECT: \(summary(selects))")
    }
}

/// TRANSFER, retried: raft refuses (or gives up) a transfer to a node that has not caught up with the leader's
/// log within an election timeout, which an emulated arm64 follower may not after a burst of writes.
func transferLeadership(_ admin: DqliteClusterAdmin, to id: UInt64) async throws -> (DqliteNodeInfo, Int) {
    var attempt = 1
    while true {
        do {
            return (try await admin.transferLeadership(to: id), attempt)
        } catch  where attempt < 10 {
            printLine("transfer to node \(id), attempt \(attempt): \(error); retrying")
            attempt += 1
            try await Task.sleep(for: .milliseconds(500))
        }
    }
}

/// Counts and prints checks.
final class Checks {
    var passed = 0
    var failed = 0

    func callAsFunction(_ condition: Bool, _ what: String, _ detail: @autoclosure () -> String = "") {
        if condition {
            passed += 1
            printLine("check ok: \(what)")
        } else {
            failed += 1
            printLine("check FAILED: \(what) \(detail())")
        }
    }
}

/// The same edge values as the arm64 client (scripts/mixarch/arm64-client/main.swift). Columns: i INTEGER,
/// f REAL, t TEXT, b BLOB, n (NULL), u DATETIME (an INTEGER read back as UNIXTIME), s DATETIME (ISO8601), o BOOLEAN, x (no affinity).
func valueRows(_ label: String) -> [[DqliteValue]] {
    let all = (0..<256).map { UInt8($0) }
    let kilobyte = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
    return [
        [
            .integer(Int64.min), .float(.pi), .text("héllo ✓ 𝄞 from amd64, \(label)"), .blob(all), .null,
            .unixTime(1_700_000_000), .iso8601("2023-11-14 22:13:20.123456789+00:00"), .boolean(true), .float(-0.0),
        ],
        [
            .integer(Int64.max), .float(.leastNonzeroMagnitude), .text(""), .blob([]), .null, .unixTime(-86_400),
            .iso8601("1970-01-01 00:00:00+00:00"), .boolean(false), .float(-.infinity),
        ],
        [
            .integer(0), .float(-.greatestFiniteMagnitude), .text(String(repeating: "多字节🙂", count: 300)),
            .blob(kilobyte), .null, .unixTime(0), .iso8601("2099-12-31 23:59:59.9999999+00:00"), .boolean(true),
            .float(1e-300),
        ],
        [
            .integer(-1), .float(123_456_789.123_456_78), .text("quote ' \" ; -- tab\tnewline\n"), .blob([0]),
            .null, .unixTime(Int64(Int32.max) + 1), .iso8601("1900-01-01 00:00:00.000001+00:00"), .boolean(false),
            .float(.leastNormalMagnitude),
        ],
    ]
}

/// A row as it is bound: libdqlite 1.11 refuses UNIXTIME parameters (DQLITE_PARSE), so the seconds go as an
/// INTEGER; the DATETIME column hands them back as UNIXTIME.
func parameters(_ row: [DqliteValue]) -> [DqliteValue] {
    row.map { value in
        if case .unixTime(let seconds) = value { return .integer(seconds) }
        return value
    }
}

/// FNV-1a 64 over the ROWS encoding of each row (columns c0…cN-1), in order; the arm64 client computes the
/// same digest of the same table.
func rowsDigest(_ rows: [[DqliteValue]]) throws -> UInt64 {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    var encoder = FrameEncoder()
    for row in rows {
        encoder.reset()
        let columns = (0..<row.count).map { "c\($0)" }
        try encoder.append(Response.rows(RowsFrame(columns: columns, rows: [row], more: false)))
        encoder.withUnsafeBytes { raw in
            for byte in raw {
                hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
            }
        }
    }
    return hash
}

func hex(_ value: UInt64) -> String {
    let text = String(value, radix: 16)
    return String(repeating: "0", count: 16 - text.count) + text
}

func milliseconds(_ duration: Duration) -> String {
    let (seconds, attoseconds) = duration.components
    let micros = seconds * 1_000_000 + attoseconds / 1_000_000_000_000
    let fraction = String(micros % 1000)
    return "\(micros / 1000).\(String(repeating: "0", count: 3 - fraction.count) + fraction) ms"
}

func summary(_ samples: [Duration]) -> String {
    let sorted = samples.sorted()
    let p99 = sorted[min(sorted.count - 1, (sorted.count * 99 + 99) / 100 - 1)]
    return "n=\(sorted.count) median=\(milliseconds(sorted[sorted.count / 2])) p99=\(milliseconds(p99))"
        + " min=\(milliseconds(sorted[0])) max=\(milliseconds(sorted[sorted.count - 1]))"
}

func printLine(_ line: String) {
    print(line)
    fflush(nil)
}
