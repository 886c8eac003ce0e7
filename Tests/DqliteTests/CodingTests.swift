import Dqlite
import Foundation
import Testing

@Suite("Values, queries and rows")
struct CodingTests {
    @Test("integers round-trip; unsigned values are checked both ways")
    func integers() throws {
        #expect(try Int64.max.dqliteValue() == .integer(.max))
        #expect(try UInt64(Int64.max).dqliteValue() == .integer(.max))
        #expect(throws: DqliteCodingError.self) { try UInt64.max.dqliteValue() }
        #expect(try UInt8(dqliteValue: .integer(255)) == 255)
        #expect(throws: DqliteCodingError.self) { try UInt8(dqliteValue: .integer(256)) }
        #expect(throws: DqliteCodingError.self) { try UInt32(dqliteValue: .integer(-1)) }
        #expect(try Int(dqliteValue: .unixTime(5)) == 5)
        #expect(throws: DqliteCodingError.self) { try Int(dqliteValue: .text("5")) }
    }

    @Test("floats, strings, booleans, bytes")
    func scalars() throws {
        #expect(try Double(dqliteValue: .integer(3)) == 3)
        #expect(throws: DqliteCodingError.self) { try Double(dqliteValue: .integer(Int64.max)) }
        #expect(try Double(dqliteValue: .float(-0.0)).sign == .minus)
        #expect(try String(dqliteValue: .text("hé")) == "hé")
        #expect(try Bool(dqliteValue: .boolean(true)))
        #expect(try !Bool(dqliteValue: .integer(0)))
        #expect(throws: DqliteCodingError.self) { try Bool(dqliteValue: .integer(2)) }
        #expect(try [UInt8](dqliteValue: .blob([1, 2])) == [1, 2])
        #expect(try [UInt8](1...3).dqliteValue() == .blob([1, 2, 3]))
    }

    @Test("NULL and the DATETIME NULL quirk decode as nil")
    func optionals() throws {
        #expect(try Int?(dqliteValue: .null) == nil)
        #expect(try Date?(dqliteValue: .iso8601("")) == nil)
        #expect(try String?(dqliteValue: .iso8601("")) == nil)
        #expect(try Int?(dqliteValue: .integer(1)) == 1)
        #expect(try (nil as Int?).dqliteValue() == .null)
        #expect(throws: DqliteCodingError.self) { try String(dqliteValue: .null) }
    }

    enum Color: String, DqliteCodable { case red, green }

    @Test("RawRepresentable types")
    func rawRepresentable() throws {
        #expect(try Color.red.dqliteValue() == .text("red"))
        #expect(try Color(dqliteValue: .text("green")) == .green)
        #expect(throws: DqliteCodingError.self) { try Color(dqliteValue: .text("blue")) }
    }

    @Test(
        "dates parse in every layout go-dqlite accepts",
        arguments: [
            ("2024-01-02 03:04:05.123456789+00:00", 1_704_164_645.123456789),
            ("2024-01-02T03:04:05.5+01:00", 1_704_161_045.5), ("2024-01-02 03:04:05", 1_704_164_645),
            ("2024-01-02T03:04:05Z", 1_704_164_645), ("2024-01-02 03:04", 1_704_164_640),
            ("2024-01-02T03:04", 1_704_164_640),
            ("2024-01-02", 1_704_153_600), ("1969-12-31 23:59:59", -1), ("2024-02-29 12:00:00-0230", 1_709_217_000),
        ])
    func dateLayouts(_ text: String, _ seconds: Double) throws {
        let date = try Date(dqliteValue: .iso8601(text))
        #expect(abs(date.timeIntervalSince1970 - seconds) < 1e-6, "\(text)")
    }

    @Test(
        "malformed dates are errors, not traps",
        arguments: [
            "", "2024-13-01", "2024-02-30", "2024-01-02 25:00", "2024-01-02x", "2024-01-02 03:04:05.",
            "2024-01-02 03:04:05.1234567891234+00:00Z?", "abcd",
        ])
    func badDates(_ text: String) {
        #expect(throws: DqliteCodingError.self) { try Date(dqliteValue: .text(text)) }
    }

    @Test("dates are sent as ISO-8601 text in UTC and read back exactly")
    func dateOut() throws {
        let date = Date(timeIntervalSince1970: 1_704_164_645.25)
        #expect(try date.dqliteValue() == .iso8601("2024-01-02 03:04:05.25+00:00"))
        #expect(try Date(timeIntervalSince1970: 0).dqliteValue() == .iso8601("1970-01-01 00:00:00+00:00"))
        #expect(try Date(timeIntervalSince1970: -1).dqliteValue() == .iso8601("1969-12-31 23:59:59+00:00"))
        #expect(try Date(dqliteValue: date.dqliteValue()) == date)
        #expect(try Date(dqliteValue: .unixTime(1_700_000_000)).timeIntervalSince1970 == 1_700_000_000)
    }

    @Test("interpolation binds values as parameters, never as SQL")
    func interpolation() throws {
        let name = "Robert'); DROP TABLE students;--"
        let age: Int? = nil
        let table = "weird\"name"
        let query: DqliteQuery =
            "INSERT INTO \(identifier: table) (name, age, at) VALUES (\(name), \(age), \(unescaped: "CURRENT_TIMESTAMP"))"
        #expect(query.sql == "INSERT INTO \"weird\"\"name\" (name, age, at) VALUES (?, ?, CURRENT_TIMESTAMP)")
        #expect(query.parameters == [.text(name), .null])
        let big: DqliteQuery = "SELECT \(UInt64.max)"
        #expect(big.sql == "SELECT ?")
    }

    struct Person: Decodable, Equatable {
        var id: Int
        var name: String
        var email: String?
        var born: Date?
    }

    @Test("rows decode into tuples and Decodable records, with errors that name the column")
    func rows() throws {
        let columns = DqliteColumns(["id", "name", "email", "born"])
        let row = DqliteRow(columns: columns, values: [.integer(7), .text("Ada"), .null, .iso8601("")])
        let (id, name, email) = try row.decode((Int, String, String?).self)
        #expect(id == 7 && name == "Ada" && email == nil)
        #expect(try row.decode(String.self, column: "NAME") == "Ada")
        #expect(try row.decode(Person.self) == Person(id: 7, name: "Ada", email: nil, born: nil))
        let error = try #require(throws: DqliteCodingError.self) { try row.decode((String, Int).self) }
        #expect(error.index == 0 && error.column == "id")
        #expect("\(error)".contains("column 0 \"id\""))
        #expect(throws: DqliteCodingError.self) { try row.decode(Int.self, column: "missing") }
    }

    /// `row.decode(Int.self)` resolves to the Decodable overload in some contexts (a plain `Decodable` generic
    /// always does): it used to fail at run time on a scalar ("a row decodes as a keyed container (column
    /// names)") while the tuple overload decoded the leading column.
    @Test("through the Decodable overload, a scalar type decodes the leading column, as the tuple overload does")
    func scalarRow() throws {
        func viaDecodable<T: Decodable>(_ type: T.Type, from row: DqliteRow) throws -> T { try row.decode(type) }
        let count = DqliteRow(columns: DqliteColumns(["count(*)"]), values: [.integer(42)])
        #expect(try viaDecodable(Int.self, from: count) == 42)
        let name = DqliteRow(columns: DqliteColumns(["name"]), values: [.text("Ada")])
        #expect(try viaDecodable(String.self, from: name) == "Ada")
        #expect(try viaDecodable(Int?.self, from: DqliteRow(columns: DqliteColumns(["v"]), values: [.null])) == nil)
        #expect(throws: DqliteCodingError.self) { try viaDecodable(Int.self, from: name) }
        let two = DqliteRow(columns: DqliteColumns(["a", "b"]), values: [.integer(1), .integer(2)])
        #expect(try viaDecodable(Int.self, from: two) == two.decode(Int.self, at: 0))
    }
}
