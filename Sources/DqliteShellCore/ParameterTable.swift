import DqliteSQL
import DqliteWire

/// The shell's `.param` table: values bound by name to the parameters of every statement it runs.
public struct ParameterTable: Hashable, Sendable {
    private var values: [String: WireValue] = [:]

    /// Creates an empty table.
    public init() {}

    /// The value set for a parameter name (`:a`, `@a`, `$a` or `?N`), or nil.
    public subscript(name: String) -> WireValue? {
        get { values[name] }
        set { values[name] = newValue }
    }

    /// Every entry, sorted by name.
    public var entries: [(name: String, value: WireValue)] {
        values.sorted { $0.key < $1.key }.map { (name: $0.key, value: $0.value) }
    }

    /// True when no parameter is set.
    public var isEmpty: Bool { values.isEmpty }

    /// Removes every entry.
    public mutating func removeAll() {
        values.removeAll()
    }

    /// Whether `name` is a parameter name SQLite could use: `:`, `@` or `$` followed by at least one
    /// identifier character, or `?` followed by an index from 1 to 32766.
    public static func isValidName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard bytes.count >= 2, let sigil = bytes.first else { return false }
        let rest = bytes.dropFirst()
        switch sigil {
        case UInt8(ascii: "?"):
            guard rest.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
                let index = Int(String(decoding: rest, as: UTF8.self))
            else { return false }
            return (1...maximumParameterIndex).contains(index)
        case UInt8(ascii: ":"), UInt8(ascii: "@"), UInt8(ascii: "$"):
            return rest.allSatisfy { byte in
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                    UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "$"), 0x80...0xFF:
                    return true
                default: return false
                }
            }
        default: return false
        }
    }
}
