import NIOSSL

/// TLS for connections to dqlite nodes. dqlite itself speaks no TLS; deployments put a TLS terminator in
/// front of each node (go-dqlite's `app.WithTLS` proxy, stunnel, …), usually with mutual authentication.
///
/// ```swift
/// let tls = try DqliteTLSConfiguration(
///     caCertificateFile: "/etc/dqlite/cluster-ca.pem",     // trust only the cluster CA
///     certificateFile: "/etc/dqlite/client.pem",           // client certificate (mutual TLS)
///     privateKeyFile: "/etc/dqlite/client.key",
///     serverName: "dqlite.cluster")                        // the name in the nodes' certificates
/// ```
public struct DqliteTLSConfiguration: Sendable {
    /// The underlying swift-nio-ssl configuration (TLS 1.2 or later by default).
    public var configuration: TLSConfiguration
    /// The host name to verify in the server's certificate (and to send as SNI). Dialled addresses are
    /// usually IPs that the certificate does not name, so clusters typically set one shared name here.
    /// When nil, the dialled host is used.
    public var serverName: String?

    /// Wraps a swift-nio-ssl client configuration.
    public init(configuration: TLSConfiguration, serverName: String? = nil) {
        self.configuration = configuration
        self.serverName = serverName
    }

    /// A client configuration from PEM files: a custom trust root, and optionally a client certificate and
    /// key for mutual TLS. Throws ``DqliteError/Code/tls`` if a file cannot be loaded.
    public init(
        caCertificateFile: String? = nil, certificateFile: String? = nil, privateKeyFile: String? = nil,
        serverName: String? = nil
    ) throws {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        do {
            if let caCertificateFile {
                configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caCertificateFile))
            }
            switch (certificateFile, privateKeyFile) {
            case (let certificate?, let key?):
                configuration.certificateChain = try NIOSSLCertificate.fromPEMFile(certificate).map { .certificate($0) }
                configuration.privateKey = .privateKey(try NIOSSLPrivateKey(file: key, format: .pem))
            case (nil, nil):
                break
            default:
                throw DqliteError(.tls, "a client certificate needs both certificateFile and privateKeyFile")
            }
        } catch let error as DqliteError {
            throw error
        } catch {
            throw DqliteError(.tls, "cannot load TLS material: \(error)", underlying: error)
        }
        self.init(configuration: configuration, serverName: serverName)
    }

    /// True for the errors swift-nio-ssl raises (handshake, verification, host name, alerts).
    static func isTLSError(_ error: any Error) -> Bool {
        error is NIOSSLError || error is NIOSSLExtraError || error is BoringSSLError
    }
}
