import DqliteWire
import NIOConcurrencyHelpers

/// The rows of a query, streamed lazily frame by frame as they are iterated.
///
/// ```swift
/// let rows = try await client.query("SELECT id, name FROM users WHERE age > \(minimumAge)")
/// for try await row in rows {
///     let (id, name) = try row.decode((Int, String).self)
/// }
/// ```
///
/// Memory stays bounded however large the result: one frame (about 4 KiB of rows) is decoded at a time, at
/// most a few dozen received frames wait to be decoded, and the server is held back by TCP until the rows are
/// consumed. The sequence is single-pass.
///
/// Stopping early (`break`, a thrown error, cancellation) is safe: the client sends INTERRUPT and discards the
/// rest of the stream before the connection carries its next request. (Servers stream a result to its end
/// before reading the INTERRUPT, so this bounds memory and decoding, not server work.) A sequence from the client (not from a session)
/// holds its pooled connection until it is read to the end or released.
public struct DqliteRowSequence: AsyncSequence, Sendable {
    public typealias Element = DqliteRow

    /// The columns of the result.
    public let columns: DqliteColumns
    let reader: DqliteRowReader?
    let lease: PoolLease?

    init(reader: DqliteRowReader, lease: PoolLease?) {
        self.reader = reader
        self.lease = lease
        self.columns = DqliteColumns(reader.columns)
    }

    private init() {
        reader = nil
        lease = nil
        columns = DqliteColumns([])
    }

    /// A result with no columns and no rows.
    static let empty = DqliteRowSequence()

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(reader: reader, lease: lease, columns: columns)
    }

    /// Iterates the rows.
    public struct AsyncIterator: AsyncIteratorProtocol {
        var reader: DqliteRowReader?
        let lease: PoolLease?
        let columns: DqliteColumns
        var values: [DqliteValue] = []

        public mutating func next() async throws -> DqliteRow? {
            try await next(isolation: nil)
        }

        /// The next row, on the caller's actor: a `for try await` loop on an actor calls this, and rows of frames
        /// already received are decoded without leaving the actor (only waiting for the next batch of frames
        /// does).
        public mutating func next(isolation actor: isolated (any Actor)?) async throws -> DqliteRow? {
            // Rows of frames already received are decoded in place, without suspending.
            do {
                if try reader?.nextReceived(into: &values) == true {
                    return DqliteRow(columns: columns, values: values)
                }
            } catch {
                reader = nil
                lease?.release(reusable: true)
                throw error
            }
            guard var current = reader else { return nil }
            reader = nil  // not held across the await, so a throw leaves nothing half-read behind
            do {
                if try await current.next(into: &values) {
                    reader = current
                    return DqliteRow(columns: columns, values: values)
                }
            } catch {
                lease?.release(reusable: true)
                throw error
            }
            lease?.release(reusable: true)
            return nil
        }
    }

    /// Reads every row, at most `limit` (more throws ``DqliteError/Code/invalidRequest`` after stopping the
    /// stream). Default 1,000,000.
    public func collect(limit: Int = 1_000_000) async throws -> [DqliteRow] {
        var rows: [DqliteRow] = []
        for try await row in self {
            guard rows.count < limit else {
                throw DqliteError(.invalidRequest, "the result has more than \(limit) rows")
            }
            rows.append(row)
        }
        return rows
    }

    /// Decodes every row into a tuple, e.g. `try await rows.decode((Int, String).self)`.
    public func decode<each Value: DqliteDecodable>(_ types: (repeat each Value).Type, limit: Int = 1_000_000)
        async throws -> [(repeat each Value)]
    {
        var result: [(repeat each Value)] = []
        for try await row in self {
            guard result.count < limit else {
                throw DqliteError(.invalidRequest, "the result has more than \(limit) rows")
            }
            result.append(try row.decode(types))
        }
        return result
    }
}
