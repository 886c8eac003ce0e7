/// How many terminal columns text takes: East Asian wide and fullwidth characters and emoji take two,
/// combining marks and format characters that stand alone take none, everything else takes one.
enum DisplayWidth {
    /// Columns taken by `text`.
    static func of(_ text: String) -> Int {
        if text.utf8.allSatisfy({ $0 < 0x80 }) { return text.utf8.count }
        return text.reduce(0) { $0 + of($1) }
    }

    /// Columns taken by one character (grapheme cluster).
    static func of(_ character: Character) -> Int {
        guard let first = character.unicodeScalars.first else { return 0 }
        if first.isASCII { return 1 }
        switch first.properties.generalCategory {
        case .nonspacingMark, .enclosingMark, .format: return 0
        default: break
        }
        if isWide(first) || character.unicodeScalars.contains(where: { $0.value == 0xFE0F }) { return 2 }
        return 1
    }

    /// `text` cut to at most `width` columns, ending in `…` when something was cut. `width` below 2 counts
    /// as 2.
    static func truncate(_ text: String, to width: Int) -> String {
        let limit = max(width, 2)
        var used = 0
        var cut = text.startIndex  // the end of the longest prefix that leaves room for "…"
        for index in text.indices {
            let columns = of(text[index])
            if used + columns > limit { return String(text[..<cut]) + "…" }
            used += columns
            if used < limit { cut = text.index(after: index) }
        }
        return text
    }

    private static func isWide(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.properties.isEmojiPresentation { return true }
        switch scalar.value {
        case 0x1100...0x115F, 0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF,
            0xA000...0xA4CF, 0xA960...0xA97F, 0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE10...0xFE19,
            0xFE30...0xFE6F, 0xFF00...0xFF60, 0xFFE0...0xFFE6, 0x1F300...0x1F64F, 0x1F900...0x1F9FF,
            0x20000...0x2FFFD, 0x30000...0x3FFFD:
            return true
        default:
            return false
        }
    }
}
