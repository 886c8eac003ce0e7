/// SplitMix64: a tiny, portable pseudo-random generator whose output depends only on its seed — the same
/// sequence on every architecture and Swift version (the standard library's `random(in:using:)` helpers are
/// deliberately not used with it, since their algorithms may change between releases).
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    /// Creates a generator from a seed.
    public init(seed: UInt64) { state = seed }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A number in `0..<bound` (bound > 0), by modulo: portable and deterministic.
    public mutating func below(_ bound: Int) -> Int {
        Int(next() % UInt64(bound))
    }

    /// True with probability about `1/n`.
    public mutating func oneIn(_ n: Int) -> Bool { below(n) == 0 }
}
