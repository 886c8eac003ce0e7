import CDqlite
import DqliteLocalCluster
import Glibc
import Testing

@testable import DqliteServer

/// The raft connect function (CDqlite's `cdqlite_connect_tcp_nodelay`) that embedded nodes use to dial each other.
@Suite("Raft connections with TCP_NODELAY")
struct RaftConnectionTests {
    @Test("a TCP connection it makes has TCP_NODELAY and close-on-exec")
    func tcpHasNoDelay() throws {
        let listener = try Listener.tcp()
        defer { close(listener.fd) }
        var fd: Int32 = -1
        #expect(cdqlite_connect_tcp_nodelay(nil, "127.0.0.1:\(listener.port)", &fd) == 0)
        defer { if fd >= 0 { close(fd) } }
        #expect(fd >= 0)
        var value: Int32 = 0
        var size = socklen_t(MemoryLayout<Int32>.size)
        #expect(getsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &value, &size) == 0)
        #expect(value == 1)
        #expect(fcntl(fd, F_GETFD) & FD_CLOEXEC != 0)
        // Blocking again after the bounded connect: libuv takes the descriptor as a plain blocking socket.
        #expect(fcntl(fd, F_GETFL) & O_NONBLOCK == 0)
    }

    @Test("an abstract Unix socket address connects")
    func abstractSocket() throws {
        let name = "swift-dqlite-raft-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let listener = try Listener.abstract(name)
        defer { close(listener.fd) }
        var fd: Int32 = -1
        #expect(cdqlite_connect_tcp_nodelay(nil, "@\(name)", &fd) == 0)
        if fd >= 0 { close(fd) }
    }

    @Test(
        "unreachable or malformed addresses give RAFT_NOCONNECTION (16)",
        arguments: ["127.0.0.1:1", "no-port", "127.0.0.1:", ":9000", "[::1]", "@", "host.invalid:9000"])
    func failures(_ address: String) {
        var fd: Int32 = -1
        #expect(cdqlite_connect_tcp_nodelay(nil, address, &fd) == 16)
        #expect(fd == -1)
    }

    @Test("a 3-node cluster dials its raft connections through it")
    func clusterUsesIt() async throws {
        let before = RaftConnections.dialled
        try await withLocalCluster(nodes: 3, generation: .v1_11) { cluster in
            let members = try await cluster.members()
            #expect(members.count == 3)
        }
        // Each node dials every other node it sends to: at least the leader's two followers.
        #expect(RaftConnections.dialled >= before + 2)
    }
}

/// A listening socket on loopback or an abstract name, for the connect function to reach.
private struct Listener {
    let fd: Int32
    let port: UInt16

    struct Failure: Error {}

    static func tcp() throws -> Listener {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure() }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(fd, 4) == 0 else {
            close(fd)
            throw Failure()
        }
        var size = socklen_t(MemoryLayout<sockaddr_in>.size)
        bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &size) }
        }
        guard bound == 0 else {
            close(fd)
            throw Failure()
        }
        return Listener(fd: fd, port: UInt16(bigEndian: address.sin_port))
    }

    static func abstract(_ name: String) throws -> Listener {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure() }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(name.utf8)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard bytes.count + 1 < capacity else {
            close(fd)
            throw Failure()
        }
        withUnsafeMutableBytes(of: &address.sun_path) { path in
            for (index, byte) in bytes.enumerated() { path[index + 1] = byte }
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + 1 + bytes.count)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0, listen(fd, 4) == 0 else {
            close(fd)
            throw Failure()
        }
        return Listener(fd: fd, port: 0)
    }
}
