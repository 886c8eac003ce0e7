/// Why a dot-command line (or a `.param set` value) was rejected; `message` is one line for the user.
public struct DotCommandError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What is wrong, ready to print after `Error: `.
    public let message: String

    /// Creates an error with a message.
    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
