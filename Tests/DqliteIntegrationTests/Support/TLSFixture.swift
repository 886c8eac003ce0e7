import DqliteTestSupport
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A throwaway PKI and a stunnel4 TLS terminator in front of a dqlite node (dqlite itself has no TLS).
///
/// - `ca`: the cluster CA; `server`: the terminator's certificate, naming only `DNS:dqlite.test` (no IP
///   address: swift-nio-ssl accepts a certificate whose IP SAN matches the dialled address whatever server
///   name is expected, so an IP SAN would make every `serverName` pass);
///   `client`: a client certificate signed by the CA; `rogue*`: a CA and client certificate the terminator
///   does not trust.
/// - stunnel requires and verifies a client certificate (`verifyChain = yes`, `requireCert = yes`).
///
/// Keys are ECDSA P-256 (quick to generate). Create with ``make()``, always ``stop()``.
final class TLSFixture: Sendable {
    let directory: URL
    private let stunnel = Mutex<ChildProcess?>(nil)

    var caFile: String { directory.appendingPathComponent("ca.pem").path }
    var clientCertificate: String { directory.appendingPathComponent("client.pem").path }
    var clientKey: String { directory.appendingPathComponent("client.key").path }
    var rogueCA: String { directory.appendingPathComponent("rogue-ca.pem").path }
    var rogueCertificate: String { directory.appendingPathComponent("rogue-client.pem").path }
    var rogueKey: String { directory.appendingPathComponent("rogue-client.key").path }
    var stunnelLog: String {
        (try? String(contentsOf: directory.appendingPathComponent("stunnel.log"), encoding: .utf8)) ?? ""
    }
    static let serverName = "dqlite.test"

    private init(directory: URL) {
        self.directory = directory
    }

    /// Generates the CAs and certificates with openssl.
    static func make() async throws -> TLSFixture {
        let openssl = try TestEnvironment.program("openssl", package: "openssl")
        let directory = try TestEnvironment.makeTemporaryDirectory("swift-dqlite-tls")
        let fixture = TLSFixture(directory: directory)
        do {
            func ssl(_ arguments: [String]) async throws {
                try await Subprocess.succeed(openssl, arguments, in: directory)
            }
            let key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
            for ca in ["ca", "rogue-ca"] {
                try await ssl(
                    ["req", "-x509"] + key + [
                        "-days", "2", "-subj", "/CN=\(ca)", "-keyout", "\(ca).key", "-out", "\(ca).pem",
                    ]
                )
            }
            try "subjectAltName=DNS:\(serverName)\n".write(
                to: directory.appendingPathComponent("server.ext"), atomically: true, encoding: .utf8)
            func issue(_ name: String, by ca: String, extensions: String?) async throws {
                try await ssl(
                    ["req"] + key + ["-subj", "/CN=\(name)", "-keyout", "\(name).key", "-out", "\(name).csr"])
                var arguments = [
                    "x509", "-req", "-in", "\(name).csr", "-CA", "\(ca).pem", "-CAkey", "\(ca).key",
                    "-CAcreateserial", "-days", "2", "-out", "\(name).pem",
                ]
                if let extensions { arguments += ["-extfile", extensions] }
                try await ssl(arguments)
            }
            try await issue("server", by: "ca", extensions: "server.ext")
            try await issue("client", by: "ca", extensions: nil)
            try await issue("rogue-client", by: "rogue-ca", extensions: nil)
        } catch {
            try? FileManager.default.removeItem(at: directory)
            throw error
        }
        return fixture
    }

    /// Starts stunnel on `acceptPort`, forwarding to `target` (a node's `host:port`), and waits until it listens.
    func startTerminator(acceptPort: Int, target: String) async throws {
        let program = try TestEnvironment.program("stunnel4", package: "stunnel4")
        let configuration = """
            foreground = yes
            pid =
            debug = 5
            [dqlite]
            accept = 127.0.0.1:\(acceptPort)
            connect = \(target)
            cert = \(directory.appendingPathComponent("server.pem").path)
            key = \(directory.appendingPathComponent("server.key").path)
            CAfile = \(caFile)
            verifyChain = yes
            requireCert = yes
            """
        let file = directory.appendingPathComponent("stunnel.conf")
        try configuration.write(to: file, atomically: true, encoding: .utf8)
        let child = try ChildProcess.launch(program, [file.path], log: directory.appendingPathComponent("stunnel.log"))
        stunnel.withLock { $0 = child }
        let deadline = ContinuousClock.now + .seconds(10)
        while !Self.isListening(port: acceptPort) {
            guard child.isRunning, ContinuousClock.now < deadline else {
                throw TestFailure(description: "stunnel did not start listening on \(acceptPort):\n\(stunnelLog)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// True if something accepts TCP connections on `127.0.0.1:port` (one blocking loopback connect).
    static func isListening(port: Int) -> Bool {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }

    /// Stops stunnel and removes the files.
    func stop() async {
        if let child = stunnel.withLock({ $0 }) { await child.terminate(grace: .seconds(3)) }
        try? FileManager.default.removeItem(at: directory)
    }
}
