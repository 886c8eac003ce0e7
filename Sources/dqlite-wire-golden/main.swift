// dqlite-wire-golden: the arm64/amd64 byte-identity proof (run by scripts/test-arm64.sh on both architectures).
//
//   dqlite-wire-golden <golden-dir> [--messages N] [--seed S]
//
// 1. Prints the architecture it was compiled for (`#if arch`) and the one it runs on (uname(2)).
// 2. Checks every golden vector in <golden-dir>/*.json both ways (decode to `expect`, encode to `hex`).
// 3. Encodes a deterministic corpus (MessageGenerator, fixed seed), decodes each message back, and prints a
//    64-bit FNV-1a digest of every encoded byte, which must be identical on every architecture.
// Exit status: 0 when everything passed, 1 on any failure, 2 on bad usage.
//
// Dependency-free (no Foundation), and Swift 6.0 compatible: the arm64 build uses Debian's Swift 6.0.3.
import DqliteWire
import DqliteWireJSON
import DqliteWireTestSupport

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The corpus seed; changing it changes the reference digest.
let defaultSeed: UInt64 = 0x6471_6c69_7465_2121  // "dqlite!!"
let defaultMessages = 100_000

func usage(_ message: String) -> Never {
    print("dqlite-wire-golden: \(message)")
    print("usage: dqlite-wire-golden <golden-dir> [--messages N] [--seed S]")
    exit(2)
}

var goldenDirectory: String?
var messageCount = defaultMessages
var seed = defaultSeed
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
    switch argument {
    case "--messages":
        guard let text = arguments.popFirst(), let n = Int(text), n >= 0 else { usage("--messages needs a count") }
        messageCount = n
    case "--seed":
        guard let text = arguments.popFirst(), let s = UInt64(text) else { usage("--seed needs an unsigned integer") }
        seed = s
    case "-h", "--help":
        usage("help")
    default:
        guard goldenDirectory == nil, !argument.hasPrefix("-") else { usage("unexpected argument \(argument)") }
        goldenDirectory = argument
    }
}
guard let goldenDirectory else { usage("missing the golden vector directory") }

var ok = true

// 1. Architecture.
let machine = SystemIO.machine()
print("compiled-arch=\(compiledArchitecture) uname-m=\(machine)")

// 2. Golden vectors.
let golden = Golden.check(directory: goldenDirectory)
for failure in golden.failures.prefix(20) { print("golden FAIL \(failure)") }
if golden.failures.count > 20 { print("golden FAIL … and \(golden.failures.count - 20) more") }
print(
    "golden-detail: \(golden.files) files, \(golden.decodeChecks) decode checks, \(golden.encodeChecks) encode checks "
        + "(\(golden.decodeOnly) decode-only), request types \(golden.requestTypes.count)/20, "
        + "response types \(golden.responseTypes.count)/11")
if golden.passed + golden.failed == 0 {
    print("golden FAIL no vectors found in \(goldenDirectory)")
    ok = false
}
if golden.failed > 0 { ok = false }
print("golden: \(golden.passed) passed, \(golden.failed) failed")

// 3. Corpus digest.
let started = SystemIO.milliseconds()
let corpus = Corpus.run(count: messageCount, seed: seed)
let elapsed = SystemIO.milliseconds() - started
for sample in corpus.failureSamples { print("corpus FAIL \(sample)") }
let missing = corpus.missingCoverage
print(
    "corpus-detail: seed \(seed), \(corpus.requests) requests, \(corpus.responses) responses "
        + "(\(corpus.multiFrameResults) multi-frame ROWS results), "
        + (missing.isEmpty
            ? "all 21 request and 12 response kinds and all 8 value types covered" : "MISSING \(missing)")
        + ", \(elapsed) ms")
print(
    "corpus-json: \(corpus.jsonChecked) messages also rebuilt from their exact JSON form, fnv1a64 \(corpus.jsonDigest.hexDigits)"
)
if corpus.failures > 0 || (messageCount >= defaultMessages && !missing.isEmpty) { ok = false }
print(
    "corpus: \(corpus.messages) messages, \(corpus.bytes) bytes, fnv1a64 \(corpus.digest.hexDigits), "
        + "\(corpus.failures) round-trip failures")

print(ok ? "RESULT PASS on \(machine)" : "RESULT FAIL on \(machine)")
exit(ok ? 0 : 1)
