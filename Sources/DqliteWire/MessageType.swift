/// Request type codes (client → server).
public enum RequestType: UInt8, Hashable, Sendable, CaseIterable {
    case leader = 0
    case client = 1
    /// Reserved, implemented by no server: 1.11.1 never answers it. Never send it.
    case heartbeat = 2
    case open = 3
    case prepare = 4
    case exec = 5
    case query = 6
    case finalize = 7
    case execSQL = 8
    case querySQL = 9
    case interrupt = 10
    /// Raft peer-to-peer only: the server hands the socket to raft. Clients must never send it.
    case connect = 11
    case add = 12
    case assign = 13
    case remove = 14
    case dump = 15
    case cluster = 16
    case transfer = 17
    /// Only format 0 is safe: any other format crashes 1.11.1 and 1.18.x servers.
    case describe = 18
    case weight = 19

    /// The protocol's name for the type, e.g. `"EXEC_SQL"`.
    public var name: String {
        switch self {
        case .leader: return "LEADER"
        case .client: return "CLIENT"
        case .heartbeat: return "HEARTBEAT"
        case .open: return "OPEN"
        case .prepare: return "PREPARE"
        case .exec: return "EXEC"
        case .query: return "QUERY"
        case .finalize: return "FINALIZE"
        case .execSQL: return "EXEC_SQL"
        case .querySQL: return "QUERY_SQL"
        case .interrupt: return "INTERRUPT"
        case .connect: return "CONNECT"
        case .add: return "ADD"
        case .assign: return "ASSIGN"
        case .remove: return "REMOVE"
        case .dump: return "DUMP"
        case .cluster: return "CLUSTER"
        case .transfer: return "TRANSFER"
        case .describe: return "DESCRIBE"
        case .weight: return "WEIGHT"
        }
    }
}

/// Response type codes (server → client).
public enum ResponseType: UInt8, Hashable, Sendable, CaseIterable {
    case failure = 0
    case server = 1
    case welcome = 2
    case servers = 3
    case db = 4
    case stmt = 5
    case result = 6
    case rows = 7
    case empty = 8
    case files = 9
    case metadata = 10

    /// The protocol's name for the type, e.g. `"ROWS"`.
    public var name: String {
        switch self {
        case .failure: return "FAILURE"
        case .server: return "SERVER"
        case .welcome: return "WELCOME"
        case .servers: return "SERVERS"
        case .db: return "DB"
        case .stmt: return "STMT"
        case .result: return "RESULT"
        case .rows: return "ROWS"
        case .empty: return "EMPTY"
        case .files: return "FILES"
        case .metadata: return "METADATA"
        }
    }
}

/// The 8-byte word a client sends first: the protocol version. The server sends nothing back.
public enum ProtocolVersion {
    /// The current protocol (version 1).
    public static let current: UInt64 = 1
    /// The pre-1.0 value; on such a connection LEADER is answered with an address only.
    public static let legacy: UInt64 = 0x8610_4dd7_6043_3fe5

    /// The handshake bytes for `version`.
    public static func handshake(_ version: UInt64 = current) -> [UInt8] {
        WireWriter.bytes(count: 8) { $0.writeUInt64(version) }
    }
}
