import Foundation

/// A throwaway PKI and a stunnel4 TLS terminator in front of a dqlite node (dqlite itself has no TLS).
///
/// - `ca`: the cluster CA; `server`: the terminator's certificate (SAN `DNS:dqlite.test`, `IP:127.0.0.1`);
///   `client`: a client certificate signed by the CA; `rogue*`: a CA and client certificate the terminator
///   does not trust.
/// - stunnel requires and verifies a client certificate (`verifyChain = yes`).
final class TLSFixture {
    let directory: URL
    private var stunnel: Process?

    var caFile: String { directory.appendingPathComponent("ca.pem").path }
    var clientCertificate: String { directory.appendingPathComponent("client.pem").path }
    var clientKey: String { directory.appendingPathComponent("client.key").path }
    var rogueCA: String { directory.appendingPathComponent("rogue-ca.pem").path }
    var rogueCertificate: String { directory.appendingPathComponent("rogue-client.pem").path }
    var rogueKey: String { directory.appendingPathComponent("rogue-client.key").path }
    static let serverName = "dqlite.test"

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("dqlite-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        guard let openssl = Subprocess.find("openssl") else {
            throw Subprocess.Failure(description: "openssl is not installed")
        }
        func ssl(_ arguments: [String]) throws { try Subprocess.run(openssl, arguments, in: directory) }
        for ca in ["ca", "rogue-ca"] {
            try ssl([
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=\(ca)",
                "-keyout", "\(ca).key", "-out", "\(ca).pem",
            ])
        }
        try "subjectAltName=DNS:\(Self.serverName),IP:127.0.0.1\n".write(
            to: directory.appendingPathComponent("server.ext"), atomically: true, encoding: .utf8)
        func issue(_ name: String, by ca: String, extensions: String?) throws {
            try ssl([
                "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=\(name)", "-keyout", "\(name).key", "-out",
                "\(name).csr",
            ])
            var arguments = [
                "x509", "-req", "-in", "\(name).csr", "-CA", "\(ca).pem", "-CAkey", "\(ca).key",
                "-CAcreateserial", "-days", "2", "-out", "\(name).pem",
            ]
            if let extensions { arguments += ["-extfile", extensions] }
            try ssl(arguments)
        }
        try issue("server", by: "ca", extensions: "server.ext")
        try issue("client", by: "ca", extensions: nil)
        try issue("rogue-client", by: "rogue-ca", extensions: nil)
    }

    /// Starts stunnel on `acceptPort`, forwarding to `target` (a node's `host:port`), and waits until it listens.
    func startTerminator(acceptPort: Int, target: String) throws {
        guard let stunnel = Subprocess.find("stunnel4") ?? Subprocess.find("stunnel") else {
            throw Subprocess.Failure(description: "stunnel4 is not installed (scripts/install-deps.sh installs it)")
        }
        let configuration = """
            foreground = yes
            pid =
            debug = 4
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
        self.stunnel = try Subprocess.start(stunnel, [file.path], log: directory.appendingPathComponent("stunnel.log"))
        // Wait until the port accepts connections.
        for _ in 0..<100 {
            if Self.isListening(port: acceptPort) { return }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw Subprocess.Failure(
            description:
                "stunnel did not start: \((try? String(contentsOf: directory.appendingPathComponent("stunnel.log"), encoding: .utf8)) ?? "")"
        )
    }

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

    func stop() {
        stunnel?.terminate()
        stunnel?.waitUntilExit()
        try? FileManager.default.removeItem(at: directory)
    }
}
