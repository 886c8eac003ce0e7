extension Response: FrameBody {
    @usableFromInline var frameType: UInt8 { type.rawValue }
    @usableFromInline var frameSchema: UInt8 { schema }

    /// Appends this response's frame to `buffer` (for fake servers and tests). On error `buffer` is unchanged.
    public func encode(into buffer: inout [UInt8]) throws {
        try appendFrame(to: &buffer)
    }

    /// This response's frame bytes.
    public func encoded() throws -> [UInt8] {
        var buffer: [UInt8] = []
        try appendFrame(to: &buffer)
        return buffer
    }

    /// The frame's size in bytes (header included).
    public func encodedSize() throws -> Int { try frameSize() }

    /// Writes the frame at the start of `destination` (its previous content does not matter) and returns the
    /// frame's size; when that is larger than `destination.count` nothing usable was written: retry with that
    /// much room.
    public func encode(into destination: UnsafeMutableRawBufferPointer) throws -> Int {
        _ = try bodySize()  // checks what only the size pass checks (SERVERS roles, row widths)
        return try encodeFrame(into: destination)
    }

    /// The exact body size in bytes; also checks that the response can be encoded.
    @usableFromInline
    func bodySize() throws -> Int {
        switch self {
        case .failure(_, let message): return 8 &+ WireSize.text(message)
        case .server(_, let address): return 8 &+ WireSize.text(address)
        case .serverLegacy(let address): return WireSize.text(address)
        case .welcome, .db, .empty: return 8
        case .result, .metadata: return 16
        case .stmt(_, _, _, let tailOffset): return tailOffset == nil ? 16 : 24
        case .servers(let nodes):
            let withRoles = nodes.first?.role != nil
            var size = 8
            for node in nodes {
                guard (node.role != nil) == withRoles else {
                    throw WireError(
                        .unencodable, at: 0, "SERVERS nodes must all have a role (format 1) or none (format 0)")
                }
                size &+= 8 &+ WireSize.text(node.address) &+ (withRoles ? 8 : 0)
            }
            return size
        case .rows(let frame): return try WireSize.rows(frame)
        case .files(let files):
            var size = 8
            for file in files { size &+= WireSize.text(file.name) &+ 8 &+ WireSize.padded(file.data.count) }
            return size
        }
    }

    @usableFromInline
    func writeBody(_ w: inout WireWriter) throws {
        switch self {
        case .failure(let code, let message):
            w.writeUInt64(code)
            try w.writeText(message, "failure message")
        case .server(let id, let address):
            w.writeUInt64(id)
            try w.writeText(address, "address")
        case .serverLegacy(let address):
            try w.writeText(address, "address")
        case .welcome(let timeout): w.writeUInt64(timeout)
        case .servers(let nodes):
            w.writeUInt64(UInt64(nodes.count))
            for node in nodes {
                w.writeUInt64(node.id)
                try w.writeText(node.address, "address")
                if let role = node.role { w.writeUInt64(role) }
            }
        case .db(let id):
            w.writeUInt32(id)
            w.writeUInt32(0)
        case .stmt(let db, let id, let parameters, let tailOffset):
            w.writeUInt32(db)
            w.writeUInt32(id)
            w.writeUInt64(parameters)
            if let tailOffset { w.writeUInt64(tailOffset) }
        case .result(let lastInsertID, let rowsAffected):
            w.writeUInt64(lastInsertID)
            w.writeUInt64(rowsAffected)
        case .rows(let frame):
            try w.writeRows(frame)
        case .empty: w.writeUInt64(0)
        case .files(let files):
            w.writeUInt64(UInt64(files.count))
            for file in files {
                try w.writeText(file.name, "file name")
                w.writeUInt64(UInt64(file.data.count))
                file.data.withUnsafeBytes { w.writePaddedBytes($0) }
            }
        case .metadata(let failureDomain, let weight):
            w.writeUInt64(failureDomain)
            w.writeUInt64(weight)
        }
    }
}

extension WireSize {
    /// Size of a ROWS body; checks that every row has one value per column.
    static func rows(_ frame: RowsFrame) throws -> Int {
        let columnCount = frame.columns.count
        var size = 16
        for name in frame.columns { size &+= text(name) }
        let header = padded((columnCount &+ 1) / 2)
        for row in frame.rows {
            guard row.count == columnCount, columnCount > 0 else {
                throw WireError(.unencodable, at: 0, "a row has \(row.count) values for \(columnCount) columns")
            }
            size &+= header
            for value in row { size &+= value.encodedLength }
        }
        return size
    }
}

extension WireWriter {
    /// Writes a ROWS body (sized by ``WireSize/rows(_:)``): column count, names, each row (4-bit type
    /// header, values), marker.
    mutating func writeRows(_ frame: RowsFrame) throws {
        let columnCount = frame.columns.count
        writeUInt64(UInt64(columnCount))
        for name in frame.columns { try writeText(name, "column name") }
        for row in frame.rows {
            let origin = position
            var index = 0
            while index < columnCount {
                let low = row[index].type.rawValue
                let high = index &+ 1 < columnCount ? row[index &+ 1].type.rawValue : 0
                writeUInt8(low | high << 4)
                index &+= 2
            }
            padToWord(from: origin)
            for value in row { try writeValue(value) }
        }
        writeUInt64((frame.more ? RowsMarker.part : RowsMarker.done).rawValue)
    }
}
