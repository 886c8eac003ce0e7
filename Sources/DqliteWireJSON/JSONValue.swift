/// A JSON document, kept exactly as written: numbers keep their source text (so 64-bit integers and
/// float spellings survive) and object members keep their order (so output follows the dissector's field
/// order).
public enum JSONValue: Hashable, Sendable {
    case null
    case bool(Bool)
    /// A number, as its JSON text (e.g. `"-9223372036854775808"`, `"2.5"`, `"1e-05"`).
    case number(String)
    case string(String)
    case array([JSONValue])
    /// Members in order. Keys are unique in everything this package writes.
    case object([Member])

    /// One object member.
    public struct Member: Hashable, Sendable {
        public var key: String
        public var value: JSONValue

        public init(_ key: String, _ value: JSONValue) {
            self.key = key
            self.value = value
        }
    }

    /// A JSON number from an unsigned integer.
    public static func integer(_ value: UInt64) -> JSONValue { .number(String(value)) }
    /// A JSON number from a signed integer.
    public static func integer(_ value: Int64) -> JSONValue { .number(String(value)) }

    /// The member named `key`, if this is an object that has it.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.key == key }?.value
    }

    /// Equality by meaning: objects compare regardless of member order, numbers by value (integers exactly,
    /// other numbers as `Double` bit patterns).
    public func isEquivalent(to other: JSONValue) -> Bool {
        switch (self, other) {
        case (.null, .null): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.string(let a), .string(let b)): return a == b
        case (.number(let a), .number(let b)): return JSONValue.numbersEqual(a, b)
        case (.array(let a), .array(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.isEquivalent(to: $1) }
        case (.object(let a), .object(let b)):
            guard a.count == b.count else { return false }
            for member in a {
                guard let match = b.first(where: { $0.key == member.key }), member.value.isEquivalent(to: match.value)
                else { return false }
            }
            return true
        default: return false
        }
    }

    static func numbersEqual(_ a: String, _ b: String) -> Bool {
        if a == b { return true }
        if let x = Int64(a), let y = Int64(b) { return x == y }
        if let x = UInt64(a), let y = UInt64(b) { return x == y }
        if isIntegerText(a) != isIntegerText(b) { return false }
        guard let x = Double(a), let y = Double(b) else { return false }
        return x.bitPattern == y.bitPattern
    }

    /// True when the number text has no fraction or exponent.
    static func isIntegerText(_ text: String) -> Bool {
        !text.utf8.contains { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }
    }
}
