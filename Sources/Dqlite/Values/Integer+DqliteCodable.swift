extension DqliteEncodable where Self: FixedWidthInteger {
    public func dqliteValue() throws(DqliteCodingError) -> DqliteValue {
        guard let value = Int64(exactly: self) else {
            throw DqliteCodingError(
                "\(self) does not fit in a 64-bit signed integer", targetType: Self.self, isEncoding: true)
        }
        return .integer(value)
    }
}

extension DqliteDecodable where Self: FixedWidthInteger {
    public init(dqliteValue value: DqliteValue) throws(DqliteCodingError) {
        let integer: Int64
        switch value {
        case .integer(let v), .unixTime(let v): integer = v
        case .boolean(let b): integer = b ? 1 : 0
        default: throw DqliteCodingError.mismatch(value, Self.self)
        }
        guard let exact = Self(exactly: integer) else {
            throw DqliteCodingError("INTEGER \(integer) does not fit in \(Self.self)", targetType: Self.self)
        }
        self = exact
    }
}

extension Int: DqliteCodable {}
extension Int8: DqliteCodable {}
extension Int16: DqliteCodable {}
extension Int32: DqliteCodable {}
extension Int64: DqliteCodable {}
extension UInt: DqliteCodable {}
extension UInt8: DqliteCodable {}
extension UInt16: DqliteCodable {}
extension UInt32: DqliteCodable {}
extension UInt64: DqliteCodable {}
