import DqliteSQL
import NIOConcurrencyHelpers

/// How a statement travels, decided from its text (protocol.md §3.5, dqlite18.md).
///
/// - Anything that can return rows goes as QUERY: `SELECT`, `VALUES`, `EXPLAIN`, `WITH … SELECT`, `PRAGMA name`
///   and `PRAGMA name(arg)`, and any statement with `RETURNING` (sending such a statement as EXEC makes the
///   next write crash 1.11.1 and 1.18.x servers).
/// - Everything else goes as EXEC: plain writes, DDL, `PRAGMA name = value` (a write sent as QUERY is silently
///   not executed by servers before 1.15).
/// - `RETURNING` is refused on servers before 1.18.2, which lose the write and then abort.
struct StatementRoute: Sendable, Hashable {
    /// Send as QUERY/QUERY_SQL.
    var returnsRows: Bool
    /// Has a top-level RETURNING clause.
    var hasReturning: Bool
    /// A statement that only reads (safe to retry after a connection failure).
    var isReadOnly: Bool
    /// BEGIN, COMMIT, ROLLBACK, SAVEPOINT, RELEASE.
    var transactionControl: TransactionControl?
    /// How many statements the text holds (the query API takes exactly one).
    var statementCount: Int

    /// The route of `sql`, from a small cache of recent statement texts (the splitter runs once per text).
    init(sql: String) {
        if let cached = StatementRoute.cache.route(for: sql) {
            self = cached
            return
        }
        self.init(parsing: sql)
        StatementRoute.cache.store(self, for: sql)
    }

    /// Routes already computed, by SQL text. Bounded: emptied when full; long texts are not kept.
    static let cache = RouteCache()

    final class RouteCache: Sendable {
        static let capacity = 256
        static let maxTextLength = 4096
        private let routes = NIOLockedValueBox([String: StatementRoute]())

        func route(for sql: String) -> StatementRoute? {
            guard sql.utf8.count <= RouteCache.maxTextLength else { return nil }
            return routes.withLockedValue { $0[sql] }
        }

        func store(_ route: StatementRoute, for sql: String) {
            guard sql.utf8.count <= RouteCache.maxTextLength else { return }
            routes.withLockedValue { routes in
                if routes.count >= RouteCache.capacity { routes.removeAll(keepingCapacity: true) }
                routes[sql] = route
            }
        }
    }

    /// Computes the route of `sql` with the statement splitter.
    init(parsing sql: String) {
        let (statements, remainder) = StatementSplitter.split(sql)
        var all = statements
        if let last = StatementSplitter.finishing(remainder) { all.append(last) }
        guard let first = all.first else {
            self.init(returnsRows: false, hasReturning: false, isReadOnly: false, transactionControl: nil, count: 0)
            return
        }
        let pragmaQuery = first.leadingKeyword == "PRAGMA" && !first.isPragmaAssignment
        let returnsRows = first.leadingKeyword == "PRAGMA" ? pragmaQuery : first.returnsRows
        let readOnly: Bool
        switch first.leadingKeyword {
        case "SELECT", "VALUES", "EXPLAIN": readOnly = true
        case "WITH": readOnly = returnsRows && !first.hasReturning
        case "PRAGMA": readOnly = pragmaQuery
        default: readOnly = false
        }
        self.init(
            returnsRows: returnsRows, hasReturning: first.hasReturning, isReadOnly: readOnly,
            transactionControl: first.transactionControl, count: all.count)
    }

    private init(
        returnsRows: Bool, hasReturning: Bool, isReadOnly: Bool, transactionControl: TransactionControl?, count: Int
    ) {
        self.returnsRows = returnsRows
        self.hasReturning = hasReturning
        self.isReadOnly = isReadOnly
        self.transactionControl = transactionControl
        self.statementCount = count
    }
}

extension StatementSplitter {
    /// The statement left at the end of input without a `;`, if any.
    static func finishing(_ remainder: String) -> Statement? {
        var splitter = StatementSplitter()
        _ = splitter.append(remainder)
        return splitter.finish()
    }
}
