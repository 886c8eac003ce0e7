import DqliteWire

extension Request {
    /// The request in the dissector's JSON form: `{"type": <code>, "name": "<NAME>", …fields}`.
    public func json(_ rendering: JSONRendering = .dissector) -> JSONValue {
        var members: [JSONValue.Member] = [
            .init("type", .integer(UInt64(type.rawValue))), .init("name", .string(type.name)),
        ]
        func add(_ key: String, _ value: JSONValue) { members.append(.init(key, value)) }
        func params(_ values: [WireValue]) -> JSONValue { .array(values.map { $0.json(rendering) }) }
        switch self {
        case .leader: break
        case .client(let id): add("id", .integer(id))
        case .heartbeat(let timestamp): add("timestamp", .integer(timestamp))
        case .open(let database, let flags, let vfs):
            add("database", .string(database))
            add("flags", .integer(flags))
            add("vfs", .string(vfs))
        case .prepare(let db, let sql, _):
            add("db", .integer(db))
            add("sql", .string(sql))
        case .exec(let call), .query(let call):
            add("db", .integer(UInt64(call.db)))
            add("stmt", .integer(UInt64(call.stmt)))
            add("params", params(call.parameters))
        case .finalize(let db, let stmt):
            add("db", .integer(UInt64(db)))
            add("stmt", .integer(UInt64(stmt)))
        case .execSQL(let call), .querySQL(let call):
            add("db", .integer(call.db))
            add("sql", .string(call.sql))
            add("params", params(call.parameters))
        case .interrupt(let db): add("db", .integer(db))
        case .connect(let id, let address), .add(let id, let address):
            add("id", .integer(id))
            add("address", .string(address))
        case .assign(let id, let role):
            add("id", .integer(id))
            add("role", .integer(role))
        case .promote(let id), .remove(let id), .transfer(let id): add("id", .integer(id))
        case .dump(let database): add("database", .string(database))
        case .cluster(let format), .describe(let format): add("format", .integer(format))
        case .weight(let weight): add("weight", .integer(weight))
        }
        return .object(members)
    }

    /// Builds a request from its JSON form. `schema` is the header's schema byte (PREPARE 0/1; the parameter
    /// tuple layout of EXEC, QUERY, EXEC_SQL and QUERY_SQL), which the JSON form does not carry.
    public init(json: JSONValue, schema: UInt8 = 0) throws {
        let f = try JSONFields(json, "request")
        let code = try f.uint64("type")
        guard let type = RequestType(rawValue: UInt8(truncatingIfNeeded: code)), code <= 255 else {
            throw JSONError("request type \(code) is not defined")
        }
        guard let tupleSchema = ParameterTupleSchema(rawValue: schema) else {
            throw JSONError("schema \(schema) is not 0 or 1")
        }
        func params() throws -> [WireValue] { try f.array("params").map { try WireValue(json: $0) } }
        switch type {
        case .leader: self = .leader
        case .client: self = .client(id: try f.uint64("id"))
        case .heartbeat: self = .heartbeat(timestamp: try f.uint64("timestamp"))
        case .open:
            self = .open(database: try f.string("database"), flags: try f.uint64("flags"), vfs: try f.string("vfs"))
        case .prepare: self = .prepare(db: try f.uint64("db"), sql: try f.string("sql"), schema: schema)
        case .exec, .query:
            let call = StatementCall(
                db: try f.uint32("db"), stmt: try f.uint32("stmt"), parameters: try params(), schema: tupleSchema)
            self = type == .exec ? .exec(call) : .query(call)
        case .finalize: self = .finalize(db: try f.uint32("db"), stmt: try f.uint32("stmt"))
        case .execSQL, .querySQL:
            let call = SQLCall(
                db: try f.uint64("db"), sql: try f.string("sql"), parameters: try params(), schema: tupleSchema)
            self = type == .execSQL ? .execSQL(call) : .querySQL(call)
        case .interrupt: self = .interrupt(db: try f.uint64("db"))
        case .connect: self = .connect(id: try f.uint64("id"), address: try f.string("address"))
        case .add: self = .add(id: try f.uint64("id"), address: try f.string("address"))
        case .assign:
            self =
                f.has("role")
                ? .assign(id: try f.uint64("id"), role: try f.uint64("role")) : .promote(id: try f.uint64("id"))
        case .remove: self = .remove(id: try f.uint64("id"))
        case .dump: self = .dump(database: try f.string("database"))
        case .cluster: self = .cluster(format: try f.uint64("format"))
        case .transfer: self = .transfer(id: try f.uint64("id"))
        case .describe: self = .describe(format: try f.uint64("format"))
        case .weight: self = .weight(try f.uint64("weight"))
        }
    }
}
