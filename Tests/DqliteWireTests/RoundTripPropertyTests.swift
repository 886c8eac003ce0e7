import DqliteWire
import DqliteWireJSON
import DqliteWireTestSupport
import PropertyBased
import Testing

/// Runs a property body and records a thrown error as a test issue. (PropertyBased 2.0.1 swallows errors
/// thrown from a property body — `try?` in its issue counting — so a body must never throw out.)
func recordingErrors(_ body: () throws -> Void) {
    do { try body() } catch { Issue.record("unexpected error: \(error)") }
}

/// encode → decode is the identity, for random messages of every kind (generated from a random seed by
/// `MessageGenerator`; PropertyBased reports the failing seed).
@Suite("Round-trip properties")
struct RoundTripPropertyTests {
    @Test("requests: decode(encode(r)) == r, and the JSON form builds the same request")
    func requests() async {
        await propertyCheck(count: 3000, input: Gen.uint64()) { seed in
            recordingErrors {
                var generator = MessageGenerator(seed: seed)
                let request = generator.request()
                let bytes = try request.encoded()
                #expect(bytes.count % 8 == 0)
                let frame = try Frame(parsing: bytes)
                #expect(frame.header.words > 0)
                #expect(try Request(decoding: frame) == request)
                #expect(try Request(json: request.json(.exact), schema: request.schema) == request)
            }
        }
    }

    @Test("responses: decode(encode(r)) == r, and the JSON form builds the same response")
    func responses() async {
        await propertyCheck(count: 3000, input: Gen.uint64()) { seed in
            recordingErrors {
                var generator = MessageGenerator(seed: seed)
                let response = generator.response()
                let frame = try Frame(parsing: try response.encoded())
                var context = ResponseContext()
                if case .servers(let nodes) = response {
                    context.clusterFormat = nodes.first?.role == nil ? .format0 : .format1
                }
                if case .serverLegacy = response { context.legacyHandshake = true }
                #expect(try Response(decoding: frame, context: context) == response)
                #expect(try Response(json: response.json(.exact)) == response)
            }
        }
    }

    @Test("multi-frame results stream back frame by frame, row by row, through any chunking")
    func multiFrameRows() async {
        await propertyCheck(count: 300, input: Gen.uint64(), Gen.int(in: 1...64)) { seed, chunk in
            recordingErrors {
                var generator = MessageGenerator(seed: seed)
                let frames = generator.rowsResult()
                var stream: [UInt8] = []
                for frame in frames { try frame.encode(into: &stream) }
                var decoder = FrameDecoder()
                var decoded: [Response] = []
                var index = 0
                while index < stream.count {
                    let end = min(index + chunk, stream.count)
                    decoder.append(stream[index..<end])
                    index = end
                    while let frame = try decoder.nextFrame() {
                        var rows = try RowsDecoder(frame: frame)
                        var collected: [[WireValue]] = []
                        var row: [WireValue] = []
                        while try rows.next(into: &row) { collected.append(row) }
                        decoded.append(
                            .rows(RowsFrame(columns: rows.columns, rows: collected, more: rows.marker == .part)))
                    }
                }
                #expect(decoded == frames)
            }
        }
    }

    @Test("SERVERS format inference picks the format that was encoded")
    func serversInference() async {
        await propertyCheck(count: 500, input: Gen.uint64()) { seed in
            recordingErrors {
                var generator = MessageGenerator(seed: seed)
                var nodes: [NodeInfo] = []
                let withRoles = generator.rng.oneIn(2)
                for _ in 0..<(1 + generator.rng.below(4)) {
                    nodes.append(
                        NodeInfo(
                            id: generator.uint64(), address: "10.0.0.\(generator.rng.below(255)):9001",
                            role: withRoles ? UInt64(generator.rng.below(3)) : nil))
                }
                let frame = try Frame(parsing: try Response.servers(nodes).encoded())
                #expect(try Response(decoding: frame) == .servers(nodes))
            }
        }
    }
}

/// The decoder never traps: random bytes and mutated valid frames give a message or a `WireError`.
@Suite("Decoder robustness properties")
struct DecoderRobustnessTests {
    static func exercise(_ bytes: [UInt8]) {
        var decoder = FrameDecoder(limits: WireLimits(maxFrameBytes: 1 << 16))
        decoder.append(bytes)
        while true {
            do {
                guard let frame = try decoder.nextFrame() else { break }
                _ = try? Response(decoding: frame)
                _ = try? Request(decoding: frame)
                if var rows = try? RowsDecoder(frame: frame) {
                    var row: [WireValue] = []
                    while (try? rows.next(into: &row)) == true {}
                }
            } catch {
                #expect(error is WireError)
                break
            }
        }
        _ = try? RowsDecoder(body: bytes)
    }

    @Test("random bytes")
    func randomBytes() async {
        await propertyCheck(count: 3000, input: Gen.uint8().array(of: 0...512)) { bytes in
            Self.exercise(bytes)
            // Also as a plausible frame: a header that matches the length.
            var framed = FrameHeader(words: UInt32((bytes.count + 7) / 8), type: bytes.first.map { $0 % 12 } ?? 7).bytes
            framed += bytes + [UInt8](repeating: 0, count: (8 - bytes.count % 8) % 8)
            Self.exercise(framed)
        }
    }

    @Test("mutated valid frames")
    func mutatedFrames() async {
        await propertyCheck(count: 3000, input: Gen.uint64(), Gen.uint64()) { seed, mutationSeed in
            recordingErrors {
                var generator = MessageGenerator(seed: seed)
                var bytes =
                    generator.rng.oneIn(2) ? try generator.request().encoded() : try generator.response().encoded()
                var rng = SplitMix64(seed: mutationSeed)
                for _ in 0..<(1 + rng.below(4)) {
                    let index = rng.below(bytes.count)
                    switch rng.below(3) {
                    case 0: bytes[index] ^= UInt8(truncatingIfNeeded: rng.next() | 1)
                    case 1: bytes.removeSubrange(index...)
                    default: bytes.insert(UInt8(truncatingIfNeeded: rng.next()), at: index)
                    }
                    if bytes.isEmpty { break }
                }
                Self.exercise(bytes)
            }
        }
    }
}
