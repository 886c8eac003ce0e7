/// A statement id and its parameters: the body of EXEC (5) and QUERY (6).
public struct StatementCall: Hashable, Sendable {
    /// Database id (always 0 in practice).
    public var db: UInt32
    /// Statement id from a STMT response.
    public var stmt: UInt32
    /// Parameters, bound in order.
    public var parameters: [WireValue]
    /// Tuple layout; also the request's schema byte.
    public var schema: ParameterTupleSchema

    /// Creates a call; the schema defaults to the one go-dqlite picks for the parameter count.
    public init(db: UInt32 = 0, stmt: UInt32, parameters: [WireValue] = [], schema: ParameterTupleSchema? = nil) {
        self.db = db
        self.stmt = stmt
        self.parameters = parameters
        self.schema = schema ?? .automatic(forCount: parameters.count)
    }
}

/// SQL text and its parameters: the body of EXEC_SQL (8) and QUERY_SQL (9).
public struct SQLCall: Hashable, Sendable {
    /// Database id (always 0 in practice).
    public var db: UInt64
    /// The SQL.
    public var sql: String
    /// Parameters, bound in order.
    public var parameters: [WireValue]
    /// Tuple layout; also the request's schema byte.
    public var schema: ParameterTupleSchema

    /// Creates a call; the schema defaults to the one go-dqlite picks for the parameter count.
    public init(db: UInt64 = 0, sql: String, parameters: [WireValue] = [], schema: ParameterTupleSchema? = nil) {
        self.db = db
        self.sql = sql
        self.parameters = parameters
        self.schema = schema ?? .automatic(forCount: parameters.count)
    }
}

/// Every client → server message.
public enum Request: Hashable, Sendable {
    /// LEADER (0): who is the leader? Answered by SERVER.
    case leader
    /// CLIENT (1): register a client id. Answered by WELCOME.
    case client(id: UInt64)
    /// HEARTBEAT (2): reserved; no server implements it (1.11.1 never answers). Decoded for completeness.
    case heartbeat(timestamp: UInt64)
    /// OPEN (3): open a database on this connection. Only the name matters to the server.
    case open(database: String, flags: UInt64, vfs: String)
    /// PREPARE (4). Schema 1 (servers ≥ 1.15) asks for a STMT with the tail offset.
    case prepare(db: UInt64, sql: String, schema: UInt8)
    /// EXEC (5): run a prepared statement. Answered by RESULT.
    case exec(StatementCall)
    /// QUERY (6): run a prepared statement that returns rows. Answered by ROWS frames.
    case query(StatementCall)
    /// FINALIZE (7): free a prepared statement. Answered by EMPTY.
    case finalize(db: UInt32, stmt: UInt32)
    /// EXEC_SQL (8). Answered by RESULT.
    case execSQL(SQLCall)
    /// QUERY_SQL (9). Answered by ROWS frames.
    case querySQL(SQLCall)
    /// INTERRUPT (10): stop a row stream; answered (after the remaining frames) by EMPTY.
    case interrupt(db: UInt64)
    /// CONNECT (11): raft peer traffic only. Decoded for completeness; clients must never send it.
    case connect(id: UInt64, address: String)
    /// ADD (12): add a node as spare. Leader only.
    case add(id: UInt64, address: String)
    /// ASSIGN (13): set a node's role (0 voter, 1 standby, 2 spare). Leader only.
    case assign(id: UInt64, role: UInt64)
    /// The legacy one-word form of type 13, which promotes the node to voter.
    case promote(id: UInt64)
    /// REMOVE (14). Leader only.
    case remove(id: UInt64)
    /// DUMP (15): download a database's files. Answered by FILES.
    case dump(database: String)
    /// CLUSTER (16): list the nodes; format 1 includes roles. Answered by SERVERS.
    case cluster(format: UInt64)
    /// TRANSFER (17): hand leadership to a node (0 = any voter). Leader only.
    case transfer(id: UInt64)
    /// DESCRIBE (18): this node's metadata. Format must be 0.
    case describe(format: UInt64)
    /// WEIGHT (19): set this node's weight.
    case weight(UInt64)

    /// The type code.
    public var type: RequestType {
        switch self {
        case .leader: return .leader
        case .client: return .client
        case .heartbeat: return .heartbeat
        case .open: return .open
        case .prepare: return .prepare
        case .exec: return .exec
        case .query: return .query
        case .finalize: return .finalize
        case .execSQL: return .execSQL
        case .querySQL: return .querySQL
        case .interrupt: return .interrupt
        case .connect: return .connect
        case .add: return .add
        case .assign, .promote: return .assign
        case .remove: return .remove
        case .dump: return .dump
        case .cluster: return .cluster
        case .transfer: return .transfer
        case .describe: return .describe
        case .weight: return .weight
        }
    }

    /// The schema byte written in the header.
    public var schema: UInt8 {
        switch self {
        case .prepare(_, _, let schema): return schema
        case .exec(let call), .query(let call): return call.schema.rawValue
        case .execSQL(let call), .querySQL(let call): return call.schema.rawValue
        default: return 0
        }
    }
}
