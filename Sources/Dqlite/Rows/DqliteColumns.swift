/// The column names of a result, shared by all its rows, with name lookup.
public final class DqliteColumns: Sendable, Hashable, CustomStringConvertible {
    /// The names, in order.
    public let names: [String]
    private let index: [String: Int]

    /// Creates the columns of a result.
    public init(_ names: [String]) {
        self.names = names
        var index: [String: Int] = [:]
        for (position, name) in names.enumerated() where index[name] == nil {
            index[name] = position
        }
        self.index = index
    }

    /// How many columns.
    public var count: Int { names.count }

    /// The position of the first column with this name (exact match, then case-insensitive).
    public func position(of name: String) -> Int? {
        if let position = index[name] { return position }
        let lowered = name.lowercased()
        return names.firstIndex { $0.lowercased() == lowered }
    }

    public static func == (lhs: DqliteColumns, rhs: DqliteColumns) -> Bool { lhs === rhs || lhs.names == rhs.names }

    public func hash(into hasher: inout Hasher) { hasher.combine(names) }

    public var description: String { names.joined(separator: ", ") }
}
