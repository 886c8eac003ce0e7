import Dqlite
import Testing

@Suite("Node addresses")
struct NodeAddressTests {
    @Test(
        "valid addresses parse to their canonical form",
        arguments: [
            ("127.0.0.1:9001", "127.0.0.1:9001"), ("[::1]:9001", "[::1]:9001"),
            ("db-1.example.org:65535", "db-1.example.org:65535"),
            ("@dqlite-1", "@dqlite-1"), ("/run/dqlite.sock", "/run/dqlite.sock"),
            ("[fe80::1%eth0]:1", "[fe80::1%eth0]:1"),
        ])
    func valid(_ text: String, _ canonical: String) throws {
        let address = try DqliteNodeAddress(text)
        #expect(address.description == canonical)
        #expect(try DqliteNodeAddress(address.description) == address)
    }

    @Test(
        "invalid addresses are typed errors",
        arguments: [
            "", "127.0.0.1", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536", "::1:9001", "[::1]9001", "[::1",
            "host:port",
            ":9001", "a b:1", "bad\u{0}host:1", "x\ny:1", "@", String(repeating: "a", count: 300) + ":1",
            "127.0.0.1:-1", "127.0.0.1:+80", "[not-ipv6]:1",
        ])
    func invalid(_ text: String) {
        #expect(throws: DqliteError.self) { try DqliteNodeAddress(text) }
        do { _ = try DqliteNodeAddress(text) } catch let error as DqliteError {
            #expect(error.code == .invalidAddress)
        } catch {}
    }

    @Test("unspecified addresses are not dialable")
    func unspecified() throws {
        #expect(try !DqliteNodeAddress("0.0.0.0:9001").isDialable)
        #expect(try !DqliteNodeAddress("[::]:9001").isDialable)
        #expect(try DqliteNodeAddress("10.0.0.1:9001").isDialable)
        #expect(try DqliteNodeAddress("@x").isDialable)
    }

    @Test("result codes match by primary code, dqlite codes stay whole")
    func resultCodes() {
        #expect(DqliteResultCode.SQLITE_CONSTRAINT ~= DqliteResultCode.SQLITE_CONSTRAINT_UNIQUE)
        #expect(DqliteResultCode.SQLITE_CONSTRAINT_UNIQUE ~= DqliteResultCode.SQLITE_CONSTRAINT_UNIQUE)
        #expect(!(DqliteResultCode.SQLITE_CONSTRAINT_UNIQUE ~= DqliteResultCode.SQLITE_CONSTRAINT_PRIMARYKEY))
        #expect(DqliteResultCode.SQLITE_IOERR ~= DqliteResultCode.SQLITE_IOERR_NOT_LEADER)
        #expect(DqliteResultCode.DQLITE_PARSE.primary == .DQLITE_PARSE)
        #expect(!(DqliteResultCode(rawValue: 13) ~= DqliteResultCode.DQLITE_PARSE))  // 1005 & 0xFF == 237, not masked
        #expect(DqliteResultCode.SQLITE_BUSY_SNAPSHOT.name == "SQLITE_BUSY_SNAPSHOT")
        #expect(DqliteResultCode(rawValue: 4242).description == "code 4242")
    }
}
