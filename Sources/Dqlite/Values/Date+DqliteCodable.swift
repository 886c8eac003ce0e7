#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

extension Date: DqliteCodable {
    /// Sent as ISO8601 text in UTC with nanoseconds, e.g. `2024-01-02 03:04:05.5+00:00` (the server refuses
    /// UNIXTIME parameters; go-dqlite sends time the same way).
    public func dqliteValue() throws(DqliteCodingError) -> DqliteValue {
        let interval = timeIntervalSince1970
        guard interval.isFinite, abs(interval) < 9.0e15 else {
            throw DqliteCodingError(
                "\(self) is outside the representable range", targetType: Date.self, isEncoding: true)
        }
        var seconds = interval.rounded(.down)
        var nanoseconds = ((interval - seconds) * 1e9).rounded()
        if nanoseconds >= 1e9 {
            seconds += 1
            nanoseconds -= 1e9
        }
        return .iso8601(ISO8601Time.format(.init(seconds: Int64(seconds), nanoseconds: Int32(nanoseconds))))
    }

    /// Reads UNIXTIME (seconds), ISO8601 and TEXT in any layout go-dqlite accepts, and INTEGER seconds.
    public init(dqliteValue value: DqliteValue) throws(DqliteCodingError) {
        switch value {
        case .unixTime(let seconds), .integer(let seconds):
            self = Date(timeIntervalSince1970: TimeInterval(seconds))
        case .iso8601(let text), .text(let text):
            guard let instant = ISO8601Time.parse(text) else {
                throw DqliteCodingError("\"\(text)\" is not a date and time dqlite understands", targetType: Date.self)
            }
            self = Date(timeIntervalSince1970: TimeInterval(instant.seconds) + TimeInterval(instant.nanoseconds) / 1e9)
        default:
            throw DqliteCodingError.mismatch(value, Date.self)
        }
    }
}
