extension Request {
    /// Decodes a request frame (for fake servers, proxies and the dissector).
    ///
    /// Strict: unknown types, unsupported schema bytes, bad value types, invalid UTF-8 and trailing bytes are
    /// errors. Padding content is ignored (go-dqlite leaves stale bytes in it).
    public init(decoding frame: Frame, limits: WireLimits = .default) throws {
        guard let type = RequestType(rawValue: frame.header.type) else {
            throw WireError(
                .unknownMessageType, at: frame.offset &+ 4, "request type \(frame.header.type) is not defined")
        }
        let schema = frame.header.schema
        let allowsSchema1: Bool
        switch type {
        case .prepare, .exec, .query, .execSQL, .querySQL: allowsSchema1 = true
        default: allowsSchema1 = false
        }
        guard schema == 0 || (schema == 1 && allowsSchema1) else {
            throw WireError(
                .unsupportedSchema, at: frame.offset &+ 5, "\(type.name) request has unsupported schema \(schema)")
        }
        let tupleSchema: ParameterTupleSchema = schema == 1 ? .v1 : .v0
        self = try frame.withReader { r in
            let request = try Request.readBody(type: type, schema: schema, tupleSchema: tupleSchema, &r, limits)
            try r.expectEnd("request")
            return request
        }
    }

    @inlinable
    static func readBody(
        type: RequestType, schema: UInt8, tupleSchema: ParameterTupleSchema, _ r: inout WireReader,
        _ limits: WireLimits
    ) throws -> Request {
        switch type {
        case .leader:
            try r.skip(8, "LEADER body")
            return .leader
        case .client: return .client(id: try r.readUInt64("client id"))
        case .heartbeat: return .heartbeat(timestamp: try r.readUInt64("timestamp"))
        case .open:
            let database = try r.readText("database name", maxBytes: limits.maxNameBytes)
            let flags = try r.readUInt64("open flags")
            let vfs = try r.readText("vfs name", maxBytes: limits.maxNameBytes)
            return .open(database: database, flags: flags, vfs: vfs)
        case .prepare:
            let db = try r.readUInt64("db id")
            return .prepare(db: db, sql: try r.readText("sql", maxBytes: limits.maxTextBytes), schema: schema)
        case .exec, .query:
            let db = try r.readUInt32("db id")
            let stmt = try r.readUInt32("statement id")
            let parameters = try r.readParameters(schema: tupleSchema, limits: limits)
            let call = StatementCall(db: db, stmt: stmt, parameters: parameters, schema: tupleSchema)
            return type == .exec ? .exec(call) : .query(call)
        case .finalize:
            let db = try r.readUInt32("db id")
            return .finalize(db: db, stmt: try r.readUInt32("statement id"))
        case .execSQL, .querySQL:
            let db = try r.readUInt64("db id")
            let sql = try r.readText("sql", maxBytes: limits.maxTextBytes)
            let parameters = try r.readParameters(schema: tupleSchema, limits: limits)
            let call = SQLCall(db: db, sql: sql, parameters: parameters, schema: tupleSchema)
            return type == .execSQL ? .execSQL(call) : .querySQL(call)
        case .interrupt: return .interrupt(db: try r.readUInt64("db id"))
        case .connect, .add:
            let id = try r.readUInt64("node id")
            let address = try r.readText("address", maxBytes: limits.maxAddressBytes)
            return type == .connect ? .connect(id: id, address: address) : .add(id: id, address: address)
        case .assign:
            let id = try r.readUInt64("node id")
            if r.remaining == 0 { return .promote(id: id) }
            return .assign(id: id, role: try r.readUInt64("role"))
        case .remove: return .remove(id: try r.readUInt64("node id"))
        case .dump: return .dump(database: try r.readText("database name", maxBytes: limits.maxNameBytes))
        case .cluster: return .cluster(format: try r.readUInt64("cluster format"))
        case .transfer: return .transfer(id: try r.readUInt64("node id"))
        case .describe: return .describe(format: try r.readUInt64("describe format"))
        case .weight: return .weight(try r.readUInt64("weight"))
        }
    }
}
