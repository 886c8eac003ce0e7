import Dqlite
import DqliteLocalCluster
import Foundation
import Testing

/// A text enum stored by its raw value.
enum Mood: String, Codable, DqliteCodable, CaseIterable {
    case calm, cheerful, grumpy
}

/// An integer enum stored by its raw value.
enum Priority: Int, Codable, DqliteCodable {
    case low = 1
    case high = 3
}

/// A record decoded from a row by column names.
struct Account: Decodable, Equatable {
    var id: Int64
    var name: String
    var born: Date?
    var avatar: [UInt8]?
    var mood: Mood
    var priority: Priority?
    var active: Bool
    var score: Double
    var nickname: String?
}

/// Every value type through parameters and back through rows, on real servers of both generations.
@Suite("Value round trips", .timeLimit(.minutes(3)))
struct ValueRoundTripTests {
    static let schema = """
        CREATE TABLE vals (k INTEGER PRIMARY KEY, i INTEGER, r REAL, t TEXT, b BLOB, d DATETIME, f BOOLEAN, x)
        """

    /// Stores `value` in `column` of a new row and reads it back (decoded as `Value`, and the raw cell).
    static func store<Value: DqliteCodable>(
        _ client: DqliteClient, _ value: Value, in column: String
    ) async throws -> (Value, DqliteValue) {
        let key = try await client.execute("INSERT INTO vals (\(identifier: column)) VALUES (\(value))").lastInsertID
        let rows = try await client.query("SELECT \(identifier: column) FROM vals WHERE k = \(key)").collect()
        guard rows.count == 1 else { throw TestFailure("row \(key) not found") }
        return (try rows[0].decode(Value.self, at: 0), rows[0][0])
    }

    /// `SELECT ?` with `value`: the server hands the bound value straight back.
    static func echo<Value: DqliteCodable>(_ client: DqliteClient, _ value: Value) async throws -> (Value, DqliteValue)
    {
        let rows = try await client.query("SELECT \(value)").collect()
        guard rows.count == 1 else { throw TestFailure("no row") }
        return (try rows[0].decode(Value.self, at: 0), rows[0][0])
    }

    @Test(
        "integers of every width round-trip exactly; UInt64 above Int64.max is refused",
        arguments: DqliteGeneration.allCases)
    func integers(_ generation: DqliteGeneration) async throws {
        try await withClusterClient(generation) { _, client in
            try await client.execute(DqliteQuery(unsafeSQL: Self.schema))
            func check<Value: DqliteCodable & Equatable & FixedWidthInteger>(_ value: Value) async throws {
                let (stored, raw) = try await Self.store(client, value, in: "i")
                #expect(stored == value, "\(Value.self) \(value) stored as \(raw)")
                #expect(raw == .integer(Int64(value)))
                let (echoed, _) = try await Self.echo(client, value)
                #expect(echoed == value)
            }
            try await check(Int64.min)
            try await check(Int64.max)
            try await check(Int.min)
            try await check(Int.max)
            try await check(Int8.min)
            try await check(Int8.max)
            try await check(Int16.min)
            try await check(Int16.max)
            try await check(Int32.min)
            try await check(Int32.max)
            try await check(UInt8.max)
            try await check(UInt16.max)
            try await check(UInt32.max)
            try await check(UInt64(Int64.max))
            try await check(UInt(0))
            try await check(UInt(Int64.max))
            #expect(try await client.scalar("SELECT typeof(i) FROM vals WHERE i = \(Int64.min)") == "integer")

            // Too large for SQLite's signed 64 bits: refused before anything is sent, through every API.
            let rowsBefore: Int = try await client.scalar("SELECT count(*) FROM vals")
            for tooLarge in [UInt64(Int64.max) + 1, UInt64.max] {
                let error = await expectDqliteError(.coding, "interpolated UInt64 \(tooLarge)") {
                    try await client.execute("INSERT INTO vals (i) VALUES (\(tooLarge))")
                }
                let coding = error?.underlying as? DqliteCodingError
                #expect(coding?.message.contains("\(tooLarge) does not fit in a 64-bit signed integer") == true)
                #expect(coding?.targetType == "UInt64")
                // A clear message: it names the value and does not call an encoding failure a decoding one.
                let text = error.map { "\($0)" } ?? ""
                #expect(text.contains("\(tooLarge)"))
                #expect(!text.contains("decode"), "misleading message: \(text)")
            }
            await expectDqliteError(.coding, "interpolated UInt.max") {
                try await client.query("SELECT \(UInt.max)").collect()
            }
            try await client.withConnection { session in
                let insert = try await session.prepare("INSERT INTO vals (i) VALUES (?)")
                let error = await expectDqliteError(.coding, "prepared-statement parameter") {
                    try await insert.execute([UInt64.max])
                }
                #expect(error?.underlying is DqliteCodingError)
                #expect(
                    error.map { !"\($0)".contains("decode") } == true,
                    "misleading message: \(String(describing: error))")
                try await insert.finalize()
            }
            #expect(try await client.scalar("SELECT count(*) FROM vals") == rowsBefore)

            // Decoding checks the width too.
            let big = try await client.query("SELECT 300, -1").collect()[0]
            #expect(throws: DqliteCodingError.self) { try big.decode(Int8.self, at: 0) }
            #expect(throws: DqliteCodingError.self) { try big.decode(UInt.self, at: 1) }
            #expect(try big.decode(Int16.self, at: 0) == 300)
            let decodingError = #expect(throws: DqliteCodingError.self) { try big.decode(UInt8.self, at: 0) }
            #expect(decodingError?.index == 0)
            #expect(decodingError?.message.contains("300") == true)
        }
    }

    @Test("doubles: -0.0, ±infinity and extremes round-trip; NaN becomes NULL", arguments: DqliteGeneration.allCases)
    func doubles(_ generation: DqliteGeneration) async throws {
        try await withClusterClient(generation) { _, client in
            try await client.execute(DqliteQuery(unsafeSQL: Self.schema))
            let values: [Double] = [
                0, -0.0, 1.5, -2.25, .pi, .infinity, -.infinity, .greatestFiniteMagnitude, -.greatestFiniteMagnitude,
                .leastNonzeroMagnitude, .leastNormalMagnitude, 1e-300, 123_456_789.123_456_78,
            ]
            for value in values {
                // A column without affinity keeps the exact bits.
                let (stored, raw) = try await Self.store(client, value, in: "x")
                #expect(stored.bitPattern == value.bitPattern, "\(value) came back as \(stored) (\(raw))")
                #expect(raw == .float(value))
                let (echoed, _) = try await Self.echo(client, value)
                #expect(echoed.bitPattern == value.bitPattern, "SELECT \(value) came back as \(echoed)")
                // A REAL column keeps the value (SQLite may store integral reals as integers on disk).
                let (real, _) = try await Self.store(client, value, in: "r")
                #expect(real == value, "REAL column: \(value) came back as \(real)")
            }
            let negativeZero = try await Self.echo(client, -0.0 as Double).0
            #expect(negativeZero == 0 && negativeZero.sign == .minus)

            // NaN: SQLite binds it as NULL — stored, echoed, and as typeof() sees it.
            let (nan, nanRaw) = try await Self.store(client, Double?.some(.nan), in: "x")
            #expect(nanRaw == .null)
            #expect(nan == nil)
            let echoedNaN = try await client.query("SELECT \(Double.nan)").collect()[0]
            #expect(echoedNaN[0] == .null)
            #expect(try echoedNaN.decode(Double?.self, at: 0) == nil)
            #expect(throws: DqliteCodingError.self) { try echoedNaN.decode(Double.self, at: 0) }
            #expect(try await client.scalar("SELECT typeof(\(Double.nan))") == "null")

            // Float goes as a double and comes back exactly.
            for value: Float in [0.1, -3.5, .greatestFiniteMagnitude, .infinity] {
                let (stored, raw) = try await Self.store(client, value, in: "x")
                #expect(stored == value)
                #expect(raw == .float(Double(value)))
            }
            // An INTEGER cell decodes as Double when exact.
            #expect(try await client.scalar("SELECT 42", as: Double.self) == 42)
        }
    }

    @Test(
        "text: unicode kept byte for byte, empty and 1 MiB texts and blobs, NULLs", arguments: DqliteGeneration.allCases
    )
    func textAndBlobs(_ generation: DqliteGeneration) async throws {
        try await withClusterClient(generation) { _, client in
            try await client.execute(DqliteQuery(unsafeSQL: Self.schema))
            let texts = [
                "", "plain ascii", "quote ' and \" and ; and -- not a comment", "emoji 👩‍👩‍👧‍👦 🇩🇪 🙂",
                "CJK 漢字 かな 한국어", "combining e\u{301} vs precomposed \u{E9}", "tab\tnewline\nend",
                "\u{10FFFF} max scalar",
            ]
            for text in texts {
                let (stored, raw) = try await Self.store(client, text, in: "t")
                // Swift's == is canonical equivalence: compare the bytes.
                #expect(Array(stored.utf8) == Array(text.utf8), "\(text) came back as \(stored)")
                #expect(raw == .text(text))
                let bytes: Int = try await client.scalar("SELECT length(CAST(\(text) AS BLOB))")
                #expect(bytes == text.utf8.count)
            }
            // SQLite counts code points: the combining sequence is two characters, the precomposed one one.
            #expect(try await client.scalar("SELECT length(\("e\u{301}"))") == 2)
            #expect(try await client.scalar("SELECT length(\("\u{E9}"))") == 1)

            // Blobs, empty and 1 MiB.
            let empty: [UInt8] = []
            let (storedEmpty, rawEmpty) = try await Self.store(client, empty, in: "b")
            #expect(storedEmpty == [])
            #expect(rawEmpty == .blob([]), "an empty blob came back as \(rawEmpty)")
            let megabyte = (0..<1_048_576).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 9) }
            let (storedBlob, _) = try await Self.store(client, megabyte, in: "b")
            #expect(storedBlob == megabyte)
            #expect(try await client.scalar("SELECT max(length(b)) FROM vals") == 1_048_576)

            // A 1 MiB text with multi-byte characters.
            let pattern = "abc-é-漢-🙂|"
            let largeText = String(repeating: pattern, count: 1_048_576 / pattern.utf8.count + 1)
            let (storedText, _) = try await Self.store(client, largeText, in: "t")
            #expect(Array(storedText.utf8) == Array(largeText.utf8))
            #expect(largeText.utf8.count >= 1_048_576)

            // NULLs.
            let none: Int? = nil
            let (storedNull, rawNull) = try await Self.store(client, none, in: "i")
            #expect(storedNull == nil)
            #expect(rawNull == .null)
            let nullRow = try await client.query("SELECT NULL, NULL, NULL").collect()[0]
            #expect(try nullRow.decode((Int?, String?, [UInt8]?).self) == (nil, nil, nil))
            #expect(throws: DqliteCodingError.self) { try nullRow.decode(Int.self, at: 0) }
            #expect(throws: DqliteCodingError.self) { try nullRow.decode(String.self, at: 1) }
            // A tuple of leading columns.
            let mixed = try await client.query("SELECT 7, \("seven"), \(nil as String?)").collect()[0]
            let (seven, name, missing) = try mixed.decode((Int, String, String?).self)
            #expect(seven == 7 && name == "seven" && missing == nil)
        }
    }

    @Test(
        "Bool, Date (ISO-8601 and UNIXTIME), NULL DATETIME and the BOOLEAN NULL quirk",
        arguments: DqliteGeneration.allCases)
    func booleansAndDates(_ generation: DqliteGeneration) async throws {
        try await withClusterClient(generation) { _, client in
            try await client.execute(DqliteQuery(unsafeSQL: Self.schema))
            // Bool in a BOOLEAN column comes back as BOOLEAN, in an INTEGER column as 0/1.
            for value in [true, false] {
                let (inBoolean, rawBoolean) = try await Self.store(client, value, in: "f")
                #expect(inBoolean == value)
                #expect(rawBoolean == .boolean(value))
                let (inInteger, rawInteger) = try await Self.store(client, value, in: "i")
                #expect(inInteger == value)
                #expect(rawInteger == .integer(value ? 1 : 0))
            }
            #expect(throws: DqliteCodingError.self) {
                try DqliteRow(columns: DqliteColumns(["n"]), values: [.integer(2)]).decode(Bool.self, at: 0)
            }

            // Dates travel as ISO-8601 text with nanoseconds; a DATETIME column returns them as ISO8601 cells.
            let exact = Date(timeIntervalSince1970: 1_700_000_000.5)
            let (storedExact, rawExact) = try await Self.store(client, exact, in: "d")
            #expect(storedExact == exact)
            #expect(rawExact == .iso8601("2023-11-14 22:13:20.5+00:00"))
            let dates = [
                Date(timeIntervalSince1970: 1_700_000_000.123_456_789),
                Date(timeIntervalSince1970: 0),
                Date(timeIntervalSince1970: -1.25),
                Date(timeIntervalSince1970: -2_208_988_800.000_001),  // 1900-01-01, one microsecond before
                Date(timeIntervalSince1970: 4_102_444_799.999_999_9),  // the last instant of 2099
                Date(timeIntervalSince1970: 1_234_567_890.000_000_2),
            ]
            for date in dates {
                for column in ["d", "t"] {
                    let (stored, raw) = try await Self.store(client, date, in: column)
                    // The text carries nanoseconds; the only loss is Double's own precision.
                    let tolerance = max(date.timeIntervalSince1970.ulp * 2, 1e-9)
                    let difference = abs(stored.timeIntervalSince1970 - date.timeIntervalSince1970)
                    #expect(difference <= tolerance, "\(date) in \(column) came back as \(stored) (\(raw))")
                    if column == "d" {
                        guard case .iso8601(let text) = raw else {
                            Issue.record("a DATETIME cell came back as \(raw)")
                            continue
                        }
                        #expect(text.hasSuffix("+00:00"))
                    } else {
                        #expect(raw.type == .text)
                    }
                }
            }
            // The server keeps the nanoseconds as sent.
            let nanos = Date(timeIntervalSince1970: 1_700_000_000.25)
            let (_, nanosRaw) = try await Self.store(client, nanos, in: "t")
            #expect(nanosRaw == .text("2023-11-14 22:13:20.25+00:00"))

            // An INTEGER in a DATETIME column comes back as a UNIXTIME cell.
            let (fromSeconds, rawSeconds) = try await Self.store(client, 1_700_000_000 as Int64, in: "d")
            #expect(fromSeconds == 1_700_000_000)
            #expect(rawSeconds == .unixTime(1_700_000_000))
            let unixKey = try await client.execute("INSERT INTO vals (d) VALUES (\(-86_400 as Int))").lastInsertID
            let unixDate: Date = try await client.scalar("SELECT d FROM vals WHERE k = \(unixKey)")
            #expect(unixDate == Date(timeIntervalSince1970: -86_400))

            // NULL in a DATETIME column is nil (the server sends an empty ISO8601 string: canonical/dqlite#882).
            let nullDateKey = try await client.execute("INSERT INTO vals (d, f) VALUES (NULL, NULL)").lastInsertID
            let nullRow = try await client.query("SELECT d, f FROM vals WHERE k = \(nullDateKey)").collect()[0]
            #expect(nullRow[0].isNull, "NULL DATETIME arrived as \(nullRow[0])")
            #expect(try nullRow.decode(Date?.self, at: 0) == nil)
            #expect(throws: DqliteCodingError.self) { try nullRow.decode(Date.self, at: 0) }
            #expect(try nullRow.decode(String?.self, at: 0) == nil)
            // The quirk: NULL in a BOOLEAN column arrives as BOOLEAN false, indistinguishable from false.
            #expect(nullRow[1] == .boolean(false), "NULL BOOLEAN arrived as \(nullRow[1])")
            #expect(try nullRow.decode(Bool?.self, at: 1) == false)
            // SQLite itself still knows it is NULL.
            #expect(try await client.scalar("SELECT f IS NULL FROM vals WHERE k = \(nullDateKey)") == true)
            print("QUIRK \(generation): NULL DATETIME arrives as \(nullRow[0]); NULL BOOLEAN arrives as \(nullRow[1])")
        }
    }

    @Test(
        "a UNIXTIME value bound as a parameter is sent as its integer (servers refuse UNIXTIME parameters)",
        arguments: DqliteGeneration.allCases)
    func unixTimeParameter(_ generation: DqliteGeneration) async throws {
        try await withClusterClient(generation) { _, client in
            try await client.execute("CREATE TABLE ut (d DATETIME, i INTEGER)")
            let value = DqliteValue.unixTime(1_700_000_000)
            try await client.execute("INSERT INTO ut VALUES (\(value), \(value))")
            let row = try #require(try await client.query("SELECT d, i FROM ut").collect().first)
            #expect(row[0] == .unixTime(1_700_000_000))  // a DATETIME column gives the integer back as UNIXTIME
            #expect(row[1] == .integer(1_700_000_000))
            try await client.withConnection { session in
                let statement = try await session.prepare("INSERT INTO ut VALUES (?, ?)")
                try await statement.execute([value, value])
                try await statement.finalize()
            }
            #expect(try await client.scalar("SELECT count(*) FROM ut WHERE i = 1700000000", as: Int.self) == 2)
        }
    }

    @Test("RawRepresentable enums and Decodable records", arguments: DqliteGeneration.allCases)
    func enumsAndRecords(_ generation: DqliteGeneration) async throws {
        try await withClusterClient(generation) { _, client in
            try await client.execute(
                """
                CREATE TABLE accounts (
                    id INTEGER PRIMARY KEY, name TEXT NOT NULL, born DATETIME, avatar BLOB, mood TEXT NOT NULL,
                    priority INTEGER, active BOOLEAN NOT NULL, score REAL NOT NULL, nickname TEXT)
                """)
            for mood in Mood.allCases {
                let key = try await client.execute(
                    "INSERT INTO accounts (name, mood, active, score) VALUES ('m', \(mood), 1, 0)"
                )
                .lastInsertID
                #expect(try await client.scalar("SELECT mood FROM accounts WHERE id = \(key)") == mood)
                #expect(try await client.cell("SELECT mood FROM accounts WHERE id = \(key)") == .text(mood.rawValue))
            }
            #expect(try await client.scalar("SELECT \(Priority.high)", as: Priority.self) == .high)
            #expect(try await client.cell("SELECT \(Priority.high)") == .integer(3))
            let invalid = try await client.query("SELECT 'furious', 2").collect()[0]
            let moodError = #expect(throws: DqliteCodingError.self) { try invalid.decode(Mood.self, at: 0) }
            #expect(moodError?.message.contains("furious") == true)
            #expect(throws: DqliteCodingError.self) { try invalid.decode(Priority.self, at: 1) }

            let born = Date(timeIntervalSince1970: 946_684_800.75)
            let alice = Account(
                id: 10, name: "Alice ✓", born: born, avatar: [0, 1, 2, 255], mood: .cheerful, priority: .high,
                active: true, score: -12.5, nickname: nil)
            let bob = Account(
                id: 11, name: "Bob", born: nil, avatar: nil, mood: .grumpy, priority: nil, active: false, score: 0,
                nickname: "bobby")
            for account in [alice, bob] {
                try await client.execute(
                    """
                    INSERT INTO accounts (id, name, born, avatar, mood, priority, active, score, nickname)
                    VALUES (\(account.id), \(account.name), \(account.born), \(account.avatar), \(account.mood),
                            \(account.priority), \(account.active), \(account.score), \(account.nickname))
                    """)
            }
            let decoded = try await client.query("SELECT * FROM accounts WHERE id >= 10 ORDER BY id").collect().map {
                try $0.decode(Account.self)
            }
            #expect(decoded == [alice, bob])
            // A missing column for an optional property decodes as nil; for a required one it fails.
            let partial = try await client.query(
                "SELECT id, name, mood, active, score FROM accounts WHERE id = 10"
            ).collect()[0]
            let partialAccount = try partial.decode(Account.self)
            #expect(partialAccount.born == nil && partialAccount.nickname == nil && partialAccount.name == "Alice ✓")
            let missingRequired = try await client.query("SELECT id, name FROM accounts WHERE id = 10").collect()[0]
            #expect(throws: (any Error).self) { try missingRequired.decode(Account.self) }
            // Columns by name (case-insensitive fallback).
            let row = try await client.query("SELECT name AS Name, score FROM accounts WHERE id = 11").collect()[0]
            #expect(try row.decode(String.self, column: "name") == "Bob")
            #expect(try row.decode(Double.self, column: "score") == 0)
            #expect(throws: DqliteCodingError.self) { try row.decode(Int.self, column: "nope") }
        }
    }
}
