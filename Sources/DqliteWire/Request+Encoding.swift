extension Request {
    /// Appends this request's frame (header and body) to `buffer`. Reusing one buffer across requests makes
    /// encoding allocation-free once the buffer has grown. On error `buffer` is left unchanged.
    @inlinable
    public func encode(into buffer: inout [UInt8]) throws {
        try WireWriter.appendFrame(to: &buffer, type: type.rawValue, schema: schema, bodySize: try bodySize()) { writer in
            try self.writeBody(&writer)
        }
    }

    /// This request's frame bytes.
    @inlinable
    public func encoded() throws -> [UInt8] {
        var buffer: [UInt8] = []
        try encode(into: &buffer)
        return buffer
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
        case .exec(let call), .query(let call): return 8 &+ (try WireSize.parameters(call.parameters, schema: call.schema))
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
        case .prepare(let db, let sql, _):
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

extension StatementCall {
    /// Appends an EXEC (or, with `query: true`, QUERY) frame for this call to `buffer` without building a
    /// ``Request`` first.
    @inlinable
    public func encode(query: Bool, into buffer: inout [UInt8]) throws {
        let type = query ? RequestType.query : RequestType.exec
        let size = 8 &+ (try WireSize.parameters(parameters, schema: schema))
        try WireWriter.appendFrame(to: &buffer, type: type.rawValue, schema: schema.rawValue, bodySize: size) { w in
            w.writeUInt32(self.db)
            w.writeUInt32(self.stmt)
            try w.writeParameters(self.parameters, schema: self.schema)
        }
    }
}

extension SQLCall {
    /// Appends an EXEC_SQL (or, with `query: true`, QUERY_SQL) frame for this call to `buffer` without
    /// building a ``Request`` first.
    @inlinable
    public func encode(query: Bool, into buffer: inout [UInt8]) throws {
        let type = query ? RequestType.querySQL : RequestType.execSQL
        let size = 8 &+ WireSize.text(sql) &+ (try WireSize.parameters(parameters, schema: schema))
        try WireWriter.appendFrame(to: &buffer, type: type.rawValue, schema: schema.rawValue, bodySize: size) { w in
            w.writeUInt64(self.db)
            try w.writeText(self.sql, "sql")
            try w.writeParameters(self.parameters, schema: self.schema)
        }
    }
}
