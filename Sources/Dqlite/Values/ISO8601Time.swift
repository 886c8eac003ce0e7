/// dqlite's date and time text, without Foundation's formatters.
///
/// Parsing accepts every layout go-dqlite accepts (with a trailing `Z` removed first): date and time separated
/// by a space or `T`; seconds, fractional seconds (up to nanoseconds) and a `±hh:mm` (or `±hhmm`) offset all
/// optional; `HH:MM` without seconds; a date alone. No offset means UTC. Formatting writes
/// `YYYY-MM-DD HH:MM:SS[.fffffffff]+00:00` in UTC, like go-dqlite with a UTC time.
enum ISO8601Time {
    /// Seconds and nanoseconds since 1970-01-01T00:00:00Z.
    struct Instant: Hashable {
        var seconds: Int64
        var nanoseconds: Int32
    }

    /// Parses `text`; nil if it matches none of the layouts.
    static func parse(_ text: String) -> Instant? {
        var bytes = Array(text.utf8)
        if bytes.last == UInt8(ascii: "Z") { bytes.removeLast() }
        var index = 0
        func number(_ digits: Int) -> Int? {
            guard index + digits <= bytes.count else { return nil }
            var value = 0
            for k in 0..<digits {
                let b = bytes[index + k]
                guard b >= 0x30 && b <= 0x39 else { return nil }
                value = value * 10 + Int(b - 0x30)
            }
            index += digits
            return value
        }
        func expect(_ c: Character) -> Bool {
            guard index < bytes.count, bytes[index] == c.asciiValue else { return false }
            index += 1
            return true
        }
        guard let year = number(4), expect("-"), let month = number(2), expect("-"), let day = number(2),
            (1...12).contains(month), (1...daysIn(month: month, year: year)).contains(day)
        else { return nil }
        var hour = 0, minute = 0, second = 0, nanos = 0, offset = 0
        if index < bytes.count {
            guard bytes[index] == UInt8(ascii: " ") || bytes[index] == UInt8(ascii: "T") else { return nil }
            index += 1
            guard let h = number(2), expect(":"), let m = number(2), h < 24, m < 60 else { return nil }
            hour = h
            minute = m
            if expect(":") {
                guard let s = number(2), s < 61 else { return nil }
                second = s
                if expect(".") {
                    var digits = 0
                    while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 {
                        if digits < 9 { nanos = nanos * 10 + Int(bytes[index] - 0x30) }
                        digits += 1
                        index += 1
                    }
                    guard digits > 0 else { return nil }
                    var scale = digits
                    while scale < 9 {
                        nanos *= 10
                        scale += 1
                    }
                }
            }
            if index < bytes.count {
                let sign: Int
                switch bytes[index] {
                case UInt8(ascii: "+"): sign = 1
                case UInt8(ascii: "-"): sign = -1
                default: return nil
                }
                index += 1
                guard let oh = number(2), oh < 24 else { return nil }
                _ = expect(":")
                guard let om = number(2), om < 60 else { return nil }
                offset = sign * (oh * 3600 + om * 60)
            }
        }
        guard index == bytes.count else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        let seconds = Int64(days) * 86400 + Int64(hour * 3600 + minute * 60 + second) - Int64(offset)
        return Instant(seconds: seconds, nanoseconds: Int32(nanos))
    }

    /// `YYYY-MM-DD HH:MM:SS[.fffffffff]+00:00` (fraction without trailing zeros, omitted when zero).
    static func format(_ instant: Instant) -> String {
        let days = instant.seconds >= 0 ? instant.seconds / 86400 : (instant.seconds - 86399) / 86400
        let secondOfDay = Int(instant.seconds - days * 86400)
        let (year, month, day) = civilFromDays(Int(days))
        func pad(_ value: Int, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        var text = "\(year < 0 ? "-" : "")\(pad(abs(year), 4))-\(pad(month, 2))-\(pad(day, 2)) "
        text += "\(pad(secondOfDay / 3600, 2)):\(pad(secondOfDay / 60 % 60, 2)):\(pad(secondOfDay % 60, 2))"
        if instant.nanoseconds > 0 {
            var fraction = pad(Int(instant.nanoseconds), 9)
            while fraction.hasSuffix("0") { fraction.removeLast() }
            text += "." + fraction
        }
        return text + "+00:00"
    }

    static func isLeap(_ year: Int) -> Bool { year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01 (Howard Hinnant's algorithm).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }

    static func civilFromDays(_ days: Int) -> (Int, Int, Int) {
        let z = days + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
