import DqliteWire
import NIOCore
import NIOPosix

extension DqliteConnection {
    /// How a connection dials, protects itself and bounds every call.
    public struct Configuration: Sendable {
        /// TCP keepalive probing of idle connections (Linux `TCP_KEEPIDLE`, `TCP_KEEPINTVL`, `TCP_KEEPCNT`).
        public struct KeepAlive: Sendable, Hashable {
            /// Idle time before the first probe.
            public var idle: Duration
            /// Time between probes.
            public var interval: Duration
            /// Unanswered probes before the connection is dropped.
            public var count: Int

            public init(idle: Duration = .seconds(30), interval: Duration = .seconds(10), count: Int = 3) {
                self.idle = idle
                self.interval = interval
                self.count = count
            }
        }

        /// Deadline for establishing the connection (TCP and TLS), default 5 s.
        public var connectTimeout: Duration
        /// Deadline of a call when the caller gives none: covers sending the request and receiving its
        /// answer (for row streams: each batch of rows). Default 30 s. There is no protocol heartbeat, so this
        /// is what stops a call on a half-open connection from hanging.
        public var defaultCallTimeout: Duration
        /// Bound on draining a row stream after INTERRUPT (early break or cancellation), default 5 s; if the
        /// server has not finished by then the connection is closed instead.
        public var interruptDrainTimeout: Duration
        /// Bound on the frames discarded while draining after INTERRUPT (default 1,000,000).
        public var interruptDrainMaxFrames: Int
        /// TLS, or nil for plain TCP (the default; dqlite has no TLS of its own).
        public var tls: DqliteTLSConfiguration?
        /// Limits for decoding the server's bytes (default: `WireLimits.default`, from DqliteWire).
        public var limits: WireLimits
        /// TCP keepalive, or nil to leave it off. Default on (30 s idle, 10 s interval, 3 probes).
        public var keepAlive: KeepAlive?
        /// Linux `TCP_USER_TIMEOUT`: how long sent data may stay unacknowledged before the kernel drops the
        /// connection. Default 30 s (LXD's choice after half-open hangs); nil leaves the kernel default.
        public var tcpUserTimeout: Duration?
        /// The event loops to use. Default: NIO's shared singleton group.
        public var eventLoopGroup: any EventLoopGroup

        /// Creates a configuration; every parameter has the documented default.
        public init(
            connectTimeout: Duration = .seconds(5),
            defaultCallTimeout: Duration = .seconds(30),
            interruptDrainTimeout: Duration = .seconds(5),
            interruptDrainMaxFrames: Int = 1_000_000,
            tls: DqliteTLSConfiguration? = nil,
            limits: WireLimits = .default,
            keepAlive: KeepAlive? = KeepAlive(),
            tcpUserTimeout: Duration? = .seconds(30),
            eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
        ) {
            self.connectTimeout = connectTimeout
            self.defaultCallTimeout = defaultCallTimeout
            self.interruptDrainTimeout = interruptDrainTimeout
            self.interruptDrainMaxFrames = interruptDrainMaxFrames
            self.tls = tls
            self.limits = limits
            self.keepAlive = keepAlive
            self.tcpUserTimeout = tcpUserTimeout
            self.eventLoopGroup = eventLoopGroup
        }
    }
}

extension Duration {
    /// As NIO's `TimeAmount` (saturating).
    var timeAmount: TimeAmount {
        let (seconds, attoseconds) = components
        let nanos = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        guard !nanos.overflow else { return .nanoseconds(seconds < 0 ? .min : .max) }
        let total = nanos.partialValue.addingReportingOverflow(attoseconds / 1_000_000_000)
        return .nanoseconds(total.overflow ? .max : total.partialValue)
    }

    /// Whole seconds, at least 1 (for socket options measured in seconds).
    var wholeSecondsAtLeastOne: Int {
        Swift.max(1, Int(clamping: components.seconds))
    }
}
