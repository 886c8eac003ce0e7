/// Where the shell keeps its state by default.
public enum ShellPaths {
    /// The shell's state directory: `$XDG_STATE_HOME/dqlite-shell`, else `$HOME/.local/state/dqlite-shell`;
    /// nil when neither variable is set to an absolute path.
    public static func stateDirectory(environment: [String: String]) -> String? {
        if let state = environment["XDG_STATE_HOME"], state.hasPrefix("/") {
            return trimmingSlashes(state) + "/dqlite-shell"
        }
        if let home = environment["HOME"], home.hasPrefix("/") {
            return trimmingSlashes(home) + "/.local/state/dqlite-shell"
        }
        return nil
    }

    /// The embedded node's default data directory inside the state directory.
    public static func defaultDataDirectory(stateDirectory: String) -> String {
        stateDirectory + "/data"
    }

    /// The history file inside the state directory.
    public static func historyFile(stateDirectory: String) -> String {
        stateDirectory + "/history"
    }

    /// A stable abstract-socket address for the embedded node of a data directory: `@dqlite-shell-` and
    /// 16 hex digits of the path's FNV-1a hash. Stable across runs, so the address raft recorded for the
    /// node stays right; distinct per directory, so shells on different directories do not collide.
    public static func embeddedNodeAddress(dataDirectory: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in dataDirectory.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        let digits = String(hash, radix: 16)
        return "@dqlite-shell-" + String(repeating: "0", count: 16 - digits.count) + digits
    }

    private static func trimmingSlashes(_ path: String) -> String {
        var path = Substring(path)
        while path.count > 1, path.last == "/" { path = path.dropLast() }
        return String(path)
    }
}
