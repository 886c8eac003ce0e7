import DqliteWire

extension Response {
    /// The response in the dissector's JSON form: `{"type": <code>, "name": "<NAME>", …fields}`.
    public func json(_ rendering: JSONRendering = .dissector) -> JSONValue {
        var members: [JSONValue.Member] = [
            .init("type", .integer(UInt64(type.rawValue))), .init("name", .string(type.name)),
        ]
        func add(_ key: String, _ value: JSONValue) { members.append(.init(key, value)) }
        switch self {
        case .failure(let code, let message):
            add("code", .integer(code))
            add("message", .string(message))
        case .server(let id, let address):
            add("id", .integer(id))
            add("address", .string(address))
        case .serverLegacy(let address): add("address", .string(address))
        case .welcome(let timeout): add("heartbeat_timeout", .integer(timeout))
        case .servers(let nodes):
            add(
                "nodes",
                .array(
                    nodes.map { node in
                        var fields: [JSONValue.Member] = [
                            .init("id", .integer(node.id)), .init("address", .string(node.address)),
                        ]
                        if let role = node.role { fields.append(.init("role", .integer(role))) }
                        return .object(fields)
                    }))
        case .db(let id): add("id", .integer(UInt64(id)))
        case .stmt(let db, let id, let parameters, let tailOffset):
            add("db", .integer(UInt64(db)))
            add("id", .integer(UInt64(id)))
            add("params", .integer(parameters))
            if let tailOffset { add("offset", .integer(tailOffset)) }
        case .result(let lastInsertID, let rowsAffected):
            add("last_insert_id", .integer(lastInsertID))
            add("rows_affected", .integer(rowsAffected))
        case .rows(let frame):
            add("columns", .array(frame.columns.map { .string($0) }))
            add("rows", .array(frame.rows.map { row in .array(row.map { $0.json(rendering) }) }))
            add("more", .bool(frame.more))
        case .empty: break
        case .files(let files):
            add(
                "files",
                .array(
                    files.map { file in
                        var fields: [JSONValue.Member] = [
                            .init("name", .string(file.name)), .init("size", .integer(UInt64(file.data.count))),
                        ]
                        if rendering == .exact { fields.append(.init("data", .string(hexString(file.data)))) }
                        return .object(fields)
                    }))
        case .metadata(let failureDomain, let weight):
            add("failure_domain", .integer(failureDomain))
            add("weight", .integer(weight))
        }
        return .object(members)
    }

    /// Builds a response from its JSON form. FILES entries need `data` (the exact rendering) to be built.
    /// A SERVER without `id` is the legacy form; a STMT with `offset` is the schema-1 form.
    public init(json: JSONValue) throws {
        let f = try JSONFields(json, "response")
        let code = try f.uint64("type")
        guard code <= 255, let type = ResponseType(rawValue: UInt8(code)) else {
            throw JSONError("response type \(code) is not defined")
        }
        switch type {
        case .failure: self = .failure(code: try f.uint64("code"), message: try f.string("message"))
        case .server:
            self =
                f.has("id")
                ? .server(id: try f.uint64("id"), address: try f.string("address"))
                : .serverLegacy(address: try f.string("address"))
        case .welcome: self = .welcome(heartbeatTimeout: try f.uint64("heartbeat_timeout"))
        case .servers:
            self = .servers(
                try f.array("nodes").map { item in
                    let n = try JSONFields(item, "node")
                    return NodeInfo(
                        id: try n.uint64("id"), address: try n.string("address"),
                        role: n.has("role") ? try n.uint64("role") : nil)
                })
        case .db: self = .db(id: try f.uint32("id"))
        case .stmt:
            self = .stmt(
                db: try f.uint32("db"), id: try f.uint32("id"), parameters: try f.uint64("params"),
                tailOffset: f.has("offset") ? try f.uint64("offset") : nil)
        case .result:
            self = .result(lastInsertID: try f.uint64("last_insert_id"), rowsAffected: try f.uint64("rows_affected"))
        case .rows:
            let columns = try f.array("columns").map { item -> String in
                guard case .string(let s) = item else { throw JSONError("column names must be strings") }
                return s
            }
            let rows = try f.array("rows").map { item -> [WireValue] in
                guard case .array(let cells) = item else { throw JSONError("each row must be an array") }
                return try cells.map { try WireValue(json: $0) }
            }
            self = .rows(RowsFrame(columns: columns, rows: rows, more: try f.bool("more")))
        case .empty: self = .empty
        case .files:
            self = .files(
                try f.array("files").map { item in
                    let file = try JSONFields(item, "file")
                    guard let data = bytes(fromHex: try file.string("data")) else {
                        throw JSONError("file data is not hex")
                    }
                    guard UInt64(data.count) == (try file.uint64("size")) else {
                        throw JSONError("file size does not match its data")
                    }
                    return DumpFile(name: try file.string("name"), data: data)
                })
        case .metadata: self = .metadata(failureDomain: try f.uint64("failure_domain"), weight: try f.uint64("weight"))
        }
    }
}
