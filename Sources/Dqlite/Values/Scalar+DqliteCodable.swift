extension Double: DqliteCodable {
    public func dqliteValue() throws(DqliteCodingError) -> DqliteValue { .float(self) }

    /// Reads FLOAT, and INTEGER when it converts exactly.
    public init(dqliteValue value: DqliteValue) throws(DqliteCodingError) {
        switch value {
        case .float(let v): self = v
        case .integer(let v):
            guard let exact = Double(exactly: v) else {
                throw DqliteCodingError("INTEGER \(v) has no exact Double", targetType: Double.self)
            }
            self = exact
        default: throw DqliteCodingError.mismatch(value, Double.self)
        }
    }
}

extension Float: DqliteCodable {
    public func dqliteValue() throws(DqliteCodingError) -> DqliteValue { .float(Double(self)) }

    public init(dqliteValue value: DqliteValue) throws(DqliteCodingError) {
        self = Float(try Double(dqliteValue: value))
    }
}

extension String: DqliteCodable {
    public func dqliteValue() throws(DqliteCodingError) -> DqliteValue { .text(self) }

    /// Reads TEXT and ISO8601 text.
    public init(dqliteValue value: DqliteValue) throws(DqliteCodingError) {
        switch value {
        case .text(let v): self = v
        case .iso8601(let v) where !v.isEmpty: self = v
        default: throw DqliteCodingError.mismatch(value, String.self)
        }
    }
}

extension Bool: DqliteCodable {
    /// Sent as BOOLEAN (bound as the integer 0 or 1).
    public func dqliteValue() throws(DqliteCodingError) -> DqliteValue { .boolean(self) }

    /// Reads BOOLEAN, and the INTEGERs 0 and 1.
    public init(dqliteValue value: DqliteValue) throws(DqliteCodingError) {
        switch value {
        case .boolean(let v): self = v
        case .integer(0): self = false
        case .integer(1): self = true
        default: throw DqliteCodingError.mismatch(value, Bool.self)
        }
    }
}

extension Array: DqliteEncodable where Element == UInt8 {
    public func dqliteValue() throws(DqliteCodingError) -> DqliteValue { .blob(self) }
}

extension Array: DqliteDecodable where Element == UInt8 {
    /// Reads BLOB (and TEXT as its UTF-8 bytes).
    public init(dqliteValue value: DqliteValue) throws(DqliteCodingError) {
        switch value {
        case .blob(let v): self = v
        case .text(let v): self = Array(v.utf8)
        default: throw DqliteCodingError.mismatch(value, [UInt8].self)
        }
    }
}

extension Optional: DqliteEncodable where Wrapped: DqliteEncodable {
    /// nil is NULL.
    public func dqliteValue() throws(DqliteCodingError) -> DqliteValue {
        guard let self else { return .null }
        return try self.dqliteValue()
    }
}

extension Optional: DqliteDecodable where Wrapped: DqliteDecodable {
    /// NULL (and the empty ISO8601 string the server sends for a NULL DATETIME) is nil.
    public init(dqliteValue value: DqliteValue) throws(DqliteCodingError) {
        if value.isNull {
            self = nil
        } else {
            self = try Wrapped(dqliteValue: value)
        }
    }
}

extension DqliteEncodable where Self: RawRepresentable, RawValue: DqliteEncodable {
    public func dqliteValue() throws(DqliteCodingError) -> DqliteValue { try rawValue.dqliteValue() }
}

extension DqliteDecodable where Self: RawRepresentable, RawValue: DqliteDecodable {
    public init(dqliteValue value: DqliteValue) throws(DqliteCodingError) {
        let raw = try RawValue(dqliteValue: value)
        guard let decoded = Self(rawValue: raw) else {
            throw DqliteCodingError("\(raw) is not a valid \(Self.self)", targetType: Self.self)
        }
        self = decoded
    }
}
