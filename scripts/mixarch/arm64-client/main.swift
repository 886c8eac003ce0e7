// The arm64 side of scripts/mixed-arch.sh: a dqlite client made of this repository's `DqliteWire` codec plus a
// minimal blocking POSIX-socket transport (no Foundation, no NIO), cross-compiled for aarch64 with Swift 6.0.3
// and run under qemu-aarch64-static against a mixed amd64/arm64 cluster.
//
//   mixarch-client --seeds A,B,C --database DB --label L [--expect-leader A] [--samples N]
//                  [--expect-table T --expect-rows N --expect-digest HEX]
//
// It checks, against whichever node is leader: the handshake, leader discovery from a seed, CLUSTER, CLIENT,
// OPEN, DDL, EXEC_SQL and PREPARE/EXEC/FINALIZE with every value type, reading every value back exactly, a
// multi-frame QUERY_SQL, FAILURE replies (and that the connection stays usable), and the table the amd64
// Swift client wrote (same FNV-1a digest of its ROWS encoding). Then it measures round trips. Every line it
// prints is parsed by scripts/mixed-arch.sh; the last line is `arm64-client: N passed, M failed`.
// Exit status: 0 all checks passed, 1 a check failed, 2 a setup or transport error.

import DqliteWire

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

struct Failure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

func say(_ line: String) {
    print(line)
    fflush(nil)
}

// MARK: - Transport

/// One blocking TCP connection to a dqlite node, speaking frames through DqliteWire.
final class Connection {
    let address: String
    private let fd: Int32
    private var decoder = FrameDecoder()
    private var encoder = FrameEncoder()
    private var scratch = [UInt8](repeating: 0, count: 65_536)
    /// ROWS frames received by the last query.
    private(set) var lastFrameCount = 0

    /// Connects to `host:port` (IPv4) and sends the protocol-version handshake.
    init(_ address: String) throws {
        guard let colon = address.lastIndex(of: ":"), let port = UInt16(address[address.index(after: colon)...])
        else { throw Failure("bad address \(address)") }
        var sin = sockaddr_in()
        sin.sin_family = sa_family_t(AF_INET)
        sin.sin_port = port.bigEndian
        guard inet_pton(AF_INET, String(address[..<colon]), &sin.sin_addr) == 1 else {
            throw Failure("bad IPv4 address \(address)")
        }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure("socket: \(lastError())") }
        var one: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var timeout = timeval(tv_sec: 15, tv_usec: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        _ = setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let rc = withUnsafePointer(to: &sin) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard rc == 0 else {
            let message = lastError()
            close(fd)
            throw Failure("connect \(address): \(message)")
        }
        self.fd = fd
        self.address = address
        encoder.reset()
        encoder.appendHandshake()
        try flush()
    }

    deinit { close(fd) }

    private func flush() throws {
        try encoder.withUnsafeBytes { raw in
            guard let base = raw.baseAddress else { return }
            var sent = 0
            while sent < raw.count {
                let n = send(fd, base + sent, raw.count - sent, Int32(MSG_NOSIGNAL))
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { throw Failure("send to \(address): \(lastError())") }
                sent += n
            }
        }
    }

    private func nextFrame() throws -> Frame {
        while true {
            if let frame = try decoder.nextFrame() { return frame }
            let n = scratch.withUnsafeMutableBytes { buffer in
                buffer.baseAddress.map { recv(fd, $0, buffer.count, 0) } ?? -1
            }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw Failure("recv from \(address): \(n == 0 ? "connection closed" : lastError())") }
            scratch.withUnsafeBytes { decoder.append(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        }
    }

    private func receive(format: ResponseContext.ClusterFormat = .infer) throws -> Response {
        try Response(decoding: try nextFrame(), context: ResponseContext(clusterFormat: format))
    }

    /// Sends one request and returns its one response (FAILURE included).
    func call(_ request: Request) throws -> Response {
        encoder.reset()
        try encoder.append(request)
        try flush()
        if case .cluster(let format) = request { return try receive(format: format == 1 ? .format1 : .format0) }
        return try receive()
    }

    /// EXEC_SQL, or QUERY_SQL collecting every ROWS frame (`lastFrameCount` tells how many).
    func sql(_ sql: String, _ parameters: [WireValue] = [], query: Bool) throws -> Response {
        encoder.reset()
        try encoder.append(SQLCall(db: 0, sql: sql, parameters: parameters), query: query)
        try flush()
        return try collect()
    }

    /// EXEC or QUERY of a prepared statement.
    func statement(_ call: StatementCall, query: Bool) throws -> Response {
        encoder.reset()
        try encoder.append(call, query: query)
        try flush()
        return try collect()
    }

    /// Reads a response; a ROWS stream is read to its DONE frame and merged into one `.rows`.
    private func collect() throws -> Response {
        var response = try receive()
        lastFrameCount = 0
        guard case .rows(var all) = response else { return response }
        lastFrameCount = 1
        while all.more {
            guard case .rows(let next) = try receive() else { throw Failure("ROWS stream ended without DONE") }
            guard next.columns == all.columns else { throw Failure("ROWS frames disagree on columns") }
            all.rows += next.rows
            all.more = next.more
            lastFrameCount += 1
        }
        response = .rows(all)
        return response
    }
}

func lastError() -> String { String(cString: strerror(errno)) }

// MARK: - Checks

/// Counts and prints checks.
final class Checks {
    var passed = 0
    var failed = 0

    func callAsFunction(_ condition: Bool, _ what: String, _ detail: @autoclosure () -> String = "") {
        if condition {
            passed += 1
            say("check ok: \(what)")
        } else {
            failed += 1
            say("check FAILED: \(what) \(detail())")
        }
    }
}

/// FNV-1a 64 over the ROWS encoding of each row (columns c0…cN-1), in order: the digest the amd64 side
/// (Examples/mixed-arch-check) computes the same way.
func digest(_ rows: [[WireValue]]) throws -> UInt64 {
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

func padded(_ n: Int, _ width: Int) -> String {
    let text = String(n)
    return String(repeating: "0", count: max(0, width - text.count)) + text
}

/// Rows holding every dqlite value type, including edge values. Columns: i INTEGER, f REAL, t TEXT, b BLOB,
/// n (NULL), u DATETIME (an INTEGER read back as UNIXTIME), s DATETIME (ISO8601), o BOOLEAN, x (no affinity: keeps a float's exact bits).
func valueRows(_ label: String) -> [[WireValue]] {
    let all = (0..<256).map { UInt8($0) }
    let kilobyte = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
    return [
        [
            .integer(Int64.min), .float(.pi), .text("héllo ✓ 𝄞 from arm64 \(label)"), .blob(all), .null,
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
func parameters(_ row: [WireValue]) -> [WireValue] {
    row.map { value in
        if case .unixTime(let seconds) = value { return .integer(seconds) }
        return value
    }
}

struct Options {
    var seeds: [String] = []
    var database = "mixarch"
    var label = "run"
    var samples = 200
    var expectTable: String?
    var expectRows: Int?
    var expectDigest: String?
    var expectLeader: String?
}

func parseOptions() throws -> Options {
    var options = Options()
    var arguments = CommandLine.arguments.dropFirst()
    while let flag = arguments.popFirst() {
        guard let value = arguments.popFirst() else { throw Failure("\(flag) needs a value") }
        switch flag {
        case "--seeds": options.seeds = value.split(separator: ",").map(String.init)
        case "--database": options.database = value
        case "--label": options.label = value
        case "--samples": options.samples = Int(value) ?? 200
        case "--expect-table": options.expectTable = value
        case "--expect-rows": options.expectRows = Int(value)
        case "--expect-digest": options.expectDigest = value
        case "--expect-leader": options.expectLeader = value
        default: throw Failure("unknown option \(flag)")
        }
    }
    guard !options.seeds.isEmpty else { throw Failure("--seeds is required") }
    return options
}

func architecture() -> (compiled: String, machine: String) {
    #if arch(arm64)
        let compiled = "arm64"
    #elseif arch(x86_64)
        let compiled = "x86_64"
    #else
        let compiled = "other"
    #endif
    var names = utsname()
    _ = uname(&names)
    let machine = withUnsafeBytes(of: &names.machine) { raw in
        String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
    }
    return (compiled, machine)
}

// MARK: - Latency

let clock = ContinuousClock()

func microseconds(_ duration: Duration) -> Int64 {
    let (seconds, attoseconds) = duration.components
    return seconds * 1_000_000 + attoseconds / 1_000_000_000_000
}

func milliseconds(_ micros: Int64) -> String {
    "\(micros / 1000).\(padded(Int(micros % 1000), 3))"
}

func measure(_ name: String, _ samples: Int, _ body: (Int) throws -> Void) throws {
    var times: [Int64] = []
    for i in 0..<samples {
        let start = clock.now
        try body(i)
        times.append(microseconds(clock.now - start))
    }
    times.sort()
    let p99 = times[min(times.count - 1, (times.count * 99 + 99) / 100 - 1)]
    say(
        "latency \(name): n=\(samples) median=\(milliseconds(times[times.count / 2])) ms"
            + " p99=\(milliseconds(p99)) ms min=\(milliseconds(times[0])) ms max=\(milliseconds(times[times.count - 1])) ms"
    )
}

// MARK: - Main

func run(_ options: Options, _ check: Checks) throws {
    let arch = architecture()
    say("arm64-client: compiled-arch=\(arch.compiled) uname-m=\(arch.machine) label=\(options.label)")
    check(arch.compiled == "arm64" && arch.machine == "aarch64", "runs as arm64 code", "\(arch)")

    // Handshake and leader discovery from the first seed.
    let seed = try Connection(options.seeds[0])
    guard case .server(let leaderID, let leaderAddress) = try seed.call(.leader) else {
        throw Failure("LEADER did not answer with SERVER")
    }
    check(leaderID != 0 && !leaderAddress.isEmpty, "handshake + LEADER via seed \(seed.address)", "no leader known")
    check(options.seeds.contains(leaderAddress), "leader \(leaderAddress) is one of the seeds")
    if let expected = options.expectLeader {
        check(leaderAddress == expected, "the leader is \(expected), as arranged", "it is \(leaderAddress)")
    }
    say("discovery: seed \(seed.address) names leader id=\(leaderID) address=\(leaderAddress)")
    let connection = leaderAddress == seed.address ? seed : try Connection(leaderAddress)
    guard case .server(let confirmedID, let confirmedAddress) = try connection.call(.leader) else {
        throw Failure("LEADER (on the leader) did not answer with SERVER")
    }
    check(
        confirmedID == leaderID && confirmedAddress == leaderAddress, "the leader confirms itself",
        "\(confirmedID) \(confirmedAddress)")

    guard case .servers(let nodes) = try connection.call(.cluster(format: 1)) else {
        throw Failure("CLUSTER did not answer with SERVERS")
    }
    say(
        "cluster: "
            + nodes.map { "\($0.id)|\($0.address)|role=\($0.role.map(String.init) ?? "?")" }.joined(separator: " "))
    check(
        nodes.count == options.seeds.count && nodes.allSatisfy { $0.role == 0 }
            && Set(nodes.map(\.address)) == Set(options.seeds) && nodes.contains { $0.id == leaderID },
        "CLUSTER lists every seed as a voter, leader included")

    guard case .welcome(let heartbeat) = try connection.call(.client(id: 0x6172_6d36_34)) else {
        throw Failure("CLIENT did not answer with WELCOME")
    }
    check(heartbeat > 0, "CLIENT -> WELCOME (heartbeat timeout \(heartbeat) ms)")

    guard case .db(let db) = try connection.call(.open(database: options.database, flags: 0, vfs: "")) else {
        throw Failure("OPEN did not answer with DB")
    }
    check(db == 0, "OPEN \(options.database) -> DB \(db)")

    // DDL.
    let table = "arm64_client_" + String(options.label.map { $0.isASCII && ($0.isLetter || $0.isNumber) ? $0 : "_" })
    for ddl in [
        "DROP TABLE IF EXISTS \(table)", "DROP TABLE IF EXISTS \(table)_big", "DROP TABLE IF EXISTS \(table)_lat",
        "CREATE TABLE \(table) (k INTEGER PRIMARY KEY, i INTEGER, f REAL, t TEXT, b BLOB, n TEXT, u DATETIME,"
            + " s DATETIME, o BOOLEAN, x)",
        "CREATE TABLE \(table)_big (k INTEGER PRIMARY KEY, v TEXT, r REAL)",
        "CREATE TABLE \(table)_lat (k INTEGER PRIMARY KEY, v INTEGER)",
    ] {
        let response = try connection.sql(ddl, query: false)
        guard case .result = response else { throw Failure("\(ddl): \(response)") }
    }
    check(true, "DDL through EXEC_SQL")

    // Every value type, through EXEC_SQL parameters and through PREPARE + EXEC.
    let rows = valueRows(options.label)
    let columns = "i, f, t, b, n, u, s, o, x"
    for (index, row) in rows.enumerated() {
        let response: Response
        if index % 2 == 0 {
            response = try connection.sql(
                "INSERT INTO \(table) (\(columns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", parameters(row), query: false)
        } else {
            guard
                case .stmt(let sdb, let sid, let parameterCount, _) = try connection.call(
                    .prepare(
                        db: 0, sql: "INSERT INTO \(table) (\(columns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", schema: 0)
                )
            else { throw Failure("PREPARE did not answer with STMT") }
            check(parameterCount == 9, "PREPARE -> STMT with 9 parameters", "\(parameterCount)")
            response = try connection.statement(
                StatementCall(db: sdb, stmt: sid, parameters: parameters(row)), query: false)
            check(try connection.call(.finalize(db: sdb, stmt: sid)) == .empty, "FINALIZE -> EMPTY")
        }
        check(
            response == .result(lastInsertID: UInt64(index + 1), rowsAffected: 1),
            "row \(index + 1) with every value type inserted (\(index % 2 == 0 ? "EXEC_SQL" : "PREPARE+EXEC"))",
            "\(response)")
    }
    guard case .rows(let stored) = try connection.sql("SELECT \(columns) FROM \(table) ORDER BY k", query: true)
    else { throw Failure("SELECT did not answer with ROWS") }
    check(stored.columns == ["i", "f", "t", "b", "n", "u", "s", "o", "x"], "column names", "\(stored.columns)")
    check(stored.rows.count == rows.count, "\(rows.count) rows read back", "\(stored.rows.count)")
    let typeNames = [
        "integer", "float", "text", "blob", "null", "unixtime", "iso8601", "boolean", "float (exact bits)",
    ]
    for (r, (got, want)) in zip(stored.rows, rows).enumerated() {
        for (c, (value, expected)) in zip(got, want).enumerated() where value != expected {
            check(false, "row \(r + 1) \(typeNames[c])", "got \(value), expected \(expected)")
        }
        check(got == want, "row \(r + 1): all 9 values (8 wire types) decoded exactly")
    }

    // A multi-frame result.
    let bigRows = 3000
    let fill = try connection.sql(
        "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < \(bigRows))"
            + " INSERT INTO \(table)_big SELECT n, printf('row-%06d-%s', n, substr('abcdefghijklmnopqrstuvwxyz', 1 + n % 26, 1)),"
            + " n * 0.5 FROM c",
        query: false)
    check(fill == .result(lastInsertID: UInt64(bigRows), rowsAffected: UInt64(bigRows)), "\(bigRows) rows generated")
    guard case .rows(let big) = try connection.sql("SELECT k, v, r FROM \(table)_big ORDER BY k", query: true) else {
        throw Failure("SELECT (big) did not answer with ROWS")
    }
    let frames = connection.lastFrameCount
    var bigMismatches = 0
    let letters = Array("abcdefghijklmnopqrstuvwxyz")
    for (index, row) in big.rows.enumerated() {
        let n = index + 1
        let expected: [WireValue] = [
            .integer(Int64(n)), .text("row-\(padded(n, 6))-\(letters[n % 26])"), .float(Double(n) * 0.5),
        ]
        if row != expected {
            if bigMismatches < 3 { say("  row \(n): got \(row), expected \(expected)") }
            bigMismatches += 1
        }
    }
    check(
        frames > 1 && big.rows.count == bigRows && bigMismatches == 0,
        "multi-frame QUERY_SQL: \(big.rows.count) rows in \(frames) ROWS frames, every value checked",
        "frames=\(frames) rows=\(big.rows.count) mismatches=\(bigMismatches)")

    // FAILURE replies; the connection stays usable after each.
    let missing = try connection.sql("INSERT INTO no_such_table VALUES (1)", query: false)
    if case .failure(let code, let message) = missing {
        check(code == 1 && message.contains("no such table"), "FAILURE for a missing table: \(code) \"\(message)\"")
    } else {
        check(false, "FAILURE for a missing table", "\(missing)")
    }
    let duplicate = try connection.sql("INSERT INTO \(table) (k) VALUES (?)", [.integer(1)], query: false)
    if case .failure(let code, let message) = duplicate {
        check(
            code & 0xff == 19 && message.contains("UNIQUE constraint failed"),
            "FAILURE for a duplicate key: \(code) \"\(message)\"")
    } else {
        check(false, "FAILURE for a duplicate key", "\(duplicate)")
    }
    let unixTime = try connection.sql("SELECT ?", [.unixTime(1_700_000_000)], query: true)
    if case .failure(let code, let message) = unixTime {
        check(true, "FAILURE for a UNIXTIME parameter (libdqlite 1.11 only sends that type): \(code) \"\(message)\"")
    } else {
        check(false, "FAILURE for a UNIXTIME parameter", "\(unixTime)")
    }
    let syntax = try connection.sql("SELEC 1", query: true)
    if case .failure(let code, let message) = syntax {
        check(code == 1 && message.contains("syntax error"), "FAILURE for a syntax error: \(code) \"\(message)\"")
    } else {
        check(false, "FAILURE for a syntax error", "\(syntax)")
    }
    let after = try connection.sql("SELECT count(*) FROM \(table)", query: true)
    check(
        after == .rows(RowsFrame(columns: ["count(*)"], rows: [[.integer(Int64(rows.count))]], more: false)),
        "connection usable after the failures", "\(after)")

    // The table the amd64 Swift client wrote (replicated from whichever leader it had).
    if let expected = options.expectTable {
        guard case .rows(let theirs) = try connection.sql("SELECT * FROM \(expected) ORDER BY id", query: true) else {
            throw Failure("SELECT \(expected) did not answer with ROWS")
        }
        let got = hex(try digest(theirs.rows))
        say("amd64-table: \(expected) rows=\(theirs.rows.count) fnv1a64=\(got)")
        check(
            theirs.rows.count == options.expectRows && got == options.expectDigest,
            "the amd64 client's table reads back with the same digest",
            "rows \(theirs.rows.count) vs \(options.expectRows.map(String.init) ?? "?"), \(got) vs \(options.expectDigest ?? "?")"
        )
    }

    // Round trips.
    try measure("LEADER round trip", options.samples) { _ in
        let response = try connection.call(.leader)
        guard case .server = response else { throw Failure("LEADER: \(response)") }
    }
    try measure("INSERT (EXEC_SQL, 1 row)", options.samples) { i in
        let response = try connection.sql("INSERT INTO \(table)_lat (v) VALUES (?)", [.integer(Int64(i))], query: false)
        guard case .result = response else { throw Failure("INSERT \(i + 1): \(response)") }
    }
    try measure("point SELECT (QUERY_SQL)", options.samples) { i in
        let response = try connection.sql(
            "SELECT v FROM \(table)_lat WHERE k = ?", [.integer(Int64(i + 1))], query: true)
        guard case .rows(let result) = response, result.rows == [[.integer(Int64(i))]] else {
            throw Failure("point SELECT \(i + 1): \(response)")
        }
    }
}

let checks = Checks()
do {
    try run(try parseOptions(), checks)
} catch {
    say("arm64-client: ERROR \(error)")
    say("arm64-client: \(checks.passed) passed, \(checks.failed + 1) failed")
    exit(2)
}
say("arm64-client: \(checks.passed) passed, \(checks.failed) failed")
exit(checks.failed == 0 ? 0 : 1)
