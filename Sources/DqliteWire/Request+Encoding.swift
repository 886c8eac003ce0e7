extension Request: FrameBody {
    @inlinable var frameType: UInt8 { type.rawValue }
    @inlinable var frameSchema: UInt8 { schema }

    /// Appends this request's frame (header and body) to `buffer`. On error `buffer` is left unchanged.
    /// (A connection encodes into a reused ``FrameEncoder`` instead, which allocates nothing.)
    @inlinable
    public func encode(into buffer: inout [UInt8]) throws {
        try appendFrame(to: &buffer)
    }

    /// This request's frame bytes.
    @inlinable
    public func encoded() throws -> [UInt8] {
        var buffer: [UInt8] = []
        try appendFrame(to: &buffer)
        return buffer
    }

    /// The frame's size in bytes (header included).
    @inlinable
    public func encodedSize() throws -> Int { try frameSize() }

    /// Writes the frame at the start of `destination` (its previous content does not matter, e.g. a NIO
    /// `ByteBuffer`'s writable area) in one pass and returns the frame's size. When that is larger than
    /// `destination.count` the frame did not fit: nothing usable was written; retry with that much room.
    @inlinable
    public func encode(into destination: UnsafeMutableRawBufferPointer) throws -> Int {
        try encodeFrame(into: destination)
    }

    /// The exact body size in bytes.
    @inlinable
    func bodySize() throws -> Int {
        switch self {
        case .leader, .client, .heartbeat, .interrupt, .promote, .remove, .transfer, .cluster, .describe, .weight:
            return 8
        case .open(let database, _, let vfs): return WireSize.text(database) &+ 8 &+ WireSize.text(vfs)
        case .prepare(_, let sql, let schema):
            guard schema <= 1 else { throw WireError(.unencodable, at: 0, "PREPARE has no schema \(schema)") }
            return 8 &+ WireSize.text(sql)
        case .exec(let call), .query(let call):
            return 8 &+ (try WireSize.parameters(call.parameters, schema: call.schema))
        case .finalize: return 8
        case .assign: return 16
        case .execSQL(let call), .querySQL(let call):
            return 8 &+ WireSize.text(call.sql) &+ (try WireSize.parameters(call.parameters, schema: call.schema))
        case .connect(_, let address), .add(_, let address): return 8 &+ WireSize.text(address)
        case .dump(let database): return WireSize.text(database)
        }
    }

    @inlinable
    func writeBody(_ w: inout WireWriter) throws {
        switch self {
        case .leader: w.writeUInt64(0)
        case .client(let id): w.writeUInt64(id)
        case .heartbeat(let timestamp): w.writeUInt64(timestamp)
        case .open(let database, let flags, let vfs):
            try w.writeText(database, "database name")
            w.writeUInt64(flags)
            try w.writeText(vfs, "vfs name")
        case .prepare(let db, let sql, let schema):
            guard schema <= 1 else { throw WireError(.unencodable, at: 0, "PREPARE has no schema \(schema)") }
            w.writeUInt64(db)
            try w.writeText(sql, "sql")
        case .exec(let call), .query(let call):
            w.writeUInt32(call.db)
            w.writeUInt32(call.stmt)
            try w.writeParameters(call.parameters, schema: call.schema)
        case .finalize(let db, let stmt):
            w.writeUInt32(db)
            w.writeUInt32(stmt)
        case .execSQL(let call), .querySQL(let call):
            w.writeUInt64(call.db)
            try w.writeText(call.sql, "sql")
            try w.writeParameters(call.parameters, schema: call.schema)
        case .interrupt(let db): w.writeUInt64(db)
        case .connect(let id, let address), .add(let id, let address):
            w.writeUInt64(id)
            try w.writeText(address, "address")
        case .assign(let id, let role):
            w.writeUInt64(id)
            w.writeUInt64(role)
        case .promote(let id), .remove(let id), .transfer(let id): w.writeUInt64(id)
        case .dump(let database): try w.writeText(database, "database name")
        case .cluster(let format), .describe(let format): w.writeUInt64(format)
        case .weight(let weight): w.writeUInt64(weight)
        }
    }
}

/// EXEC or QUERY written straight from a ``StatementCall``.
@usableFromInline
struct StatementCallFrame: FrameBody {
    @usableFromInline let call: StatementCall
    @usableFromInline let query: Bool

    @inlinable init(call: StatementCall, query: Bool) {
        self.call = call
        self.query = query
    }

    @inlinable var frameType: UInt8 { (query ? RequestType.query : RequestType.exec).rawValue }
    @inlinable var frameSchema: UInt8 { call.schema.rawValue }

    @inlinable
    func bodySize() throws -> Int { 8 &+ (try WireSize.parameters(call.parameters, schema: call.schema)) }

    @inlinable
    func writeBody(_ w: inout WireWriter) throws {
        w.writeUInt32(call.db)
        w.writeUInt32(call.stmt)
        try w.writeParameters(call.parameters, schema: call.schema)
    }
}

/// EXEC_SQL or QUERY_SQL written straight from a ``SQLCall``.
@usableFromInline
struct SQLCallFrame: FrameBody {
    @usableFromInline let call: SQLCall
    @usableFromInline let query: Bool

    @inlinable init(call: SQLCall, query: Bool) {
        self.call = call
        self.query = query
    }

    @inlinable var frameType: UInt8 { (query ? RequestType.querySQL : RequestType.execSQL).rawValue }
    @inlinable var frameSchema: UInt8 { call.schema.rawValue }

    @inlinable
    func bodySize() throws -> Int {
        8 &+ WireSize.text(call.sql) &+ (try WireSize.parameters(call.parameters, schema: call.schema))
    }

    @inlinable
    func writeBody(_ w: inout WireWriter) throws {
        w.writeUInt64(call.db)
        try w.writeText(call.sql, "sql")
        try w.writeParameters(call.parameters, schema: call.schema)
    }
}

extension StatementCall {
    /// Appends an EXEC (or, with `query: true`, QUERY) frame for this call to `buffer`.
    @inlinable
    public func encode(query: Bool, into buffer: inout [UInt8]) throws {
        try StatementCallFrame(call: self, query: query).appendFrame(to: &buffer)
    }
}

extension SQLCall {
    /// Appends an EXEC_SQL (or, with `query: true`, QUERY_SQL) frame for this call to `buffer`.
    @inlinable
    public func encode(query: Bool, into buffer: inout [UInt8]) throws {
        try SQLCallFrame(call: self, query: query).appendFrame(to: &buffer)
    }
}
