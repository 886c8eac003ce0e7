/// What a response decoder needs to know beyond the frame itself.
public struct ResponseContext: Hashable, Sendable {
    /// Layout of SERVERS node entries, which depends on the CLUSTER request's format, not on the response.
    public enum ClusterFormat: Hashable, Sendable {
        /// id + address.
        case format0
        /// id + address + role.
        case format1
        /// Format 1 when the whole body parses exactly as format 1, else format 0 (for dissectors, which see
        /// one direction only).
        case infer
    }

    /// How to read SERVERS. Default: infer.
    public var clusterFormat: ClusterFormat
    /// True on a connection opened with the legacy handshake: SERVER then carries an address only.
    public var legacyHandshake: Bool
    /// Decoding limits.
    public var limits: WireLimits

    /// Creates a context.
    public init(clusterFormat: ClusterFormat = .infer, legacyHandshake: Bool = false, limits: WireLimits = .default) {
        self.clusterFormat = clusterFormat
        self.legacyHandshake = legacyHandshake
        self.limits = limits
    }
}

extension Response {
    /// Decodes a response frame.
    ///
    /// Strict, since the bytes come from the network: unknown types, unexpected schema bytes, bad value
    /// types, invalid UTF-8, lengths beyond the frame or the limits, and trailing bytes are errors.
    /// Padding content is ignored.
    public init(decoding frame: Frame, context: ResponseContext = ResponseContext()) throws {
        guard let type = ResponseType(rawValue: frame.header.type) else {
            throw WireError(
                .unknownMessageType, at: frame.offset &+ 4, "response type \(frame.header.type) is not defined")
        }
        let schema = frame.header.schema
        guard schema == 0 || (schema == 1 && type == .stmt) else {
            throw WireError(
                .unsupportedSchema, at: frame.offset &+ 5, "\(type.name) response has unsupported schema \(schema)")
        }
        let limits = context.limits
        switch type {
        case .rows:
            var decoder = try RowsDecoder(frame: frame, limits: limits)
            self = .rows(try decoder.decodeAll())
        case .servers:
            self = try Response.decodeServers(frame, context.clusterFormat, limits)
        default:
            self = try frame.withReader { r in
                let response = try Response.readBody(type: type, schema: schema, context: context, &r)
                try r.expectEnd("response")
                return response
            }
        }
    }

    private static func decodeServers(
        _ frame: Frame, _ format: ResponseContext.ClusterFormat, _ limits: WireLimits
    ) throws -> Response {
        func parse(withRoles: Bool) throws -> Response {
            try frame.withReader { r in
                // A node needs at least an id word and an address word (plus a role word in format 1).
                let count = try r.readCount("node count", limit: limits.maxNodes, minimumItemBytes: withRoles ? 24 : 16)
                var nodes: [NodeInfo] = []
                nodes.reserveCapacity(count)
                for _ in 0..<count {
                    let id = try r.readUInt64("node id")
                    let address = try r.readText("address", maxBytes: limits.maxAddressBytes)
                    let role = withRoles ? try r.readUInt64("role") : nil
                    nodes.append(NodeInfo(id: id, address: address, role: role))
                }
                try r.expectEnd("SERVERS")
                return .servers(nodes)
            }
        }
        switch format {
        case .format0: return try parse(withRoles: false)
        case .format1: return try parse(withRoles: true)
        case .infer:
            if let asFormat1 = try? parse(withRoles: true) { return asFormat1 }
            return try parse(withRoles: false)
        }
    }

    private static func readBody(
        type: ResponseType, schema: UInt8, context: ResponseContext, _ r: inout WireReader
    ) throws -> Response {
        let limits = context.limits
        switch type {
        case .failure:
            let code = try r.readUInt64("failure code")
            return .failure(code: code, message: try r.readText("failure message", maxBytes: limits.maxMessageBytes))
        case .server:
            if context.legacyHandshake {
                return .serverLegacy(address: try r.readText("address", maxBytes: limits.maxAddressBytes))
            }
            let id = try r.readUInt64("node id")
            return .server(id: id, address: try r.readText("address", maxBytes: limits.maxAddressBytes))
        case .welcome: return .welcome(heartbeatTimeout: try r.readUInt64("heartbeat timeout"))
        case .db:
            let id = try r.readUInt32("db id")
            try r.skip(4, "DB padding")
            return .db(id: id)
        case .stmt:
            let db = try r.readUInt32("db id")
            let id = try r.readUInt32("statement id")
            let parameters = try r.readUInt64("parameter count")
            let tail = schema == 1 ? try r.readUInt64("tail offset") : nil
            return .stmt(db: db, id: id, parameters: parameters, tailOffset: tail)
        case .result:
            let lastInsertID = try r.readUInt64("last insert id")
            return .result(lastInsertID: lastInsertID, rowsAffected: try r.readUInt64("rows affected"))
        case .empty:
            try r.skip(8, "EMPTY body")
            return .empty
        case .files:
            // A file needs at least a name word and a size word.
            let count = try r.readCount("file count", limit: limits.maxFiles, minimumItemBytes: 16)
            var files: [DumpFile] = []
            files.reserveCapacity(count)
            for _ in 0..<count {
                let name = try r.readText("file name", maxBytes: limits.maxNameBytes)
                let sizeOffset = r.offset
                let size = try r.readUInt64("file size")
                guard size <= UInt64(r.remaining) else {
                    throw WireError(
                        .invalidLength, at: sizeOffset,
                        "file size \(size) exceeds the \(r.remaining) bytes left in the frame")
                }
                guard size <= UInt64(limits.maxBlobBytes) else {
                    throw WireError(
                        .limitExceeded, at: sizeOffset,
                        "file size \(size) exceeds the limit of \(limits.maxBlobBytes) bytes")
                }
                let start = r.position
                let data = [UInt8](UnsafeRawBufferPointer(rebasing: r.bytes[start..<(start &+ Int(size))]))
                r.position = start &+ Int(size)
                try r.skipToWordBoundary("file padding")
                files.append(DumpFile(name: name, data: data))
            }
            return .files(files)
        case .metadata:
            let failureDomain = try r.readUInt64("failure domain")
            return .metadata(failureDomain: failureDomain, weight: try r.readUInt64("weight"))
        case .rows, .servers:
            // Handled before reaching here.
            throw WireError(.unknownMessageType, at: r.base &- 4, "internal: \(type.name) decoded elsewhere")
        }
    }
}
