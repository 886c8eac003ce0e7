import DqliteWire
import DqliteWireJSON
import DqliteWireTestSupport

/// 64-bit FNV-1a over a byte stream.
struct FNV1a64 {
    private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    mutating func update(_ bytes: [UInt8]) {
        var h = value
        for byte in bytes {
            h ^= UInt64(byte)
            h &*= 0x0000_0100_0000_01b3
        }
        value = h
    }

    /// 16 lowercase hex digits.
    var hexDigits: String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}

/// What the corpus run found.
struct CorpusReport {
    var messages = 0
    var requests = 0
    var responses = 0
    var multiFrameResults = 0
    var bytes = 0
    var digest = FNV1a64()
    /// Messages also checked through their exact JSON form (every `jsonEvery`-th one).
    var jsonChecked = 0
    /// FNV-1a of those messages' serialized JSON: the dissector's text must be identical on every architecture too.
    var jsonDigest = FNV1a64()
    var failures = 0
    var failureSamples: [String] = []
    /// Request cases seen (the type code, plus "13-promote" for the legacy one-word ASSIGN).
    var requestKinds: Set<String> = []
    /// Response cases seen (the type code, plus "1-legacy" for the address-only SERVER).
    var responseKinds: Set<String> = []
    /// Value type codes seen in parameters and rows.
    var valueTypes: Set<UInt8> = []

    mutating func fail(_ message: String) {
        failures += 1
        if failureSamples.count < 10 { failureSamples.append(message) }
    }

    /// Everything the corpus must cover; the missing parts, if any.
    var missingCoverage: [String] {
        var missing: [String] = []
        let requests = Set((0...19).map { "\($0)" } + ["13-promote"])
        let responses = Set((0...10).map { "\($0)" } + ["1-legacy"])
        missing += requests.subtracting(requestKinds).sorted().map { "request \($0)" }
        missing += responses.subtracting(responseKinds).sorted().map { "response \($0)" }
        missing += Set<UInt8>([1, 2, 3, 4, 5, 9, 10, 11]).subtracting(valueTypes).sorted().map { "value type \($0)" }
        if multiFrameResults == 0 { missing.append("multi-frame ROWS") }
        return missing
    }
}

enum Corpus {
    /// Decoding limits for the corpus: the defaults, except node addresses, which `MessageGenerator` makes up to
    /// ~3 KB long (the default cap is 1024 bytes). The corpus checks bytes and values, not the caps.
    static let limits = WireLimits(maxAddressBytes: 1 << 16)

    /// Every this many messages, the message also goes through its exact JSON form and back.
    static let jsonEvery = 10

    private static func checkJSON(_ json: JSONValue, _ report: inout CorpusReport, rebuild: (JSONValue) throws -> Bool)
    {
        report.jsonChecked += 1
        let text = json.serialized
        report.jsonDigest.update(Array(text.utf8))
        do {
            let reparsed = try JSONValue(parsing: text)
            if !(try rebuild(reparsed)) {
                report.fail("message \(report.messages - 1): JSON form rebuilds a different message")
            }
        } catch {
            report.fail("message \(report.messages - 1): JSON form: \(error)")
        }
    }

    /// Encodes at least `count` messages from `MessageGenerator(seed:)`, in a fixed order that depends only on
    /// the seed: each round is one request, one response, and every eighth round a multi-frame ROWS result
    /// (2–5 frames). Each frame is decoded back and compared with what was encoded; every encoded byte is
    /// folded into the digest in order.
    static func run(count: Int, seed: UInt64) -> CorpusReport {
        var generator = MessageGenerator(seed: seed)
        var report = CorpusReport()
        var buffer: [UInt8] = []
        var round = 0
        while report.messages < count {
            let request = generator.request()
            roundTrip(request, &buffer, &report)
            if report.messages >= count { break }
            let response = generator.response()
            roundTrip(response, &buffer, &report)
            if round % 8 == 7, report.messages < count {
                // A multi-frame result goes through the streaming FrameDecoder in uneven chunks.
                let frames = generator.rowsResult()
                let chunk = 1 + generator.rng.below(4096)
                roundTripStream(frames, chunk: chunk, &report, limit: count)
            }
            round += 1
        }
        return report
    }

    private static func record(_ bytes: [UInt8], _ report: inout CorpusReport) {
        report.messages += 1
        report.bytes += bytes.count
        report.digest.update(bytes)
    }

    private static func noteValues(_ values: [WireValue], _ report: inout CorpusReport) {
        for value in values { report.valueTypes.insert(value.type.rawValue) }
    }

    static func roundTrip(_ request: Request, _ buffer: inout [UInt8], _ report: inout CorpusReport) {
        report.requests += 1
        if case .promote = request {
            report.requestKinds.insert("13-promote")
        } else {
            report.requestKinds.insert("\(request.type.rawValue)")
        }
        switch request {
        case .exec(let call), .query(let call): noteValues(call.parameters, &report)
        case .execSQL(let call), .querySQL(let call): noteValues(call.parameters, &report)
        default: break
        }
        do {
            buffer.removeAll(keepingCapacity: true)
            try request.encode(into: &buffer)
            record(buffer, &report)
            let decoded = try Request(decoding: Frame(parsing: buffer, limits: limits), limits: limits)
            if decoded != request {
                report.fail("message \(report.messages - 1): request \(request.type.name) decoded to a different value")
            }
            if report.messages % jsonEvery == 0 {
                checkJSON(decoded.json(.exact), &report) { try Request(json: $0, schema: request.schema) == request }
            }
        } catch {
            report.fail("message \(report.messages): request \(request.type.name): \(error)")
        }
    }

    /// The context a client would decode this response with (it knows its handshake and CLUSTER format).
    static func context(for response: Response) -> ResponseContext {
        switch response {
        case .serverLegacy: return ResponseContext(legacyHandshake: true, limits: limits)
        case .servers(let nodes):
            return ResponseContext(
                clusterFormat: nodes.contains { $0.role != nil } ? .format1 : .format0, limits: limits)
        default: return ResponseContext(limits: limits)
        }
    }

    static func noteResponse(_ response: Response, _ report: inout CorpusReport) {
        report.responses += 1
        if case .serverLegacy = response {
            report.responseKinds.insert("1-legacy")
        } else {
            report.responseKinds.insert("\(response.type.rawValue)")
        }
        if case .rows(let frame) = response {
            for row in frame.rows { noteValues(row, &report) }
        }
    }

    static func roundTrip(_ response: Response, _ buffer: inout [UInt8], _ report: inout CorpusReport) {
        noteResponse(response, &report)
        do {
            buffer.removeAll(keepingCapacity: true)
            try response.encode(into: &buffer)
            record(buffer, &report)
            let decoded = try Response(
                decoding: Frame(parsing: buffer, limits: limits), context: context(for: response))
            if decoded != response {
                report.fail(
                    "message \(report.messages - 1): response \(response.type.name) decoded to a different value")
            }
            if report.messages % jsonEvery == 0 {
                checkJSON(decoded.json(.exact), &report) { try Response(json: $0) == response }
            }
        } catch {
            report.fail("message \(report.messages): response \(response.type.name): \(error)")
        }
    }

    /// Encodes the frames of one result into one stream, feeds it to a `FrameDecoder` `chunk` bytes at a time,
    /// and checks that exactly those frames come back (PART on all but the last).
    static func roundTripStream(_ frames: [Response], chunk: Int, _ report: inout CorpusReport, limit: Int) {
        report.multiFrameResults += 1
        var stream: [UInt8] = []
        var encodedCount = 0
        do {
            for response in frames where report.messages < limit {
                noteResponse(response, &report)
                var one: [UInt8] = []
                try response.encode(into: &one)
                record(one, &report)
                stream += one
                encodedCount += 1
            }
            var decoder = FrameDecoder(limits: limits)
            var decoded: [Response] = []
            var index = 0
            while index < stream.count {
                let end = min(index + chunk, stream.count)
                decoder.append(stream[index..<end])
                index = end
                while let frame = try decoder.nextFrame() {
                    decoded.append(try Response(decoding: frame, context: ResponseContext(limits: limits)))
                }
            }
            let expected = Array(frames.prefix(encodedCount))
            if decoded != expected || decoder.bufferedByteCount != 0 {
                report.fail(
                    "message \(report.messages - 1): a \(frames.count)-frame ROWS result streamed back differently")
            }
        } catch {
            report.fail("message \(report.messages): \(frames.count)-frame ROWS result: \(error)")
        }
    }
}
