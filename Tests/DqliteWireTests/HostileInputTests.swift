import DqliteWire
import Foundation
import Testing

/// What a hostile or broken server (or client) can send: every case must give a typed error naming the
/// problem and its offset — never a trap, never an allocation sized by a lying length.
@Suite("Hostile input")
struct HostileInputTests {
    func frame(_ hex: String) throws -> Frame { try Frame(parsing: unhex(hex)) }

    func responseError(_ hex: String, _ context: ResponseContext = ResponseContext()) throws -> WireError {
        let frame = try frame(hex)
        return try #require(throws: WireError.self) { try Response(decoding: frame, context: context) }
    }

    func requestError(_ hex: String) throws -> WireError {
        let frame = try frame(hex)
        return try #require(throws: WireError.self) { try Request(decoding: frame) }
    }

    @Test("unknown response type")
    func unknownResponseType() throws {
        let error = try responseError("010000000b000000 0000000000000000")
        #expect(error.code == .unknownMessageType)
        #expect(error.offset == 4)
    }

    @Test("unknown request type (the server would stall on it)")
    func unknownRequestType() throws {
        let error = try requestError("010000002a000000 0000000000000000")
        #expect(error.code == .unknownMessageType)
    }

    @Test("schema byte not allowed for the message")
    func badSchema() throws {
        #expect(try responseError("0100000008010000 0000000000000000").code == .unsupportedSchema)
        #expect(try responseError("0200000005020000 0000000000000000 0000000000000000").code == .unsupportedSchema)
        #expect(try requestError("0100000000010000 0000000000000000").code == .unsupportedSchema)
        #expect(try requestError("0200000008020000 0000000000000000 0000000000000000").code == .unsupportedSchema)
    }

    @Test("text without a NUL inside the frame")
    func missingNul() throws {
        // FAILURE code 1, message "abcdefgh" with no terminator.
        let error = try responseError("0200000000000000 0100000000000000 6162636465666768")
        #expect(error.code == .missingTerminator)
        #expect(error.offset == 16)
    }

    @Test("invalid UTF-8 in text is an error, not a replacement character")
    func invalidUTF8() throws {
        let error = try responseError("0200000000000000 0100000000000000 ff fe 41 00 00000000")
        #expect(error.code == .invalidUTF8)
        #expect(error.offset == 16)
    }

    @Test("a blob length beyond the frame allocates nothing and is refused")
    func hugeBlob() throws {
        // ROWS: 1 column "b", row header type 4 (BLOB), blob length 2^62, then a DONE word.
        let error = try responseError(
            "0500000007000000 0100000000000000 6200000000000000 0400000000000000 0000000000000040 ffffffffffffffff")
        #expect(error.code == .invalidLength)
        #expect(error.offset == 32)
    }

    @Test("a blob length over the limit is refused even when the bytes are present")
    func blobOverLimit() throws {
        let frame = try frame(
            "0600000007000000 0100000000000000 6200000000000000 0400000000000000 0800000000000000 0102030405060708 ffffffffffffffff"
        )
        let context = ResponseContext(limits: WireLimits(maxBlobBytes: 4))
        let error = try #require(throws: WireError.self) { try Response(decoding: frame, context: context) }
        #expect(error.code == .limitExceeded)
        #expect(
            try Response(decoding: frame)
                == .rows(RowsFrame(columns: ["b"], rows: [[.blob([1, 2, 3, 4, 5, 6, 7, 8])]], more: false)))
    }

    @Test("huge column, node, file and parameter counts are refused before allocating")
    func hugeCounts() throws {
        #expect(try responseError("0200000007000000 ffffffffffffff7f ffffffffffffffff").code == .limitExceeded)
        #expect(try responseError("0200000007000000 1000000000000000 ffffffffffffffff").code == .invalidLength)
        #expect(try responseError("0100000003000000 0010000000000000").code == .invalidLength)
        #expect(try responseError("0100000003000000 ffffffffffffffff").code == .limitExceeded)
        #expect(try responseError("0100000009000000 0200000000000000").code == .invalidLength)
        // EXEC_SQL with a schema-1 count of 2^32-1 parameters.
        #expect(
            try requestError("0300000008010000 0000000000000000 0000000000000000 ffffffff00000000").code
                == .limitExceeded)
        // Schema-0 count 200 with only one value word present.
        #expect(
            try requestError("0300000008000000 0000000000000000 0000000000000000 c801000000000000").code
                == .invalidLength)
    }

    @Test("an invalid value type code in a row header names its byte")
    func badRowType() throws {
        // 1 column, header nibble 7.
        let error = try responseError(
            "0500000007000000 0100000000000000 6100000000000000 0700000000000000 0000000000000000 ffffffffffffffff")
        #expect(error.code == .invalidValueType)
        #expect(error.offset == 24)
        // Type 6, 8, 12..15 too; and a parameter type 0.
        for code in [0, 6, 8, 12, 13, 14, 15] {
            let hexCode = String(format: "%02x", code)
            let e = try responseError(
                "0500000007000000 0100000000000000 6100000000000000 \(hexCode)00000000000000 0000000000000000 ffffffffffffffff"
            )
            #expect(e.code == .invalidValueType, "type \(code)")
        }
        #expect(
            try requestError("0300000008000000 0000000000000000 0000000000000000 0100000000000000").code
                == .invalidLength)
        #expect(
            try requestError("0400000008000000 0000000000000000 0000000000000000 0100000000000000 0000000000000000")
                .code == .invalidValueType)
    }

    @Test("a marker that is not the last word, and a frame without a marker")
    func markers() throws {
        // DONE followed by another word.
        #expect(
            try responseError("0400000007000000 0100000000000000 6100000000000000 ffffffffffffffff 0000000000000000")
                .code == .trailingBytes)
        // Rows but no marker at the end.
        #expect(
            try responseError("0400000007000000 0100000000000000 6100000000000000 0100000000000000 0500000000000000")
                .code == .truncated)
        // A word that is almost a marker is a row with an invalid type code (0xe).
        #expect(
            try responseError(
                "0500000007000000 0100000000000000 6100000000000000 eeeeeeeeeeeeeeef 0000000000000000 ffffffffffffffff"
            ).code == .invalidValueType)
        // Zero columns must be followed by the marker (a zero-column row would never advance).
        #expect(
            try responseError("0300000007000000 0000000000000000 0100000000000000 ffffffffffffffff").code
                == .invalidMarker)
    }

    @Test("a row cut short inside its values")
    func truncatedRow() throws {
        // 2 columns, header INTEGER INTEGER, only one value, then DONE (which is read as the second value),
        // and the frame ends.
        let error = try responseError(
            "0600000007000000 0200000000000000 6100000000000000 6200000000000000 1100000000000000 0100000000000000 ffffffffffffffff"
        )
        #expect(error.code == .truncated)
    }

    @Test("trailing bytes after a fixed-size body")
    func trailing() throws {
        #expect(try responseError("0200000008000000 0000000000000000 0000000000000000").code == .trailingBytes)
        #expect(try requestError("0200000000000000 0000000000000000 0000000000000000").code == .trailingBytes)
        #expect(
            try responseError("0300000006000000 0000000000000000 0000000000000000 0000000000000000").code
                == .trailingBytes)
    }

    @Test("a cap on text length stops the scan early")
    func textCap() throws {
        let frame = try frame("0300000000000000 0100000000000000 6161616161616161 6161616100000000")
        let context = ResponseContext(limits: WireLimits(maxMessageBytes: 4))
        let error = try #require(throws: WireError.self) { try Response(decoding: frame, context: context) }
        #expect(error.code == .limitExceeded)
    }

    @Test("SERVERS with an address that runs off the end")
    func serversTruncated() throws {
        #expect(
            try responseError("0300000003000000 0100000000000000 0100000000000000 3132372e302e302e").code
                == .missingTerminator)
    }

    @Test("FILES with a size beyond the frame")
    func filesTooBig() throws {
        #expect(
            try responseError("0300000009000000 0100000000000000 6100000000000000 0001000000000000").code
                == .invalidLength)
    }

    @Test("padding content is ignored (go-dqlite leaves stale bytes there)")
    func dirtyPadding() throws {
        // protocol.md §6 note: `INSERT INTO g VALUES (?, ?)` with (1, "one") went out with the tuple header
        // 02 01 03 45 47 45 52 2c ("EGER," left over from an earlier request); the server accepted it.
        let frame = try frame(
            "0800000008000000 0000000000000000 494e5345525420494e544f20672056414c55455320283f2c203f290000000000 020103454745522c 0100000000000000 6f6e650000000000"
        )
        #expect(
            try Request(decoding: frame)
                == .execSQL(SQLCall(sql: "INSERT INTO g VALUES (?, ?)", parameters: [.integer(1), .text("one")])))
        // Our encoder writes zeros there.
        let ours = try Request.execSQL(
            SQLCall(sql: "INSERT INTO g VALUES (?, ?)", parameters: [.integer(1), .text("one")])
        ).encoded()
        #expect(Array(ours[48..<56]) == unhex("0201030000000000"))
    }
}

@Suite("Encoding refuses what the wire cannot carry")
struct UnencodableTests {
    @Test("text containing NUL anywhere is refused, never truncated", arguments: [1, 3, 7, 8, 9, 15, 16, 17, 40])
    func nulInText(_ length: Int) throws {
        for position in 0..<length {
            var bytes = [UInt8](repeating: UInt8(ascii: "a"), count: length)
            bytes[position] = 0
            let text = String(decoding: bytes, as: UTF8.self)
            for request: Request in [
                .execSQL(SQLCall(sql: text)), .execSQL(SQLCall(sql: "SELECT ?", parameters: [.text(text)])),
                .open(database: text, flags: 0, vfs: "volatile"), .add(id: 2, address: text),
            ] {
                let error = try #require(throws: WireError.self, "NUL at \(position) of \(length)") {
                    try request.encoded()
                }
                #expect(error.code == .unencodable)
            }
        }
    }

    @Test("more than 255 parameters do not fit a schema-0 tuple")
    func tooManyForSchema0() throws {
        let parameters = [WireValue](repeating: .integer(1), count: 256)
        let error = try #require(throws: WireError.self) {
            try Request.execSQL(SQLCall(sql: "SELECT 1", parameters: parameters, schema: .v0)).encoded()
        }
        #expect(error.code == .unencodable)
        #expect(try Request.execSQL(SQLCall(sql: "SELECT 1", parameters: parameters)).encoded()[5] == 1)
    }

    @Test("a failed encode leaves the caller's buffer unchanged")
    func bufferUnchanged() throws {
        var buffer: [UInt8] = [1, 2, 3]
        #expect(throws: WireError.self) { try Request.execSQL(SQLCall(sql: "a\u{0}b")).encode(into: &buffer) }
        #expect(buffer == [1, 2, 3])
        var encoder = FrameEncoder()
        try encoder.append(Request.leader)
        #expect(throws: WireError.self) { try encoder.append(Request.dump(database: "x\u{0}")) }
        #expect(encoder.bytes == unhex("0100000000000000 0000000000000000"))
    }
}
