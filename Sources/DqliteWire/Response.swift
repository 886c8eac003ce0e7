/// One node in a SERVERS response.
public struct NodeInfo: Hashable, Sendable {
    /// Raft node id.
    public var id: UInt64
    /// The node's address as the cluster knows it.
    public var address: String
    /// 0 voter, 1 standby, 2 spare; nil in a format-0 reply.
    public var role: UInt64?

    /// Creates a node entry.
    public init(id: UInt64, address: String, role: UInt64? = nil) {
        self.id = id
        self.address = address
        self.role = role
    }

    /// Creates a node entry with a known role.
    public init(id: UInt64, address: String, role: NodeRole) {
        self.init(id: id, address: address, role: role.rawValue)
    }

    /// The role, typed: nil in a format-0 reply, or for a code that names no role.
    public var nodeRole: NodeRole? { role.flatMap(NodeRole.init(rawValue:)) }
}

/// One file in a FILES response (the answer to DUMP).
public struct DumpFile: Hashable, Sendable {
    /// File name: the database name, then the same with `-wal`.
    public var name: String
    /// The file's bytes.
    public var data: [UInt8]

    /// Creates a file entry.
    public init(name: String, data: [UInt8]) {
        self.name = name
        self.data = data
    }
}

/// The end-of-frame marker of a ROWS frame.
public enum RowsMarker: UInt64, Hashable, Sendable {
    /// `0xeeeeeeeeeeeeeeee`: another ROWS frame follows.
    case part = 0xeeee_eeee_eeee_eeee
    /// `0xffffffffffffffff`: the result is complete.
    case done = 0xffff_ffff_ffff_ffff
}

/// A whole ROWS frame, decoded eagerly. For streaming use ``RowsDecoder``.
public struct RowsFrame: Hashable, Sendable {
    /// Column names (repeated in every frame of a result).
    public var columns: [String]
    /// Rows, each with one value per column.
    public var rows: [[WireValue]]
    /// True when the frame ends with PART (more frames follow), false for DONE.
    public var more: Bool

    /// Creates a ROWS frame.
    public init(columns: [String], rows: [[WireValue]], more: Bool) {
        self.columns = columns
        self.rows = rows
        self.more = more
    }
}

/// Every server → client message.
public enum Response: Hashable, Sendable {
    /// FAILURE (0): an error code (usually an SQLite result code) and message. Any request can get it.
    case failure(code: UInt64, message: String)
    /// SERVER (1): the leader's id and address; id 0 and `""` mean "no known leader".
    case server(id: UInt64, address: String)
    /// The legacy SERVER form (address only), sent on connections that used the legacy handshake.
    case serverLegacy(address: String)
    /// WELCOME (2): the advertised (never enforced) heartbeat timeout in milliseconds.
    case welcome(heartbeatTimeout: UInt64)
    /// SERVERS (3): the cluster's nodes; roles present for format 1.
    case servers([NodeInfo])
    /// DB (4): the opened database's id.
    case db(id: UInt32)
    /// STMT (5): a prepared statement. `tailOffset` is present in the schema-1 form (servers ≥ 1.15): the
    /// byte offset in the SQL where the unprepared remainder starts.
    case stmt(db: UInt32, id: UInt32, parameters: UInt64, tailOffset: UInt64?)
    /// RESULT (6).
    case result(lastInsertID: UInt64, rowsAffected: UInt64)
    /// ROWS (7): one frame of a result set.
    case rows(RowsFrame)
    /// EMPTY (8).
    case empty
    /// FILES (9): a database and its WAL.
    case files([DumpFile])
    /// METADATA (10).
    case metadata(failureDomain: UInt64, weight: UInt64)

    /// The type code.
    public var type: ResponseType {
        switch self {
        case .failure: return .failure
        case .server, .serverLegacy: return .server
        case .welcome: return .welcome
        case .servers: return .servers
        case .db: return .db
        case .stmt: return .stmt
        case .result: return .result
        case .rows: return .rows
        case .empty: return .empty
        case .files: return .files
        case .metadata: return .metadata
        }
    }

    /// The schema byte written in the header (1 only for STMT with a tail offset).
    public var schema: UInt8 {
        if case .stmt(_, _, _, let tail) = self, tail != nil { return 1 }
        return 0
    }
}

extension RequestType {
    /// The response types a server may send to this request besides FAILURE, which every request may get.
    /// A stream of ROWS frames may also end with EMPTY (1.18.2+, interrupted while closing).
    public var expectedResponses: Set<ResponseType> {
        switch self {
        case .leader: return [.server]
        case .client: return [.welcome]
        case .heartbeat, .connect: return []
        case .open: return [.db]
        case .prepare: return [.stmt]
        case .exec, .execSQL: return [.result]
        case .query, .querySQL: return [.rows, .empty]
        case .interrupt: return [.empty, .rows]  // the rest of an interrupted stream, then EMPTY
        case .finalize, .add, .assign, .remove, .transfer, .weight: return [.empty]
        case .dump: return [.files]
        case .cluster: return [.servers]
        case .describe: return [.metadata]
        }
    }
}
