import DqliteWire
import Testing

@testable import DqliteWireJSON

/// SERVER's two layouts in the dissector (protocol.md §2.2 and golden vector G2): the legacy reply carries the
/// leader's address only, and a one-direction dissector must recognise it without seeing the handshake.
@Suite("Wire dissector: legacy SERVER replies")
struct DissectorLegacyTests {
    /// G2, current layout: id 1, "127.0.0.1:19001".
    static let current = unhex("0300000001000000 | 0100000000000000 3132372e302e302e 313a313930303100")
    /// G2 on a legacy-handshake connection: the address only.
    static let legacy = unhex("0200000001000000 | 3132372e302e302e 313a313930303100")

    static func dissect(_ bytes: [UInt8], layout: WireDissector.ServerLayout = .infer) -> [JSONValue] {
        var dissector = WireDissector(direction: .server, serverLayout: layout)
        var lines: [JSONValue] = []
        _ = dissector.feed(bytes) { lines.append($0) }
        _ = dissector.finish { lines.append($0) }
        return lines
    }

    @Test("a legacy SERVER body (one text field) is decoded as the address, with no id")
    func legacyInferred() throws {
        let lines = Self.dissect(Self.legacy)
        try #require(lines.count == 1)
        #expect(lines[0]["address"] == .string("127.0.0.1:19001"))
        // Before the fix the first 8 bytes of the address ("127.0.0.") were printed as an id.
        #expect(lines[0]["id"] == nil)
        #expect(lines[0]["error"] == nil)
    }

    @Test("a current SERVER body still decodes with its id", arguments: [WireDissector.ServerLayout.infer, .current])
    func currentKept(_ layout: WireDissector.ServerLayout) throws {
        let lines = Self.dissect(Self.current, layout: layout)
        try #require(lines.count == 1)
        #expect(lines[0]["id"] == .integer(UInt64(1)))
        #expect(lines[0]["address"] == .string("127.0.0.1:19001"))
    }

    @Test("no leader known: id 0 and an empty address (current) versus an empty address (legacy)")
    func noLeader() throws {
        let current = Self.dissect(unhex("0200000001000000 | 0000000000000000 0000000000000000"))
        try #require(current.count == 1)
        #expect(current[0]["id"] == .integer(UInt64(0)))
        #expect(current[0]["address"] == .string(""))
        let legacy = Self.dissect(unhex("0100000001000000 | 0000000000000000"))
        try #require(legacy.count == 1)
        #expect(legacy[0]["id"] == nil)
        #expect(legacy[0]["address"] == .string(""))
    }

    @Test("the handshake decides when it is known")
    func handshakeDecides() throws {
        #expect(WireDissector.ServerLayout.forHandshake(ProtocolVersion.legacy) == .legacy)
        #expect(WireDissector.ServerLayout.forHandshake(ProtocolVersion.current) == .current)
        let legacy = Self.dissect(Self.legacy, layout: .forHandshake(ProtocolVersion.legacy))
        #expect(legacy.first?["id"] == nil)
        #expect(legacy.first?["address"] == .string("127.0.0.1:19001"))
        // Told "current" (what the dissector always did), the legacy bytes read as id "127.0.0." and "1:19001".
        let forced = Self.dissect(Self.legacy, layout: .current)
        #expect(forced.first?["id"] != nil)
        #expect(forced.first?["address"] == .string("1:19001"))
    }

    @Test("single-text-field test: exact boundaries")
    func singleTextField() {
        #expect(WireDissector.isSingleTextField(unhex("6100000000000000")))
        #expect(WireDissector.isSingleTextField(unhex("0000000000000000")))
        #expect(WireDissector.isSingleTextField(unhex("6162636465666768 0000000000000000")))
        #expect(!WireDissector.isSingleTextField(unhex("6162636465666768")))  // no NUL
        #expect(!WireDissector.isSingleTextField(unhex("0100000000000000 6100000000000000")))  // id, then text
        #expect(!WireDissector.isSingleTextField(unhex("6100000000000001")))  // non-zero padding
        #expect(!WireDissector.isSingleTextField([]))
    }
}
