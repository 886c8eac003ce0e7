import NIOConcurrencyHelpers
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
    /// The `NIOSSLContext` built from ``configuration``, shared by every copy of this value (so by every
    /// connection of a client): building one parses the trust roots and keys, which is too costly per connection.
    private let contexts = ContextCache()

    /// Wraps a swift-nio-ssl client configuration.
    public init(configuration: TLSConfiguration, serverName: String? = nil) {
        self.configuration = configuration
        self.serverName = serverName
    }

    /// The context for ``configuration``: built on first use, then reused until the configuration changes.
    func context() throws -> NIOSSLContext {
        try contexts.context(for: configuration)
    }

    /// How many contexts were built from this value and its copies (for tests).
    var contextsBuilt: Int { contexts.built }

    /// One context per configuration, behind a lock.
    private final class ContextCache: Sendable {
        private struct Entry {
            var configuration: TLSConfiguration
            var context: NIOSSLContext
        }
        private let state = NIOLockedValueBox<(entry: Entry?, built: Int)>((nil, 0))

        var built: Int { state.withLockedValue { $0.built } }

        func context(for configuration: TLSConfiguration) throws -> NIOSSLContext {
            if let entry = state.withLockedValue({ $0.entry }), entry.configuration.bestEffortEquals(configuration) {
                return entry.context
            }
            let context = try NIOSSLContext(configuration: configuration)
            state.withLockedValue { state in
                state.entry = Entry(configuration: configuration, context: context)
                state.built += 1
            }
            return context
        }
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
