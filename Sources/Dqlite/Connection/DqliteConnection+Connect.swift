import DqliteWire
import Logging
import NIOCore
import NIOPosix
import NIOSSL

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

extension DqliteConnection {
    /// Connects to a node and sends the protocol handshake (version 1). The server answers nothing to the
    /// handshake; the first request confirms the connection.
    ///
    /// TCP connections get `TCP_NODELAY`, keepalive and (on Linux) `TCP_USER_TIMEOUT` per the configuration.
    /// Throws ``DqliteError/Code/connectFailed`` (or ``DqliteError/Code/tls``) naming the node and the reason.
    public static func connect(
        to address: DqliteNodeAddress, configuration: Configuration = Configuration(), logger: Logger? = nil
    ) async throws -> DqliteConnection {
        let logger = logger ?? silentLogger
        let node = address.description
        let deadline = NIODeadline.now() + configuration.connectTimeout.timeAmount
        // Built once per configuration (shared by the client's connections), here rather than on the event loop.
        let tlsContext: NIOSSLContext?
        do {
            tlsContext = try configuration.tls?.context()
        } catch {
            throw DqliteError(.tls, "cannot build the TLS context: \(error)", node: node, underlying: error)
        }
        let bootstrap = makeBootstrap(address: address, configuration: configuration, tlsContext: tlsContext)
        let channel: any Channel
        do {
            switch address.kind {
            case .tcp(let host, let port):
                channel = try await bootstrap.connect(host: host, port: port).get()
            case .unix(let path):
                channel = try await bootstrap.connect(unixDomainSocketPath: path).get()
            case .abstract(let name):
                let descriptor = try await NIOThreadPool.singleton.runIfActive { try connectAbstractSocket(name) }
                channel = try await bootstrap.withConnectedSocket(descriptor).get()
            }
        } catch let error as DqliteError {
            throw error
        } catch {
            throw connectFailure(error, node: node)
        }
        let handler: NIOLoopBound<FrameChannelHandler>
        do {
            handler = try await channel.eventLoop.submit {
                let handler = try channel.pipeline.syncOperations.handler(type: FrameChannelHandler.self)
                return NIOLoopBound(handler, eventLoop: channel.eventLoop)
            }.get()
        } catch {
            try? await channel.close()
            throw DqliteError(.connectFailed, "cannot set up the connection: \(error)", node: node, underlying: error)
        }
        let connection = DqliteConnection(
            address: address, configuration: configuration, channel: channel, handler: handler, logger: logger)
        var handshake = channel.allocator.buffer(capacity: 8)
        handshake.writeBytes(ProtocolVersion.handshake())
        // With TLS this write completes only after the TLS handshake: both are bounded by the connect deadline.
        let expiry = channel.eventLoop.scheduleTask(deadline: deadline) { channel.close(promise: nil) }
        do {
            try await channel.writeAndFlush(handshake)
            expiry.cancel()
        } catch {
            expiry.cancel()
            // The handler saw the cause first (e.g. the TLS alert that failed the handshake).
            let seen = try? await channel.eventLoop.submit { handler.value.recordedFailure }.get()
            var failure = seen.flatMap { $0 } ?? connectFailure(error, node: node)
            if failure.code == .connectionClosed { failure = connectFailure(error, node: node) }
            if NIODeadline.now() >= deadline {
                failure = DqliteError(
                    configuration.tls == nil ? .connectFailed : .tls,
                    "the connection was not established within \(configuration.connectTimeout)"
                        + (configuration.tls == nil ? "" : " (TLS handshake)"),
                    node: node, underlying: error)
            }
            connection.poison(failure)
            throw failure
        }
        logger.debug("dqlite connection established", metadata: ["node": "\(address)"])
        return connection
    }

    /// Connects, runs `body`, and closes the connection whatever happens.
    public static func withConnection<Result>(
        to address: DqliteNodeAddress, configuration: Configuration = Configuration(), logger: Logger? = nil,
        _ body: (DqliteConnection) async throws -> Result
    ) async throws -> Result {
        let connection = try await connect(to: address, configuration: configuration, logger: logger)
        do {
            let result = try await body(connection)
            await connection.close()
            return result
        } catch {
            await connection.close()
            throw error
        }
    }

    private static func makeBootstrap(
        address: DqliteNodeAddress, configuration: Configuration, tlsContext: NIOSSLContext?
    ) -> ClientBootstrap {
        var bootstrap = ClientBootstrap(group: configuration.eventLoopGroup)
            .connectTimeout(configuration.connectTimeout.timeAmount)
        if case .tcp = address.kind {
            bootstrap = bootstrap.channelOption(.socketOption(.tcp_nodelay), value: 1)
            if let keepAlive = configuration.keepAlive {
                bootstrap = bootstrap.channelOption(.socketOption(.so_keepalive), value: 1)
                #if os(Linux)
                    bootstrap =
                        bootstrap
                        .channelOption(
                            .socket(SocketOptionLevel(IPPROTO_TCP), SocketOptionName(TCP_KEEPIDLE)),
                            value: SocketOptionValue(keepAlive.idle.wholeSecondsAtLeastOne)
                        )
                        .channelOption(
                            .socket(SocketOptionLevel(IPPROTO_TCP), SocketOptionName(TCP_KEEPINTVL)),
                            value: SocketOptionValue(keepAlive.interval.wholeSecondsAtLeastOne)
                        )
                        .channelOption(
                            .socket(SocketOptionLevel(IPPROTO_TCP), SocketOptionName(TCP_KEEPCNT)),
                            value: SocketOptionValue(max(1, keepAlive.count)))
                #endif
            }
            #if os(Linux)
                if let userTimeout = configuration.tcpUserTimeout {
                    let milliseconds =
                        userTimeout.components.seconds * 1000 + userTimeout.components.attoseconds
                        / 1_000_000_000_000_000
                    bootstrap = bootstrap.channelOption(
                        .socket(SocketOptionLevel(IPPROTO_TCP), SocketOptionName(18 /* TCP_USER_TIMEOUT */)),
                        value: SocketOptionValue(clamping: max(1, milliseconds)))
                }
            #endif
        }
        let tls = configuration.tls
        let limits = configuration.limits
        let node = address.description
        var tlsHostname: String?
        if case .tcp(let host, _) = address.kind { tlsHostname = host }
        let serverName = tls?.serverName ?? tlsHostname
        return bootstrap.channelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                if let context = tlsContext {
                    // SNI must be a name, not an IP literal; verification still uses `serverName`.
                    let handler = try NIOSSLClientHandler(context: context, serverHostname: serverName.flatMap(sniName))
                    try channel.pipeline.syncOperations.addHandler(handler)
                }
                try channel.pipeline.syncOperations.addHandler(FrameChannelHandler(node: node, limits: limits))
            }
        }
    }

    /// `name` if it is a host name usable as SNI, nil for IP literals.
    private static func sniName(_ name: String) -> String? {
        let isIPv4 = name.split(separator: ".").count == 4 && name.allSatisfy { $0.isNumber || $0 == "." }
        return isIPv4 || name.contains(":") ? nil : name
    }

    /// The error for a failed connect: TLS failures are ``DqliteError/Code/tls``.
    static func connectFailure(_ error: any Error, node: String) -> DqliteError {
        if DqliteTLSConfiguration.isTLSError(error) {
            return DqliteError(.tls, "TLS failure: \(error)", node: node, underlying: error)
        }
        return DqliteError(.connectFailed, "cannot connect: \(describe(error))", node: node, underlying: error)
    }

    /// A readable reason for a connect failure (e.g. "connection refused").
    static func describe(_ error: any Error) -> String {
        if let error = error as? IOError { return String(cString: strerror(error.errnoCode)).lowercased() }
        if let error = error as? NIOConnectionError {
            let reasons = error.connectionErrors.map { describe($0.error) }
            if let dns = error.dnsAAAAError ?? error.dnsAError, reasons.isEmpty {
                return "name resolution failed: \(dns)"
            }
            return reasons.isEmpty ? "\(error)" : reasons.joined(separator: "; ")
        }
        if let error = error as? ChannelError, case .connectTimeout(let amount) = error {
            return "connect timed out after \(amount.nanoseconds / 1_000_000) ms"
        }
        return "\(error)"
    }

    /// Connects a socket to a Linux abstract-namespace address (`@name`), which NIO cannot express.
    /// Blocking: runs on the thread pool.
    private static func connectAbstractSocket(_ name: String) throws -> CInt {
        #if os(Linux)
            let descriptor = socket(AF_UNIX, CInt(SOCK_STREAM.rawValue) | CInt(SOCK_CLOEXEC.rawValue), 0)
            guard descriptor >= 0 else {
                throw DqliteError(.connectFailed, "cannot create a Unix socket: errno \(errno)", node: "@" + name)
            }
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            let nameBytes = Array(name.utf8)
            let capacity = MemoryLayout.size(ofValue: address.sun_path)
            guard nameBytes.count + 1 <= capacity else {
                _ = Glibc.close(descriptor)
                throw DqliteError(.invalidAddress, "abstract socket name too long", node: "@" + name)
            }
            withUnsafeMutableBytes(of: &address.sun_path) { path in
                path[0] = 0  // abstract namespace
                for (index, byte) in nameBytes.enumerated() { path[index + 1] = byte }
            }
            let length = socklen_t(MemoryLayout<sa_family_t>.size + 1 + nameBytes.count)
            let result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(descriptor, $0, length) }
            }
            guard result == 0 else {
                let code = errno
                _ = Glibc.close(descriptor)
                throw DqliteError(
                    .connectFailed, "cannot connect: \(String(cString: strerror(code)))", node: "@" + name)
            }
            return descriptor
        #else
            throw DqliteError(.invalidAddress, "abstract Unix sockets exist on Linux only", node: "@" + name)
        #endif
    }
}
