import DqliteWire
import DqliteWireJSON

/// One golden vector (format: Tests/DqliteWireTests/Golden/README.md) and the two checks every vector must
/// pass: its bytes decode to exactly the recorded structure, and the recorded structure encodes to exactly
/// its bytes. Shared by the Swift Testing suite and the arm64/amd64 runner (`dqlite-wire-golden`), so both
/// check vectors the same way.
public struct GoldenVector: Sendable {
    /// Who sent the frame.
    public enum Direction: String, Sendable { case request, response }

    public let id: String
    public let file: String
    public let direction: Direction
    public let source: String
    public let bytes: [UInt8]
    public let expect: JSONValue
    public let schema: UInt8
    public let context: ResponseContext
    public let canonical: Bool

    /// Parses one entry of a vector file's `"vectors"` array.
    public init(_ json: JSONValue, file: String) throws {
        func string(_ key: String) throws -> String {
            guard case .string(let s)? = json[key] else { throw JSONError("\(file): vector without \"\(key)\"") }
            return s
        }
        id = try string("id")
        self.file = file
        guard let direction = Direction(rawValue: try string("direction")) else {
            throw JSONError("\(file) \(id): bad direction")
        }
        self.direction = direction
        source = try string("source")
        guard !source.isEmpty else { throw JSONError("\(file) \(id): empty source") }
        guard let bytes = DqliteWireJSON.bytes(fromHex: try string("hex")) else {
            throw JSONError("\(file) \(id): bad hex")
        }
        self.bytes = bytes
        guard let expect = json["expect"] else { throw JSONError("\(file) \(id): no expect") }
        self.expect = expect
        if case .number(let text)? = json["schema"], let schema = UInt8(text) {
            self.schema = schema
        } else {
            schema = 0
        }
        let clusterFormat: ResponseContext.ClusterFormat
        switch json["context"]?["cluster_format"] {
        case .number("0")?: clusterFormat = .format0
        case .number("1")?: clusterFormat = .format1
        default: clusterFormat = .infer
        }
        context = ResponseContext(
            clusterFormat: clusterFormat, legacyHandshake: json["context"]?["legacy"] == .bool(true))
        canonical = json["canonical"] != .bool(false)
    }

    /// Parses a whole vector file.
    public static func parseFile(_ bytes: [UInt8], name: String) throws -> [GoldenVector] {
        let document = try JSONValue(parsing: bytes)
        guard case .array(let items)? = document["vectors"] else { throw JSONError("\(name): no \"vectors\" array") }
        return try items.map { try GoldenVector($0, file: name) }
    }

    /// The frame's message type byte, if the frame has a header.
    public var typeCode: UInt8? { bytes.count > 4 ? bytes[4] : nil }

    /// Why the bytes do not decode to `expect`, or nil when they do.
    public func decodeProblem() -> String? {
        do {
            let frame = try Frame(parsing: bytes)
            let rendered: JSONValue
            switch direction {
            case .request: rendered = try Request(decoding: frame).json(.exact)
            case .response: rendered = try Response(decoding: frame, context: context).json(.exact)
            }
            if rendered.isEquivalent(to: expect) { return nil }
            return "decoded \(clip(rendered.serialized)), expected \(clip(expect.serialized))"
        } catch {
            return "decode threw \(error)"
        }
    }

    /// Why `expect` does not encode to the bytes, or nil when it does. A non-canonical vector (stale padding in
    /// the original) must re-encode to bytes that are no longer and decode to the same message.
    public func encodeProblem() -> String? {
        do {
            let encoded: [UInt8]
            switch direction {
            case .request: encoded = try Request(json: expect, schema: schema).encoded()
            case .response: encoded = try Response(json: expect).encoded()
            }
            if canonical { return encoded == bytes ? nil : mismatch(encoded, bytes) }
            let same: Bool
            switch direction {
            case .request:
                same = try Request(decoding: Frame(parsing: encoded)) == Request(decoding: Frame(parsing: bytes))
            case .response:
                same =
                    try Response(decoding: Frame(parsing: encoded), context: context)
                    == Response(decoding: Frame(parsing: bytes), context: context)
            }
            if encoded.count <= bytes.count && same { return nil }
            return "non-canonical: our re-encoding decodes differently; " + mismatch(encoded, bytes)
        } catch {
            return "encode threw \(error)"
        }
    }
}

/// Where two frames differ: lengths, the first differing byte, and up to 32 bytes of each from just before it.
public func mismatch(_ ours: [UInt8], _ expected: [UInt8]) -> String {
    let first =
        (0..<min(ours.count, expected.count)).first { ours[$0] != expected[$0] } ?? min(ours.count, expected.count)
    let from = max(0, first - 8)
    func window(_ bytes: [UInt8]) -> String {
        let end = min(bytes.count, from + 32)
        return from < end ? hexString(Array(bytes[from..<end])) + (end < bytes.count ? "…" : "") : "(end)"
    }
    let whole = ours.count + expected.count <= 128
    return "encoded \(ours.count) bytes, expected \(expected.count); first difference at byte \(first)"
        + (whole
            ? ": encoded \(hexString(ours)), expected \(hexString(expected))"
            : "; from byte \(from): encoded \(window(ours)), expected \(window(expected))")
}

/// At most 400 characters of `text`.
func clip(_ text: String) -> String {
    text.count <= 400 ? text : String(text.prefix(400)) + "…(\(text.utf8.count) bytes)"
}

/// Lowercase hex.
public func hexString(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var out: [UInt8] = []
    out.reserveCapacity(bytes.count * 2)
    for byte in bytes {
        out.append(digits[Int(byte >> 4)])
        out.append(digits[Int(byte & 0xF)])
    }
    return String(decoding: out, as: UTF8.self)
}
