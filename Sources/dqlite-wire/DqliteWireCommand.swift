import ArgumentParser

/// `dqlite-wire`: tools for looking at dqlite wire traffic.
@main
struct DqliteWireCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dqlite-wire",
        abstract: "Decode dqlite client-protocol traffic.",
        discussion: """
            Feed it the raw bytes that one side of a dqlite connection sent (a capture from a proxy, \
            tcpdump's payload, strace, ...) and it prints one JSON object per message.
            """,
        subcommands: [Decode.self]
    )
}
