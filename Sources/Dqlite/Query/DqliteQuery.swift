/// SQL with its parameters, written with string interpolation: every interpolated value becomes a bound `?`
/// parameter, never SQL text.
///
/// ```swift
/// let name = "Robert'); DROP TABLE students;--"
/// try await client.execute("INSERT INTO students (name, age) VALUES (\(name), \(age))")
/// // SQL: INSERT INTO students (name, age) VALUES (?, ?)   parameters: [name, age]
/// ```
///
/// - `nil` optionals bind NULL.
/// - `\(identifier: name)` inserts a double-quoted SQL identifier (quotes doubled), for table or column names
///   that come from variables.
/// - `\(unescaped: text)` inserts raw SQL text — the explicit escape hatch; never pass user input.
/// - ``init(unsafeSQL:parameters:)`` takes SQL and parameters as they are.
public struct DqliteQuery: ExpressibleByStringInterpolation, Sendable, CustomStringConvertible {
    /// The SQL text, with `?` for each parameter.
    public var sql: String
    /// The parameters, in order.
    public var parameters: [DqliteValue]
    /// A value that could not be encoded (e.g. a `UInt64` above `Int64.max`); executing the query throws it.
    var encodingError: DqliteCodingError?

    /// SQL and parameters exactly as given.
    public init(unsafeSQL sql: String, parameters: [DqliteValue] = []) {
        self.sql = sql
        self.parameters = parameters
    }

    public init(stringLiteral value: String) {
        self.init(unsafeSQL: value)
    }

    public init(stringInterpolation: StringInterpolation) {
        self.sql = stringInterpolation.sql
        self.parameters = stringInterpolation.parameters
        self.encodingError = stringInterpolation.encodingError
    }

    /// The SQL text and the number of bound parameters, never their values (they may be secrets or personal
    /// data, and descriptions end up in logs). ``descriptionWithParameters`` shows them.
    public var description: String {
        parameters.isEmpty ? sql : "\(sql) [\(parameters.count) parameter\(parameters.count == 1 ? "" : "s") redacted]"
    }

    /// The SQL text with the bound values, for debugging where printing them is acceptable.
    public var descriptionWithParameters: String {
        parameters.isEmpty ? sql : "\(sql) \(parameters)"
    }

    /// Builds a query from literal SQL and interpolated values.
    public struct StringInterpolation: StringInterpolationProtocol, Sendable {
        var sql: String
        var parameters: [DqliteValue]
        var encodingError: DqliteCodingError?

        public init(literalCapacity: Int, interpolationCount: Int) {
            sql = ""
            sql.reserveCapacity(literalCapacity + interpolationCount)
            parameters = []
            parameters.reserveCapacity(interpolationCount)
        }

        public mutating func appendLiteral(_ literal: String) {
            sql += literal
        }

        /// Binds a value as a `?` parameter.
        public mutating func appendInterpolation(_ value: some DqliteEncodable) {
            sql += "?"
            do {
                parameters.append(try value.dqliteValue())
            } catch {
                if encodingError == nil { encodingError = error }
                parameters.append(.null)
            }
        }

        /// Binds an optional value; nil binds NULL.
        public mutating func appendInterpolation(_ value: (some DqliteEncodable)?) {
            guard let value else {
                sql += "?"
                parameters.append(.null)
                return
            }
            appendInterpolation(value)
        }

        /// Inserts a double-quoted identifier (`"` doubled inside).
        public mutating func appendInterpolation(identifier: String) {
            sql += "\"" + identifier.replacingAll("\"", with: "\"\"") + "\""
        }

        /// Inserts raw SQL text. Never pass user input here.
        public mutating func appendInterpolation(unescaped text: String) {
            sql += text
        }

        /// Inserts another query's SQL and parameters.
        public mutating func appendInterpolation(_ query: DqliteQuery) {
            sql += query.sql
            parameters += query.parameters
            if encodingError == nil { encodingError = query.encodingError }
        }
    }

    /// The query's parameters, or the encoding error of a value that could not be bound.
    func checkedParameters() throws -> [DqliteValue] {
        if let encodingError {
            throw DqliteError(.coding, "a parameter cannot be bound: \(encodingError)", underlying: encodingError)
        }
        return DqliteQuery.bindable(parameters)
    }

    /// Values as servers accept them: UNIXTIME is a cell type only (servers refuse it as a parameter), so it is
    /// bound as the INTEGER it holds — which a DATETIME column gives back as UNIXTIME.
    static func bindable(_ values: [DqliteValue]) -> [DqliteValue] {
        guard values.contains(where: { if case .unixTime = $0 { return true } else { return false } }) else {
            return values
        }
        return values.map { value in
            if case .unixTime(let seconds) = value { return .integer(seconds) }
            return value
        }
    }
}

extension String {
    /// Replaces every occurrence of `target` (no Foundation).
    func replacingAll(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var result = ""
        var rest = self[...]
        while let range = rest.range(of: target) {
            result += rest[..<range.lowerBound]
            result += replacement
            rest = rest[range.upperBound...]
        }
        return result + rest
    }
}

extension Substring {
    /// The first range of `target` (no Foundation).
    func range(of target: String) -> Range<Index>? {
        guard let first = target.first else { return nil }
        var index = startIndex
        while index < endIndex {
            if self[index] == first, self[index...].hasPrefix(target) {
                return index..<self.index(index, offsetBy: target.count)
            }
            index = self.index(after: index)
        }
        return nil
    }
}
