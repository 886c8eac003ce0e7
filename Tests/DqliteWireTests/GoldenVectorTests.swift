import DqliteWire
import DqliteWireJSON
import DqliteWireTestSupport
import Testing

/// Golden vectors captured from real dqlite servers (1.11.1 and 1.18.7) and protocol.md §6, checked both
/// ways: the bytes decode to exactly the recorded structure, and the structure encodes to exactly the bytes.
@Suite("Golden vectors")
struct GoldenVectorTests {
    static let vectors: [GoldenVector] = (try? GoldenVector.loadAll()) ?? []

    @Test("the vector set loads and is large enough")
    func vectorSetIsComplete() throws {
        let vectors = try GoldenVector.loadAll()
        #expect(vectors.count >= 60)
        #expect(Set(vectors.map(\.id)).count == vectors.count, "vector ids must be unique")
        #expect(vectors.allSatisfy { !$0.source.isEmpty })
    }

    @Test("every request type and every response type is covered in both directions")
    func coverage() throws {
        let vectors = try GoldenVector.loadAll()
        let requestTypes = Set(
            vectors.filter { $0.direction == .request }.compactMap { $0.bytes.count > 4 ? $0.bytes[4] : nil })
        let responseTypes = Set(
            vectors.filter { $0.direction == .response }.compactMap { $0.bytes.count > 4 ? $0.bytes[4] : nil })
        #expect(requestTypes == Set(0...19), "missing request types: \(Set(0...19).subtracting(requestTypes).sorted())")
        #expect(
            responseTypes == Set(0...10), "missing response types: \(Set(0...10).subtracting(responseTypes).sorted())")
        // Both schemas where two exist.
        let schemaOne = Set(
            vectors.filter { $0.direction == .request && $0.bytes.count > 5 && $0.bytes[5] == 1 }.map { $0.bytes[4] })
        #expect(
            schemaOne.isSuperset(of: [4, 8, 9]), "schema-1 PREPARE/EXEC_SQL/QUERY_SQL missing: \(schemaOne.sorted())")
        #expect(
            vectors.contains { $0.direction == .response && $0.bytes[4] == 5 && $0.bytes[5] == 1 }, "no STMT schema 1")
    }

    @Test("bytes decode to the recorded structure", arguments: vectors)
    func decode(_ vector: GoldenVector) {
        #expect(vector.decodeProblem() == nil, "\(vector.id): \(vector.decodeProblem() ?? "")")
    }

    @Test("the recorded structure encodes to the bytes", arguments: vectors.filter(\.canonical))
    func encode(_ vector: GoldenVector) {
        #expect(vector.encodeProblem() == nil, "\(vector.id): \(vector.encodeProblem() ?? "")")
    }

    @Test(
        "non-canonical vectors differ from our encoding only in padding", arguments: vectors.filter { !$0.canonical })
    func nonCanonical(_ vector: GoldenVector) {
        #expect(vector.encodeProblem() == nil, "\(vector.id): \(vector.encodeProblem() ?? "")")
    }
}
