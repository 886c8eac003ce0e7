import DqliteWire
import Testing

@Suite("Frame decoder")
struct FrameDecoderTests {
    /// protocol.md §6 G2 (LEADER) followed by G3 (CLIENT), after the G1 handshake: a client stream.
    static let clientStream = unhex(
        "0100000000000000 0100000000000000 0000000000000000 0100000001000000 0000000000000000")
    /// protocol.md §6 G2 SERVER response then G14's EMPTY: a server stream.
    static let serverStream = unhex(
        "0300000001000000 0100000000000000 3132372e302e302e 313a313930303100 0100000008000000 0000000000000000")

    @Test("one byte at a time yields the same frames as one chunk", arguments: [1, 2, 3, 5, 7, 8, 9, 13, 64])
    func chunking(_ chunkSize: Int) throws {
        var whole = FrameDecoder()
        whole.append(Self.serverStream)
        var expected: [Frame] = []
        while let frame = try whole.nextFrame() { expected.append(frame) }
        #expect(expected.count == 2)

        var decoder = FrameDecoder()
        var frames: [Frame] = []
        var index = 0
        while index < Self.serverStream.count {
            let end = min(index + chunkSize, Self.serverStream.count)
            decoder.append(Self.serverStream[index..<end])
            index = end
            while let frame = try decoder.nextFrame() { frames.append(frame) }
        }
        #expect(frames == expected)
        #expect(frames.map(\.offset) == [0, 32])
        #expect(decoder.bufferedByteCount == 0)
        #expect(try Response(decoding: frames[0]) == .server(id: 1, address: "127.0.0.1:19001"))
        #expect(try Response(decoding: frames[1]) == .empty)
    }

    @Test("a client stream starts with the handshake word")
    func handshake() throws {
        var decoder = FrameDecoder()
        for byte in Self.clientStream.prefix(7) {
            decoder.append([byte])
            #expect(try decoder.nextHandshake() == nil)
        }
        decoder.append(Self.clientStream.dropFirst(7))
        #expect(try decoder.nextHandshake() == ProtocolVersion.current)
        let leader = try #require(try decoder.nextFrame())
        #expect(try Request(decoding: leader) == .leader)
        #expect(leader.offset == 8)
        let client = try #require(try decoder.nextFrame())
        #expect(try Request(decoding: client) == .client(id: 0))
        #expect(ProtocolVersion.handshake() == unhex("0100000000000000"))
        #expect(ProtocolVersion.handshake(ProtocolVersion.legacy) == unhex("e53f4360d74d1086"))
    }

    @Test("an empty body is refused (it kills 1.11.1 servers) and poisons the decoder")
    func emptyBody() throws {
        var decoder = FrameDecoder()
        decoder.append(unhex("0000000008000000"))
        let error = try #require(throws: WireError.self) { try decoder.nextFrame() }
        #expect(error.code == .emptyBody)
        #expect(error.offset == 0)
        decoder.append(unhex("0100000008000000 0000000000000000"))
        let again = try #require(throws: WireError.self) { try decoder.nextFrame() }
        #expect(again == error)
    }

    @Test("a frame over the limit is refused from its header alone, before any body byte arrives")
    func tooLarge() throws {
        var decoder = FrameDecoder(limits: WireLimits(maxFrameBytes: 4096))
        decoder.append(unhex("0102000007000000"))  // 513 words = 4104 bytes
        let error = try #require(throws: WireError.self) { try decoder.nextFrame() }
        #expect(error.code == .frameTooLarge)

        // The default limit is 64 MiB; a header announcing 2^32-1 words is refused at once.
        var defaults = FrameDecoder()
        defaults.append(unhex("ffffffff07000000"))
        #expect(throws: WireError.self) { try defaults.nextFrame() }
        #expect(WireLimits.default.maxFrameBytes == 64 << 20)
    }

    @Test("an incomplete frame waits for more bytes")
    func incomplete() throws {
        var decoder = FrameDecoder()
        decoder.append(Self.serverStream.prefix(31))
        #expect(try decoder.nextFrame() == nil)
        #expect(decoder.bufferedByteCount == 31)
        decoder.append(Self.serverStream[31..<32])
        #expect(try decoder.nextFrame() != nil)
    }

    @Test("Frame(parsing:) rejects trailing and missing bytes")
    func parsing() throws {
        #expect(throws: WireError.self) { try Frame(parsing: Self.serverStream) }
        #expect(throws: WireError.self) { try Frame(parsing: Array(Self.serverStream.prefix(20))) }
        let frame = try Frame(parsing: Array(Self.serverStream.prefix(32)))
        #expect(frame.header == FrameHeader(words: 3, type: 1))
        #expect(frame.bytes == Array(Self.serverStream.prefix(32)))
    }

    @Test("the header's unused bytes are kept and ignored")
    func headerExtra() throws {
        // protocol.md §1.2: a live test sent extra = 0xcdab with no effect.
        let withExtra = try Frame(parsing: unhex("01000000 00 00 abcd 0000000000000000"))
        #expect(withExtra.header.extra == 0xcdab)
        #expect(try Request(decoding: withExtra) == .leader)
    }
}
